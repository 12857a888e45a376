/**
 * `deno task data:generate`: writes the example churn world to data/raw
 * (customers.csv, transactions.json, labels.csv, generation.json); `--scenario
 * drift` writes a later production batch to data/raw/drift.
 */
import { join } from "node:path";
import { defineTask, main } from "../src/cli/task.ts";
import { UserError } from "../src/core/errors.ts";
import { log } from "../src/core/progress.ts";
import {
  addMissingLabels,
  type GenerateResult,
  generateWorld,
  LABELS_FILE,
  type Scenario,
  SCENARIOS,
} from "../src/data/generate.ts";

/** The longest history the generator writes: 50 years back from its snapshot date. */
const MAX_MONTHS = 600;

function positiveInt(
  flag: string,
  raw: string | undefined,
  fallback: number,
  min = 1,
  max = Infinity,
): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (raw.trim() === "" || !Number.isInteger(n) || n < min || n > max) {
    throw new UserError(
      `--${flag} ${raw}: expected an integer >= ${min}${max < Infinity ? ` and <= ${max}` : ""}`,
    );
  }
  return n;
}

/** Where the files go: --out, else paths.raw (or its drift/ folder); an empty --out is a mistake. */
function outputDir(out: string | undefined, scenario: string, raw: string): string {
  if (out !== undefined && out.trim() === "") throw new UserError("--out: expected a folder");
  return out ?? (scenario === "drift" ? join(raw, "drift") : raw);
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

const isScenario = (name: string): name is Scenario => Object.hasOwn(SCENARIOS, name);

type Result = GenerateResult | { skipped: true; reason: string; out_dir: string; labels?: string };

export const spec = defineTask({
  name: "data:generate",
  description:
    "Write the example churn world (customers.csv, transactions.json, labels.csv, generation.json).\n" +
    "baseline goes to data/raw; --scenario drift writes a later, shifted batch to data/raw/drift.",
  options: {
    customers: {
      type: "string",
      description: "number of customers (default generate.customers)",
      valueName: "N",
    },
    seed: { type: "string", description: "random seed (default generate.seed)", valueName: "S" },
    months: {
      type: "string",
      description: "months of transactions (default generate.months)",
      valueName: "M",
    },
    "label-cutoffs": {
      type: "string",
      description:
        "monthly cut-offs of the label history labels.csv (default generate.label_cutoffs; 0: none)",
      valueName: "K",
    },
    scenario: { type: "string", description: "baseline | drift (default baseline)", valueName: "name" },
    out: {
      type: "string",
      description: "output directory (default paths.raw, or paths.raw/drift)",
      valueName: "dir",
    },
    "if-missing": { type: "boolean", description: "do nothing when the output files already exist" },
  },
  // the folder must be one this run may write (not a file, not read-only) before any customer is made;
  // its killed earlier runs' temp files (100 MB of transactions) go then too
  writes: (ctx) => [{
    path: outputDir(ctx.values.out, ctx.values.scenario ?? "baseline", ctx.config.paths.raw),
    dir: true,
    source: ctx.values.out === undefined ? "paths.raw" : "--out",
  }],
  run(ctx): Result {
    const cfg = ctx.config;
    const scenario = ctx.values.scenario ?? "baseline";
    if (!isScenario(scenario)) {
      throw new UserError(`--scenario ${scenario}: expected ${Object.keys(SCENARIOS).join(" or ")}`);
    }
    const outDir = outputDir(ctx.values.out, scenario, cfg.paths.raw);
    const customers = positiveInt("customers", ctx.values.customers, cfg.generate.customers);
    const seed = positiveInt("seed", ctx.values.seed, cfg.generate.seed, 0);
    const months = positiveInt("months", ctx.values.months, cfg.generate.months, 1, MAX_MONTHS);
    const labelCutoffs = positiveInt(
      "label-cutoffs",
      ctx.values["label-cutoffs"],
      cfg.generate.label_cutoffs,
      0,
    );
    if (ctx.values["if-missing"]) {
      const files = ["customers.csv", "transactions.json"].map((f) => join(outDir, f));
      if (files.every(exists)) {
        const base = { skipped: true as const, reason: "raw data present", out_dir: outDir };
        if (labelCutoffs === 0 || exists(join(outDir, LABELS_FILE))) {
          log(`data:generate: ${outDir} already holds the raw data; nothing to do (--if-missing)`);
          return base;
        }
        // raw data from before the label history: its labels, only if the generator wrote that data
        const added = addMissingLabels({ customers, seed, months, scenario, outDir, labelCutoffs });
        log(`data:generate: ${added.note}`);
        return { ...base, ...(added.path ? { labels: added.path } : {}) };
      }
    }
    const t0 = performance.now();
    log(`data:generate: ${customers} customers, ${months} months, seed ${seed}, scenario ${scenario}`);
    const result = generateWorld({
      customers,
      seed,
      months,
      scenario,
      outDir,
      labelCutoffs,
      onProgress: (done, total) => log(`data:generate: ${done}/${total} customers`),
    });
    log(`data:generate: ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    return result;
  },
  summary(r) {
    if ("skipped" in r) {
      return `data:generate: skipped, ${r.out_dir} already has raw data` +
        (r.labels ? ` (added its label history ${r.labels})` : "");
    }
    const d = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
    return [
      `data:generate (${r.scenario}, seed ${r.seed}) -> ${r.out_dir}`,
      `  customers:    ${r.customers} (${r.customer_rows} rows, ${d(r.defects.customers)} with defects)`,
      `  transactions: ${r.transactions} (${
        d(r.defects.transactions)
      } with defects), ${r.window_start} .. ${r.as_of}`,
      `  churn rate:   ${(r.churn_rate * 100).toFixed(1)}%`,
      ...(r.labels
        ? [
          `  labels:       ${r.labels.rows} rows at ${r.labels.cutoffs.length} cut-offs (${
            r.labels.cutoffs[0]
          } .. ${r.labels.cutoffs.at(-1)}), ${(r.labels.positive_rate * 100).toFixed(1)}% churned`,
        ]
        : []),
    ].join("\n");
  },
});

if (import.meta.main) await main(spec);
