/**
 * TreeSHAP against brute-force Shapley values on random small trees (repeated
 * features, missing values, leaves without cover, vector leaves), additivity
 * (also as a fast-check property), missing values following the default side.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { ensembleShap, expectedValue, treeOutput, TreeShap } from "../../../src/models/shap/treeshap.ts";
import { Rng } from "../../../src/core/random.ts";
import { bruteShap, randomRow, randomTree } from "./_trees.ts";

const EPS = 1e-9;

function close(a: number, b: number, what: string, eps = EPS): void {
  assert.ok(Math.abs(a - b) <= eps * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
}

Deno.test("TreeSHAP = brute-force Shapley values on random trees of depth <= 3 over <= 5 features", () => {
  const rng = new Rng(11);
  let checked = 0;
  for (let seed = 0; seed < 300; seed++) {
    const p = 1 + (seed % 5), width = seed % 3 === 0 ? 3 : 1;
    const tree = randomTree(seed, { maxDepth: 1 + (seed % 3), nFeatures: p, width, zeroCover: 0.15 });
    const ts = new TreeShap(tree);
    for (let r = 0; r < 6; r++) {
      const x = randomRow(rng, p);
      const phi = new Float64Array(p * width);
      ts.addRow(x, 0, phi);
      const ref = bruteShap(tree, x);
      for (let i = 0; i < phi.length; i++) close(phi[i], ref[i], `seed ${seed} row ${r} phi[${i}]`);
      checked++;
    }
  }
  assert.equal(checked, 1800);
});

Deno.test("one output of a vector tree = that column of all outputs", () => {
  const tree = randomTree(5, { maxDepth: 3, nFeatures: 4, width: 3 });
  const ts = new TreeShap(tree), x = randomRow(new Rng(2), 4);
  const all = new Float64Array(12);
  ts.addRow(x, 0, all);
  for (let k = 0; k < 3; k++) {
    const one = new Float64Array(4);
    ts.addRow(x, 0, one, 0, k, 1);
    for (let f = 0; f < 4; f++) assert.equal(one[f], all[f * 3 + k]);
  }
});

Deno.test("expected value + sum(phi) = the tree's output; expected value = cover-weighted mean of the leaves", () => {
  const rng = new Rng(3);
  for (let seed = 0; seed < 50; seed++) {
    const tree = randomTree(1000 + seed, { maxDepth: 8, nFeatures: 10, width: 2 });
    const ts = new TreeShap(tree);
    let total = 0;
    const mean = [0, 0];
    for (let n = 0; n < tree.feature.length; n++) {
      if (tree.feature[n] >= 0) continue;
      total += tree.cover[n];
      for (let k = 0; k < 2; k++) mean[k] += tree.cover[n] * tree.value[n * 2 + k];
    }
    for (let k = 0; k < 2; k++) close(ts.expected[k], mean[k] / total, `seed ${seed} expected[${k}]`);
    for (let r = 0; r < 10; r++) {
      const x = randomRow(rng, 10), phi = new Float64Array(20);
      ts.addRow(x, 0, phi);
      const out = treeOutput(tree, x);
      for (let k = 0; k < 2; k++) {
        let s = ts.expected[k];
        for (let f = 0; f < 10; f++) s += phi[f * 2 + k];
        close(s, out[k], `seed ${seed} row ${r} output ${k}`);
      }
    }
  }
});

Deno.test("a missing value follows the node's default side", () => {
  // x0 <= 0.5 ? 0 : 10, missing goes right; covers 3 left, 1 right: expected value 2.5
  const base = {
    feature: [0, -1, -1],
    threshold: [0.5, 0, 0],
    left: [1, -1, -1],
    right: [2, -1, -1],
    cover: [4, 3, 1],
    value: [0, 0, 10],
    width: 1,
    nFeatures: 2,
  };
  const right = new TreeShap({ ...base, missing: [2, -1, -1] });
  const left = new TreeShap({ ...base, missing: [1, -1, -1] });
  const phi = (ts: TreeShap, x: number[]) => {
    const out = new Float64Array(2);
    ts.addRow(x, 0, out);
    return Array.from(out);
  };
  assert.equal(right.expected[0], 2.5);
  assert.deepEqual(phi(right, [NaN, 7]), [7.5, 0]);
  assert.deepEqual(phi(right, [NaN, 7]), phi(right, [0.9, 7]));
  assert.deepEqual(phi(left, [NaN, NaN]), [-2.5, 0]);
  assert.deepEqual(phi(left, [NaN, 7]), phi(left, [0.1, 7]));
});

Deno.test("property: additivity for any tree and any row, summed or averaged over trees", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 1_000_000 }),
      fc.integer({ min: 1, max: 4 }),
      fc.array(fc.oneof(fc.double({ min: -0.5, max: 1.5, noNaN: true }), fc.constant(NaN)), {
        minLength: 6,
        maxLength: 6,
      }),
      (seed, nTrees, row) => {
        // several trees in one set of arrays: each tree's nodes shifted after the previous one's
        const trees = Array.from(
          { length: nTrees },
          (_, t) => randomTree(seed + t, { maxDepth: 6, nFeatures: 6, width: 1, zeroCover: 0.1 }),
        );
        for (const t of trees) {
          const ts = new TreeShap(t), phi = new Float64Array(6);
          ts.addRow(row, 0, phi);
          const s = phi.reduce((a, b) => a + b, ts.expected[0]);
          close(s, treeOutput(t, row)[0], `seed ${seed}`);
        }
        const joined = join(trees);
        const ts = new TreeShap(joined.tree, joined.roots);
        const sum = treeOutput(joined.tree, row, 0, joined.roots)[0];
        for (const average of [false, true]) {
          const { expected, phi } = ensembleShap(ts, row, 1, average);
          const s = phi.reduce((a, b) => a + b, expected[0]);
          close(s, average ? sum / nTrees : sum, `seed ${seed} ensemble`);
        }
        let e = 0;
        for (let t = 0; t < nTrees; t++) e += expectedValue(joined.tree, joined.roots[t])[0];
        close(ensembleShap(ts, row, 1, false).expected[0], e, "ensemble expected value");
      },
    ),
    { numRuns: 300 },
  );
});

function join(trees: ReturnType<typeof randomTree>[]) {
  const cat = (pick: (t: ReturnType<typeof randomTree>, at: number) => number[]) =>
    trees.flatMap((t, i) => pick(t, trees.slice(0, i).reduce((a, u) => a + u.feature.length, 0)));
  const shift = (a: ArrayLike<number>, at: number) => Array.from(a, (v) => (v >= 0 ? v + at : v));
  const roots: number[] = [];
  let at = 0;
  for (const t of trees) {
    roots.push(at);
    at += t.feature.length;
  }
  return {
    roots,
    tree: {
      feature: cat((t) => Array.from(t.feature)),
      threshold: cat((t) => Array.from(t.threshold)),
      left: cat((t, a) => shift(t.left, a)),
      right: cat((t, a) => shift(t.right, a)),
      missing: cat((t, a) => shift(t.missing, a)),
      cover: cat((t) => Array.from(t.cover)),
      value: cat((t) => Array.from(t.value)),
      width: 1,
      nFeatures: trees[0].nFeatures,
    },
  };
}
