/**
 * TreeSHAP on trained forests: bias + contributions = every prediction
 * (regressor, binary and multiclass classifier, with missing values), the
 * per-class form agrees with the all-classes form, a forest of stumps agrees
 * with the tree-path (Saabas) attributions, brute force on a shallow forest,
 * and the explain latency of one row through 100 trees of depth 6 (printed).
 */
import assert from "node:assert/strict";
import { RandomForestClassifier, RandomForestRegressor } from "../../../src/models/engines/forest/index.ts";
import { decodeForest } from "../../../src/models/engines/forest/serialize.ts";
import { explainRows } from "../../../src/models/engines/forest/explain.ts";
import type { FlatForest } from "../../../src/models/engines/forest/flat.ts";
import {
  forestExplainer,
  forestShapTree,
  shapForest,
  shapForestAll,
} from "../../../src/models/engines/forest/shap.ts";
import type { Matrix } from "../../../src/models/types.ts";
import { UserError } from "../../../src/core/errors.ts";
import { blobs, linear } from "../engines/forest/helpers.ts";
import { bruteShapAt } from "./_trees.ts";

const EPS = 1e-9;

function withMissing(X: Matrix, every: number): Matrix {
  const data = Float64Array.from(X.data);
  for (let i = 0; i < data.length; i += every) data[i] = NaN;
  return { data, rows: X.rows, cols: X.cols };
}

const flatOf = (m: { toBytes(): Uint8Array }): FlatForest => decodeForest(m.toBytes()).forest;

function rowSum(bias: Float64Array, c: Float64Array, p: number, i: number): number {
  let s = bias[i];
  for (let f = 0; f < p; f++) s += c[i * p + f];
  return s;
}

Deno.test("regressor: bias + contributions = the prediction for every row, missing values included", async () => {
  const tr = linear(400, 5, 1), te = linear(100, 5, 2);
  const y = Float64Array.from(
    { length: 400 },
    (_, i) => 3 * tr.X.data[i * 5] + tr.y[i] - tr.X.data[i * 5 + 1] ** 2,
  );
  const rf = new RandomForestRegressor({ n_estimators: 30, n_jobs: 1, random_state: 4, max_depth: 8 });
  await rf.fit(withMissing(tr.X, 9), y);
  const Xte = withMissing(te.X, 4), pred = rf.predict(Xte), ff = flatOf(rf);
  const { bias, contributions } = shapForest(ff, Xte.data, Xte.rows);
  assert.equal(contributions.length, Xte.rows * 5);
  for (let i = 0; i < Xte.rows; i++) {
    assert.ok(Math.abs(rowSum(bias, contributions, 5, i) - pred[i]) < EPS, `row ${i}`);
  }
  // one bias for every row, near the training mean (bootstrap samples move it a little)
  assert.ok(bias.every((b) => b === bias[0]));
  const mean = y.reduce((a, b) => a + b, 0) / y.length;
  assert.ok(Math.abs(bias[0] - mean) < 0.3, `bias ${bias[0]} vs mean ${mean}`);
  // the strongest driver gets the largest mean |phi|
  const mag = [0, 1, 2, 3, 4].map((f) =>
    contributions.filter((_, j) => j % 5 === f).reduce((a, b) => a + Math.abs(b), 0)
  );
  assert.equal(mag.indexOf(Math.max(...mag)), 0);
});

Deno.test("multiclass: each class's contributions sum to its probability; they cancel across classes", async () => {
  const tr = blobs(300, 3, 5, 2), te = blobs(60, 3, 6, 2);
  const rf = new RandomForestClassifier({ n_estimators: 20, n_jobs: 1, random_state: 7 });
  await rf.fit(withMissing(tr.X, 7), tr.y);
  const Xte = withMissing(te.X, 5), p = Xte.cols, P = rf.predictProba(Xte), ff = flatOf(rf);
  const all = shapForestAll(ff, Xte.data, Xte.rows);
  assert.equal(all.bias.length, 3);
  assert.ok(Math.abs(all.bias[0] + all.bias[1] + all.bias[2] - 1) < EPS);
  for (let k = 0; k < 3; k++) {
    const one = shapForest(ff, Xte.data, Xte.rows, k);
    for (let i = 0; i < Xte.rows; i++) {
      assert.ok(
        Math.abs(rowSum(one.bias, one.contributions, p, i) - P[i * 3 + k]) < EPS,
        `row ${i} class ${k}`,
      );
      let s = all.bias[k];
      for (let f = 0; f < p; f++) {
        const c = all.contributions[(i * p + f) * 3 + k];
        assert.ok(Math.abs(c - one.contributions[i * p + f]) < 1e-12);
        s += c;
      }
      assert.ok(Math.abs(s - P[i * 3 + k]) < EPS);
    }
  }
  // probabilities sum to 1 whatever the row, so a feature's credits over the classes cancel
  for (let i = 0; i < Xte.rows * p; i++) {
    const c = all.contributions;
    assert.ok(Math.abs(c[i * 3] + c[i * 3 + 1] + c[i * 3 + 2]) < EPS);
  }
  // default: the predicted class; per-row classes
  const pred = rf.predict(Xte);
  const d = shapForest(ff, Xte.data, Xte.rows);
  const per = shapForest(ff, Xte.data, Xte.rows, pred);
  assert.deepEqual(d, per);
  for (let i = 0; i < Xte.rows; i++) {
    assert.ok(Math.abs(rowSum(d.bias, d.contributions, p, i) - P[i * 3 + pred[i]]) < EPS);
  }
  assert.throws(() => shapForest(ff, Xte.data, Xte.rows, 3), /out of range/);
  assert.throws(() => shapForest(ff, Xte.data, Xte.rows, [0, 1]), /classes for/);
});

