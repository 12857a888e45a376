/**
 * bench:default — which `model.algorithm` should `train --data` use when the
 * user names none? Every candidate trains with its defaults through
 * `deno task train --data TRAIN --validation VALID` on real tables:
 *
 *   wa_churn       telecom churn (../shared/data), binary, 7,043 rows, categorical columns
 *   breast_cancer  binary, 569 rows, 30 numeric columns (scikit-learn's bundled copy)
 *   wine           3 classes, 178 rows
 *   digits         10 classes, 1,797 rows, 64 pixel columns
 *   diabetes       regression, 442 rows
 *
 * each split 75/25 three times (seeds 0, 1, 2; bench/default_algorithm.py),
 * and reports the mean validation score (ROC AUC, log loss or R²) and the mean
 * whole-process seconds per candidate. Figures to stdout and
 * bench/results/default_algorithm.json; docs/guides/engines.md quotes them.
 *
 *   deno task bench:default [--seeds 3]
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { preflight, PYTHON } from "./preflight.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    seeds: { type: "string", default: "3" },
    data: { type: "string", default: "../shared/data" },
  },
});
await preflight("default", { data: flags.data });
const SEEDS = Number(flags.seeds);
const OUT = "data/bench/default_algorithm";

interface Table {
  name: string;
  target: string;
  task: "binary" | "multiclass" | "regression";
}
const tables: Table[] = [
  { name: "wa_churn", target: "churn", task: "binary" },
  { name: "breast_cancer", target: "target", task: "binary" },
  { name: "wine", target: "target", task: "multiclass" },
  { name: "digits", target: "target", task: "multiclass" },
  { name: "diabetes", target: "target", task: "regression" },
];
/** The candidates: each engine with the defaults a user gets. */
const candidates: { name: string; set: string[]; tasks: Table["task"][] }[] = [
  { name: "forest", set: ["model.algorithm=forest"], tasks: ["binary", "multiclass", "regression"] },
  { name: "boosting", set: ["model.algorithm=boosting"], tasks: ["binary", "multiclass", "regression"] },
  {
    name: "boosting, no early stopping",
    set: ["model.algorithm=boosting", "model.early_stopping=false"],
    tasks: ["binary", "multiclass", "regression"],
  },
  { name: "logistic", set: ["model.algorithm=logistic"], tasks: ["binary", "multiclass"] },
];
const metricOf = { binary: "roc_auc", multiclass: "log_loss", regression: "r2" } as const;

async function sh(cmd: string, args: string[]): Promise<{ seconds: number; stdout: string }> {
  const t0 = performance.now();
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  const seconds = (performance.now() - t0) / 1000;
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr).slice(-600)}`);
  }
  return { seconds, stdout: new TextDecoder().decode(out.stdout) };
}

await sh(PYTHON, ["bench/default_algorithm.py", flags.data!, OUT]);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const results: Record<string, unknown>[] = [];
console.log("| table | task | metric | " + candidates.map((c) => c.name).join(" | ") + " |");
console.log("| --- | --- | --- | " + candidates.map(() => "---").join(" | ") + " |");
for (const t of tables) {
  const metric = metricOf[t.task];
  const row: Record<string, { score: number; seconds: number } | null> = {};
  for (const c of candidates) {
    if (!c.tasks.includes(t.task)) {
      row[c.name] = null;
      continue;
    }
    const scores: number[] = [], secs: number[] = [];
    for (let s = 0; s < SEEDS; s++) {
      const dir = join(OUT, t.name, String(s));
      const r = await sh("deno", [
        "task",
        "-q",
        "train",
        "--data",
        join(dir, "train.csv"),
        "--validation",
        join(dir, "valid.csv"),
        "--target",
        t.target,
        "--model-name",
        `bench_${t.name}`,
        ...c.set.flatMap((kv) => ["--set", kv]),
        "--set",
        "tracking.experiment=bench_default",
        "--json",
      ]);
      const line = r.stdout.trim().split("\n").reverse().find((l) => l.startsWith("{"))!;
      scores.push(JSON.parse(line).metrics[metric]);
      secs.push(r.seconds);
    }
    row[c.name] = { score: Number(mean(scores).toFixed(4)), seconds: Number(mean(secs).toFixed(2)) };
  }
  results.push({ table: t.name, task: t.task, metric, ...row });
  const cells = candidates.map((c) =>
    row[c.name] ? `${row[c.name]!.score} (${row[c.name]!.seconds} s)` : "–"
  );
  console.log(`| ${t.name} | ${t.task} | ${metric} | ${cells.join(" | ")} |`);
}
await Deno.mkdir("bench/results", { recursive: true });
Deno.writeTextFileSync(
  "bench/results/default_algorithm.json",
  JSON.stringify({ date: new Date().toISOString(), seeds: SEEDS, results }, null, 1) + "\n",
);
