/**
 * Permutation importance, as scikit-learn's `permutation_importance`: a
 * column's importance is how much the score drops when that column's values
 * are shuffled among the rows (`nRepeats` seeded shuffles), the rest fixed.
 */
import type { Estimator, Matrix } from "../types.ts";
import { TreeRng } from "./rng.ts";

/** Scores a fitted model on (X, y); higher is better. */
export type Scorer = (model: Estimator, X: Matrix, y: Float64Array) => number;

export interface PermutationImportance {
  /** mean score drop per column */
  importancesMean: Float64Array;
  /** standard deviation of the drop over the repeats (population, as numpy's std) */
  importancesStd: Float64Array;
  /** every drop: column-major, `importances[f * nRepeats + r]` */
  importances: Float64Array;
  baselineScore: number;
}

export function permutationImportance(
  model: Estimator,
  X: Matrix,
  y: Float64Array,
  scorer: Scorer,
  opts: { nRepeats?: number; seed?: number } = {},
): PermutationImportance {
  const nRepeats = opts.nRepeats ?? 5;
  if (!Number.isInteger(nRepeats) || nRepeats < 1) {
    throw new Error("permutationImportance: nRepeats must be >= 1");
  }
  const rng = new TreeRng(opts.seed ?? 0);
  const { rows: n, cols: p } = X;
  const baseline = scorer(model, X, y);
  const work = Float64Array.from(X.data);
  const Xw: Matrix = { data: work, rows: n, cols: p };
  const perm = new Int32Array(n);
  const importances = new Float64Array(p * nRepeats);
  const mean = new Float64Array(p), std = new Float64Array(p);
  for (let f = 0; f < p; f++) {
    for (let r = 0; r < nRepeats; r++) {
      for (let i = 0; i < n; i++) perm[i] = i;
      for (let i = n - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        const t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
      }
      for (let i = 0; i < n; i++) work[i * p + f] = X.data[perm[i] * p + f];
      importances[f * nRepeats + r] = baseline - scorer(model, Xw, y);
    }
    for (let i = 0; i < n; i++) work[i * p + f] = X.data[i * p + f];
    let s = 0;
    for (let r = 0; r < nRepeats; r++) s += importances[f * nRepeats + r];
    mean[f] = s / nRepeats;
    let v = 0;
    for (let r = 0; r < nRepeats; r++) v += (importances[f * nRepeats + r] - mean[f]) ** 2;
    std[f] = Math.sqrt(v / nRepeats);
  }
  return { importancesMean: mean, importancesStd: std, importances, baselineScore: baseline };
}

/** Accuracy of `predict` against class indices. */
export const accuracyScorer: Scorer = (model, X, y) => {
  const pred = model.predict(X);
  let ok = 0;
  for (let i = 0; i < y.length; i++) if (pred[i] === y[i]) ok++;
  return ok / y.length;
};

/** R² of `predict`. */
export const r2Scorer: Scorer = (model, X, y) => {
  const pred = model.predict(X);
  let mean = 0;
  for (let i = 0; i < y.length; i++) mean += y[i];
  mean /= y.length;
  let res = 0, tot = 0;
  for (let i = 0; i < y.length; i++) {
    res += (y[i] - pred[i]) ** 2;
    tot += (y[i] - mean) ** 2;
  }
  return tot > 0 ? 1 - res / tot : 0;
};

/** Binary ROC AUC of class 1's probability (ties counted half), for a 2-class classifier. */
export const rocAucScorer: Scorer = (model, X, y) => {
  if (!model.predictProba) throw new Error("rocAucScorer: the model has no predictProba");
  const proba = model.predictProba(X);
  const k = proba.length / X.rows;
  const s = Array.from({ length: X.rows }, (_, i) => proba[i * k + 1]);
  return rocAuc(y, s);
};

/** ROC AUC via the rank-sum (Mann-Whitney) formula, with average ranks for ties. */
export function rocAuc(y: ArrayLike<number>, score: ArrayLike<number>): number {
  const n = y.length;
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => score[a] - score[b]);
  let rankSumPos = 0, nPos = 0;
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && score[idx[j + 1]] === score[idx[i]]) j++;
    const rank = (i + j) / 2 + 1;
    for (let t = i; t <= j; t++) {
      if (y[idx[t]] === 1) {
        rankSumPos += rank;
        nPos++;
      }
    }
    i = j + 1;
  }
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) return NaN;
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}
