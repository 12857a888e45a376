import assert from "node:assert/strict";
import {
  GradientBoostingClassifier,
  GradientBoostingRegressor,
  loadBoosting,
} from "../../../../src/models/engines/boosting/index.ts";
import { rocAuc } from "../../../../src/models/metrics.ts";
import { Rng } from "../../../../src/core/random.ts";
import type { Matrix } from "../../../../src/models/types.ts";
import { UserError } from "../../../../src/core/errors.ts";

const LEVELS = 30;
/** an arbitrary subset of the 30 categories: positive ones */
const POSITIVE = new Set([1, 4, 5, 9, 13, 14, 17, 22, 23, 26, 28]);

/** Column 0: a category code 0..29 (some missing as -1); column 1: noise. P(y = 1) is 0.9 in POSITIVE, else 0.1. */
function catData(n: number, seed: number): { X: Matrix; y: Float64Array } {
  const rng = new Rng(seed);
  const data = new Float64Array(n * 2), y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const c = rng.int(LEVELS);
    data[2 * i] = rng.chance(0.03) ? -1 : c;
    data[2 * i + 1] = rng.next();
    y[i] = rng.chance(POSITIVE.has(c) ? 0.9 : 0.1) ? 1 : 0;
  }
  return { X: { data, rows: n, cols: 2 }, y };
}

const positive = (p: Float64Array) => Array.from({ length: p.length / 2 }, (_, i) => p[2 * i + 1]);

Deno.test("categorical splits: an arbitrary subset of 30 categories is learned in one split per tree", async () => {
  const tr = catData(12000, 1), te = catData(4000, 2);
  const params = { max_depth: 1, max_iter: 3, learning_rate: 1, early_stopping: false, random_state: 0 };
  const native = new GradientBoostingClassifier(params);
  await native.fit(tr.X, tr.y, { categorical: [true, false] });
  const numeric = new GradientBoostingClassifier(params);
  await numeric.fit(tr.X, tr.y);
  const aucNative = rocAuc(te.y, positive(native.predictProba(te.X)));
  const aucNumeric = rocAuc(te.y, positive(numeric.predictProba(te.X)));
  // the Bayes AUC here is about 0.9; thresholds on codes can only cut the subset into runs
  assert.ok(aucNative > 0.88, `native AUC ${aucNative}`);
  assert.ok(aucNative > aucNumeric + 0.1, `native ${aucNative} vs numeric ${aucNumeric}`);
  // the first tree's root splits on the set itself: every positive category on one side
  const back = loadBoosting(native.toBytes());
  const probe = (c: number) => back.predict({ data: Float64Array.of(c, 0.5), rows: 1, cols: 2 })[0];
  for (let c = 0; c < LEVELS; c++) assert.equal(probe(c), POSITIVE.has(c) ? 1 : 0, `category ${c}`);
});

Deno.test("categorical splits: unseen and missing codes route the same way every time", async () => {
  const tr = catData(6000, 3);
  const gb = new GradientBoostingClassifier({ max_iter: 20, random_state: 0, early_stopping: false });
  await gb.fit(tr.X, tr.y, { categorical: [true, false] });
  const rows = (codes: number[]) => ({
    data: Float64Array.from(codes.flatMap((c) => [c, 0.5])),
    rows: codes.length,
    cols: 2,
  });
  const p = gb.predictProba(rows([30, 31, 1000, 1e9, -1, -5, NaN]));
  // unseen codes all go right at every set split (past the set's end): one prediction
  assert.equal(p[1], p[3]);
  assert.equal(p[1], p[5]);
  assert.equal(p[1], p[7]);
  // negative codes and NaN are missing: one (learned) direction
  assert.equal(p[9], p[11]);
  assert.equal(p[9], p[13]);
  // the single-row path agrees
  assert.deepEqual(Array.from(gb.predictProbaRow([1000, 0.5])), [p[6], p[7]]);
  assert.deepEqual(Array.from(gb.predictProbaRow([NaN, 0.5])), [p[12], p[13]]);
});

Deno.test("categorical splits: a set-split model round-trips bit-identically (format version 2)", async () => {
  const tr = catData(3000, 5);
  const gb = new GradientBoostingClassifier({ max_iter: 15, random_state: 0, min_data_per_group: 20 });
  await gb.fit(tr.X, tr.y, { categorical: [true, false] });
  const bytes = gb.toBytes();
  const header = JSON.parse(
    new TextDecoder().decode(bytes.subarray(12, 12 + new DataView(bytes.buffer).getUint32(8, true))),
  );
  assert.equal(header.version, 2);
  assert.ok(header.arrays.some((a: { name: string }) => a.name === "catBits"), "the model has set splits");
  const back = loadBoosting(bytes);
  assert.deepEqual(back.toBytes(), bytes);
  const probe = catData(500, 6).X;
  probe.data[0] = 77;
  probe.data[2] = NaN;
  assert.deepEqual((back as GradientBoostingClassifier).predictProba(probe), gb.predictProba(probe));
});

Deno.test("categorical splits: codes past max_bins share the rare bin, which never joins a set", async () => {
  const rng = new Rng(7);
  const n = 4000, data = new Float64Array(n * 2), y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const c = rng.int(20);
    data[2 * i] = c;
    data[2 * i + 1] = rng.next();
    y[i] = (c % 3 === 0 ? 2 : 0) + 0.1 * rng.normal();
  }
  const gb = new GradientBoostingRegressor({ max_bins: 8, max_iter: 30, min_data_per_group: 10 });
  await gb.fit({ data, rows: n, cols: 2 }, y, { categorical: [true, false] });
  // codes 7..19 are one bin: the model cannot tell them apart, and neither can unseen codes
  const pred = gb.predict({
    data: Float64Array.from([7, 0.5, 12, 0.5, 19, 0.5, 500, 0.5]),
    rows: 4,
    cols: 2,
  });
  assert.equal(pred[0], pred[1]);
  assert.equal(pred[0], pred[2]);
  assert.equal(pred[0], pred[3]);
  // the codes with their own bins are learned: 0, 3 and 6 high, the others low
  const own = gb.predict({ data: Float64Array.from([0, 0.5, 1, 0.5, 3, 0.5, 4, 0.5]), rows: 4, cols: 2 });
  assert.ok(own[0] > own[1] + 1 && own[2] > own[3] + 1, `${own}`);
});

Deno.test("categorical splits: bad inputs are one-line errors", async () => {
  const tr = catData(500, 9);
  await assert.rejects(
    () =>
      new GradientBoostingClassifier({ monotonic_cst: [1, 0] }).fit(tr.X, tr.y, {
        categorical: [true, false],
      }),
    UserError,
  );
  await assert.rejects(
    () => new GradientBoostingClassifier().fit(tr.X, tr.y, { categorical: [true] }),
    UserError,
  );
  const frac = { data: Float64Array.from(tr.X.data), rows: tr.X.rows, cols: 2 };
  frac.data[4] = 2.5;
  await assert.rejects(
    () => new GradientBoostingClassifier().fit(frac, tr.y, { categorical: [true, false] }),
    UserError,
  );
  assert.throws(() => new GradientBoostingClassifier({ cat_smooth: -1 }), UserError);
  assert.throws(() => new GradientBoostingClassifier({ max_cat_threshold: 0 }), UserError);
  assert.throws(() => new GradientBoostingClassifier({ min_data_per_group: 1.5 }), UserError);
});
