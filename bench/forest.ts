/**
 * Side-by-side training benchmark: Orchard's forest (bench/forest_fit.ts) and
 * scikit-learn's RandomForestClassifier (/work/shared/reference/sklearn_rf.py),
 * 100 trees, 2 jobs, default depth, one after the other in the same run.
 *
 *   deno task bench:forest            # the churn CSVs
 *   deno task bench:forest --big      # also 200,000 x 30 synthetic rows (make_big.py; slow)
 *
 * Options: --trees N (100), --jobs J (2), --reps R (1: best of R runs each), --ref DIR, --data DIR,
 * --rows N (200000), --no-latency (skip the inference bench, bench/forest_bench.ts, run at the end).
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { preflight, PYTHON } from "./preflight.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    big: { type: "boolean", default: false },
    trees: { type: "string", default: "100" },
    jobs: { type: "string", default: "2" },
    reps: { type: "string", default: "1" },
    ref: { type: "string", default: "../shared/reference" },
    data: { type: "string", default: "../shared/data" },
    rows: { type: "string", default: "200000" },
    "no-latency": { type: "boolean", default: false },
  },
});
await preflight("forest", { ref: values.ref, data: values.data });
const python = PYTHON;
const fitScript = fileURLToPath(new URL("./forest_fit.ts", import.meta.url));

async function run(cmd: string, args: string[]): Promise<Record<string, number | string>> {
  const t0 = performance.now();
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  const wall = (performance.now() - t0) / 1000;
  const text = new TextDecoder().decode(out.stdout).trim();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return { ...JSON.parse(text.split("\n").pop()!), process_seconds: wall };
}

function load(): string {
  try {
    return Deno.loadavg().map((v) => v.toFixed(2)).join(" ");
  } catch {
    return "?";
  }
}

async function compare(name: string, train: string, valid: string, target: string) {
  const common = [train, valid, target, "--trees", values.trees!, "--jobs", values.jobs!];
  const reps = Number(values.reps);
  let best: { ours?: Record<string, number | string>; ref?: Record<string, number | string> } = {};
  for (let r = 0; r < reps; r++) {
    const ref = await run(python, [`${values.ref}/sklearn_rf.py`, ...common]);
    const ours = await run(Deno.execPath(), ["run", "--allow-read", fitScript, ...common]);
    if (!best.ref || Number(ref.fit_seconds) < Number(best.ref.fit_seconds)) best = { ...best, ref };
    if (!best.ours || Number(ours.fit_seconds) < Number(best.ours.fit_seconds)) best = { ...best, ours };
  }
  const { ours, ref } = best as Required<typeof best>;
  const f = (v: unknown, d = 3) => Number(v).toFixed(d);
  console.log(
    `\n${name}: ${ours.rows} rows x ${ours.features} features, ${values.trees} trees, n_jobs=${values.jobs}`,
  );
  console.log("| engine | fit s | process s | ROC AUC | accuracy |");
  console.log("| --- | --- | --- | --- | --- |");
  console.log(
    `| Orchard forest | ${f(ours.fit_seconds, 2)} | ${f(ours.process_seconds, 2)} | ${f(ours.roc_auc, 4)} | ${
      f(ours.accuracy, 4)
    } |`,
  );
  console.log(
    `| scikit-learn | ${f(ref.fit_seconds, 2)} | ${f(ref.process_seconds, 2)} | ${f(ref.roc_auc, 4)} | ${
      f(ref.accuracy, 4)
    } |`,
  );
  const speed = Number(ref.fit_seconds) / Number(ours.fit_seconds);
  const dAuc = Number(ours.roc_auc) - Number(ref.roc_auc);
  console.log(
    `fit speed vs scikit-learn: ${speed.toFixed(2)}x (${speed >= 1 ? "no slower: OK" : "SLOWER"}); ` +
      `AUC difference ${dAuc >= 0 ? "+" : ""}${dAuc.toFixed(4)} (${
        Math.abs(dAuc) <= 0.01 || dAuc > 0 ? "OK" : "OUT OF RANGE"
      })`,
  );
}

console.log(`machine: ${navigator.hardwareConcurrency} cores; load average before: ${load()}`);
await compare(
  "churn",
  `${values.data}/wa_churn_train.csv`,
  `${values.data}/wa_churn_valid.csv`,
  "churn",
);
if (values.big) {
  const dir = `data/bench/big_${values.rows}`;
  try {
    Deno.statSync(`${dir}/big_valid.csv`);
  } catch {
    Deno.mkdirSync(dir, { recursive: true });
    await run(python, ["-c", "print('{}')"]); // python is runnable
    const gen = await new Deno.Command(python, { args: [`${values.ref}/make_big.py`, values.rows!, dir] })
      .output();
    if (!gen.success) throw new Error("make_big.py failed");
  }
  await compare(
    `synthetic (make_big.py ${values.rows})`,
    `${dir}/big_train.csv`,
    `${dir}/big_valid.csv`,
    "y",
  );
}
console.log(`\nload average after training: ${load()}`);
if (!values["no-latency"]) {
  const bench = fileURLToPath(new URL("./forest_bench.ts", import.meta.url));
  const res = await new Deno.Command(Deno.execPath(), { args: ["bench", "--allow-read", bench] }).spawn()
    .status;
  if (!res.success) Deno.exit(1);
}
