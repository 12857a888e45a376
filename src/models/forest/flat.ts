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

const ROW_BLOCK = 128;

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
  const feature = ff.feature, threshold = ff.threshold, child = ff.child, nanRight = ff.nanRight;
  const values = ff.values, roots = ff.roots;
  // blocks of rows stay in cache while every tree walks them
  for (let r0 = 0; r0 < rows; r0 += ROW_BLOCK) {
    const r1 = Math.min(rows, r0 + ROW_BLOCK);
    for (let t = 0; t < nT; t++) {
      const root = roots[t];
      for (let r = r0, xo = r0 * p, oo = r0 * W; r < r1; r++, xo += p, oo += W) {
        let node = root;
        let f = feature[node];
        while (f >= 0) {
          const v = data[xo + f];
          const th = threshold[node];
          node = child[node] + (v <= th ? 0 : v > th ? 1 : nanRight[node]);
          f = feature[node];
        }
        const vo = child[node] * W;
        if (W === 1) out[oo] += values[vo];
        else for (let k = 0; k < W; k++) out[oo + k] += values[vo + k];
      }
    }
  }
  const inv = nT;
  for (let i = 0; i < out.length; i++) out[i] /= inv;
  return out;
}

/** One row through every tree into `out` (length width): the serving hot path. */
export function predictRowInto(ff: FlatForest, x: ArrayLike<number>, out: Float64Array): Float64Array {
  const W = ff.width, nT = ff.roots.length;
  const feature = ff.feature, threshold = ff.threshold, child = ff.child, nanRight = ff.nanRight;
  const values = ff.values, roots = ff.roots;
  out.fill(0);
  for (let t = 0; t < nT; t++) {
    let node = roots[t];
    let f = feature[node];
    while (f >= 0) {
      const v = x[f];
      const th = threshold[node];
      node = child[node] + (v <= th ? 0 : v > th ? 1 : nanRight[node]);
      f = feature[node];
    }
    const vo = child[node] * W;
    for (let k = 0; k < W; k++) out[k] += values[vo + k];
  }
  for (let k = 0; k < W; k++) out[k] /= nT;
  return out;
}
