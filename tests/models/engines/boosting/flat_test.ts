/**
 * One row's raw scores (flat.ts rawRowInto walks four trees side by side) are
 * the sum of each tree's leaf value taken one tree after another (treeValue,
 * treeValueCat), in tree order, bit for bit: numeric and set splits, missing
 * values, codes never seen in training, binary and three classes.
 */
import assert from "node:assert/strict";
import { rawRowInto, treeValue, treeValueCat } from "../../../../src/models/engines/boosting/flat.ts";
import { GradientBoostingClassifier } from "../../../../src/models/engines/boosting/index.ts";
import { Rng } from "../../../../src/core/random.ts";
import type { FlatBoost } from "../../../../src/models/engines/boosting/flat.ts";

function data(n: number, seed: number, classes: number) {
  const rng = new Rng(seed);
  const X = new Float64Array(n * 3), y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const c = rng.int(12), u = rng.next();
    X[3 * i] = rng.chance(0.05) ? NaN : u;
    X[3 * i + 1] = rng.chance(0.05) ? -1 : c;
    X[3 * i + 2] = rng.next();
    y[i] = (c % classes + (u > 0.7 ? 1 : 0)) % classes;
  }
  return { X: { data: X, rows: n, cols: 3 }, y };
}

for (const classes of [2, 3]) {
  for (const categorical of [false, true]) {
    Deno.test(`flat: one row's raw scores are the trees' values added in order (${classes} classes, ${categorical ? "set" : "numeric"} splits)`, async () => {
      const { X, y } = data(600, classes * 10 + (categorical ? 1 : 0), classes);
      // 13 rounds: a tree count (x classes) that is not a multiple of four leaves a remainder
      const gb = new GradientBoostingClassifier({
        max_iter: 13,
        early_stopping: false,
        random_state: 1,
        min_samples_leaf: 5,
      });
      await gb.fit(X, y, categorical ? { categorical: [false, true, false] } : {});
      const fb = (gb as unknown as { fitted(): FlatBoost }).fitted();
      assert.equal(fb.catStart !== undefined, categorical);
      const W = fb.width, out = new Float64Array(W), want = new Float64Array(W);
      // the training rows, then rows with missing values and unseen codes
      const rows = [
        ...Array.from({ length: X.rows }, (_, i) => X.data.subarray(3 * i, 3 * i + 3)),
        Float64Array.of(NaN, 99, 0.5),
        Float64Array.of(0.2, NaN, NaN),
        Float64Array.of(-5, -1, 2),
      ];
      for (const x of rows) {
        rawRowInto(fb, x, 0, out, 0);
        for (let k = 0; k < W; k++) want[k] = fb.baseline[k];
        for (let t = 0; t < fb.roots.length; t++) {
          want[t % W] += categorical ? treeValueCat(fb, fb.roots[t], x, 0) : treeValue(fb, fb.roots[t], x, 0);
        }
        assert.deepEqual(Array.from(out), Array.from(want));
      }
    });
  }
}
