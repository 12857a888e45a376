/**
 * Pre-binning: each feature's values become uint8 codes once per fit, so split
 * search works on small histograms. Code `NAN_BIN` (255) means missing; value
 * codes are 0..nBins-1 with at most 255 bins. A feature with at most `maxBins`
 * distinct values gets one bin per value (every split scikit-learn would try);
 * otherwise bins hold about equal numbers of rows (quantiles).
 *
 * Bin b's upper threshold `edges[b]` is the midpoint between the largest value
 * in bin b and the smallest in bin b+1, so `code(x) <= b` exactly when
 * `x <= edges[b]`. Each bin's smallest and largest training values are kept
 * too: a split between the present bins b and b' of a node is stored as the
 * midpoint of bin b's largest and bin b''s smallest value, where scikit-learn
 * would put it, so trees trained on codes predict on raw floats.
 */
import type { Matrix } from "../../types.ts";

export const NAN_BIN = 255;
export const MAX_BINS = 255;

export interface BinnedData {
  n: number;
  p: number;
  /** row-major codes, `codes[i * p + f]`; backed by a SharedArrayBuffer when available */
  codes: Uint8Array;
  /** value bins per feature (excluding the missing code) */
  nBins: Int32Array;
  /** thresholds of all features, feature f at `edges[edgeStart[f] .. edgeStart[f] + nBins[f] - 1)` */
  edges: Float64Array;
  edgeStart: Int32Array;
  /** smallest and largest value in each bin, feature f's bins at `binStart[f] .. binStart[f] + nBins[f])` */
  binLo: Float64Array;
  binHi: Float64Array;
  binStart: Int32Array;
}

function sharedBytes(length: number): Uint8Array {
  try {
    return new Uint8Array(new SharedArrayBuffer(length));
  } catch {
    return new Uint8Array(length);
  }
}

/** Midpoint of two adjacent distinct values, as scikit-learn places thresholds. */
export function midpoint(lo: number, hi: number): number {
  const m = lo / 2 + hi / 2;
  return m >= hi || m < lo ? lo : m;
}

/** The thresholds for one feature's sorted non-missing values. */
export function featureEdges(sorted: Float64Array, maxBins: number): number[] {
  const m = sorted.length;
  if (m === 0) return [];
  // distinct values and how many rows hold each
  const uniq: number[] = [];
  const cnt: number[] = [];
  for (let i = 0; i < m; i++) {
    const v = sorted[i];
    if (uniq.length > 0 && uniq[uniq.length - 1] === v) cnt[cnt.length - 1]++;
    else {
      uniq.push(v);
      cnt.push(1);
    }
  }
  const edges: number[] = [];
  if (uniq.length <= maxBins) {
    for (let i = 0; i + 1 < uniq.length; i++) edges.push(midpoint(uniq[i], uniq[i + 1]));
    return edges;
  }
  // quantile bins: close a bin once it reaches its share of the remaining rows
  let remaining = m;
  let binsLeft = maxBins;
  let inBin = 0;
  for (let i = 0; i + 1 < uniq.length && binsLeft > 1; i++) {
    inBin += cnt[i];
    const target = remaining / binsLeft;
    if (inBin >= target || uniq.length - 1 - i < binsLeft) {
      edges.push(midpoint(uniq[i], uniq[i + 1]));
      remaining -= inBin;
      inBin = 0;
      binsLeft--;
    }
  }
  return edges;
}

/** Code of value v given feature edges `e[s..s+k)`: the first bin whose edge is >= v. */
export function codeOf(v: number, e: Float64Array, s: number, k: number): number {
  if (v !== v) return NAN_BIN;
  let lo = 0, hi = k; // answer in [0, k]
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (v <= e[s + mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Bins every column of X (row-major) into uint8 codes. */
export function binMatrix(X: Matrix, maxBins = MAX_BINS): BinnedData {
  if (!(maxBins >= 2 && maxBins <= MAX_BINS)) throw new Error(`max_bins must be in 2..${MAX_BINS}`);
  const { rows: n, cols: p, data } = X;
  const codes = sharedBytes(n * p);
  const nBins = new Int32Array(p);
  const edgeStart = new Int32Array(p + 1);
  const allEdges: number[][] = [];
  const col = new Float64Array(n);
  for (let f = 0; f < p; f++) {
    const present = col.subarray(0, presentValues(data, n, p, f, col));
    // one-hot and other codes: their few values alone give the same edges, without a sort
    const e = featureEdges(fewDistinct(present, Math.min(FEW, maxBins)) ?? present.sort(), maxBins);
    allEdges.push(e);
    nBins[f] = present.length === 0 ? 0 : e.length + 1;
    edgeStart[f + 1] = edgeStart[f] + e.length;
  }
  const edges = new Float64Array(edgeStart[p]);
  for (let f = 0; f < p; f++) edges.set(allEdges[f], edgeStart[f]);
  const binStart = new Int32Array(p + 1);
  for (let f = 0; f < p; f++) binStart[f + 1] = binStart[f] + nBins[f];
  const binLo = new Float64Array(binStart[p]).fill(Infinity);
  const binHi = new Float64Array(binStart[p]).fill(-Infinity);
  for (let f = 0; f < p; f++) {
    const s = edgeStart[f];
    encodeFeature(data, n, p, f, edges, s, edgeStart[f + 1] - s, codes, binLo, binHi, binStart[f]);
  }
  return { n, p, codes, nBins, edges, edgeStart, binLo, binHi, binStart };
}

/** Columns with at most this many distinct values skip the sort. */
const FEW = 16;

/** The distinct values of `v`, sorted, if there are at most `max`; else undefined. */
function fewDistinct(v: Float64Array, max: number): Float64Array | undefined {
  const u = new Float64Array(max);
  let k = 0;
  next: for (let i = 0; i < v.length; i++) {
    const x = v[i];
    for (let j = 0; j < k; j++) if (u[j] === x) continue next;
    if (k === max) return undefined;
    u[k++] = x;
  }
  return u.subarray(0, k).sort();
}

/** Copies column f's non-missing values to `out`; returns how many there are. */
function presentValues(data: ArrayLike<number>, n: number, p: number, f: number, out: Float64Array): number {
  let m = 0;
  for (let o = f, end = n * p; o < end; o += p) {
    const v = data[o];
    if (v === v) out[m++] = v;
  }
  return m;
}

/** Writes column f's codes (edges `e[s..s+k)`) and widens its bins' value ranges (from `binLo/binHi[bs]`). */
function encodeFeature(
  data: ArrayLike<number>,
  n: number,
  p: number,
  f: number,
  e: Float64Array,
  s: number,
  k: number,
  codes: Uint8Array,
  binLo: Float64Array,
  binHi: Float64Array,
  bs: number,
): void {
  for (let o = f, end = n * p; o < end; o += p) {
    const v = data[o];
    const c = codeOf(v, e, s, k);
    codes[o] = c;
    if (c === NAN_BIN) continue;
    if (v < binLo[bs + c]) binLo[bs + c] = v;
    if (v > binHi[bs + c]) binHi[bs + c] = v;
  }
}
