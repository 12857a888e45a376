import assert from "node:assert/strict";
import {
  GradientBoostingClassifier,
  GradientBoostingRegressor,
  loadBoosting,
} from "../../../../src/models/engines/boosting/index.ts";
import { r2, rocAuc } from "../../../../src/models/metrics.ts";
import { Rng } from "../../../../src/core/random.ts";
import { sortValues } from "../../../../src/models/engines/boosting/bins.ts";
import type { Matrix } from "../../../../src/models/types.ts";
import { blobs, fromRows, gaussian, xor } from "../forest/helpers.ts";

function positive(proba: Float64Array, k: number, c = 1): number[] {
  return Array.from({ length: proba.length / k }, (_, i) => proba[i * k + c]);
}

/** y = sin(x0) * 2 + x1^2 + small noise; x in [-2, 2]. */
function smooth(n: number, seed: number): { X: Matrix; y: Float64Array } {
  const rng = new Rng(seed);
  const rows: number[][] = [], y: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = rng.uniform(-2, 2), b = rng.uniform(-2, 2), c = rng.uniform(-2, 2);
    rows.push([a, b, c]);
    y.push(2 * Math.sin(a) + b * b + 0.05 * gaussian(rng));
  }
  return { X: fromRows(rows), y: Float64Array.from(y) };
}

Deno.test("boosting learns XOR (AUC > 0.95 on held-out rows) where a stump cannot", async () => {
  const tr = xor(2000, 1, 3), te = xor(1000, 2, 3);
  const gb = new GradientBoostingClassifier({ random_state: 0 });
  await gb.fit(tr.X, tr.y);
  const auc = rocAuc(te.y, positive(gb.predictProba(te.X), 2));
  assert.ok(auc > 0.95, `AUC ${auc}`);
  const stump = new GradientBoostingClassifier({ max_iter: 1, max_depth: 1, learning_rate: 1 });
  await stump.fit(tr.X, tr.y);
  const aucStump = rocAuc(te.y, positive(stump.predictProba(te.X), 2));
  assert.ok(aucStump < 0.7, `stump AUC ${aucStump}`);
  const imp = gb.featureImportances()!;
  assert.ok(Math.abs(imp.reduce((a, b) => a + b, 0) - 1) < 1e-12);
  assert.ok(imp[0] + imp[1] > 0.8, `importances ${imp}`);
});

Deno.test("boosting regression: R² > 0.9 on a smooth function", async () => {
  const tr = smooth(3000, 3), te = smooth(1000, 4);
  const gb = new GradientBoostingRegressor({ random_state: 0, max_iter: 200 });
  await gb.fit(tr.X, tr.y);
  const score = r2(te.y, gb.predict(te.X));
  assert.ok(score > 0.9, `R² ${score}`);
  for (let i = 0; i < 20; i++) {
    const x = te.X.data.subarray(i * 3, i * 3 + 3);
    assert.equal(gb.predictRow(x), gb.predict(te.X)[i]);
  }
});

Deno.test("boosting multiclass: probabilities sum to 1 and beat the prior", async () => {
  const tr = blobs(900, 3, 5, 2), te = blobs(300, 3, 6, 2);
  const gb = new GradientBoostingClassifier({ random_state: 0, max_iter: 30 });
  await gb.fit(tr.X, tr.y);
  assert.equal(gb.nClasses, 3);
  const p = gb.predictProba(te.X);
  let ll = 0;
  for (let i = 0; i < te.X.rows; i++) {
    let s = 0;
    for (let k = 0; k < 3; k++) {
      assert.ok(p[i * 3 + k] >= 0 && p[i * 3 + k] <= 1);
      s += p[i * 3 + k];
    }
    assert.ok(Math.abs(s - 1) < 1e-12);
    ll -= Math.log(p[i * 3 + te.y[i]]);
  }
  ll /= te.X.rows;
  assert.ok(ll < Math.log(3) / 4, `log loss ${ll} vs prior ${Math.log(3)}`);
  const pred = gb.predict(te.X);
  let ok = 0;
  for (let i = 0; i < te.X.rows; i++) if (pred[i] === te.y[i]) ok++;
  assert.ok(ok / te.X.rows > 0.95);
  const row = gb.predictProbaRow(te.X.data.subarray(0, te.X.cols));
  assert.deepEqual(Array.from(row), Array.from(p.subarray(0, 3)));
});

