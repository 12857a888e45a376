import assert from "node:assert/strict";
import fc from "fast-check";
import {
  RandomForestClassifier,
  RandomForestRegressor,
} from "../../../../src/models/engines/forest/index.ts";
import type { Matrix } from "../../../../src/models/types.ts";
import { type FlatForest, leafOf } from "../../../../src/models/engines/forest/flat.ts";

/** Small random tables: values from a few levels (ties), some missing; classes 0..k-1. */
const table = fc.record({
  rows: fc.integer({ min: 2, max: 40 }),
  cols: fc.integer({ min: 1, max: 5 }),
  k: fc.integer({ min: 1, max: 4 }),
  seed: fc.integer({ min: 0, max: 1000 }),
}).chain(({ rows, cols, k, seed }) =>
  fc.record({
    values: fc.array(
      fc.oneof(
        fc.constant(NaN),
        fc.integer({ min: -3, max: 3 }),
        fc.double({ min: -1e6, max: 1e6, noNaN: true }),
      ),
      { minLength: rows * cols, maxLength: rows * cols },
    ),
    y: fc.array(fc.integer({ min: 0, max: k - 1 }), { minLength: rows, maxLength: rows }),
    rows: fc.constant(rows),
    cols: fc.constant(cols),
    seed: fc.constant(seed),
    params: fc.record({
      n_estimators: fc.integer({ min: 1, max: 6 }),
      max_depth: fc.oneof(fc.constant(null), fc.integer({ min: 1, max: 6 })),
      min_samples_leaf: fc.integer({ min: 1, max: 3 }),
      max_features: fc.constantFrom("sqrt" as const, "log2" as const, null, 0.5),
      bootstrap: fc.boolean(),
      criterion: fc.constantFrom("gini", "entropy"),
      class_weight: fc.constantFrom(null, "balanced" as const, "balanced_subsample" as const),
    }),
  })
);

const toMatrix = (t: { values: number[]; rows: number; cols: number }): Matrix => ({
  data: Float64Array.from(t.values),
  rows: t.rows,
  cols: t.cols,
});

Deno.test("property: predict_proba rows are probabilities summing to 1", async () => {
  await fc.assert(
    fc.asyncProperty(table, async (t) => {
      const X = toMatrix(t);
      const rf = new RandomForestClassifier({ ...t.params, n_jobs: 1, random_state: t.seed });
      await rf.fit(X, Float64Array.from(t.y));
      const k = rf.nClasses, p = rf.predictProba(X);
      assert.equal(p.length, X.rows * k);
      for (let i = 0; i < X.rows; i++) {
        let s = 0;
        for (let j = 0; j < k; j++) {
          assert.ok(p[i * k + j] >= 0 && p[i * k + j] <= 1);
          s += p[i * k + j];
        }
        assert.ok(Math.abs(s - 1) < 1e-9, `row ${i} sums to ${s}`);
      }
      // predict is the arg max of predict_proba
      const pred = rf.predict(X);
      for (let i = 0; i < X.rows; i++) {
        assert.equal(p[i * k + pred[i]], Math.max(...p.subarray(i * k, i * k + k)));
      }
    }),
    { numRuns: 60, seed: 42 },
  );
});

Deno.test("property: batch, one-row and a plain tree walk predict exactly the same, missing values included", async () => {
  await fc.assert(
    fc.asyncProperty(table, async (t) => {
      const X = toMatrix(t);
      const rf = new RandomForestClassifier({ ...t.params, n_jobs: 1, random_state: t.seed });
      await rf.fit(X, Float64Array.from(t.y));
      const k = rf.nClasses, batch = rf.predictProba(X);
      const ff = (rf as unknown as { forest: FlatForest }).forest;
      for (let i = 0; i < X.rows; i++) {
        const row = X.data.slice(i * X.cols, (i + 1) * X.cols);
        // the reference: each tree's leaf by the unpacked arrays, summed in tree order
        const ref = new Float64Array(k);
        for (let tr = 0; tr < ff.roots.length; tr++) {
          const leaf = leafOf(ff, ff.roots[tr], row, 0);
          for (let j = 0; j < k; j++) ref[j] += ff.values[leaf * k + j];
        }
        for (let j = 0; j < k; j++) ref[j] /= ff.roots.length;
        assert.deepEqual(batch.subarray(i * k, (i + 1) * k), ref);
        assert.deepEqual(rf.predictProbaRow(row), ref);
        assert.deepEqual(rf.predictProba({ data: row, rows: 1, cols: X.cols }), ref);
      }
    }),
    { numRuns: 60, seed: 11 },
  );
});

Deno.test("property: serialization round-trips exactly (classifier and regressor)", async () => {
  await fc.assert(
    fc.asyncProperty(table, async (t) => {
      const X = toMatrix(t);
      const { criterion: _c, class_weight: _w, ...common } = t.params;
      const rf = new RandomForestClassifier({ ...t.params, n_jobs: 1, random_state: t.seed });
      await rf.fit(X, Float64Array.from(t.y));
      const back = RandomForestClassifier.fromBytes(rf.toBytes());
      assert.deepEqual(back.predictProba(X), rf.predictProba(X));
      assert.deepEqual(back.featureImportances(), rf.featureImportances());
      assert.deepEqual(back.toBytes(), rf.toBytes());
      const reg = new RandomForestRegressor({ ...common, n_jobs: 1, random_state: t.seed });
      await reg.fit(X, Float64Array.from(t.y, (v, i) => v * 1.5 + i / 7));
      const rback = RandomForestRegressor.fromBytes(reg.toBytes());
      assert.deepEqual(rback.predict(X), reg.predict(X));
    }),
    { numRuns: 40, seed: 7 },
  );
});

Deno.test("property: the same seed gives the same model with 1 or 2 workers", async () => {
  await fc.assert(
    fc.asyncProperty(table, async (t) => {
      const X = toMatrix(t), y = Float64Array.from(t.y);
      const params = { ...t.params, n_estimators: Math.max(2, t.params.n_estimators), random_state: t.seed };
      const one = new RandomForestClassifier({ ...params, n_jobs: 1 });
      const two = new RandomForestClassifier({ ...params, n_jobs: 2 });
      await one.fit(X, y);
      await two.fit(X, y);
      assert.deepEqual(two.toBytes(), one.toBytes());
    }),
    { numRuns: 8, seed: 3 },
  );
});
