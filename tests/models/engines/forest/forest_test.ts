import assert from "node:assert/strict";
import {
  accuracyScorer,
  loadForest,
  permutationImportance,
  RandomForestClassifier,
  RandomForestRegressor,
} from "../../../../src/models/engines/forest/index.ts";
import { UserError } from "../../../../src/core/errors.ts";
import { Rng } from "../../../../src/core/random.ts";
import { accuracy, blobs, fromRows, gaussian, linear, xor } from "./helpers.ts";

Deno.test("XOR: learned by depth-2 interactions that no single split finds", async () => {
  const tr = xor(600, 1), te = xor(400, 2);
  const rf = new RandomForestClassifier({ n_estimators: 30, n_jobs: 1, random_state: 1 });
  await rf.fit(tr.X, tr.y);
  assert.ok(accuracy(rf.predict(te.X), te.y) > 0.95);
  // a depth-1 forest cannot do better than chance on XOR
  const stump = new RandomForestClassifier({ n_estimators: 30, n_jobs: 1, max_depth: 1 });
  await stump.fit(tr.X, tr.y);
  assert.ok(accuracy(stump.predict(te.X), te.y) < 0.7);
  assert.equal(stump.stats().maxDepth, 1);
});

Deno.test("separable blobs (3 classes): perfect on new data, confident probabilities", async () => {
  const tr = blobs(300, 3, 3), te = blobs(150, 3, 4);
  const rf = new RandomForestClassifier({ n_estimators: 20, n_jobs: 1 });
  await rf.fit(tr.X, tr.y);
  assert.equal(rf.nClasses, 3);
  assert.equal(accuracy(rf.predict(te.X), te.y), 1);
  const proba = rf.predictProba(te.X);
  assert.equal(proba.length, te.X.rows * 3);
  for (let i = 0; i < te.X.rows; i++) assert.ok(proba[i * 3 + te.y[i]] > 0.8);
});

Deno.test("a split lies midway between the values its node saw, as scikit-learn places it", async () => {
  // x = 0..10, y = x > 5; the tree sees only x in {0, 1, 9, 10} (weight 0 elsewhere, as rows out of
  // its bootstrap sample), so the threshold is (1 + 9) / 2 = 5, not the data-wide bin edge 1.5
  const X = fromRows(Array.from({ length: 11 }, (_, x) => [x]));
  const y = Float64Array.from({ length: 11 }, (_, x) => (x > 5 ? 1 : 0));
  const sampleWeight = Float64Array.from({ length: 11 }, (_, x) => (x <= 1 || x >= 9 ? 1 : 0));
  const rf = new RandomForestClassifier({ n_estimators: 1, bootstrap: false, n_jobs: 1 });
  await rf.fit(X, y, { sampleWeight });
  assert.deepEqual(Array.from(rf.predict(fromRows([[1.6], [4.9], [5], [5.1], [8.5]]))), [0, 0, 0, 1, 1]);
  // the same for a missing-value split: present values left, missing right
  const Xn = fromRows([[0], [1], [2], [NaN], [NaN], [NaN]]);
  const tree = new RandomForestClassifier({ n_estimators: 1, bootstrap: false, n_jobs: 1 });
  await tree.fit(Xn, Float64Array.from([0, 0, 0, 1, 1, 1]));
  assert.deepEqual(Array.from(tree.predict(fromRows([[-5], [2], [1e9], [NaN]]))), [0, 0, 0, 1]);
});

Deno.test("a constant feature is never split on and gets zero importance", async () => {
  const base = linear(400, 3, 5);
  const rows: number[][] = [];
  for (let i = 0; i < base.X.rows; i++) rows.push([7, ...base.X.data.subarray(i * 3, i * 3 + 3)]);
  const rf = new RandomForestClassifier({ n_estimators: 20, n_jobs: 1 });
  await rf.fit(fromRows(rows), base.y);
  const imp = rf.featureImportances()!;
  assert.equal(imp[0], 0);
  assert.ok(Math.abs(imp.reduce((a, b) => a + b, 0) - 1) < 1e-12);
  assert.ok(imp[1] > imp[3], "the informative column matters more than a noise-like one");
});

