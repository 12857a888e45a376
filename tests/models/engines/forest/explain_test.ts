/**
 * The forest's `explain` (exact TreeSHAP, forest/shap.ts): bias + contributions
 * reproduce every prediction, for classifiers and regressors, with missing
 * values, weights and after a save/load; forests saved before leaf weights
 * were kept still load and predict, and refuse only to explain. The tree-path
 * (Saabas) attributions of explain.ts, kept as an alternative, keep the same
 * identity.
 */
import assert from "node:assert/strict";
import {
  loadForest,
  RandomForestClassifier,
  RandomForestRegressor,
} from "../../../../src/models/engines/forest/index.ts";
import { decodeForest, encodeForest } from "../../../../src/models/engines/forest/serialize.ts";
import { explainRows } from "../../../../src/models/engines/forest/explain.ts";
import { UserError } from "../../../../src/core/errors.ts";
import type { Matrix } from "../../../../src/models/types.ts";
import { blobs, fromRows, linear } from "./helpers.ts";

const EPS = 1e-9;

function withMissing(X: Matrix, every: number): Matrix {
  const data = Float64Array.from(X.data);
  for (let i = 0; i < data.length; i += every) data[i] = NaN;
  return { data, rows: X.rows, cols: X.cols };
}

function rowSum(bias: Float64Array, c: Float64Array, p: number, i: number): number {
  let s = bias[i];
  for (let f = 0; f < p; f++) s += c[i * p + f];
  return s;
}

Deno.test("classifier: bias + contributions = the probability of each explained class", async () => {
  const tr = blobs(300, 3, 1, 2), te = blobs(80, 3, 2, 2);
  const X = withMissing(tr.X, 7), Xte = withMissing(te.X, 5);
  const rf = new RandomForestClassifier({ n_estimators: 25, n_jobs: 1, random_state: 3 });
  await rf.fit(X, tr.y);
  const P = rf.predictProba(Xte), p = Xte.cols;
  for (let k = 0; k < 3; k++) {
    const { bias, contributions } = rf.explain(Xte, new Int32Array(Xte.rows).fill(k));
    assert.equal(contributions.length, Xte.rows * p);
    for (let i = 0; i < Xte.rows; i++) {
      assert.ok(Math.abs(rowSum(bias, contributions, p, i) - P[i * 3 + k]) < EPS, `row ${i} class ${k}`);
    }
    // the bias is the same for every row: the forest's expected probability, close to the class share
    assert.ok(bias.every((b) => b === bias[0]));
    const share = tr.y.filter((c) => c === k).length / tr.y.length;
    assert.ok(Math.abs(bias[0] - share) < 0.1, `bias ${bias[0]} vs share ${share}`);
  }
  // by default each row explains its predicted class
  const pred = rf.predict(Xte);
  const d = rf.explain(Xte);
  assert.equal(rf.explainScale, "probability");
  for (let i = 0; i < Xte.rows; i++) {
    assert.ok(Math.abs(rowSum(d.bias, d.contributions, p, i) - P[i * 3 + pred[i]]) < EPS);
  }
  // Saabas keeps the same identity (it credits features differently)
  const s = explainRows(decodeForest(rf.toBytes()).forest, Xte.data, Xte.rows, pred);
  for (let i = 0; i < Xte.rows; i++) {
    assert.ok(Math.abs(rowSum(s.bias, s.contributions, p, i) - P[i * 3 + pred[i]]) < EPS);
  }
});

