/**
 * Exact path-dependent TreeSHAP (src/models/shap/treeshap.ts) for a fitted
 * forest, in the shape of the tree-path attributions of explain.ts, so it can
 * stand in for them:
 *
 *   bias[i] + sum_f contributions[i * nFeatures + f] = the forest's output for row i
 *
 * (the mean over trees of the explained leaf value: a class probability, or the
 * regression prediction). A node's cover is the training weight that reached
 * it: a leaf's `FlatForest.leafWeight` (in-bag rows x bootstrap counts x sample
 * and class weights), an internal node's the sum of its leaves', so nothing
 * new is stored. Forests saved before leaf weights were kept cannot be
 * explained. Splits follow inference exactly: `x <= threshold` left, a missing
 * value to the side `nanRight` says.
 */
import { UserError } from "../../../core/errors.ts";
import { ensembleShap, type ShapTree, TreeShap } from "../../shap/treeshap.ts";
import type { Attribution } from "./explain.ts";
import { type FlatForest, predictMean } from "./flat.ts";

const cache = new WeakMap<FlatForest, TreeShap>();

/** The forest's nodes as TreeSHAP's generic tree (covers summed up from the leaves); built once per forest. */
export function forestShapTree(ff: FlatForest): ShapTree {
  const lw = ff.leafWeight;
  if (!lw) {
    throw new UserError(
      "shap: this forest model was saved before Orchard kept leaf weights; fit it again to explain it",
    );
  }
  const n = ff.feature.length, W = ff.width;
  const left = new Int32Array(n), right = new Int32Array(n), missing = new Int32Array(n);
  const cover = new Float64Array(n), value = new Float64Array(n * W);
  // children always come after their parent: one backward pass sums every node's cover
  for (let i = n - 1; i >= 0; i--) {
    const c = ff.child[i];
    if (ff.feature[i] < 0) {
      left[i] = right[i] = missing[i] = -1;
      cover[i] = lw[c];
      for (let k = 0; k < W; k++) value[i * W + k] = ff.values[c * W + k];
      continue;
    }
    left[i] = c;
    right[i] = c + 1;
    missing[i] = c + (ff.nanRight[i] ? 1 : 0);
    cover[i] = cover[c] + cover[c + 1];
  }
  return {
    feature: ff.feature,
    threshold: ff.threshold,
    left,
    right,
    missing,
    cover,
    value,
    width: W,
    nFeatures: ff.nFeatures,
  };
}

/** The forest's TreeSHAP explainer (path buffers for its deepest tree), cached per forest. */
export function forestExplainer(ff: FlatForest): TreeShap {
  let ts = cache.get(ff);
  if (!ts) {
    ts = new TreeShap(forestShapTree(ff), ff.roots);
    cache.set(ff, ts);
  }
  return ts;
}

/**
 * SHAP values of `rows` rows of a row-major matrix (`ff.nFeatures` per row),
 * for one output per row: `classIndex` a class for every row, or one per row
 * (default: the row's most probable class, the first on a tie; 0 for a
 * regressor). `bias[i]` is the forest's expected value of row i's output.
 */
export function shapForest(
  ff: FlatForest,
  X: ArrayLike<number>,
  rows: number,
  classIndex?: number | ArrayLike<number>,
): Attribution {
  const W = ff.width, p = ff.nFeatures, nT = ff.roots.length;
  if (X.length < rows * p) throw new RangeError(`shap: ${X.length} values for ${rows} rows of ${p}`);
  let output: ArrayLike<number>;
  if (classIndex === undefined) output = W > 1 ? argmaxRows(predictMean(ff, X, rows), rows, W) : [];
  else if (typeof classIndex === "number") output = [];
  else if (classIndex.length !== rows) throw new Error(`shap: ${classIndex.length} classes for ${rows} rows`);
  else output = classIndex;
  const fixed = typeof classIndex === "number" ? classIndex : W > 1 ? -1 : 0;
  const ts = forestExplainer(ff);
  const bias = new Float64Array(rows), contributions = new Float64Array(rows * p);
  const base = new Float64Array(W);
  ts.addExpected(base);
  for (let r = 0; r < rows; r++) {
    const k = fixed >= 0 ? fixed : output[r];
    if (!(Number.isInteger(k) && k >= 0 && k < W)) {
      throw new Error(`shap: output ${k} out of range for row ${r}`);
    }
    ts.addRow(X, r * p, contributions, r * p, k, 1);
    bias[r] = base[k] / nT;
  }
  for (let i = 0; i < contributions.length; i++) contributions[i] /= nT;
  return { bias, contributions };
}

/**
 * SHAP values of every output at once: `contributions` is rows x nFeatures x
 * width (`[(row * nFeatures + f) * width + k]`), `bias` the width expected
 * values shared by every row.
 */
export function shapForestAll(ff: FlatForest, X: ArrayLike<number>, rows: number): {
  bias: Float64Array;
  contributions: Float64Array;
} {
  const { expected, phi } = ensembleShap(forestExplainer(ff), X, rows, true);
  return { bias: expected, contributions: phi };
}

function argmaxRows(P: Float64Array, rows: number, W: number): Int32Array {
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let k = 1; k < W; k++) if (P[r * W + k] > P[r * W + best]) best = k;
    out[r] = best;
  }
  return out;
}
