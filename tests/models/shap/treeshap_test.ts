/**
 * TreeSHAP against brute-force Shapley values on random small trees (repeated
 * features, missing values, leaves without cover, vector leaves, set splits),
 * by both methods (leaf tables, and Algorithm 2 with `tableBudget: 0`), which
 * also agree on deep trees; additivity (also as a fast-check property),
 * missing values following the default side, set splits routing codes.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { ensembleShap, expectedValue, treeOutput, TreeShap } from "../../../src/models/shap/treeshap.ts";
import { Rng } from "../../../src/core/random.ts";
import { bruteShap, randomRow, randomTree, routeRef } from "./_trees.ts";

const EPS = 1e-9;

function close(a: number, b: number, what: string, eps = EPS): void {
  assert.ok(Math.abs(a - b) <= eps * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
}

/** The two methods: leaf tables (the default for small trees), and Algorithm 2. */
const METHODS = [{ name: "tables", tableBudget: undefined }, { name: "Algorithm 2", tableBudget: 0 }];

for (const m of METHODS) {
  for (const sets of [0, 0.5]) {
    const what = sets ? "trees with set splits" : "trees";
    Deno.test(`TreeSHAP (${m.name}) = brute-force Shapley values on random ${what} of depth <= 3 over <= 5 features`, () => {
      const rng = new Rng(11);
      let checked = 0;
      for (let seed = 0; seed < 300; seed++) {
        const p = 1 + (seed % 5), width = seed % 3 === 0 ? 3 : 1, codes = seed % 4 === 0 ? 40 : 6;
        const tree = randomTree(seed, {
          maxDepth: 1 + (seed % 3),
          nFeatures: p,
          width,
          zeroCover: 0.15,
          sets,
          codes,
        });
        const ts = new TreeShap(tree, [0], { tableBudget: m.tableBudget });
        assert.equal(ts.tableTrees, m.tableBudget === 0 ? 0 : 1);
        for (let r = 0; r < 6; r++) {
          const x = randomRow(rng, p, sets ? codes : 0);
          const phi = new Float64Array(p * width);
          ts.addRow(x, 0, phi);
          const ref = bruteShap(tree, x);
          for (let i = 0; i < phi.length; i++) close(phi[i], ref[i], `seed ${seed} row ${r} phi[${i}]`);
          checked++;
        }
      }
      assert.equal(checked, 1800);
    });
  }
}

Deno.test("tables and Algorithm 2 agree on deep trees; a leaf with > 12 distinct path features takes Algorithm 2", () => {
  const rng = new Rng(21);
  for (let seed = 0; seed < 40; seed++) {
    const p = 30, sets = seed % 2 ? 0.3 : 0;
    const tree = randomTree(500 + seed, {
      maxDepth: 9 + (seed % 8),
      nFeatures: p,
      width: 2,
      zeroCover: 0.05,
      sets,
    });
    const fast = new TreeShap(tree), slow = new TreeShap(tree, [0], { tableBudget: 0 });
    assert.equal(slow.tableTrees, 0);
    for (let r = 0; r < 5; r++) {
      const x = randomRow(rng, p, sets ? 6 : 0);
      const a = new Float64Array(p * 2), b = new Float64Array(p * 2);
      fast.addRow(x, 0, a);
      slow.addRow(x, 0, b);
      for (let i = 0; i < a.length; i++) close(a[i], b[i], `seed ${seed} row ${r} phi[${i}]`, 1e-9);
    }
  }
  // a chain of 14 distinct features: one leaf has 14 of them on its path
  const n = 29, feature = [], left = [], right = [];
  for (let i = 0; i < n; i++) {
    const internal = i % 2 === 0 && i < 28;
    feature.push(internal ? i / 2 : -1);
    left.push(internal ? i + 1 : -1);
    right.push(internal ? i + 2 : -1);
  }
  const chain = {
    feature,
    threshold: feature.map(() => 0.5),
    left,
    right,
    missing: left,
    cover: feature.map((_, i) => n - i),
    value: feature.map((_, i) => i),
    width: 1,
    nFeatures: 14,
  };
  assert.equal(new TreeShap(chain).tableTrees, 0);
  const x = Float64Array.from({ length: 14 }, (_, f) => (f % 3 ? 0.2 : 0.9)), phi = new Float64Array(14);
  const ts = new TreeShap(chain);
  ts.addRow(x, 0, phi);
  close(phi.reduce((a, b) => a + b, ts.expected[0]), treeOutput(chain, x)[0], "chain additivity");
});