function noise(n: number, seed: number): { X: Matrix; y: Float64Array } {
  const rng = new Rng(seed);
  const rows: number[][] = [], y: number[] = [];
  for (let i = 0; i < n; i++) {
    rows.push([rng.next(), rng.next(), rng.next(), rng.next()]);
    y.push(rng.chance(0.5) ? 1 : 0);
  }
  return { X: fromRows(rows), y: Float64Array.from(y) };
}

Deno.test("early stopping stops before max_iter on noise, the same n_iter_ and bytes for the same seed", async () => {
  const { X, y } = noise(3000, 7);
  const fit = async () => {
    const gb = new GradientBoostingClassifier({ early_stopping: true, random_state: 3, max_iter: 200 });
    await gb.fit(X, y);
    return gb;
  };
  const a = await fit(), b = await fit();
  assert.ok(a.n_iter_ < 200, `n_iter_ ${a.n_iter_}`);
  assert.ok(a.validationScore.length < 200);
  assert.ok(a.validationScore.length >= a.n_iter_ + 10);
  assert.equal(a.n_iter_, b.n_iter_);
  assert.deepEqual(a.toBytes(), b.toBytes());
  // an explicit validation set
  const v = noise(500, 8);
  const c = new GradientBoostingRegressor({ early_stopping: true, max_iter: 200 });
  await c.fit(X, y, { validation: { X: v.X, y: v.y } });
  assert.ok(c.n_iter_ < 200);
  // auto: off below 1,000 rows (100 rounds by default), on from 1,000 (1,000 rounds at most)
  const small = noise(999, 9);
  const d = new GradientBoostingClassifier({ max_iter: 15 });
  await d.fit(small.X, small.y);
  assert.equal(d.n_iter_, 15);
  const e = new GradientBoostingClassifier({ max_leaf_nodes: 4 });
  await e.fit(small.X, small.y);
  assert.equal(e.n_iter_, 100);
  assert.equal(e.validationScore.length, 0);
  const f = new GradientBoostingClassifier({});
  await f.fit(X, y);
  assert.ok(f.n_iter_ < 1000 && f.validationScore.length > 0, `n_iter_ ${f.n_iter_}`);
  // auto with validation rows given: on, whatever the row count
  const g = new GradientBoostingClassifier({ max_iter: 300 });
  await g.fit(small.X, small.y, { validation: { X: v.X, y: v.y } });
  assert.ok(g.n_iter_ < 300 && g.validationScore.length > 0);
});

Deno.test("early stopping keeps the useful rounds on a real signal", async () => {
  const { X, y } = smooth(3000, 9);
  const gb = new GradientBoostingRegressor({ early_stopping: true, max_iter: 300, learning_rate: 0.3 });
  await gb.fit(X, y);
  assert.ok(gb.n_iter_ > 20 && gb.n_iter_ <= 300, `n_iter_ ${gb.n_iter_}`);
});

Deno.test("serialization round-trips bit-identically (classifier, multiclass, regressor)", async () => {
  const tr = xor(800, 11, 2);
  tr.X.data[5] = NaN;
  const models = [
    new GradientBoostingClassifier({ max_iter: 20, subsample: 0.7, colsample: 0.5, random_state: 1 }),
    new GradientBoostingRegressor({ max_iter: 20, l2_regularization: 1 }),
  ];
  for (const m of models) {
    await m.fit(tr.X, tr.y);
    const bytes = m.toBytes();
    const back = loadBoosting(bytes);
    assert.equal(back.kind, m.kind);
    assert.deepEqual(back.toBytes(), bytes);
    const probe = xor(200, 12, 2).X;
    probe.data[0] = NaN;
    probe.data[7] = Infinity;
    assert.deepEqual(back.predict(probe), m.predict(probe));
    if (m instanceof GradientBoostingClassifier) {
      assert.deepEqual(
        (back as GradientBoostingClassifier).predictProba(probe),
        m.predictProba(probe),
      );
    }
    assert.deepEqual(back.featureImportances(), m.featureImportances());
  }
  const mc = blobs(300, 4, 13);
  const gm = new GradientBoostingClassifier({ max_iter: 10 });
  await gm.fit(mc.X, mc.y);
  const back = GradientBoostingClassifier.fromBytes(gm.toBytes());
  assert.deepEqual(back.predictProba(mc.X), gm.predictProba(mc.X));
  assert.throws(() => GradientBoostingRegressor.fromBytes(gm.toBytes()));
  assert.throws(() => loadBoosting(new Uint8Array([1, 2, 3])));
  const cut = gm.toBytes().slice(0, 200);
  assert.throws(() => loadBoosting(cut));
});