Deno.test("all-NaN columns are ignored; NaN at predict time is accepted", async () => {
  const base = linear(400, 3, 6);
  const rows: number[][] = [];
  for (let i = 0; i < base.X.rows; i++) rows.push([NaN, ...base.X.data.subarray(i * 3, i * 3 + 3), NaN]);
  const X = fromRows(rows);
  const rf = new RandomForestClassifier({ n_estimators: 20, n_jobs: 1 });
  await rf.fit(X, base.y);
  const imp = rf.featureImportances()!;
  assert.equal(imp[0], 0);
  assert.equal(imp[4], 0);
  assert.ok(accuracy(rf.predict(X), base.y) > 0.9);
  const allNaN = fromRows([[NaN, NaN, NaN, NaN, NaN]]);
  const p = rf.predictProba(allNaN);
  assert.ok(Math.abs(p[0] + p[1] - 1) < 1e-12);
});

Deno.test("missing values go down a learned side: missingness itself can predict the class", async () => {
  // class 1 rows have a missing x0; x1 is noise
  const rng = new Rng(8);
  const rows: number[][] = [], y: number[] = [];
  for (let i = 0; i < 400; i++) {
    const c = i % 2;
    rows.push([c === 1 ? NaN : rng.next(), rng.next()]);
    y.push(c);
  }
  const rf = new RandomForestClassifier({ n_estimators: 10, n_jobs: 1, max_features: null });
  await rf.fit(fromRows(rows), Float64Array.from(y));
  const pred = rf.predict(fromRows([[NaN, 0.5], [0.5, 0.5], [0.01, 0.2], [NaN, 0.9]]));
  assert.deepEqual([...pred], [1, 0, 0, 1]);
});

Deno.test("regressor: fits a smooth function, beats the mean, R² OOB score", async () => {
  const rng = new Rng(11);
  const rows: number[][] = [], y: number[] = [];
  for (let i = 0; i < 600; i++) {
    const a = rng.next() * 6, b = rng.next();
    rows.push([a, b]);
    y.push(Math.sin(a) + 0.1 * gaussian(rng));
  }
  const rf = new RandomForestRegressor({ n_estimators: 30, n_jobs: 1, oob_score: true, min_samples_leaf: 3 });
  const X = fromRows(rows), Y = Float64Array.from(y);
  await rf.fit(X, Y);
  assert.ok(rf.oobScore! > 0.9, `oob R² ${rf.oobScore}`);
  const pred = rf.predict(fromRows([[Math.PI / 2, 0.5], [(3 * Math.PI) / 2, 0.5]]));
  assert.ok(Math.abs(pred[0] - 1) < 0.2 && Math.abs(pred[1] + 1) < 0.2, `${pred}`);
  assert.equal(rf.predictRow([Math.PI / 2, 0.5]), pred[0]);
  assert.throws(() => rf.predictRow([1]), UserError);
  const loaded = loadForest(rf.toBytes());
  assert.ok(loaded instanceof RandomForestRegressor);
  assert.equal(loaded.predictRow([Math.PI / 2, 0.5]), pred[0]);
  assert.equal(loaded.oobScore, rf.oobScore);
  const imp = rf.featureImportances()!;
  assert.ok(imp[0] > 0.8);
});

Deno.test("OOB accuracy is close to held-out accuracy", async () => {
  const tr = linear(800, 5, 12), te = linear(800, 5, 13);
  const rf = new RandomForestClassifier({ n_estimators: 40, n_jobs: 1, oob_score: true });
  await rf.fit(tr.X, tr.y);
  const held = accuracy(rf.predict(te.X), te.y);
  assert.ok(Math.abs(rf.oobScore! - held) < 0.06, `oob ${rf.oobScore} vs held-out ${held}`);
});

