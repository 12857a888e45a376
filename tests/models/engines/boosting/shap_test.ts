/**
 * TreeSHAP for gradient boosting, on models fitted by the real engine: bias +
 * contributions = the raw score of every row (regression, binary log-odds and
 * its negation for class 0, multiclass logits), with missing values; the bias
 * is the mean training raw score (covers are row counts); shallow models equal
 * brute-force Shapley values tree by tree; a serialized model explains
 * identically; a model without covers asks to be refitted.
 */
import assert from "node:assert/strict";
import {
  GradientBoostingClassifier,
  GradientBoostingRegressor,
  loadBoosting,
} from "../../../../src/models/engines/boosting/index.ts";
import { decodeBoost, encodeBoost } from "../../../../src/models/engines/boosting/serialize.ts";
import { boostShapTree, shapBoost, shapBoostAll } from "../../../../src/models/engines/boosting/shap.ts";
import type { FlatBoost } from "../../../../src/models/engines/boosting/flat.ts";
import type { Matrix } from "../../../../src/models/types.ts";
import { UserError } from "../../../../src/core/errors.ts";
import { Rng } from "../../../../src/core/random.ts";
import { bruteShapAt } from "../../shap/_trees.ts";

const EPS = 1e-9;

function close(a: number, b: number, what: string): void {
  assert.ok(Math.abs(a - b) <= EPS * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
}

/** p features in [-1, 1], some missing; y from a few of them (regression, or k classes by thresholds). */
function synth(n: number, p: number, seed: number, k = 0): { X: Matrix; y: Float64Array } {
  const rng = new Rng(seed);
  const data = new Float64Array(n * p), y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < p; f++) data[i * p + f] = rng.next() < 0.08 ? NaN : rng.next() * 2 - 1;
    const v = (f: number) => (Number.isNaN(data[i * p + f]) ? 0.3 : data[i * p + f]);
    const z = 2 * v(0) - v(1) + v(0) * v(2) + 0.3 * (rng.next() - 0.5);
    y[i] = k === 0 ? z : Math.min(k - 1, Math.max(0, Math.floor((z + 1.5) / (3 / k))));
  }
  return { X: { data, rows: n, cols: p }, y };
}

const flat = (m: { toBytes(): Uint8Array }): FlatBoost => decodeBoost(m.toBytes()).model;

function rowSum(bias: Float64Array, c: Float64Array, p: number, i: number): number {
  let s = bias[i];
  for (let f = 0; f < p; f++) s += c[i * p + f];
  return s;
}

Deno.test("regressor: bias + contributions = the prediction of every row; the bias is the mean training score", async () => {
  const tr = synth(600, 5, 1), te = synth(200, 5, 2);
  const gb = new GradientBoostingRegressor({ max_iter: 40, random_state: 0 });
  await gb.fit(tr.X, tr.y);
  assert.equal(gb.explainScale, "value");
  const pred = gb.predict(te.X), { bias, contributions } = gb.explain(te.X);
  assert.equal(contributions.length, te.X.rows * 5);
  for (let i = 0; i < te.X.rows; i++) close(rowSum(bias, contributions, 5, i), pred[i], `row ${i}`);
  // covers are training row counts, so each tree's expected value is its mean over the training rows
  const trainPred = gb.predict(tr.X);
  close(bias[0], trainPred.reduce((a, b) => a + b, 0) / tr.X.rows, "bias vs mean training prediction");
  assert.ok(bias.every((b) => b === bias[0]));
  // the features y does not depend on get little
  const mag = [0, 1, 2, 3, 4].map((f) =>
    contributions.filter((_, j) => j % 5 === f).reduce((a, b) => a + Math.abs(b), 0)
  );
  assert.ok(mag[0] > 5 * mag[3] && mag[0] > 5 * mag[4], `mean |phi| ${mag}`);
  assert.throws(() => gb.explain({ data: new Float64Array(4), rows: 1, cols: 4 }), UserError);
});

