import assert from "node:assert/strict";
import {
  binMatrix,
  codeOf,
  featureEdges,
  midpoint,
  NAN_BIN,
} from "../../../../src/models/engines/forest/binning.ts";
import { Rng } from "../../../../src/core/random.ts";

Deno.test("few distinct values: one bin per value, thresholds at midpoints", () => {
  const e = featureEdges(Float64Array.from([1, 1, 2, 4, 4, 4]), 255);
  assert.deepEqual(e, [1.5, 3]);
});

Deno.test("many distinct values: at most maxBins bins of roughly equal size", () => {
  const rng = new Rng(3);
  const v = Float64Array.from({ length: 5000 }, () => rng.next()).sort();
  const e = featureEdges(v, 16);
  assert.ok(e.length <= 15 && e.length >= 12, `got ${e.length} edges`);
  for (let i = 1; i < e.length; i++) assert.ok(e[i] > e[i - 1]);
  const sizes = new Array(e.length + 1).fill(0);
  for (const x of v) sizes[codeOf(x, Float64Array.from(e), 0, e.length)]++;
  for (const s of sizes) assert.ok(s > 5000 / 16 / 2 && s < (5000 / 16) * 2, `bin of ${s}`);
});

Deno.test("code(x) <= b exactly when x <= edges[b]; bins keep their value range; NaN gets the missing code", () => {
  const rng = new Rng(9);
  const rows = 400, cols = 3;
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    data[i * cols] = Math.round(rng.next() * 1000) / 10; // many values: quantile bins
    data[i * cols + 1] = i % 7 === 0 ? NaN : rng.next();
    data[i * cols + 2] = i % 11 === 0 ? NaN : [-2, 0, 0.5, 3, 1e9][rng.int(5)]; // few values: one bin each
  }
  const b = binMatrix({ data, rows, cols }, 32);
  assert.equal(b.nBins[2], 5);
  for (let f = 0; f < cols; f++) {
    const s = b.edgeStart[f], k = b.nBins[f] - 1, bs = b.binStart[f];
    assert.ok(b.nBins[f] <= 32);
    for (let i = 0; i < rows; i++) {
      const x = data[i * cols + f], c = b.codes[i * cols + f];
      if (Number.isNaN(x)) {
        assert.equal(c, NAN_BIN);
        continue;
      }
      for (let t = 0; t < k; t++) assert.equal(c <= t, x <= b.edges[s + t]);
      assert.ok(b.binLo[bs + c] <= x && x <= b.binHi[bs + c]);
    }
    for (let c = 0; c + 1 < b.nBins[f]; c++) {
      assert.ok(b.binHi[bs + c] <= b.edges[s + c] && b.edges[s + c] < b.binLo[bs + c + 1]);
    }
  }
});

Deno.test("an all-missing column has no value bins", () => {
  const b = binMatrix({ data: Float64Array.from([NaN, NaN, NaN]), rows: 3, cols: 1 });
  assert.equal(b.nBins[0], 0);
  assert.deepEqual([...b.codes], [NAN_BIN, NAN_BIN, NAN_BIN]);
});

Deno.test("midpoint of adjacent floats falls back to the lower value", () => {
  const lo = 1, hi = 1 + Number.EPSILON;
  const m = midpoint(lo, hi);
  assert.ok(m >= lo && m < hi);
  assert.equal(midpoint(1, 3), 2);
});

Deno.test("binMatrix's edges are featureEdges of the sorted column, for few values (no sort) and many", () => {
  const rows = 300;
  // distinct values per column: around the few-values shortcut (16), and past maxBins
  const distinct = [1, 2, 15, 16, 17, 40, 300];
  const cols = distinct.length;
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let f = 0; f < cols; f++) {
      // values listed in a shuffled order, some missing
      data[i * cols + f] = i % 13 === 5 ? NaN : ((i * 7919) % distinct[f]) * 1.5 - 3;
    }
  }
  for (const maxBins of [8, 32, 255]) {
    const b = binMatrix({ data, rows, cols }, maxBins);
    for (let f = 0; f < cols; f++) {
      const present = Float64Array.from({ length: rows }, (_, i) => data[i * cols + f]).filter((v) =>
        v === v
      );
      const want = featureEdges(present.sort(), maxBins);
      const got = Array.from(b.edges.subarray(b.edgeStart[f], b.edgeStart[f + 1]));
      assert.deepEqual(got, want, `column with ${distinct[f]} values, maxBins ${maxBins}`);
      assert.equal(b.nBins[f], want.length + 1);
    }
  }
});
