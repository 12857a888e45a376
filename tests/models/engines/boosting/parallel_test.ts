import assert from "node:assert/strict";
import {
  GradientBoostingClassifier,
  GradientBoostingRegressor,
} from "../../../../src/models/engines/boosting/index.ts";
import { PARALLEL_MIN_CELLS } from "../../../../src/models/engines/boosting/train.ts";
import { Rng } from "../../../../src/core/random.ts";
import type { Matrix } from "../../../../src/models/types.ts";

/** Enough cells for workers to be used: 20,000 x 30, a categorical column, missing values, three classes. */
function data(seed: number): { X: Matrix; y: Float64Array; categorical: boolean[] } {
  const n = 20000, p = 30, rng = new Rng(seed);
  const X = new Float64Array(n * p), y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < p; f++) X[i * p + f] = rng.chance(0.05) ? NaN : rng.normal();
    const cat = rng.int(12);
    X[i * p + 29] = cat;
    const z = X[i * p] + (X[i * p + 1] > 0 ? 1 : -1) * X[i * p + 2] + (cat % 4 === 1 ? 1.5 : 0) +
      rng.normal();
    y[i] = z > 0.8 ? 2 : z > -0.5 ? 1 : 0;
  }
  return { X: { data: X, rows: n, cols: p }, y, categorical: Array.from({ length: p }, (_, f) => f === 29) };
}

Deno.test("boosting: the same seed gives the same bytes with 1, 2 and 3 threads", async () => {
  const { X, y, categorical } = data(1);
  assert.ok(X.rows * X.cols >= PARALLEL_MIN_CELLS, "big enough for workers");
  const bytes = async (n_jobs: number, params = {}) => {
    const gb = new GradientBoostingClassifier({
      max_iter: 8,
      random_state: 4,
      colsample: 0.8,
      // early stopping would hold out 10% of the rows, leaving too few for workers (PARALLEL_MIN_CELLS)
      early_stopping: false,
      n_jobs,
      ...params,
    });
    const rounds: number[] = [];
    await gb.fit(X, y, { categorical, onProgress: (done) => rounds.push(done) });
    assert.deepEqual(rounds.slice(0, 3), [1, 2, 3]);
    return gb.toBytes();
  };
  const one = await bytes(1);
  assert.deepEqual(await bytes(2), one);
  assert.deepEqual(await bytes(3), one);
  // sampled rows (GOSS kicks in after 1 / learning_rate rounds) and a regressor
  const goss = { data_sample_strategy: "goss", learning_rate: 0.5 } as const;
  assert.deepEqual(await bytes(2, goss), await bytes(1, goss));
  const reg = async (n_jobs: number) => {
    const gb = new GradientBoostingRegressor({ max_iter: 6, subsample: 0.7, n_jobs, early_stopping: true });
    // a given validation set keeps every training row (held-out rows would leave too few for workers)
    await gb.fit(X, y, { validation: { X: data(2).X, y: data(2).y } });
    return gb.toBytes();
  };
  assert.deepEqual(await reg(2), await reg(1));
  // binary on every feature (gradients and root histogram in one job; each thread gathers part of each row)
  const binary = async (n_jobs: number) => {
    const gb = new GradientBoostingClassifier({
      max_iter: 6,
      random_state: 4,
      early_stopping: false,
      n_jobs,
    });
    await gb.fit(X, y.map((v) => (v === 2 ? 1 : 0)), { categorical });
    return gb.toBytes();
  };
  const b1 = await binary(1);
  assert.deepEqual(await binary(2), b1);
  assert.deepEqual(await binary(3), b1);
});

Deno.test("boosting: leaves histogrammed by row chunks give the same bytes with 1, 2 and 3 threads", async () => {
  // 40,000 rows: the root's children (and the multiclass root) are cut into row chunks (kernels.ts chunkCount)
  const n = 40000, p = 16, rng = new Rng(9);
  const X = new Float64Array(n * p), y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < p; f++) X[i * p + f] = rng.chance(0.03) ? NaN : rng.normal();
    const z = X[i * p] - 0.7 * X[i * p + 1] + (X[i * p + 2] > 0.3 ? 0.8 : 0) + 0.8 * rng.normal();
    y[i] = z > 0.9 ? 2 : z > -0.2 ? 1 : 0;
  }
  const M: Matrix = { data: X, rows: n, cols: p };
  assert.ok(n * p >= PARALLEL_MIN_CELLS, "big enough for workers");
  const fit = async (n_jobs: number, classes: 2 | 3) => {
    const gb = new GradientBoostingClassifier({
      max_iter: 5,
      random_state: 2,
      early_stopping: false,
      n_jobs,
    });
    await gb.fit(M, classes === 2 ? y.map((v) => (v === 0 ? 0 : 1)) : y);
    return gb;
  };
  for (const classes of [2, 3] as const) {
    const one = await fit(1, classes);
    assert.deepEqual((await fit(2, classes)).toBytes(), one.toBytes());
    assert.deepEqual((await fit(3, classes)).toBytes(), one.toBytes());
    // the summed partials are the histograms: the trees learned the signal
    const proba = one.predictProba(M);
    let ok = 0;
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let k = 1; k < classes; k++) if (proba[i * classes + k] > proba[i * classes + best]) best = k;
      if (best === (classes === 2 ? (y[i] === 0 ? 0 : 1) : y[i])) ok++;
    }
    assert.ok(ok / n > 0.7, `accuracy ${ok / n}`);
  }
});
