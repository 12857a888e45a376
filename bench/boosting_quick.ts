/**
 * A quick speed check of the gradient-boosting engine (not a deno.json task):
 * fits on a synthetic 200,000 x 30 binary problem (10 informative columns with
 * interactions, 5% missing values, 20 noise columns), default parameters with
 * early stopping off (100 rounds, 31 leaves), and prints the fit seconds and
 * the AUC on 50,000 held-out rows.
 *
 *   deno run -A bench/boosting_quick.ts [rows] [n_jobs]
 */
import { Rng } from "../src/core/random.ts";
import { GradientBoostingClassifier } from "../src/models/engines/boosting/index.ts";
import { rocAuc } from "../src/models/metrics.ts";
import type { Matrix } from "../src/models/types.ts";

const P = 30;

function synthetic(n: number, seed: number): { X: Matrix; y: Float64Array } {
  const rng = new Rng(seed);
  const data = new Float64Array(n * P), y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * P;
    for (let f = 0; f < P; f++) data[o + f] = rng.normal();
    const x = data.subarray(o, o + P);
    const z = x[0] + 0.8 * x[1] - 0.6 * x[2] + x[3] * x[4] + 0.5 * Math.sin(2 * x[5]) +
      (x[6] > 0.5 ? 0.7 : -0.2) + 0.3 * x[7] * x[7] - 0.4 * Math.abs(x[8]) + 0.3 * x[9] + rng.normal();
    y[i] = z > 0.3 ? 1 : 0;
    for (let f = 0; f < P; f++) if (rng.chance(0.05)) data[o + f] = NaN;
  }
  return { X: { data, rows: n, cols: P }, y };
}

const n = Number(Deno.args[0] ?? 200_000);
const nJobs = Deno.args[1] ? Number(Deno.args[1]) : null;
const train = synthetic(n, 1), test = synthetic(50_000, 2);
const gb = new GradientBoostingClassifier({ random_state: 0, early_stopping: false, n_jobs: nJobs });
const t0 = performance.now();
await gb.fit(train.X, train.y);
const fitS = (performance.now() - t0) / 1000;
const t1 = performance.now();
const proba = gb.predictProba(test.X);
const predS = (performance.now() - t1) / 1000;
const scores = Array.from({ length: test.X.rows }, (_, i) => proba[2 * i + 1]);
console.log(
  JSON.stringify({
    rows: n,
    cols: P,
    n_jobs: nJobs ?? navigator.hardwareConcurrency,
    rounds: gb.n_iter_,
    fit_seconds: Number(fitS.toFixed(2)),
    predict_50k_seconds: Number(predS.toFixed(3)),
    auc: Number(rocAuc(test.y, scores).toFixed(4)),
  }),
);
