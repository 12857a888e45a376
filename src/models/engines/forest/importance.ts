/**
 * Permutation importance, as scikit-learn's `permutation_importance`: a
 * column's importance is how much the score drops when that column's values
 * are shuffled among the rows (`nRepeats` seeded shuffles), the rest fixed.
 */
import type { Estimator, Matrix } from "../../types.ts";
import { Rng } from "../../../core/random.ts";
import { accuracy, r2, rocAuc } from "../../metrics.ts";

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
  const rng = new Rng(opts.seed ?? 0);
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
export const accuracyScorer: Scorer = (model, X, y) => accuracy(y, model.predict(X));

/** R² of `predict`. */
export const r2Scorer: Scorer = (model, X, y) => r2(y, model.predict(X));

/** Binary ROC AUC of class 1's probability, for a 2-class classifier. */
export const rocAucScorer: Scorer = (model, X, y) => {
  if (!model.predictProba) throw new Error("rocAucScorer: the model has no predictProba");
  const proba = model.predictProba(X);
  const k = proba.length / X.rows;
  const s = Float64Array.from({ length: X.rows }, (_, i) => proba[i * k + 1]);
  return rocAuc(y, s);
};