Deno.test("a forest of stumps: TreeSHAP = the tree-path attributions (one split per tree)", async () => {
  const tr = linear(200, 3, 8);
  const rf = new RandomForestClassifier({ n_estimators: 15, n_jobs: 1, max_depth: 1, random_state: 1 });
  await rf.fit(tr.X, tr.y);
  const ff = flatOf(rf), out = new Float64Array(tr.X.rows).fill(1);
  const shap = shapForest(ff, tr.X.data, tr.X.rows, 1), saabas = explainRows(ff, tr.X.data, tr.X.rows, out);
  for (let i = 0; i < shap.contributions.length; i++) {
    assert.ok(Math.abs(shap.contributions[i] - saabas.contributions[i]) < 1e-12);
  }
  for (let i = 0; i < tr.X.rows; i++) assert.ok(Math.abs(shap.bias[i] - saabas.bias[i]) < 1e-12);
});

Deno.test("a shallow forest: every tree's TreeSHAP = its brute-force Shapley values, averaged", async () => {
  const tr = linear(150, 4, 9), te = withMissing(linear(10, 4, 10).X, 3);
  const rf = new RandomForestRegressor({ n_estimators: 5, n_jobs: 1, max_depth: 3, random_state: 2 });
  await rf.fit(tr.X, tr.y);
  const ff = flatOf(rf), tree = forestShapTree(ff);
  const { contributions } = shapForest(ff, te.data, te.rows);
  for (let r = 0; r < te.rows; r++) {
    const x = te.data.subarray(r * 4, r * 4 + 4), ref = new Float64Array(4);
    for (let t = 0; t < ff.roots.length; t++) {
      // each tree alone: the tree's nodes, reached from its root
      const phi = bruteShapAt(tree, ff.roots[t], x);
      for (let f = 0; f < 4; f++) ref[f] += phi[f] / ff.roots.length;
    }
    for (let f = 0; f < 4; f++) {
      assert.ok(Math.abs(contributions[r * 4 + f] - ref[f]) < EPS, `row ${r} f ${f}`);
    }
  }
});

Deno.test("a forest saved before leaf weights were kept cannot be explained", async () => {
  const tr = linear(50, 2, 3);
  const rf = new RandomForestRegressor({ n_estimators: 2, n_jobs: 1 });
  await rf.fit(tr.X, tr.y);
  const { leafWeight: _, ...old } = flatOf(rf);
  assert.throws(() => shapForest(old, tr.X.data, 1), UserError);
});

Deno.test("latency: one row through 100 trees of depth 6 (printed, not asserted)", async () => {
  const tr = linear(5000, 20, 12);
  const rf = new RandomForestClassifier({ n_estimators: 100, max_depth: 6, random_state: 0, n_jobs: 1 });
  await rf.fit(tr.X, tr.y);
  const ff = flatOf(rf), ts = forestExplainer(ff), x = tr.X.data, phi = new Float64Array(20);
  const rows = 2000;
  for (let r = 0; r < 200; r++) ts.addRow(x, r * 20, phi, 0, 1, 1);
  const t0 = performance.now();
  for (let r = 0; r < rows; r++) ts.addRow(x, r * 20, phi, 0, 1, 1);
  const perRow = (performance.now() - t0) / rows;
  const t1 = performance.now();
  shapForest(ff, x, rows, 1);
  const batch = (performance.now() - t1) / rows;
  console.log(
    `TreeSHAP, 100 trees of depth <= 6 (${ff.feature.length} nodes): ${(perRow * 1000).toFixed(1)} µs/row ` +
      `(TreeShap.addRow), ${(batch * 1000).toFixed(1)} µs/row (shapForest, ${rows} rows)`,
  );
  assert.ok(Number.isFinite(perRow));
});
