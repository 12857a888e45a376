/**
 * A fitted boosting ensemble flattened into typed arrays: all trees' nodes in
 * one set of arrays, tree t's root at `roots[t]`, trees in round order (round
 * r's tree for output k is tree r * width + k). The children of an internal
 * node are `child[i]` and `child[i] + 1`; `x <= threshold` goes left, a
 * missing value (NaN: both comparisons false) follows `nanRight`.
 *
 * The raw score of a row for output k is `baseline[k]` plus its leaf values in
 * k's trees, summed in tree order, so batch and single-row predictions agree
 * to the last bit.
 */
import type { BoostTree } from "./grower.ts";

export interface FlatBoost {
  /** outputs per round: 1 (regression, binary) or the number of classes */
  readonly width: number;
  readonly nFeatures: number;
  readonly baseline: Float64Array;
  readonly roots: Int32Array;
  readonly feature: Int32Array;
  readonly threshold: Float64Array;
  readonly child: Int32Array;
  readonly nanRight: Uint8Array;
  readonly value: Float64Array;
  /**
   * native categorical splits (absent when the model has none): per node,
   * `catStart[i]` is -1 for a numeric split, else the first of `catWords[i]`
   * 32-bit words in `catBits` of the node's left set. At such a node a value
   * x that is an integer code >= 0 goes left iff bit x of the set is on (codes
   * past the set's end go right); NaN and negative codes (missing) follow
   * `nanRight`. `threshold` is unused there.
   */
  readonly catStart?: Int32Array;
  readonly catWords?: Uint8Array;
  readonly catBits?: Uint32Array;
  /**
   * per node, the training rows (of its tree's subsample) that reached it:
   * TreeSHAP's cover (LightGBM's choice; XGBoost uses hessian sums). Absent in
   * models saved before it was kept, which then cannot be explained.
   */
  readonly cover?: Float64Array;
}

export function flattenBoost(
  trees: BoostTree[],
  width: number,
  nFeatures: number,
  baseline: Float64Array,
): FlatBoost {
  let nodes = 0;
  for (const t of trees) nodes += t.nNodes;
  const roots = new Int32Array(trees.length);
  const feature = new Int32Array(nodes);
  const threshold = new Float64Array(nodes);
  const child = new Int32Array(nodes);
  const nanRight = new Uint8Array(nodes);
  const value = new Float64Array(nodes);
  const cover = new Float64Array(nodes);
  let nBits = 0, anyCat = false;
  for (const t of trees) {
    nBits += t.catBits.length;
    for (let i = 0; i < t.nNodes && !anyCat; i++) if (t.catStart[i] >= 0) anyCat = true;
  }
  // the categorical arrays only exist when some node splits on a set, so numeric models keep their fast path
  const catStart = anyCat ? new Int32Array(nodes).fill(-1) : undefined;
  const catWords = anyCat ? new Uint8Array(nodes) : undefined;
  const catBits = anyCat ? new Uint32Array(nBits) : undefined;
  let at = 0, bitsAt = 0;
  for (let t = 0; t < trees.length; t++) {
    const tr = trees[t];
    roots[t] = at;
    feature.set(tr.feature, at);
    threshold.set(tr.threshold, at);
    nanRight.set(tr.nanRight, at);
    value.set(tr.value, at);
    cover.set(tr.cover, at);
    for (let i = 0; i < tr.nNodes; i++) child[at + i] = tr.feature[i] >= 0 ? tr.child[i] + at : 0;
    if (catStart && catWords && catBits) {
      for (let i = 0; i < tr.nNodes; i++) {
        if (tr.feature[i] < 0 || tr.catStart[i] < 0) continue;
        catStart[at + i] = bitsAt + tr.catStart[i];
        catWords[at + i] = tr.catWords[i];
      }
      catBits.set(tr.catBits, bitsAt);
      bitsAt += tr.catBits.length;
    }
    at += tr.nNodes;
  }
  return {
    width,
    nFeatures,
    baseline: Float64Array.from(baseline),
    roots,
    feature,
    threshold,
    child,
    nanRight,
    value,
    cover,
    ...(catStart ? { catStart, catWords, catBits } : {}),
  };
}

/** The leaf value of the tree rooted at `root` for the row at x[xo..]. */
export function treeValue(fb: FlatBoost, root: number, x: ArrayLike<number>, xo: number): number {
  const feature = fb.feature, threshold = fb.threshold, child = fb.child, nanRight = fb.nanRight;
  let node = root;
  let f = feature[node];
  while (f >= 0) {
    const v = x[xo + f];
    const th = threshold[node];
    node = child[node] + (v <= th ? 0 : v > th ? 1 : nanRight[node]);
    f = feature[node];
  }
  return fb.value[node];
}

/** treeValue for models with categorical splits: a set-membership test at their nodes. */
export function treeValueCat(fb: FlatBoost, root: number, x: ArrayLike<number>, xo: number): number {
  const feature = fb.feature, threshold = fb.threshold, child = fb.child, nanRight = fb.nanRight;
  const catStart = fb.catStart!, catWords = fb.catWords!, catBits = fb.catBits!;
  let node = root;
  let f = feature[node];
  while (f >= 0) {
    const v = x[xo + f];
    const cs = catStart[node];
    if (cs < 0) {
      const th = threshold[node];
      node = child[node] + (v <= th ? 0 : v > th ? 1 : nanRight[node]);
    } else if (v >= 0) {
      // a code past the set (unseen) goes right
      const w = Math.floor(v / 32);
      node = child[node] + (w < catWords[node] && ((catBits[cs + w] >>> (v & 31)) & 1) === 1 ? 0 : 1);
    } else node = child[node] + nanRight[node]; // NaN and negative codes: missing
    f = feature[node];
  }
  return fb.value[node];
}

