/**
 * `deno task prep`: validate, clean and split the raw sources into
 * data/interim (rejected_*, cleaned_customers.csv, filtered_sales.csv) and
 * data/processed (train.csv, validation.csv, quality.json), with a quality gate.
 */
import { defineTask, main } from "../src/cli/task.ts";
import { log } from "../src/core/progress.ts";
import { runPrep } from "../src/data/prep.ts";

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

export const spec = defineTask({
  name: "prep",
  description: "Validate the raw sources against their schemas, write every bad row to\n" +
    "data/interim/rejected_<source>.csv with a reason, clean and dedupe, split the customers\n" +
    "(stratified, seeded) into data/processed/{train,validation}.csv, write quality.json, and\n" +
    "fail (exit 2) when the quality gate in params.yaml `quality` is not met.",
  writes: (ctx) => [
    { path: ctx.config.paths.interim, dir: true, source: "paths.interim" },
    { path: ctx.config.paths.processed, dir: true, source: "paths.processed" },
  ],
  run(ctx) {
    return runPrep(ctx.config, log);
  },
  summary(r) {
    const lines = [`prep: done in ${r.seconds.toFixed(2)} s (as of ${r.quality.as_of})`];
    for (const [name, s] of Object.entries(r.quality.sources)) {
      lines.push(
        `  ${name.padEnd(13)} ${s.rows_in} in, ${s.kept} kept, ${s.rejected} rejected (${
          pct(s.rows_in ? s.rejected / s.rows_in : 0)
        })`,
      );
      for (const [reason, n] of Object.entries(s.rejected_by_reason)) lines.push(`      ${reason}: ${n}`);
    }
    if (r.quality.split) {
      lines.push(`  split         ${r.quality.split.train} train, ${r.quality.split.validation} validation`);
    }
    lines.push(
      `  quality gate  passed; outputs in ${r.outputs.cleaned_customers.replace(/\/[^/]*$/, "")}, ${
        r.outputs.quality.replace(/\/[^/]*$/, "")
      }`,
    );
    return lines.join("\n");
  },
});

if (import.meta.main) await main(spec);