Deno.test("class_weight balanced raises recall of a rare class", async () => {
  const rng = new Rng(14);
  const rows: number[][] = [], y: number[] = [];
  for (let i = 0; i < 1000; i++) {
    const c = rng.next() < 0.1 ? 1 : 0;
    rows.push([gaussian(rng) + (c ? 1.2 : 0), gaussian(rng)]);
    y.push(c);
  }
  const X = fromRows(rows), Y = Float64Array.from(y);
  const meanP1 = async (class_weight: "balanced" | null) => {
    const rf = new RandomForestClassifier({
      n_estimators: 30,
      n_jobs: 1,
      class_weight,
      min_samples_leaf: 20,
    });
    await rf.fit(X, Y);
    const p = rf.predictProba(X);
    let s = 0;
    for (let i = 0; i < X.rows; i++) s += p[i * 2 + 1];
    return s / X.rows;
  };
  const plain = await meanP1(null), balanced = await meanP1("balanced");
  // the rare class is 10%: unweighted leaves say about that; balanced weights triple it
  assert.ok(plain < 0.15 && balanced > 2.5 * plain, `plain ${plain}, balanced ${balanced}`);
});

Deno.test("min_samples_leaf and max_depth are respected", async () => {
  const tr = linear(300, 4, 15);
  const rf = new RandomForestClassifier({ n_estimators: 5, n_jobs: 1, max_depth: 3, min_samples_leaf: 50 });
  await rf.fit(tr.X, tr.y);
  const s = rf.stats();
  assert.ok(s.maxDepth <= 3);
  // a leaf holds >= 50 of ~190 distinct in-bag rows, so at most 3 leaves per tree
  assert.ok(s.leaves <= 5 * 3, `leaves ${s.leaves}`);
});

Deno.test("serialization: a loaded model predicts bit-identically and keeps importances and OOB", async () => {
  const tr = blobs(200, 4, 16, 3);
  tr.X.data[5] = NaN;
  const rf = new RandomForestClassifier({ n_estimators: 15, n_jobs: 1, oob_score: true });
  await rf.fit(tr.X, tr.y);
  const bytes = rf.toBytes();
  const back = RandomForestClassifier.fromBytes(bytes);
  assert.deepEqual(back.predictProba(tr.X), rf.predictProba(tr.X));
  assert.deepEqual(back.featureImportances(), rf.featureImportances());
  assert.equal(back.oobScore, rf.oobScore);
  assert.deepEqual({ ...back.params, n_jobs: 1 }, rf.params);
  assert.deepEqual(back.toBytes(), bytes);
  const loaded = loadForest(bytes);
  assert.ok(loaded instanceof RandomForestClassifier);
  assert.deepEqual(loaded.predictProba(tr.X), rf.predictProba(tr.X));
  assert.throws(() => RandomForestRegressor.fromBytes(bytes), UserError);
  assert.throws(() => RandomForestClassifier.fromBytes(bytes.slice(0, bytes.length - 9)), UserError);
  const bad = bytes.slice();
  bad[0] = 0;
  assert.throws(() => loadForest(bad), UserError);
});

Deno.test("parallel training gives the same bytes as the main thread", async () => {
  const tr = linear(500, 6, 17);
  const one = new RandomForestClassifier({ n_estimators: 12, n_jobs: 1, random_state: 4 });
  const two = new RandomForestClassifier({ n_estimators: 12, n_jobs: 2, random_state: 4 });
  const three = new RandomForestClassifier({ n_estimators: 12, n_jobs: 3, random_state: 4 });
  let ticks = 0;
  await one.fit(tr.X, tr.y);
  await two.fit(tr.X, tr.y, { onProgress: () => ticks++ });
  await three.fit(tr.X, tr.y);
  assert.equal(ticks, 12);
  assert.deepEqual(two.toBytes(), one.toBytes());
  assert.deepEqual(three.toBytes(), one.toBytes());
  const other = new RandomForestClassifier({ n_estimators: 12, n_jobs: 1, random_state: 5 });
  await other.fit(tr.X, tr.y);
  assert.notDeepEqual(other.toBytes(), one.toBytes());
});