Deno.test("a table budget explains the cheapest trees by tables, the rest by Algorithm 2, with the same values", () => {
  const trees = Array.from(
    { length: 6 },
    (_, t) => randomTree(70 + t, { maxDepth: 2 + t, nFeatures: 8, width: 1 }),
  );
  const joined = join(trees);
  const all = new TreeShap(joined.tree, joined.roots);
  const some = new TreeShap(joined.tree, joined.roots, { tableBudget: 20 });
  assert.equal(all.tableTrees, 6);
  assert.equal(new TreeShap(joined.tree, joined.roots, { maxTableFeatures: 0 }).tableTrees, 0);
  assert.ok(some.tableTrees >= 1 && some.tableTrees < 6, `${some.tableTrees} table trees`);
  const rng = new Rng(4);
  for (let r = 0; r < 20; r++) {
    const x = randomRow(rng, 8), a = new Float64Array(8), b = new Float64Array(8);
    all.addRow(x, 0, a);
    some.addRow(x, 0, b);
    for (let f = 0; f < 8; f++) close(a[f], b[f], `row ${r} phi[${f}]`);
  }
  // every other tree (step 2) = the sum of those trees alone
  const x = randomRow(rng, 8), stepped = new Float64Array(8), ref = new Float64Array(8);
  all.addRow(x, 0, stepped, 0, 0, 1, 1, 6, 2);
  for (const t of [1, 3, 5]) new TreeShap(trees[t]).addRow(x, 0, ref);
  for (let f = 0; f < 8; f++) close(stepped[f], ref[f], `stepped phi[${f}]`);
  const e = new Float64Array(1);
  all.addExpected(e, 0, 0, 1, 1, 6, 2);
  close(
    e[0],
    [1, 3, 5].reduce((s, t) => s + new TreeShap(trees[t]).expected[0], 0),
    "stepped expected value",
  );
});

Deno.test("a set split sends the codes in its set left; NaN and negative codes follow the default side", () => {
  // x0 in {1, 3, 33} ? 0 : 10 (left covers 3, right 1); x1 <= 0.5 ? 1 : 2 below the right side
  for (const missingLeft of [false, true]) {
    const tree = {
      feature: [0, -1, 1, -1, -1],
      threshold: [99, 0, 0.5, 0, 0],
      left: [1, -1, 3, -1, -1],
      right: [2, -1, 4, -1, -1],
      missing: [missingLeft ? 1 : 2, -1, 3, -1, -1],
      cover: [8, 6, 2, 1, 1],
      value: [0, 0, 0, 1, 2],
      width: 1,
      nFeatures: 2,
      catStart: [0, -1, -1, -1, -1],
      catWords: [2, 0, 0, 0, 0],
      catBits: [(1 << 1) | (1 << 3), 1 << 1],
    };
    const inLeft = [1, 3, 33, 1.5];
    for (const ts of [new TreeShap(tree), new TreeShap(tree, [0], { tableBudget: 0 })]) {
      for (const v of [0, 1, 2, 3, 31, 32, 33, 34, 64, 1e12, Infinity, 1.5, 3.9, -1, -0.5, NaN]) {
        const x = [v, 0.7], phi = new Float64Array(2);
        ts.addRow(x, 0, phi);
        const goesLeft = Number.isNaN(v) || v < 0 ? missingLeft : inLeft.includes(v) || v === 3.9;
        assert.equal(routeRef(tree, 0, v), goesLeft ? 1 : 2, `reference routing of ${v}`);
        close(phi[0] + phi[1] + ts.expected[0], goesLeft ? 0 : 2, `output for x0 = ${v}`);
        close(phi[0] + phi[1] + ts.expected[0], treeOutput(tree, x)[0], `treeOutput for x0 = ${v}`);
        const ref = bruteShap(tree, x);
        close(phi[0], ref[0], `phi0 for ${v}`);
        close(phi[1], ref[1], `phi1 for ${v}`);
      }
    }
  }
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
      fc.array(
        fc.oneof(
          fc.double({ min: -0.5, max: 2.5, noNaN: true }),
          fc.integer({ min: -1, max: 3 }),
          fc.constant(NaN),
        ),
        {
          minLength: 6,
          maxLength: 6,
        },
      ),
      fc.boolean(),
      (seed, nTrees, row, sets) => {
        // several trees in one set of arrays: each tree's nodes shifted after the previous one's
        const trees = Array.from(
          { length: nTrees },
          (_, t) =>
            randomTree(seed + t, {
              maxDepth: 6,
              nFeatures: 6,
              width: 1,
              zeroCover: 0.1,
              sets: sets ? 0.4 : 0,
              codes: 2,
            }),
        );
        for (const t of trees) {
          for (const tableBudget of [undefined, 0]) {
            const ts = new TreeShap(t, [0], { tableBudget }), phi = new Float64Array(6);
            ts.addRow(row, 0, phi);
            const s = phi.reduce((a, b) => a + b, ts.expected[0]);
            close(s, treeOutput(t, row)[0], `seed ${seed}`);
          }
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
      ...(trees.some((t) => t.catStart) ? sets(trees) : {}),
    },
  };
}

/** The trees' set splits in one set of arrays: each tree's sets after the previous ones'. */
function sets(trees: ReturnType<typeof randomTree>[]) {
  const catStart: number[] = [], catWords: number[] = [], catBits: number[] = [];
  for (const t of trees) {
    const at = catBits.length;
    for (let i = 0; i < t.feature.length; i++) {
      const cs = t.catStart ? t.catStart[i] : -1;
      catStart.push(cs >= 0 ? cs + at : -1);
      catWords.push(t.catWords ? t.catWords[i] : 0);
    }
    catBits.push(...Array.from(t.catBits ?? []));
  }
  return { catStart, catWords, catBits };
}
