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
  /**
   * per leaf slot (as `values`, without the width): the weight of the training
   * rows that reached it; absent in models saved before it was kept
   */
  readonly leafWeight?: Float32Array;
}

/**
 * The nodes packed for inference, 16 bytes each so a node is one cache access:
 * float64 threshold | int32 next | int32 meta. An internal node has meta =
 * feature * 2 + nanRight and next = its left child. A leaf is a node that leads
 * to itself whatever the input (threshold +Infinity, feature 0, missing goes
 * "left", next = itself), flagged by the sign bit of meta; its values start at
 * `leafValue[node]`. Self-loops let several rows walk a tree in lockstep without
 * a branch per row.
 */
interface Packed {
  f64: Float64Array;
  i32: Int32Array;
  leafValue: Int32Array;
}
const packCache = new WeakMap<FlatForest, Packed>();
const LEAF = -0x80000000;
/** the feature of a packed meta (0 for a leaf) */
const FEATURE_MASK = 0x7ffffffe;

export function packed(ff: FlatForest): Packed {
  let pk = packCache.get(ff);
  if (pk) return pk;
  const n = ff.feature.length;
  const buf = new ArrayBuffer(16 * n);
  pk = { f64: new Float64Array(buf), i32: new Int32Array(buf), leafValue: new Int32Array(n) };
  for (let i = 0; i < n; i++) {
    if (ff.feature[i] >= 0) {
      pk.f64[2 * i] = ff.threshold[i];
      pk.i32[4 * i + 2] = ff.child[i];
      pk.i32[4 * i + 3] = ff.feature[i] * 2 + (ff.nanRight[i] ? 1 : 0);
    } else {
      pk.f64[2 * i] = Infinity;
      pk.i32[4 * i + 2] = i;
      pk.i32[4 * i + 3] = LEAF;
      pk.leafValue[i] = ff.child[i] * ff.width;
    }
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
  const leafWeight = new Float32Array(vals / width);
  let no = 0, vo = 0;
  for (let t = 0; t < trees.length; t++) {
    const tr = trees[t];
    roots[t] = no;
    feature.set(tr.feature, no);
    threshold.set(tr.threshold, no);
    nanRight.set(tr.nanRight, no);
    values.set(tr.values, vo);
    leafWeight.set(tr.leafWeight, vo / width);
    offsetChildren(tr, child, no, vo / width);
    no += tr.nNodes;
    vo += tr.values.length;
  }
  return { width, nFeatures, roots, feature, threshold, child, nanRight, values, leafWeight };
}

/**
 * Copies a tree's child links to `child[at..]`, made forest-wide: internal nodes
 * point at nodes after `at`, leaves at leaf values after `leafBase`. A function of
 * its own, so it is optimised as one (a loop inside flatten's loop over trees was
 * compiled on the stack and thrown away at the end of every tree).
 */
function offsetChildren(tr: Tree, child: Int32Array, at: number, leafBase: number): void {
  const feature = tr.feature, from = tr.child;
  for (let i = 0; i < tr.nNodes; i++) child[at + i] = from[i] + (feature[i] >= 0 ? at : leafBase);
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
 * matrix: n x width. Tree by tree (one tree's nodes stay in cache while the
 * rows stream past), four rows at a time in lockstep: their node-to-node walks
 * are independent, so the CPU overlaps their memory latencies. Trees are summed
 * in tree order for every row, so the result does not depend on the grouping.
 */
export function predictMean(ff: FlatForest, data: ArrayLike<number>, rows: number): Float64Array {
  const W = ff.width, p = ff.nFeatures, nT = ff.roots.length;
  const out = new Float64Array(rows * W);
  const pk = packed(ff);
  const values = ff.values, roots = ff.roots;
  const rows4 = rows - (rows % 4);
  for (let t = 0; t < nT; t++) {
    const root = roots[t];
    // a function of its own, so its optimised code does not depend on earlier calls with few rows
    if (rows4 > 0) addTreeRows4(pk, values, W, root, data, p, rows4, out);
  }
  // the last rows (or a request's one row) take the one-row path: four trees at a time
  for (let r = rows4; r < rows; r++) addRow(pk, values, W, roots, data, r * p, out, r * W);
  for (let i = 0; i < out.length; i++) out[i] /= nT;
  return out;
}

/** Adds the leaf values of the tree at `root` for rows [0, rows4) to `out`, four rows in lockstep. */
function addTreeRows4(
  pk: Packed,
  values: Float64Array,
  W: number,
  root: number,
  data: ArrayLike<number>,
  p: number,
  rows4: number,
  out: Float64Array,
): void {
  const { f64, i32, leafValue } = pk;
  const lv = leaves4;
  for (let r = 0; r < rows4; r += 4) {
    const x0 = r * p;
    walk4(f64, i32, data, root, root, root, root, x0, x0 + p, x0 + 2 * p, x0 + 3 * p, lv);
    const o = r * W;
    const l0 = leafValue[lv[0]], l1 = leafValue[lv[1]], l2 = leafValue[lv[2]], l3 = leafValue[lv[3]];
    for (let k = 0; k < W; k++) {
      out[o + k] += values[l0 + k];
      out[o + W + k] += values[l1 + k];
      out[o + 2 * W + k] += values[l2 + k];
      out[o + 3 * W + k] += values[l3 + k];
    }
  }
}

/** One row through every tree into `out` (length width): the serving hot path. */
export function predictRowInto(ff: FlatForest, x: ArrayLike<number>, out: Float64Array): Float64Array {
  const W = ff.width, nT = ff.roots.length;
  out.fill(0);
  addRow(packed(ff), ff.values, W, ff.roots, x, 0, out, 0);
  for (let k = 0; k < W; k++) out[k] /= nT;
  return out;
}

const leaves4 = new Int32Array(4);

/**
 * Walks four (node, row offset) pairs in lockstep until all four reach a leaf
 * (a leaf's meta is negative and it leads to itself), writing the leaves to
 * `leaves`. Each step is branch-free, so the four walks overlap in the CPU.
 */
function walk4(
  f64: Float64Array,
  i32: Int32Array,
  x: ArrayLike<number>,
  n0: number,
  n1: number,
  n2: number,
  n3: number,
  x0: number,
  x1: number,
  x2: number,
  x3: number,
  leaves: Int32Array,
): void {
  let m0 = i32[4 * n0 + 3], m1 = i32[4 * n1 + 3], m2 = i32[4 * n2 + 3], m3 = i32[4 * n3 + 3];
  while ((m0 & m1 & m2 & m3) >= 0) {
    const v0 = x[x0 + ((m0 & FEATURE_MASK) >> 1)], t0 = f64[2 * n0];
    const v1 = x[x1 + ((m1 & FEATURE_MASK) >> 1)], t1 = f64[2 * n1];
    const v2 = x[x2 + ((m2 & FEATURE_MASK) >> 1)], t2 = f64[2 * n2];
    const v3 = x[x3 + ((m3 & FEATURE_MASK) >> 1)], t3 = f64[2 * n3];
    n0 = i32[4 * n0 + 2] + (+(v0 > t0) | (+(v0 !== v0) & m0));
    n1 = i32[4 * n1 + 2] + (+(v1 > t1) | (+(v1 !== v1) & m1));
    n2 = i32[4 * n2 + 2] + (+(v2 > t2) | (+(v2 !== v2) & m2));
    n3 = i32[4 * n3 + 2] + (+(v3 > t3) | (+(v3 !== v3) & m3));
    m0 = i32[4 * n0 + 3];
    m1 = i32[4 * n1 + 3];
    m2 = i32[4 * n2 + 3];
    m3 = i32[4 * n3 + 3];
  }
  leaves[0] = n0;
  leaves[1] = n1;
  leaves[2] = n2;
  leaves[3] = n3;
}

/**
 * Adds every tree's leaf values for the row at `x[xo..]` to `out[oo..]`, in
 * tree order, walking four trees at a time in lockstep.
 */
function addRow(
  pk: Packed,
  values: Float64Array,
  W: number,
  roots: Int32Array,
  x: ArrayLike<number>,
  xo: number,
  out: Float64Array,
  oo: number,
): void {
  const { f64, i32, leafValue } = pk;
  const nT = roots.length, nT4 = nT - (nT % 4);
  const lv = leaves4;
  for (let t = 0; t < nT4; t += 4) {
    walk4(f64, i32, x, roots[t], roots[t + 1], roots[t + 2], roots[t + 3], xo, xo, xo, xo, lv);
    const l0 = leafValue[lv[0]], l1 = leafValue[lv[1]], l2 = leafValue[lv[2]], l3 = leafValue[lv[3]];
    for (let k = 0; k < W; k++) out[oo + k] += values[l0 + k];
    for (let k = 0; k < W; k++) out[oo + k] += values[l1 + k];
    for (let k = 0; k < W; k++) out[oo + k] += values[l2 + k];
    for (let k = 0; k < W; k++) out[oo + k] += values[l3 + k];
  }
  for (let t = nT4; t < nT; t++) {
    let node = roots[t];
    let meta = i32[4 * node + 3];
    while (meta >= 0) {
      const v = x[xo + (meta >> 1)];
      node = i32[4 * node + 2] + (+(v > f64[2 * node]) | (+(v !== v) & meta));
      meta = i32[4 * node + 3];
    }
    const vo = leafValue[node];
    for (let k = 0; k < W; k++) out[oo + k] += values[vo + k];
  }
}
