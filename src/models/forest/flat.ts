/**
 * A fitted forest flattened into typed arrays: all trees' nodes in one set of
 * arrays, each tree's root at `roots[t]`, the children of an internal node at
 * `child[i]` and `child[i] + 1`. Inference walks these arrays on raw floats:
 * `x <= threshold` goes left, a missing value follows `nanRight`.
 */
import type { Tree } from "./builder.ts";

export interface FlatForest {
  /** values per leaf: the number of classes, or 1 for a regressor */
  readonly width: number;
  readonly nFeatures: number;
  readonly roots: Int32Array;
  readonly feature: Int32Array;
  readonly threshold: Float64Array;
  /** internal node: absolute index of its left child; leaf: absolute offset of its values / width */
  readonly child: Int32Array;
  readonly nanRight: Uint8Array;
  readonly values: Float64Array;
}

/**
 * The nodes packed for inference, 16 bytes each so a node is one cache access:
 * float64 threshold | int32 child | int32 meta = feature * 2 + nanRight (-1 for a leaf).
 */
interface Packed {
  f64: Float64Array;
  i32: Int32Array;
}
const packCache = new WeakMap<FlatForest, Packed>();

export function packed(ff: FlatForest): Packed {
  let pk = packCache.get(ff);
  if (pk) return pk;
  const n = ff.feature.length;
  const buf = new ArrayBuffer(16 * n);
  pk = { f64: new Float64Array(buf), i32: new Int32Array(buf) };
  for (let i = 0; i < n; i++) {
    pk.f64[2 * i] = ff.threshold[i];
    pk.i32[4 * i + 2] = ff.child[i];
    pk.i32[4 * i + 3] = ff.feature[i] >= 0 ? ff.feature[i] * 2 + (ff.nanRight[i] ? 1 : 0) : -1;
  }
  packCache.set(ff, pk);
  return pk;
}

/** Joins trees (in tree order) into one flat forest. */
export function flatten(trees: Tree[], width: number, nFeatures: number): FlatForest {
  let nodes = 0, vals = 0;
  for (const t of trees) {
    nodes += t.nNodes;
    vals += t.values.length;
  }
  const roots = new Int32Array(trees.length);
  const feature = new Int32Array(nodes);
  const threshold = new Float64Array(nodes);
  const child = new Int32Array(nodes);
  const nanRight = new Uint8Array(nodes);
  const values = new Float64Array(vals);
  let no = 0, vo = 0;
  for (let t = 0; t < trees.length; t++) {
    const tr = trees[t];
    roots[t] = no;
    feature.set(tr.feature, no);
    threshold.set(tr.threshold, no);
    nanRight.set(tr.nanRight, no);
    values.set(tr.values, vo);
    const leafBase = vo / width;
    for (let i = 0; i < tr.nNodes; i++) {
      child[no + i] = tr.feature[i] >= 0 ? tr.child[i] + no : tr.child[i] + leafBase;
    }
    no += tr.nNodes;
    vo += tr.values.length;
  }
  return { width, nFeatures, roots, feature, threshold, child, nanRight, values };
}

/** The leaf reached by one row in the tree rooted at `root`; `x[xo + f]` is feature f. */
export function leafOf(ff: FlatForest, root: number, x: ArrayLike<number>, xo: number): number {
  const feature = ff.feature, threshold = ff.threshold, child = ff.child, nanRight = ff.nanRight;
  let node = root;
  let f = feature[node];
  while (f >= 0) {
    const v = x[xo + f];
    const th = threshold[node];
    node = child[node] + (v <= th ? 0 : v > th ? 1 : nanRight[node]);
    f = feature[node];
  }
  return child[node];
}

/**
 * Mean over trees of each tree's leaf values, for `rows` rows of a row-major
 * matrix: n x width. Trees are summed in tree order for every row, so the
 * result does not depend on how rows are batched.
 */
export function predictMean(ff: FlatForest, data: ArrayLike<number>, rows: number): Float64Array {
  const W = ff.width, p = ff.nFeatures, nT = ff.roots.length;
  const out = new Float64Array(rows * W);
  const { f64, i32 } = packed(ff);
  const values = ff.values, roots = ff.roots;
  // tree by tree: one tree's nodes stay in cache while the rows stream past
  for (let t = 0; t < nT; t++) {
    const root = roots[t];
    for (let r = 0, xo = 0, oo = 0; r < rows; r++, xo += p, oo += W) {
      let node = root;
      let meta = i32[4 * node + 3];
      while (meta >= 0) {
        const v = data[xo + (meta >> 1)];
        const th = f64[2 * node];
        node = i32[4 * node + 2] + (v <= th ? 0 : v > th ? 1 : meta & 1);
        meta = i32[4 * node + 3];
      }
      const vo = i32[4 * node + 2] * W;
      if (W === 1) out[oo] += values[vo];
      else for (let k = 0; k < W; k++) out[oo + k] += values[vo + k];
    }
  }
  const inv = nT;
  for (let i = 0; i < out.length; i++) out[i] /= inv;
  return out;
}

/** One row through every tree into `out` (length width): the serving hot path. */
export function predictRowInto(ff: FlatForest, x: ArrayLike<number>, out: Float64Array): Float64Array {
  const W = ff.width, nT = ff.roots.length;
  const values = ff.values, roots = ff.roots;
  out.fill(0);
  const { f64, i32 } = packed(ff);
  for (let t = 0; t < nT; t++) {
    let node = roots[t];
    let meta = i32[4 * node + 3];
    while (meta >= 0) {
      const v = x[meta >> 1];
      const th = f64[2 * node];
      node = i32[4 * node + 2] + (v <= th ? 0 : v > th ? 1 : meta & 1);
      meta = i32[4 * node + 3];
    }
    const vo = i32[4 * node + 2] * W;
    for (let k = 0; k < W; k++) out[k] += values[vo + k];
  }
  for (let k = 0; k < W; k++) out[k] /= nT;
  return out;
}
