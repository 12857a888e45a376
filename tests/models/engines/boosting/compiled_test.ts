/**
 * The compiled row scorer (compiled.ts) gives rawRowInto's raw scores bit for
 * bit: numeric and set splits (sets of one word and of several), binary, three
 * classes and regression, on the training rows and on every awkward value a
 * row can hold (NaN, negative and unseen codes, fractions, infinities, -0);
 * and a fast-check property on random rows. Too deep an ensemble keeps the
 * array walk, with the same results.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  compileRowScorer,
  rowScorerOf,
  scoreRows,
} from "../../../../src/models/engines/boosting/compiled.ts";
import { type FlatBoost, rawRowInto, rawScores } from "../../../../src/models/engines/boosting/flat.ts";
import {
  GradientBoostingClassifier,
  GradientBoostingRegressor,
} from "../../../../src/models/engines/boosting/index.ts";
import { Rng } from "../../../../src/core/random.ts";

/** Three columns: a number with NaNs, a code of `levels` categories (-1 missing), a number. */
function data(n: number, seed: number, classes: number, levels: number) {
  const rng = new Rng(seed);
  const X = new Float64Array(n * 3), y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const c = rng.int(levels), u = rng.next();
    X[3 * i] = rng.chance(0.05) ? NaN : u;
    X[3 * i + 1] = rng.chance(0.05) ? -1 : c;
    X[3 * i + 2] = rng.next();
    y[i] = classes ? ((c * 7) % classes + (u > 0.7 ? 1 : 0)) % classes : c % 5 + u * 3;
  }
  return { X: { data: X, rows: n, cols: 3 }, y };
}

const AWKWARD = [NaN, -1, -0, 0, 0.5, 2.5, 31, 32, 33, 63, 64, 99, 1e9, Infinity, -Infinity, -5];

function same(fb: FlatBoost, rows: ArrayLike<number>[]) {
  const score = compileRowScorer(fb), W = fb.width;
  const want = new Float64Array(W), got = new Float64Array(W + 2);
  for (const x of rows) {
    rawRowInto(fb, x, 0, want, 0);
    score(x, 0, got, 1); // an offset into out: the scorer writes out[oo .. oo + W)
    for (let k = 0; k < W; k++) {
      assert.ok(Object.is(got[1 + k], want[k]), `row ${Array.from(x)}: ${got[1 + k]} vs ${want[k]}`);
    }
  }
}

async function fitted(classes: number, levels: number, seed: number): Promise<FlatBoost> {
  const { X, y } = data(800, seed, classes, levels);
  const params = {
    max_iter: 15,
    early_stopping: false as const,
    random_state: 1,
    min_samples_leaf: 5,
    min_data_per_group: 5,
  };
  const gb = classes ? new GradientBoostingClassifier(params) : new GradientBoostingRegressor(params);
  await gb.fit(X, y, levels ? { categorical: [false, true, false] } : {});
  return (gb as unknown as { fitted(): FlatBoost }).fitted();
}

for (const [classes, levels] of [[2, 0], [2, 12], [3, 12], [2, 70], [0, 0], [0, 70]]) {
  const what = `${classes ? `${classes} classes` : "regression"}, ${
    levels ? `${levels} categories` : "numeric"
  }`;
  Deno.test(`compiled: one row's raw scores equal rawRowInto's bit for bit (${what})`, async () => {
    const fb = await fitted(classes, levels, classes * 100 + levels);
    assert.equal(fb.catStart !== undefined, levels > 0);
    if (levels > 32) assert.ok(fb.catWords!.some((w) => w > 1), "a set of more than one word");
    const { X } = data(300, 7, classes, levels);
    const rows: ArrayLike<number>[] = Array.from(
      { length: X.rows },
      (_, i) => X.data.subarray(3 * i, 3 * i + 3),
    );
    for (const a of AWKWARD) for (const b of AWKWARD) rows.push(Float64Array.of(a, b, a === b ? 0.5 : b));
    same(fb, rows);
    // a whole matrix (the batch path) as rawScores gives it
    const matrix = new Float64Array(rows.length * 3);
    rows.forEach((r, i) => matrix.set(r, 3 * i));
    const got = scoreRows(fb, matrix, rows.length), want = rawScores(fb, matrix, rows.length);
    assert.equal(got.length, want.length);
    for (let i = 0; i < got.length; i++) assert.ok(Object.is(got[i], want[i]), `value ${i}`);
  });
}

Deno.test("compiled: a property on random rows, and the cached scorer is the model's", async () => {
  const fb = await fitted(3, 70, 5);
  const value = fc.oneof(
    fc.double({ noNaN: false }),
    fc.integer({ min: -3, max: 80 }),
    fc.constantFrom(...AWKWARD),
  );
  fc.assert(fc.property(fc.tuple(value, value, value), (row) => same(fb, [row])), { numRuns: 2000, seed: 3 });
  assert.equal(rowScorerOf(fb), rowScorerOf(fb));
});

Deno.test("compiled: an ensemble too deep to compile keeps the array walk, with the same sums", () => {
  // a chain of 100 numeric nodes: x <= i goes to a leaf of value i, else on down the chain
  const depth = 100, nodes = 2 * depth + 1;
  const feature = new Int32Array(nodes).fill(-1), threshold = new Float64Array(nodes);
  const child = new Int32Array(nodes), value = new Float64Array(nodes);
  for (let i = 0; i < depth; i++) {
    const node = 2 * i;
    feature[node] = 0;
    threshold[node] = i;
    child[node] = node + 1; // left: the leaf at node + 1; right: the next split at node + 2
    value[node + 1] = i;
  }
  value[nodes - 1] = -1;
  const fb: FlatBoost = {
    width: 1,
    nFeatures: 1,
    baseline: Float64Array.of(0.25),
    roots: Int32Array.of(0),
    feature,
    threshold,
    child,
    nanRight: new Uint8Array(nodes),
    value,
  };
  const out = new Float64Array(1);
  for (const x of [-1, 0, 3.5, 50, 99, 1000, NaN]) {
    compileRowScorer(fb)([x], 0, out, 0);
    const want = new Float64Array(1);
    rawRowInto(fb, [x], 0, want, 0);
    assert.equal(out[0], want[0], `x = ${x}`);
  }
  compileRowScorer(fb)([50], 0, out, 0);
  assert.equal(out[0], 50.25);
});
