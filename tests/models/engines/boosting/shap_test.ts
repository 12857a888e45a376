/**
 * TreeSHAP for gradient boosting, on models fitted by the real engine: bias +
 * contributions = the raw score of every row (regression, binary log-odds and
 * its negation for class 0, multiclass logits), with missing values; the bias
 * is the mean training raw score (covers are row counts); shallow models equal
 * brute-force Shapley values tree by tree; a serialized model explains
 * identically; a model without covers asks to be refitted; categorical set
 * splits in a hand-built FlatBoost; a fast-check property on random tables.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  GradientBoostingClassifier,
  GradientBoostingRegressor,
  loadBoosting,
} from "../../../../src/models/engines/boosting/index.ts";
import { decodeBoost, encodeBoost } from "../../../../src/models/engines/boosting/serialize.ts";
import { boostShapTree, shapBoost, shapBoostAll } from "../../../../src/models/engines/boosting/shap.ts";
import type { FlatBoost } from "../../../../src/models/engines/boosting/flat.ts";
import { treeOutput } from "../../../../src/models/shap/treeshap.ts";
import type { Matrix } from "../../../../src/models/types.ts";
import { UserError } from "../../../../src/core/errors.ts";
import { Rng } from "../../../../src/core/random.ts";
import { bruteShapAt, routeRef } from "../../shap/_trees.ts";

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

Deno.test("categorical set splits in a FlatBoost: codes in the set go left; SHAP = brute force, sums to the raw score", () => {
  // two rounds of one tree each: tree 0 splits x0 on the set {0, 2, 35} (missing right), then x1 <= 0;
  // tree 1 splits x1 numerically, then x0 on the empty set (everything but missing goes right; missing left)
  const fb: FlatBoost = {
    width: 1,
    nFeatures: 2,
    baseline: Float64Array.of(0.25),
    roots: Int32Array.of(0, 5),
    feature: Int32Array.of(0, -1, 1, -1, -1, 1, 0, -1, -1, -1),
    threshold: Float64Array.of(0, 0, 0, 0, 0, 0.5, 0, 0, 0, 0),
    child: Int32Array.of(1, 0, 3, 0, 0, 6, 8, 0, 0, 0),
    nanRight: Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    value: Float64Array.of(0, 1.5, 0, -0.5, 0.75, 0, 0, 2, -1, 0.5),
    cover: Float64Array.of(10, 4, 6, 2, 4, 10, 7, 3, 4, 3),
    catStart: Int32Array.of(0, -1, -1, -1, -1, -1, 2, -1, -1, -1),
    catWords: Uint8Array.of(2, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    catBits: Uint32Array.of(0b101, 1 << 3),
  };
  const tree = boostShapTree(fb);
  assert.equal(routeRef(tree, 0, 35), 1);
  assert.equal(routeRef(tree, 0, 34), 2);
  const rng = new Rng(5);
  for (let r = 0; r < 200; r++) {
    const u = rng.next();
    const x = [
      u < 0.2 ? NaN : u < 0.3 ? -1 : u < 0.45 ? 35 : Math.floor(rng.next() * 5),
      rng.next() < 0.2 ? NaN : rng.next() * 2 - 1,
    ];
    const raw = fb.baseline[0] + treeOutput(tree, x, 0, fb.roots)[0];
    for (const cls of [0, 1]) {
      const { bias, contributions } = shapBoost(fb, x, 1, cls, true);
      const sign = cls === 1 ? 1 : -1;
      close(bias[0] + contributions[0] + contributions[1], sign * raw, `row ${x} class ${cls}`);
      const ref = [0, 1].map((t) => bruteShapAt(tree, fb.roots[t], x));
      for (let f = 0; f < 2; f++) {
        close(contributions[f], sign * (ref[0][f] + ref[1][f]), `row ${x} phi ${f}`);
      }
    }
  }
  // by hand: tree 1 sends x1 > 0.5 to its leaf 2, else to x0's empty set (codes right to 0.5, missing left to -1)
  const byHand: [number[], number][] = [
    [[2, 0.9], 0.25 + 1.5 + 2],
    [[NaN, -0.2], 0.25 - 0.5 - 1],
    [[3, -0.2], 0.25 - 0.5 + 0.5],
    [[35, 0.1], 0.25 + 1.5 + 0.5],
    [[-1, 0.1], 0.25 + 0.75 - 1],
  ];
  for (const [x, want] of byHand) {
    close(fb.baseline[0] + treeOutput(tree, x, 0, fb.roots)[0], want, `by hand ${x}`);
  }
});

Deno.test("property: on random tables, bias + contributions = the raw score of every row, any output", async () => {
  const table = fc.record({
    rows: fc.integer({ min: 2, max: 50 }),
    cols: fc.integer({ min: 1, max: 4 }),
    k: fc.integer({ min: 0, max: 4 }),
    seed: fc.integer({ min: 0, max: 1000 }),
    max_iter: fc.integer({ min: 1, max: 8 }),
    max_depth: fc.oneof(fc.constant(null), fc.integer({ min: 1, max: 4 })),
    subsample: fc.constantFrom(1, 0.6),
  }).chain((t) =>
    fc.record({
      t: fc.constant(t),
      values: fc.array(
        fc.oneof(
          fc.constant(NaN),
          fc.integer({ min: -3, max: 3 }),
          fc.double({ min: -1e6, max: 1e6, noNaN: true }),
        ),
        { minLength: t.rows * t.cols, maxLength: t.rows * t.cols },
      ),
      y: fc.array(fc.integer({ min: 0, max: Math.max(1, t.k) - 1 }), {
        minLength: t.rows,
        maxLength: t.rows,
      }),
    })
  );
  await fc.assert(
    fc.asyncProperty(table, async ({ t, values, y }) => {
      const X: Matrix = { data: Float64Array.from(values), rows: t.rows, cols: t.cols };
      const params = {
        max_iter: t.max_iter,
        max_depth: t.max_depth,
        subsample: t.subsample,
        random_state: t.seed,
      };
      const gb = t.k === 0 ? new GradientBoostingRegressor(params) : new GradientBoostingClassifier(params);
      await gb.fit(
        X,
        Float64Array.from(y, (v, i) => (t.k === 0 ? v + (i % 3) : v)),
      );
      const raw = gb.rawPredict(X), W = raw.length / X.rows;
      const K = gb instanceof GradientBoostingClassifier ? Math.max(2, gb.nClasses) : 1;
      for (let c = 0; c < K; c++) {
        const { bias, contributions } = gb.explain(X, new Float64Array(X.rows).fill(c));
        for (let i = 0; i < X.rows; i++) {
          const want = W > 1 ? raw[i * W + c] : K === 2 && c === 0 ? -raw[i] : raw[i];
          let s = bias[i], mag = Math.abs(bias[i]);
          for (let f = 0; f < X.cols; f++) {
            s += contributions[i * X.cols + f];
            mag += Math.abs(contributions[i * X.cols + f]);
          }
          assert.ok(Math.abs(s - want) <= 1e-9 * Math.max(1, mag), `row ${i} class ${c}: ${s} vs ${want}`);
        }
      }
    }),
    { numRuns: 80 },
  );
});

Deno.test("a model fitted with a categorical column: its set splits explained exactly (brute force, additivity)", async () => {
  const rng = new Rng(12), n = 1500, p = 3, data = new Float64Array(n * p), y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(rng.next() * 12);
    data[i * p] = rng.next() < 0.05 ? -1 : c;
    data[i * p + 1] = rng.next() < 0.05 ? NaN : rng.next() * 2 - 1;
    data[i * p + 2] = rng.next() * 2 - 1;
    y[i] = ([1, 4, 5, 9, 10].includes(c) ? 1 : 0) ^ (data[i * p + 1] > 0.6 ? 1 : 0);
  }
  const X: Matrix = { data, rows: n, cols: p };
  const gb = new GradientBoostingClassifier({ max_iter: 8, max_depth: 3, random_state: 0 });
  await gb.fit(X, y, { categorical: [true, false, false] });
  const fb = flat(gb), tree = boostShapTree(fb);
  assert.ok(
    fb.catStart && fb.catStart.some((s, i) => s >= 0 && fb.feature[i] === 0),
    "no set split on column 0",
  );
  const raw = gb.rawPredict(X), one = gb.explain(X, new Float64Array(n).fill(1));
  for (let i = 0; i < n; i++) close(rowSum(one.bias, one.contributions, p, i), raw[i], `row ${i}`);
  for (let r = 0; r < 40; r++) {
    const x = data.subarray(r * p, r * p + p), ref = new Float64Array(p);
    for (let t = 0; t < fb.roots.length; t++) {
      const phi = bruteShapAt(tree, fb.roots[t], x);
      for (let f = 0; f < p; f++) ref[f] += phi[f];
    }
    for (let f = 0; f < p; f++) close(one.contributions[r * p + f], ref[f], `row ${r} feature ${f}`);
  }
  assert.deepEqual(loadBoosting(gb.toBytes()).explain(X), gb.explain(X));
});