Deno.test("regressor: bias + contributions = the prediction; without bootstrap the bias is the mean", async () => {
  const tr = linear(400, 4, 5), te = linear(60, 4, 6);
  const y = Float64Array.from(tr.X.data.filter((_, j) => j % 4 === 0), (v, i) => 3 * v + tr.y[i]);
  const rf = new RandomForestRegressor({ n_estimators: 20, n_jobs: 1, bootstrap: false, max_features: 0.5 });
  await rf.fit(tr.X, y);
  const pred = rf.predict(te.X);
  const { bias, contributions } = rf.explain(te.X);
  assert.equal(rf.explainScale, "value");
  for (let i = 0; i < te.X.rows; i++) {
    assert.ok(Math.abs(rowSum(bias, contributions, 4, i) - pred[i]) < EPS, `row ${i}`);
  }
  const mean = y.reduce((a, b) => a + b, 0) / y.length;
  assert.ok(Math.abs(bias[0] - mean) < 1e-9, `bias ${bias[0]} mean ${mean}`);
  // the feature that drives y most gets the largest attributions
  const mag = [0, 1, 2, 3].map((f) =>
    contributions.filter((_, j) => j % 4 === f).reduce((a, b) => a + Math.abs(b), 0)
  );
  assert.equal(mag.indexOf(Math.max(...mag)), 0);
});

Deno.test("one stump by hand: the split's feature gets leaf value - expected value, an unused one nothing", async () => {
  // x0 = 0..9 decides y; x1 is constant, so it is never split on
  const X = fromRows(Array.from({ length: 10 }, (_, x) => [x, 1]));
  const y = Float64Array.from({ length: 10 }, (_, x) => (x >= 6 ? 10 : 0));
  const rf = new RandomForestRegressor({ n_estimators: 1, bootstrap: false, max_depth: 1, n_jobs: 1 });
  await rf.fit(X, y);
  const e = rf.explain(fromRows([[8, 1], [2, 1]]));
  assert.deepEqual(Array.from(e.bias), [4, 4]);
  assert.deepEqual(Array.from(e.contributions), [6, 0, -4, 0]);
});

Deno.test("weights: sample and class weights give weighted node values; the identity still holds", async () => {
  const tr = blobs(240, 2, 7, 2), te = blobs(50, 2, 8, 2);
  const sampleWeight = Float64Array.from({ length: tr.X.rows }, (_, i) => 1 + (i % 3));
  const rf = new RandomForestClassifier({ n_estimators: 15, n_jobs: 1, class_weight: "balanced" });
  await rf.fit(tr.X, tr.y, { sampleWeight });
  const P = rf.predictProba(te.X), p = te.X.cols;
  const { bias, contributions } = rf.explain(te.X, new Int32Array(te.X.rows).fill(1));
  for (let i = 0; i < te.X.rows; i++) {
    assert.ok(Math.abs(rowSum(bias, contributions, p, i) - P[i * 2 + 1]) < EPS);
  }
});

Deno.test("save/load keeps explanations; a forest saved without leaf weights loads, predicts, refuses to explain", async () => {
  const tr = blobs(200, 2, 9, 2);
  const rf = new RandomForestClassifier({ n_estimators: 10, n_jobs: 1 });
  await rf.fit(tr.X, tr.y);
  const bytes = rf.toBytes();
  const back = loadForest(bytes);
  assert.deepEqual(back.explain(tr.X), rf.explain(tr.X));
  assert.deepEqual(back.toBytes(), bytes);
  // the layout of a forest written before leafWeight existed: the same arrays without it
  const state = decodeForest(bytes);
  const { leafWeight: _, ...oldForest } = state.forest;
  const oldBytes = encodeForest({ ...state, forest: oldForest });
  assert.ok(oldBytes.length < bytes.length);
  assert.ok(!new TextDecoder().decode(oldBytes.subarray(0, 2000)).includes("leafWeight"));
  const old = loadForest(oldBytes) as RandomForestClassifier;
  assert.deepEqual(old.predictProba(tr.X), rf.predictProba(tr.X));
  assert.deepEqual(old.toBytes(), oldBytes);
  assert.throws(
    () => old.explain(tr.X),
    (e: unknown) => e instanceof UserError && /leaf weights/.test(e.message),
  );
});

Deno.test("explain checks the input width like predict", async () => {
  const tr = blobs(100, 2, 1);
  const rf = new RandomForestClassifier({ n_estimators: 3, n_jobs: 1 });
  await rf.fit(tr.X, tr.y);
  assert.throws(() => rf.explain(fromRows([[1]])), UserError);
});