/** Raw scores of one row into out[oo .. oo + width). */
export function rawRowInto(
  fb: FlatBoost,
  x: ArrayLike<number>,
  xo: number,
  out: Float64Array,
  oo: number,
): void {
  const W = fb.width, roots = fb.roots, nT = roots.length;
  for (let k = 0; k < W; k++) out[oo + k] = fb.baseline[k];
  if (fb.catStart) {
    for (let t = 0; t < nT; t++) out[oo + (t % W)] += treeValueCat(fb, roots[t], x, xo);
  } else {
    for (let t = 0; t < nT; t++) out[oo + (t % W)] += treeValue(fb, roots[t], x, xo);
  }
}

/**
 * A numeric model's nodes for batch prediction: a leaf loops to itself (its
 * threshold +Infinity and missing values sent left), so rows walk a tree side
 * by side until all of them stand still.
 */
interface Walk {
  feature: Int32Array;
  threshold: Float64Array;
  child: Int32Array;
  nanRight: Uint8Array;
}

const walks = new WeakMap<FlatBoost, Walk>();

function walkOf(fb: FlatBoost): Walk {
  let w = walks.get(fb);
  if (!w) {
    const n = fb.feature.length;
    const feature = new Int32Array(n), threshold = new Float64Array(n), child = new Int32Array(n);
    const nanRight = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      if (fb.feature[i] < 0) {
        threshold[i] = Infinity;
        child[i] = i;
        continue;
      }
      feature[i] = fb.feature[i];
      threshold[i] = fb.threshold[i];
      child[i] = fb.child[i];
      nanRight[i] = fb.nanRight[i];
    }
    w = { feature, threshold, child, nanRight };
    walks.set(fb, w);
  }
  return w;
}

/** rows per block of the batch walk: their values stay in cache while every tree is walked */
const PREDICT_BLOCK = 128;

/**
 * Raw scores (rows x width, row-major) of a row-major matrix. Blocks of rows
 * go through one tree after another, four rows walking side by side (their
 * chains of dependent loads overlap); each row still adds its trees' values
 * in tree order, so the sums are those of `rawRowInto`, bit for bit.
 */
export function rawScores(fb: FlatBoost, data: ArrayLike<number>, rows: number): Float64Array {
  const W = fb.width, p = fb.nFeatures;
  const out = new Float64Array(rows * W);
  if (fb.catStart) {
    for (let r = 0; r < rows; r++) rawRowInto(fb, data, r * p, out, r * W);
    return out;
  }
  for (let r = 0; r < rows; r++) for (let k = 0; k < W; k++) out[r * W + k] = fb.baseline[k];
  const { feature, threshold, child, nanRight } = walkOf(fb);
  const roots = fb.roots, nT = roots.length, value = fb.value;
  for (let b0 = 0; b0 < rows; b0 += PREDICT_BLOCK) {
    const b1 = Math.min(rows, b0 + PREDICT_BLOCK);
    for (let t = 0; t < nT; t++) {
      const root = roots[t], k = t % W;
      let i = b0;
      for (; i + 3 < b1; i += 4) {
        const o0 = i * p, o1 = o0 + p, o2 = o1 + p, o3 = o2 + p;
        let n0 = root, n1 = root, n2 = root, n3 = root;
        for (;;) {
          const v0 = data[o0 + feature[n0]], v1 = data[o1 + feature[n1]];
          const v2 = data[o2 + feature[n2]], v3 = data[o3 + feature[n3]];
          const t0 = threshold[n0], t1 = threshold[n1], t2 = threshold[n2], t3 = threshold[n3];
          // branch-free: 1 past the threshold, or missing (v !== v) and sent right (a ?: mispredicts)
          const m0 = child[n0] + (+(v0 > t0) | (nanRight[n0] & +(v0 !== v0)));
          const m1 = child[n1] + (+(v1 > t1) | (nanRight[n1] & +(v1 !== v1)));
          const m2 = child[n2] + (+(v2 > t2) | (nanRight[n2] & +(v2 !== v2)));
          const m3 = child[n3] + (+(v3 > t3) | (nanRight[n3] & +(v3 !== v3)));
          if (m0 === n0 && m1 === n1 && m2 === n2 && m3 === n3) break;
          n0 = m0;
          n1 = m1;
          n2 = m2;
          n3 = m3;
        }
        out[i * W + k] += value[n0];
        out[(i + 1) * W + k] += value[n1];
        out[(i + 2) * W + k] += value[n2];
        out[(i + 3) * W + k] += value[n3];
      }
      for (; i < b1; i++) out[i * W + k] += treeValue(fb, root, data, i * p);
    }
  }
  return out;
}

/** Sigmoid, and softmax in place over a[o .. o + k). */
export function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

export function softmaxInPlace(a: Float64Array, o: number, k: number): void {
  let mx = -Infinity;
  for (let j = 0; j < k; j++) if (a[o + j] > mx) mx = a[o + j];
  let s = 0;
  for (let j = 0; j < k; j++) {
    const e = Math.exp(a[o + j] - mx);
    a[o + j] = e;
    s += e;
  }
  for (let j = 0; j < k; j++) a[o + j] /= s;
}
