/**
 * Per-row tree-path attributions for a fitted forest (Saabas, "Interpreting
 * random forests", 2014; `treeinterpreter`'s method). Not what the forest's
 * `explain()` returns any more: that is exact TreeSHAP (shap.ts), whose values
 * are consistent (a feature that matters more never gets less) where these
 * favour the features split on near the root. Kept as a documented
 * alternative: it is one pass down each tree, the reference the SHAP bench
 * (bench/shap_bench.ts) and tests compare TreeSHAP with (on stumps the two
 * agree), and `Attribution` is the shape both return.
 *
 * Every node has a value (the weighted mean of the training targets that
 * reached it), and following a row's path from the root, each split credits
 * its feature with the change in value from the node to the child the row
 * takes. Per tree, root value + credits = the leaf's value; averaged over trees,
 *
 *   bias + sum of contributions = the forest's prediction (exactly, up to rounding)
 *
 * where bias is the mean root value (the training mean, or class share). An
 * internal node's value is not stored: it is its children's mean weighted by
 * the training weight that reached each leaf (`FlatForest.leafWeight`).
 */
import { UserError } from "../../../core/errors.ts";
import type { FlatForest } from "./flat.ts";

/** Attributions of rows to a model's input columns, for one output per row (Saabas, TreeSHAP, linear SHAP). */
export interface Attribution {
  /** per row: the base value of the explained output (what no feature accounts for) */
  bias: Float64Array;
  /** rows x nFeatures, row-major */
  contributions: Float64Array;
}

const nodeValueCache = new WeakMap<FlatForest, Float64Array>();

/** Every node's values (`width` per node): a leaf's own, an internal node's the weighted mean of its children's. */
export function nodeValues(ff: FlatForest): Float64Array {
  const cached = nodeValueCache.get(ff);
  if (cached) return cached;
  const lw = ff.leafWeight;
  if (!lw) {
    throw new UserError(
      "explain: this forest model was saved before Orchard kept leaf weights; fit it again to explain it",
    );
  }
  const n = ff.feature.length, W = ff.width;
  const val = new Float64Array(n * W), wt = new Float64Array(n);
  // children always come after their parent: one backward pass fills every node
  for (let i = n - 1; i >= 0; i--) {
    const c = ff.child[i];
    if (ff.feature[i] < 0) {
      wt[i] = lw[c];
      for (let k = 0; k < W; k++) val[i * W + k] = ff.values[c * W + k];
      continue;
    }
    const wl = wt[c], wr = wt[c + 1], w = wl + wr;
    wt[i] = w;
    for (let k = 0; k < W; k++) {
      const l = val[c * W + k], r = val[(c + 1) * W + k];
      val[i * W + k] = w > 0 ? (wl * l + wr * r) / w : (l + r) / 2;
    }
  }
  nodeValueCache.set(ff, val);
  return val;
}

/**
 * Tree-path attributions of `rows` rows of a row-major matrix; `output[r]` is
 * the value column explained for row r (a class index; 0 for a regressor).
 * Paths follow inference exactly: `x <= threshold` left, missing per `nanRight`.
 */
export function explainRows(
  ff: FlatForest,
  data: ArrayLike<number>,
  rows: number,
  output: ArrayLike<number>,
): Attribution {
  const val = nodeValues(ff);
  const W = ff.width, p = ff.nFeatures, nT = ff.roots.length;
  const { feature, threshold, child, nanRight, roots } = ff;
  const bias = new Float64Array(rows), contributions = new Float64Array(rows * p);
  for (let r = 0; r < rows; r++) {
    const k = output[r], xo = r * p, co = r * p;
    if (!(k >= 0 && k < W)) throw new Error(`explain: output ${k} out of range for row ${r}`);
    let b = 0;
    for (let t = 0; t < nT; t++) {
      let node = roots[t];
      let before = val[node * W + k];
      b += before;
      let f = feature[node];
      while (f >= 0) {
        const v = data[xo + f], th = threshold[node];
        node = child[node] + (v <= th ? 0 : v > th ? 1 : nanRight[node]);
        const after = val[node * W + k];
        contributions[co + f] += after - before;
        before = after;
        f = feature[node];
      }
    }
    bias[r] = b / nT;
    for (let j = 0; j < p; j++) contributions[co + j] /= nT;
  }
  return { bias, contributions };
}
