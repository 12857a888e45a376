/**
 * `deno task features`: per-customer aggregates of the filtered sales joined to
 * the customers -> data/features/customer_features.parquet (with `split`).
 * `--batch DIR --output FILE` builds the same columns for a later raw batch.
 */
import { defineTask, main } from "../src/cli/task.ts";
import { log } from "../src/core/progress.ts";
import { runFeatures } from "../src/features/stage.ts";

export const spec = defineTask({
  name: "features",
  description: "Build per-customer features (tenure, recency, frequency, monetary total and average,\n" +
    "last 3 months against the 3 before) from prep's outputs into\n" +
    "data/features/customer_features.parquet, and the same features as of every month-end into\n" +
    "data/features/customer_snapshots.parquet (the feature store's source). With --batch, clean a later raw batch with prep's code\n" +
    "(no split, quality gate reported but not enforced) and build the same columns.",
  options: {
    batch: {
      type: "string",
      description: "a raw batch directory (customers.*, transactions.*)",
      valueName: "dir",
    },
    output: {
      type: "string",
      description:
        "output file (default paths.features/customer_features.parquet; with --batch, paths.features/batch_features.parquet)",
      valueName: "file",
    },
  },
  writes: (ctx) => [
    ctx.values.output
      ? { path: ctx.values.output, source: "--output" }
      : { path: ctx.config.paths.features, dir: true, source: "paths.features" },
  ],
  run(ctx) {
    return runFeatures(ctx.config, {
      batch: ctx.values.batch,
      output: ctx.values.output,
    }, log);
  },
  summary(r) {
    const lines = [
      `features (${r.mode}): ${r.rows} customers x ${r.columns.length} columns -> ${r.output} (${
        r.seconds.toFixed(2)
      } s)`,
      `  as of ${r.as_of}; model inputs: ${r.model_inputs.join(", ")}`,
    ];
    if (r.split) lines.push(`  split: ${r.split.train} train, ${r.split.validation} validation`);
    if (r.snapshots) {
      lines.push(
        `  snapshots: ${r.snapshots.rows} rows at ${r.snapshots.dates.length} month-ends (${
          r.snapshots.dates[0]
        } .. ${r.snapshots.dates.at(-1)}) -> ${r.snapshots.output}`,
      );
    }
    if (r.batch) {
      lines.push(
        `  batch ${r.batch.source}: rejected ${r.batch.rejected.customers} customers, ${r.batch.rejected.transactions} transactions; quality gate ${
          r.batch.gate.passed ? "passed" : "FAILED (not enforced)"
        }`,
      );
    }
    return lines.join("\n");
  },
});

if (import.meta.main) await main(spec);
