/**
 * Trains Orchard's forest on a train/valid CSV pair and prints one JSON line
 * like the reference script: {"roc_auc", "accuracy", "fit_seconds", "total_seconds", ...}.
 *
 *   deno run --allow-read bench/forest_fit.ts TRAIN.csv VALID.csv TARGET [--trees 100] [--jobs 2] [--max-depth D]
 */
import { parseArgs } from "node:util";
import { RandomForestClassifier } from "../src/models/engines/forest/index.ts";
import { rocAuc } from "../src/models/metrics.ts";
import { loadPair } from "./forest_data.ts";

const t0 = performance.now();
const { values, positionals } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: {
    trees: { type: "string", default: "100" },
    jobs: { type: "string", default: "2" },
    "max-depth": { type: "string" },
    seed: { type: "string", default: "0" },
  },
});
const [train, valid, target] = positionals;
const d = loadPair(train, valid, target);
const t1 = performance.now();
const rf = new RandomForestClassifier({
  n_estimators: Number(values.trees),
  n_jobs: Number(values.jobs),
  max_depth: values["max-depth"] ? Number(values["max-depth"]) : null,
  random_state: Number(values.seed),
});
await rf.fit(d.train, d.yTrain);
const fit = (performance.now() - t1) / 1000;
const proba = rf.predictProba(d.valid);
const s = new Float64Array(d.valid.rows);
let ok = 0;
for (let i = 0; i < s.length; i++) {
  s[i] = proba[i * 2 + 1];
  if ((s[i] >= 0.5 ? 1 : 0) === d.yValid[i]) ok++;
}
console.log(JSON.stringify({
  roc_auc: rocAuc(d.yValid, s),
  accuracy: ok / s.length,
  fit_seconds: fit,
  load_seconds: (t1 - t0) / 1000,
  total_seconds: (performance.now() - t0) / 1000,
  positive: d.positive,
  features: d.train.cols,
  rows: d.train.rows,
  ...rf.stats(),
}));