Deno.test("binary: contributions sum to the log-odds of class 1, and to its negation for class 0", async () => {
  const tr = synth(600, 4, 3, 2), te = synth(150, 4, 4, 2);
  const gb = new GradientBoostingClassifier({ max_iter: 30, random_state: 1 });
  await gb.fit(tr.X, tr.y);
  assert.equal(gb.explainScale, "log_odds");
  const raw = gb.rawPredict(te.X), pred = gb.predict(te.X), n = te.X.rows;
  const one = gb.explain(te.X, new Float64Array(n).fill(1));
  const zero = gb.explain(te.X, new Float64Array(n));
  const byDefault = gb.explain(te.X);
  for (let i = 0; i < n; i++) {
    close(rowSum(one.bias, one.contributions, 4, i), raw[i], `row ${i} class 1`);
    close(rowSum(zero.bias, zero.contributions, 4, i), -raw[i], `row ${i} class 0`);
    const d = rowSum(byDefault.bias, byDefault.contributions, 4, i);
    close(d, pred[i] === 1 ? raw[i] : -raw[i], `row ${i} predicted class`);
  }
  for (let j = 0; j < one.contributions.length; j++) {
    assert.equal(zero.contributions[j], -one.contributions[j]);
  }
  assert.deepEqual(shapBoost(flat(gb), te.X.data, n, 1, true), one);
  assert.throws(() => gb.explain(te.X, new Float64Array(n).fill(2)), /out of range/);
  assert.throws(() => gb.explain(te.X, [0, 1]), /classes for/);
});

Deno.test("multiclass: class k's contributions sum to its logit; all classes at once agree", async () => {
  const tr = synth(700, 4, 5, 3), te = synth(120, 4, 6, 3);
  const gb = new GradientBoostingClassifier({ max_iter: 25, random_state: 2, max_leaf_nodes: 15 });
  await gb.fit(tr.X, tr.y);
  assert.equal(gb.nClasses, 3);
  assert.equal(gb.explainScale, "logit");
  const raw = gb.rawPredict(te.X), pred = gb.predict(te.X), n = te.X.rows, fb = flat(gb);
  const all = shapBoostAll(fb, te.X.data, n);
  assert.equal(all.bias.length, 3);
  for (let k = 0; k < 3; k++) {
    const e = gb.explain(te.X, new Float64Array(n).fill(k));
    for (let i = 0; i < n; i++) {
      close(rowSum(e.bias, e.contributions, 4, i), raw[i * 3 + k], `row ${i} class ${k}`);
      let s = all.bias[k];
      for (let f = 0; f < 4; f++) {
        const c = all.contributions[(i * 4 + f) * 3 + k];
        assert.equal(c, e.contributions[i * 4 + f]);
        s += c;
      }
      close(s, raw[i * 3 + k], `row ${i} class ${k} (all at once)`);
    }
  }
  const d = gb.explain(te.X);
  for (let i = 0; i < n; i++) close(rowSum(d.bias, d.contributions, 4, i), raw[i * 3 + pred[i]], `row ${i}`);
  assert.deepEqual(shapBoost(fb, te.X.data, n), d);
  assert.throws(() => gb.explain(te.X, new Float64Array(n).fill(3)), /out of range/);
});

Deno.test("shallow models: the contributions = the trees' brute-force Shapley values, summed per class", async () => {
  for (const k of [0, 2, 3]) {
    const tr = synth(300, 4, 7 + k, k), te = synth(12, 4, 8 + k, k);
    const params = { max_iter: 6, max_depth: 3, random_state: 3 };
    const gb = k ? new GradientBoostingClassifier(params) : new GradientBoostingRegressor(params);
    await gb.fit(tr.X, tr.y);
    const fb = flat(gb), tree = boostShapTree(fb), W = fb.width;
    for (let r = 0; r < te.X.rows; r++) {
      const x = te.X.data.subarray(r * 4, r * 4 + 4);
      for (let c = 0; c < W; c++) {
        const ref = new Float64Array(4);
        for (let t = c; t < fb.roots.length; t += W) {
          const phi = bruteShapAt(tree, fb.roots[t], x);
          for (let f = 0; f < 4; f++) ref[f] += phi[f];
        }
        const got = shapBoost(fb, x, 1, W > 1 ? c : 1, k > 0).contributions;
        for (let f = 0; f < 4; f++) close(got[f], ref[f], `k ${k} row ${r} class ${c} feature ${f}`);
      }
    }
  }
});

Deno.test("a serialized model explains identically; one saved without covers asks to be refitted", async () => {
  const tr = synth(400, 3, 9, 3), te = synth(50, 3, 10, 3);
  const gb = new GradientBoostingClassifier({ max_iter: 10, random_state: 4 });
  await gb.fit(tr.X, tr.y);
  const back = loadBoosting(gb.toBytes());
  assert.deepEqual(back.explain(te.X), gb.explain(te.X));
  assert.equal(back.explainScale, "logit");
  const s = decodeBoost(gb.toBytes());
  const { cover: _, ...old } = s.model;
  const oldModel = loadBoosting(encodeBoost({ ...s, model: old }));
  assert.deepEqual(oldModel.predict(te.X), gb.predict(te.X));
  assert.throws(
    () => oldModel.explain(te.X),
    (e: unknown) => e instanceof UserError && /refit/.test(e.message),
  );
});