Deno.test("permutation importance ranks the informative columns first", async () => {
  const tr = linear(600, 5, 18);
  const rf = new RandomForestClassifier({ n_estimators: 20, n_jobs: 1 });
  await rf.fit(tr.X, tr.y);
  const pi = permutationImportance(rf, tr.X, tr.y, accuracyScorer, { nRepeats: 3, seed: 1 });
  assert.equal(pi.importances.length, 15);
  assert.ok(pi.importancesMean[0] > pi.importancesMean[3] && pi.importancesMean[0] > pi.importancesMean[4]);
  assert.ok(pi.importancesMean[1] > pi.importancesMean[4]);
  const again = permutationImportance(rf, tr.X, tr.y, accuracyScorer, { nRepeats: 3, seed: 1 });
  assert.deepEqual(again.importances, pi.importances);
});

Deno.test("bad parameters and inputs are UserErrors with a clear line", async () => {
  assert.throws(() => new RandomForestClassifier({ n_estimators: 0 }), /n_estimators/);
  assert.throws(() => new RandomForestClassifier({ criterion: "squared_error" }), UserError);
  assert.throws(() => new RandomForestRegressor({ criterion: "gini" }), UserError);
  assert.throws(() => new RandomForestClassifier({ max_features: "all" as "sqrt" }), /max_features/);
  assert.throws(() => new RandomForestClassifier({ bootstrap: false, oob_score: true }), UserError);
  assert.throws(() => new RandomForestClassifier({ nestimators: 3 } as never), /unknown/);
  const rf = new RandomForestClassifier({ n_estimators: 2, n_jobs: 1 });
  await assert.rejects(() => rf.fit(fromRows([[1], [2]]), Float64Array.from([0, 0.5])), UserError);
  await assert.rejects(() => rf.fit(fromRows([[1], [2]]), Float64Array.from([0])), UserError);
  await rf.fit(fromRows([[1], [2]]), Float64Array.from([0, 1]));
  assert.throws(() => rf.predict(fromRows([[1, 2]])), UserError);
});

Deno.test("a single-class target gives probability 1 for that class", async () => {
  const rf = new RandomForestClassifier({ n_estimators: 3, n_jobs: 1 });
  await rf.fit(fromRows([[1], [2], [3]]), Float64Array.from([0, 0, 0]));
  assert.deepEqual([...rf.predictProba(fromRows([[5]]))], [1]);
});

Deno.test("large nodes: the best threshold between present bins, with or without row counts (min_samples_leaf)", async () => {
  // 400 rows (past the small-node path), x = 0..199 twice; class = x >= 120. Rows with x in 101..138
  // weigh 0, so the tree sees a gap of empty bins and splits at the midpoint of 100 and 139:
  // 202 rows left, 122 right. Row counts are kept only for min_samples_leaf > 1.
  const X = fromRows(Array.from({ length: 400 }, (_, i) => [i % 200]));
  const y = Float64Array.from({ length: 400 }, (_, i) => (i % 200 >= 120 ? 1 : 0));
  const sampleWeight = Float64Array.from({ length: 400 }, (_, i) => (i % 200 > 100 && i % 200 < 139 ? 0 : 1));
  const stump = async (min_samples_leaf: number) => {
    const rf = new RandomForestClassifier({
      n_estimators: 1,
      bootstrap: false,
      n_jobs: 1,
      max_depth: 1,
      min_samples_leaf,
    });
    await rf.fit(X, y, { sampleWeight });
    return rf;
  };
  for (const msl of [1, 2, 122]) {
    const rf = await stump(msl);
    assert.deepEqual(
      Array.from(rf.predict(fromRows([[100], [119.4], [119.6], [139]]))),
      [0, 0, 1, 1],
      `msl ${msl}`,
    );
  }
  // 150 rows per leaf: the right side takes x = 87..100 too (28 rows), the split moves to 86.5
  const rf = await stump(150);
  assert.deepEqual(Array.from(rf.predict(fromRows([[86], [86.4], [86.6], [100]]))), [0, 0, 1, 1]);
  assert.equal(rf.stats().leaves, 2);
});