Deno.test("all-NaN and constant columns do not crash and get no splits", async () => {
  const rng = new Rng(21);
  const rows: number[][] = [], y: number[] = [];
  for (let i = 0; i < 500; i++) {
    const a = rng.next();
    rows.push([NaN, 3, a]);
    y.push(a > 0.5 ? 1 : 0);
  }
  const X = fromRows(rows), yy = Float64Array.from(y);
  const gb = new GradientBoostingClassifier({ max_iter: 10 });
  await gb.fit(X, yy);
  const imp = gb.featureImportances()!;
  assert.equal(imp[0], 0);
  assert.equal(imp[1], 0);
  assert.ok(Math.abs(imp[2] - 1) < 1e-12);
  const probe = fromRows([[1, 2, 0.9], [NaN, NaN, NaN], [-Infinity, Infinity, 0.1]]);
  const p = gb.predictProba(probe);
  for (const v of p) assert.ok(Number.isFinite(v));
  // every column all-NaN: the baseline only
  const allNan = fromRows(rows.map(() => [NaN, NaN]));
  const g2 = new GradientBoostingRegressor({ max_iter: 5 });
  await g2.fit(allNan, yy);
  const pr = g2.predict(allNan);
  const mean = yy.reduce((a, b) => a + b, 0) / yy.length;
  for (const v of pr) assert.ok(Math.abs(v - mean) < 1e-12);
});

Deno.test("the missing-value direction is learned: a signal only in missingness", async () => {
  const rng = new Rng(31);
  const rows: number[][] = [], y: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const c = rng.chance(0.4) ? 1 : 0;
    // x0 is missing for most positives; where present its value is noise
    rows.push([c === 1 && rng.chance(0.9) ? NaN : rng.next(), rng.next()]);
    y.push(c);
  }
  const X = fromRows(rows), yy = Float64Array.from(y);
  const gb = new GradientBoostingClassifier({ max_iter: 20, random_state: 0 });
  await gb.fit(X, yy);
  const p = gb.predictProba(fromRows([[NaN, 0.5], [0.5, 0.5]]));
  assert.ok(p[1] > 0.9, `P(1 | missing) = ${p[1]}`);
  assert.ok(p[3] < 0.2, `P(1 | present) = ${p[3]}`);
  const auc = rocAuc(yy, positive(gb.predictProba(X), 2));
  assert.ok(auc > 0.9);
  // missing on the other side: NaN should go with the low class
  const rows2 = rows.map((r, i) => [Number.isNaN(r[0]) ? NaN : r[0] + 10 * (1 - yy[i]), r[1]]);
  const g2 = new GradientBoostingClassifier({ max_iter: 20 });
  await g2.fit(fromRows(rows2), yy);
  const q = g2.predictProba(fromRows([[NaN, 0.5]]));
  assert.ok(q[1] > 0.9);
});

Deno.test("weights: balanced classes and scale_pos_weight raise the minority's probability", async () => {
  const rng = new Rng(41);
  const rows: number[][] = [], y: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const a = rng.next();
    rows.push([a, rng.next()]);
    y.push(rng.chance(a > 0.8 ? 0.4 : 0.05) ? 1 : 0);
  }
  const X = fromRows(rows), yy = Float64Array.from(y);
  const mean = async (params: ConstructorParameters<typeof GradientBoostingClassifier>[0]) => {
    const gb = new GradientBoostingClassifier({ max_iter: 20, ...params });
    await gb.fit(X, yy);
    const p = positive(gb.predictProba(X), 2);
    return p.reduce((a, b) => a + b, 0) / p.length;
  };
  const plain = await mean({}), balanced = await mean({ class_weight: "balanced" });
  const spw = await mean({ scale_pos_weight: 5 });
  assert.ok(balanced > plain + 0.2, `${balanced} vs ${plain}`);
  assert.ok(spw > plain + 0.1);
});

