/**
 * Exact path-dependent TreeSHAP (src/models/shap/treeshap.ts) for a fitted
 * gradient-boosting ensemble:
 *
 *   bias[i] + sum_f contributions[i * nFeatures + f] = row i's raw score for the explained output
 *
 * where output k's raw score is `baseline[k]` plus the leaf values of its
 * trees (k, k + width, k + 2 width, ...): the regression value, the log-odds
 * of class 1 (binary, width 1; class 0's log-odds is its negation, so
 * explaining class 0 negates everything), or class k's logit (multiclass).
 * `bias[i]` is the baseline plus the trees' expected values.
 *
 * A node's cover is `FlatBoost.cover`: the training rows (of its tree's
 * subsample) that reached it, LightGBM's choice (XGBoost weighs by hessian
 * sums instead, which leans the expectation toward rows the model is unsure
 * of); with row counts the bias is the mean raw score over the training rows.
 * Models saved before covers were kept cannot be explained. Splits follow
 * inference: `x <= threshold` left, a missing value to the side `nanRight`
 * says, a categorical split's set as FlatBoost documents it.
 */
import { UserError } from "../../../core/errors.ts";
import { type ShapTree, TreeShap } from "../../shap/treeshap.ts";
import { type FlatBoost, rawScores } from "./flat.ts";

/** A model's explainer and, per output, the baseline plus its trees' expected values. */
interface BoostExplainer {
  readonly ts: TreeShap;
  readonly bias: Float64Array;
}

const cache = new WeakMap<FlatBoost, BoostExplainer>();

/** The ensemble's nodes as TreeSHAP's generic tree (width 1: every tree belongs to one output). */
export function boostShapTree(fb: FlatBoost): ShapTree {
  if (!fb.cover) {
    throw new UserError(
      "shap: this gradient-boosting model was saved before Orchard kept node covers; refit it to explain it",
    );
  }
  const n = fb.feature.length;
  const left = new Int32Array(n), right = new Int32Array(n), missing = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    if (fb.feature[i] < 0) {
      left[i] = right[i] = missing[i] = -1;
      continue;
    }
    const c = fb.child[i];
    left[i] = c;
    right[i] = c + 1;
    missing[i] = c + fb.nanRight[i];
  }
  return {
    feature: fb.feature,
    threshold: fb.threshold,
    left,
    right,
    missing,
    cover: fb.cover,
    value: fb.value,
    width: 1,
    nFeatures: fb.nFeatures,
    ...(fb.catStart ? { catStart: fb.catStart, catWords: fb.catWords, catBits: fb.catBits } : {}),
  };
}

/** The model's TreeSHAP explainer and per-output bias, built once per model. */
export function boostExplainer(fb: FlatBoost): BoostExplainer {
  let e = cache.get(fb);
  if (!e) {
    const ts = new TreeShap(boostShapTree(fb), fb.roots);
    const W = fb.width, nT = fb.roots.length;
    const bias = Float64Array.from(fb.baseline);
    for (let k = 0; k < W; k++) ts.addExpected(bias, k, 0, 1, k, nT, W);
    e = { ts, bias };
    cache.set(fb, e);
  }
  return e;
}

/**
 * SHAP values of `rows` rows of a row-major matrix (`fb.nFeatures` per row),
 * one output per row. `classes` (a class for every row, or one per row) is
 * read for a classifier: with `binary` (width 1) class 1 explains the
 * log-odds and class 0 its negation (default: 1 where the log-odds is > 0);
 * multiclass, class k explains output k (default: the largest raw score, the
 * first on a tie). A regressor ignores it.
 */
export function shapBoost(
  fb: FlatBoost,
  X: ArrayLike<number>,
  rows: number,
  classes?: number | ArrayLike<number>,
  binary = false,
): { bias: Float64Array; contributions: Float64Array } {
  const W = fb.width, p = fb.nFeatures, nT = fb.roots.length;
  if (X.length < rows * p) throw new RangeError(`shap: ${X.length} values for ${rows} rows of ${p}`);
  if (classes !== undefined && typeof classes !== "number" && classes.length !== rows) {
    throw new RangeError(`shap: ${classes.length} classes for ${rows} rows`);
  }
  const classif = binary || W > 1;
  const raw = classif && classes === undefined ? rawScores(fb, X, rows) : undefined;
  const { ts, bias: base } = boostExplainer(fb);
  const bias = new Float64Array(rows), contributions = new Float64Array(rows * p);
  for (let r = 0; r < rows; r++) {
    let k = 0, negate = false;
    if (classif) {
      const c = raw
        ? (W > 1 ? argmax(raw, r * W, W) : raw[r] > 0 ? 1 : 0)
        : typeof classes === "number"
        ? classes
        : classes![r];
      if (!(Number.isInteger(c) && c >= 0 && c < (W > 1 ? W : 2))) {
        throw new RangeError(`shap: class ${c} out of range for row ${r}`);
      }
      if (W > 1) k = c;
      else negate = c === 0;
    }
    const o = r * p;
    ts.addRow(X, o, contributions, o, 0, 1, k, nT, W);
    bias[r] = base[k];
    if (negate) {
      bias[r] = -bias[r];
      for (let f = 0; f < p; f++) contributions[o + f] = -contributions[o + f];
    }
  }
  return { bias, contributions };
}

/**
 * SHAP values of every output at once: `contributions` is rows x nFeatures x
 * width (`[(row * nFeatures + f) * width + k]`), `bias` the width values
 * shared by every row (for a binary model, those of class 1's log-odds).
 */
export function shapBoostAll(fb: FlatBoost, X: ArrayLike<number>, rows: number): {
  bias: Float64Array;
  contributions: Float64Array;
} {
  const W = fb.width, p = fb.nFeatures, nT = fb.roots.length;
  if (X.length < rows * p) throw new RangeError(`shap: ${X.length} values for ${rows} rows of ${p}`);
  const { ts, bias } = boostExplainer(fb);
  const contributions = new Float64Array(rows * p * W), one = new Float64Array(p);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < W; k++) {
      one.fill(0);
      ts.addRow(X, r * p, one, 0, 0, 1, k, nT, W);
      for (let f = 0; f < p; f++) contributions[(r * p + f) * W + k] = one[f];
    }
  }
  return { bias: Float64Array.from(bias), contributions };
}

function argmax(a: Float64Array, o: number, n: number): number {
  let best = 0;
  for (let k = 1; k < n; k++) if (a[o + k] > a[o + best]) best = k;
  return best;
}