Deno.test("monotonic_cst: predictions are monotone in a constrained feature", async () => {
  const rng = new Rng(51);
  const rows: number[][] = [], y: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const a = rng.uniform(0, 1), b = rng.uniform(0, 1);
    rows.push([a, b]);
    y.push(a + Math.sin(12 * a) * 0.3 + b + 0.1 * gaussian(rng));
  }
  const X = fromRows(rows), yy = Float64Array.from(y);
  const gb = new GradientBoostingRegressor({ monotonic_cst: [1, 0], max_iter: 50 });
  await gb.fit(X, yy);
  const free = new GradientBoostingRegressor({ max_iter: 50 });
  await free.fit(X, yy);
  let violations = 0, freeViol = 0;
  for (const b of [0.1, 0.5, 0.9]) {
    const grid = fromRows(Array.from({ length: 200 }, (_, i) => [i / 199, b]));
    const p = gb.predict(grid), q = free.predict(grid);
    for (let i = 1; i < 200; i++) {
      if (p[i] < p[i - 1] - 1e-12) violations++;
      if (q[i] < q[i - 1] - 1e-12) freeViol++;
    }
  }
  assert.equal(violations, 0);
  assert.ok(freeViol > 0, "the unconstrained model should follow the wiggle");
  assert.throws(() => new GradientBoostingRegressor({ monotonic_cst: [2] }));
  await assert.rejects(() => new GradientBoostingRegressor({ monotonic_cst: [1] }).fit(X, yy));
});

Deno.test("max_depth and max_leaf_nodes limit the trees; bad params are refused", async () => {
  const { X, y } = xor(500, 61, 1);
  const gb = new GradientBoostingClassifier({
    max_iter: 3,
    max_leaf_nodes: null,
    max_depth: 2,
    min_samples_leaf: 1,
  });
  await gb.fit(X, y);
  assert.equal(gb.stats().trees, 3);
  assert.ok(gb.stats().maxLeaves <= 4 && gb.stats().maxLeaves >= 3);
  const g2 = new GradientBoostingClassifier({ max_iter: 3, max_leaf_nodes: 5, min_samples_leaf: 1 });
  await g2.fit(X, y);
  assert.equal(g2.stats().maxLeaves, 5);
  assert.throws(() => new GradientBoostingClassifier({ learning_rate: 0 }));
  assert.throws(() => new GradientBoostingClassifier({ subsample: 1.5, colsample: 0 }));
  // deno-lint-ignore no-explicit-any
  assert.throws(() => new GradientBoostingClassifier({ nope: 1 } as any));
  assert.throws(() => new GradientBoostingRegressor({ class_weight: "balanced" }));
  await assert.rejects(() => gb.fit(X, Float64Array.from(y, (v) => v + 0.5)));
  assert.throws(() => gb.predict({ data: new Float64Array(5), rows: 1, cols: 5 }));
});

Deno.test("binning's radix sort orders values as Float64Array.prototype.sort does (-0 before +0, infinities, ties)", () => {
  const rng = new Rng(7);
  const cases: Float64Array[] = [new Float64Array(9000).fill(2.5)];
  const mixed = new Float64Array(70000);
  for (let i = 0; i < mixed.length; i++) {
    const u = rng.next();
    mixed[i] = u < 0.1
      ? 0
      : u < 0.2
      ? -0
      : u < 0.22
      ? Infinity
      : u < 0.24
      ? -Infinity
      : u < 0.3
      ? Math.round(u * 100) - 30
      : (rng.next() - 0.5) * 10 ** (rng.next() * 40 - 20);
  }
  cases.push(mixed, mixed.subarray(123, 60000), Float64Array.from({ length: 5000 }, (_, i) => i % 3 - 1));
  for (const c of cases) {
    const ours = sortValues(Float64Array.from(c)), ref = Float64Array.from(c).sort();
    assert.equal(ours.length, ref.length);
    for (let i = 0; i < ref.length; i++) {
      assert.ok(Object.is(ours[i], ref[i]), `position ${i}: ${ours[i]} vs ${ref[i]}`);
    }
  }
  // in place on a view with an offset
  const base = Float64Array.from(mixed), ref = Float64Array.from(mixed);
  sortValues(base.subarray(1000, 65000));
  ref.subarray(1000, 65000).sort();
  for (let i = 0; i < ref.length; i++) assert.ok(Object.is(base[i], ref[i]), `view position ${i}`);
});
