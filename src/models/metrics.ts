/**
 * Evaluation metrics, in scikit-learn's definitions. Binary metrics take the
 * truth as 0/1 (1 = the positive class, chosen explicitly by the caller) and
 * the model's score as the positive class's probability.
 */

export type Binary = ArrayLike<number>;

export interface Confusion {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

function checkLengths(a: ArrayLike<unknown>, b: ArrayLike<unknown>, name: string): void {
  if (a.length !== b.length) throw new Error(`${name}: ${a.length} labels but ${b.length} predictions`);
  if (a.length === 0) throw new Error(`${name}: no rows`);
}

/** Counts of a binary confusion matrix; `yPred` holds 0/1 predictions. */
export function confusion(yTrue: Binary, yPred: Binary): Confusion {
  checkLengths(yTrue, yPred, "confusion");
  let tp = 0, fp = 0, tn = 0, fn = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const t = yTrue[i] === 1, p = yPred[i] === 1;
    if (t && p) tp++;
    else if (!t && p) fp++;
    else if (t && !p) fn++;
    else tn++;
  }
  return { tp, fp, tn, fn };
}

/** A k x k confusion matrix: rows are true class indices, columns predicted. */
export function confusionMatrix(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, k: number): number[][] {
  checkLengths(yTrue, yPred, "confusionMatrix");
  const m = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < yTrue.length; i++) m[yTrue[i]][yPred[i]]++;
  return m;
}

/** Share of equal labels (works for any labels, binary or multiclass). */
export function accuracy(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  checkLengths(yTrue, yPred, "accuracy");
  let ok = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) ok++;
  return ok / yTrue.length;
}

/** tp / (tp + fp); 0 when nothing is predicted positive (scikit-learn's zero_division=0). */
export function precision(yTrue: Binary, yPred: Binary): number {
  const { tp, fp } = confusion(yTrue, yPred);
  return tp + fp === 0 ? 0 : tp / (tp + fp);
}

/** tp / (tp + fn); 0 when there are no positives. */
export function recall(yTrue: Binary, yPred: Binary): number {
  const { tp, fn } = confusion(yTrue, yPred);
  return tp + fn === 0 ? 0 : tp / (tp + fn);
}

/** Harmonic mean of precision and recall: 2tp / (2tp + fp + fn). */
export function f1(yTrue: Binary, yPred: Binary): number {
  const { tp, fp, fn } = confusion(yTrue, yPred);
  return 2 * tp + fp + fn === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
}

/** Indices sorted by descending score (stable: ties keep input order). */
function byScoreDesc(scores: ArrayLike<number>): Uint32Array {
  const idx = new Uint32Array(scores.length);
  for (let i = 0; i < idx.length; i++) idx[i] = i;
  return idx.sort((a, b) => scores[b] - scores[a] || a - b);
}

/**
 * The walk down the scores shared by the ROC and PR curves: true and false
 * positive counts at every distinct threshold (ties form one step), highest
 * threshold first, and the number of positives.
 */
function thresholdSteps(yTrue: Binary, scores: ArrayLike<number>) {
  const idx = byScoreDesc(scores);
  let pos = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === 1) pos++;
  const tps: number[] = [], fps: number[] = [], thresholds: number[] = [];
  let tp = 0, fp = 0;
  for (let j = 0; j < idx.length; j++) {
    const i = idx[j];
    if (yTrue[i] === 1) tp++;
    else fp++;
    if (j === idx.length - 1 || scores[idx[j + 1]] !== scores[i]) {
      tps.push(tp);
      fps.push(fp);
      thresholds.push(scores[i]);
    }
  }
  return { tp: tps, fp: fps, pos, thresholds };
}

/**
 * The decision threshold that maximizes the positive class's F1 on these rows
 * (`threshold: auto`), predicting positive when score >= threshold. Every
 * threshold between a distinct score and the next lower one predicts the same
 * rows, so the one returned lies halfway between them (the widest margin on
 * both sides); ties in F1 go to the higher threshold. Undefined (null) when
 * the rows hold no positive.
 */
export function f1OptimalThreshold(
  yTrue: Binary,
  scores: ArrayLike<number>,
): { threshold: number; f1: number } | null {
  checkLengths(yTrue, scores, "f1OptimalThreshold");
  const { tp, fp, pos, thresholds } = thresholdSteps(yTrue, scores);
  if (pos === 0) return null;
  let best = -1, at = 0;
  for (let k = 0; k < thresholds.length; k++) {
    // F1 = 2 TP / (2 TP + FP + FN), FN = positives - TP
    const f = (2 * tp[k]) / (tp[k] + fp[k] + pos);
    if (f > best) [best, at] = [f, k];
  }
  const high = thresholds[at], low = thresholds[at + 1];
  let threshold = high;
  if (low !== undefined) {
    const mid = (high + low) / 2;
    if (mid > low && mid <= high) threshold = mid;
  }
  return { threshold, f1: best };
}

/**
 * Points of the ROC curve at every distinct threshold (ties form one step),
 * starting at (0, 0). Thresholds are the score at each point.
 */
export function rocCurve(yTrue: Binary, scores: ArrayLike<number>): {
  fpr: number[];
  tpr: number[];
  thresholds: number[];
} {
  checkLengths(yTrue, scores, "rocCurve");
  const steps = thresholdSteps(yTrue, scores);
  const neg = yTrue.length - steps.pos;
  if (steps.pos === 0 || neg === 0) throw new Error("rocCurve: needs both classes in the truth");
  const fpr = [0, ...steps.fp.map((fp) => fp / neg)];
  const tpr = [0, ...steps.tp.map((tp) => tp / steps.pos)];
  const thresholds = [Infinity, ...steps.thresholds];
  return { fpr, tpr, thresholds };
}

/** Area under the ROC curve (trapezoids over tie groups; equals the Mann-Whitney statistic). */
export function rocAuc(yTrue: Binary, scores: ArrayLike<number>): number {
  const { fpr, tpr } = rocCurve(yTrue, scores);
  let area = 0;
  for (let i = 1; i < fpr.length; i++) area += (fpr[i] - fpr[i - 1]) * (tpr[i] + tpr[i - 1]) / 2;
  return area;
}

/** Precision-recall points at every distinct threshold, highest threshold first. */
export function prCurve(yTrue: Binary, scores: ArrayLike<number>): {
  precision: number[];
  recall: number[];
  thresholds: number[];
} {
  checkLengths(yTrue, scores, "prCurve");
  const { tp, fp, pos, thresholds } = thresholdSteps(yTrue, scores);
  if (pos === 0) throw new Error("prCurve: needs positives in the truth");
  const precision = tp.map((t, k) => t / (t + fp[k]));
  const recall = tp.map((t) => t / pos);
  return { precision, recall, thresholds };
}

/**
 * Area under the precision-recall curve as average precision (scikit-learn's
 * average_precision_score): sum over thresholds of (R_n - R_{n-1}) * P_n.
 */
export function prAuc(yTrue: Binary, scores: ArrayLike<number>): number {
  const { precision, recall } = prCurve(yTrue, scores);
  let ap = 0, prev = 0;
  for (let i = 0; i < recall.length; i++) {
    ap += (recall[i] - prev) * precision[i];
    prev = recall[i];
  }
  return ap;
}

/** Mean negative log-likelihood of binary outcomes; probabilities clipped to [eps, 1 - eps]. */
export function logLoss(yTrue: Binary, p: ArrayLike<number>, eps = 1e-15): number {
  checkLengths(yTrue, p, "logLoss");
  let s = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const q = Math.min(1 - eps, Math.max(eps, p[i]));
    s -= yTrue[i] === 1 ? Math.log(q) : Math.log(1 - q);
  }
  return s / yTrue.length;
}

/** Mean squared difference between the positive-class probability and the 0/1 outcome. */
export function brier(yTrue: Binary, p: ArrayLike<number>): number {
  checkLengths(yTrue, p, "brier");
  let s = 0;
  for (let i = 0; i < yTrue.length; i++) s += (p[i] - (yTrue[i] === 1 ? 1 : 0)) ** 2;
  return s / yTrue.length;
}

export function rmse(y: ArrayLike<number>, pred: ArrayLike<number>): number {
  checkLengths(y, pred, "rmse");
  let s = 0;
  for (let i = 0; i < y.length; i++) s += (y[i] - pred[i]) ** 2;
  return Math.sqrt(s / y.length);
}

export function mae(y: ArrayLike<number>, pred: ArrayLike<number>): number {
  checkLengths(y, pred, "mae");
  let s = 0;
  for (let i = 0; i < y.length; i++) s += Math.abs(y[i] - pred[i]);
  return s / y.length;
}

/** Coefficient of determination, 1 - SS_res / SS_tot (scikit-learn: 0 when y is constant and fit is imperfect, 1 when perfect). */
export function r2(y: ArrayLike<number>, pred: ArrayLike<number>): number {
  checkLengths(y, pred, "r2");
  let mean = 0;
  for (let i = 0; i < y.length; i++) mean += y[i];
  mean /= y.length;
  let res = 0, tot = 0;
  for (let i = 0; i < y.length; i++) {
    res += (y[i] - pred[i]) ** 2;
    tot += (y[i] - mean) ** 2;
  }
  if (tot === 0) return res === 0 ? 1 : 0;
  return 1 - res / tot;
}

export interface ClassificationMetrics {
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  roc_auc: number;
  pr_auc: number;
  log_loss: number;
  brier: number;
  [key: string]: number;
}

/**
 * The binary metrics of the positive class at `threshold`. `positive[i]` is 1
 * when row i is of the positive class, `score[i]` its probability. ROC and PR
 * AUC are NaN when the truth holds one class only.
 */
export function binaryMetrics(
  positive: Binary,
  score: ArrayLike<number>,
  threshold = 0.5,
): ClassificationMetrics {
  const pred = new Uint8Array(score.length);
  for (let i = 0; i < score.length; i++) pred[i] = score[i] >= threshold ? 1 : 0;
  let pos = 0;
  for (let i = 0; i < positive.length; i++) if (positive[i] === 1) pos++;
  const both = pos > 0 && pos < positive.length;
  return {
    accuracy: accuracy(positive, pred),
    precision: precision(positive, pred),
    recall: recall(positive, pred),
    f1: f1(positive, pred),
    roc_auc: both ? rocAuc(positive, score) : NaN,
    pr_auc: pos > 0 ? prAuc(positive, score) : NaN,
    log_loss: logLoss(positive, score),
    brier: brier(positive, score),
  };
}

/**
 * Precision, recall, F1 and support of each class from a k x k confusion
 * matrix (rows truth, columns prediction), scikit-learn's
 * precision_recall_fscore_support(average=None, zero_division=0).
 */
export function perClassPrf(
  matrix: number[][],
): { precision: number; recall: number; f1: number; support: number; predicted: number }[] {
  const k = matrix.length;
  return Array.from({ length: k }, (_, c) => {
    let col = 0, row = 0;
    for (let i = 0; i < k; i++) {
      col += matrix[i][c];
      row += matrix[c][i];
    }
    const tp = matrix[c][c];
    const p = col === 0 ? 0 : tp / col, r = row === 0 ? 0 : tp / row;
    return {
      precision: p,
      recall: r,
      f1: p + r === 0 ? 0 : (2 * p * r) / (p + r),
      support: row,
      predicted: col,
    };
  });
}

/**
 * Multiclass accuracy and averaged precision/recall/F1 from a k x k confusion
 * matrix (rows truth, columns prediction), as scikit-learn's
 * precision_score/recall_score/f1_score with zero_division=0 and labels=None:
 * `macro_*` is the unweighted mean over the classes that occur in the truth or
 * in the predictions (a class in neither is left out, as scikit-learn does);
 * `weighted_*` weights each class by its support (true rows).
 */
export function multiclassMetrics(matrix: number[][]): Record<string, number> {
  const all = perClassPrf(matrix);
  const seen = all.filter((c) => c.support > 0 || c.predicted > 0);
  const n = all.reduce((a, c) => a + c.support, 0);
  let ok = 0;
  for (let i = 0; i < matrix.length; i++) ok += matrix[i][i];
  const macro = (f: (x: (typeof all)[number]) => number) =>
    seen.length === 0 ? NaN : seen.reduce((a, x) => a + f(x), 0) / seen.length;
  const weighted = (f: (x: (typeof all)[number]) => number) =>
    n === 0 ? NaN : all.reduce((a, x) => a + f(x) * x.support, 0) / n;
  return {
    accuracy: n === 0 ? NaN : ok / n,
    macro_precision: macro((x) => x.precision),
    macro_recall: macro((x) => x.recall),
    macro_f1: macro((x) => x.f1),
    weighted_precision: weighted((x) => x.precision),
    weighted_recall: weighted((x) => x.recall),
    weighted_f1: weighted((x) => x.f1),
  };
}

/** Column `c` of a row-major n x k probability matrix, and the 0/1 truth of "class c". */
function oneVsRest(yTrue: ArrayLike<number>, P: ArrayLike<number>, k: number, c: number) {
  const n = yTrue.length;
  const truth = new Uint8Array(n), score = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    truth[i] = yTrue[i] === c ? 1 : 0;
    score[i] = P[i * k + c];
  }
  return { truth, score };
}

/**
 * Each class's one-vs-rest ROC AUC and average precision (class c against
 * all others, scored by column c). NaN where undefined: a class with no row in
 * the truth has no positives (and ROC AUC also needs a negative). scikit-learn
 * refuses these cases (roc_auc_score: "Only one class present in y_true").
 */
export function oneVsRestAucs(
  yTrue: ArrayLike<number>,
  P: ArrayLike<number>,
  k: number,
): { roc_auc: number[]; pr_auc: number[]; support: number[] } {
  if (P.length !== yTrue.length * k) {
    throw new Error(`oneVsRestAucs: ${yTrue.length} labels but ${P.length / k} probability rows`);
  }
  const roc: number[] = [], pr: number[] = [], support: number[] = [];
  for (let c = 0; c < k; c++) {
    const { truth, score } = oneVsRest(yTrue, P, k, c);
    let pos = 0;
    for (let i = 0; i < truth.length; i++) pos += truth[i];
    support.push(pos);
    roc.push(pos > 0 && pos < truth.length ? rocAuc(truth, score) : NaN);
    pr.push(pos > 0 ? prAuc(truth, score) : NaN);
  }
  return { roc_auc: roc, pr_auc: pr, support };
}

/**
 * Macro (unweighted mean) and weighted (by support) averages of per-class
 * values, over the classes whose value is defined. This is scikit-learn's
 * average="macro"/"weighted" when every class occurs; a class with no row in
 * the truth (whose one-vs-rest AUC is undefined, and whose support weight is
 * 0 anyway) is left out of the macro mean rather than failing it.
 */
export function averageOverClasses(values: number[], support: number[]): { macro: number; weighted: number } {
  let sum = 0, count = 0, wsum = 0, w = 0;
  for (let c = 0; c < values.length; c++) {
    if (Number.isNaN(values[c])) continue;
    sum += values[c];
    count++;
    wsum += values[c] * support[c];
    w += support[c];
  }
  return { macro: count === 0 ? NaN : sum / count, weighted: w === 0 ? NaN : wsum / w };
}

/**
 * Multiclass log loss, scikit-learn's log_loss: the mean of -log p(true class),
 * the probability clipped to [eps, 1 - eps]. `P` is row-major n x k.
 */
export function multiclassLogLoss(
  yTrue: ArrayLike<number>,
  P: ArrayLike<number>,
  k: number,
  eps = 1e-15,
): number {
  const n = yTrue.length;
  if (n === 0) throw new Error("multiclassLogLoss: no rows");
  if (P.length !== n * k) {
    throw new Error(`multiclassLogLoss: ${n} labels but ${P.length / k} probability rows`);
  }
  let s = 0;
  for (let i = 0; i < n; i++) s -= Math.log(Math.min(1 - eps, Math.max(eps, P[i * k + yTrue[i]])));
  return s / n;
}

/**
 * Multiclass Brier score: the mean over rows of the squared distance between
 * the probability vector and the one-hot truth, sum_c (p_ic - y_ic)^2 (range
 * 0 to 2; scikit-learn's brier_score_loss for multiclass targets, which halves
 * the score only for binary ones).
 */
export function multiclassBrier(yTrue: ArrayLike<number>, P: ArrayLike<number>, k: number): number {
  const n = yTrue.length;
  if (n === 0) throw new Error("multiclassBrier: no rows");
  let s = 0;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) s += (P[i * k + c] - (yTrue[i] === c ? 1 : 0)) ** 2;
  }
  return s / n;
}

/** One class's validation metrics (the report's per-class table). */
export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  /** rows of this class in the truth */
  support: number;
  /** one-vs-rest; NaN when the class has no rows (or is the only one) */
  roc_auc: number;
  pr_auc: number;
}

/** Per-class precision, recall, F1, support and one-vs-rest ROC/PR AUC. */
export function perClassMetrics(
  yTrue: ArrayLike<number>,
  P: ArrayLike<number>,
  k: number,
  matrix: number[][],
): ClassMetrics[] {
  const prf = perClassPrf(matrix);
  const auc = oneVsRestAucs(yTrue, P, k);
  return prf.map((c, i) => ({
    precision: c.precision,
    recall: c.recall,
    f1: c.f1,
    support: c.support,
    roc_auc: auc.roc_auc[i],
    pr_auc: auc.pr_auc[i],
  }));
}

/**
 * The headline metrics of a multiclass model (k > 2 classes). `yTrue` holds
 * class indices, `P` the row-major n x k probabilities, `yPred` the predicted
 * class indices:
 *
 *   accuracy
 *   macro_roc_auc, weighted_roc_auc   one-vs-rest ROC AUC (roc_auc_score(multi_class="ovr", average=...))
 *   macro_pr_auc, weighted_pr_auc     one-vs-rest average precision, averaged the same way
 *   macro_/weighted_ precision, recall, f1   (see multiclassMetrics)
 *   log_loss                          -mean log p(true class)
 *   brier                             mean sum_c (p_ic - y_ic)^2
 *
 * A class with no row in the truth has no one-vs-rest AUC: it is left out of
 * the AUC averages (listed in `absent`), where scikit-learn raises an error.
 */
export function multiclassClassificationMetrics(
  yTrue: ArrayLike<number>,
  P: ArrayLike<number>,
  k: number,
  yPred: ArrayLike<number>,
): { metrics: Record<string, number>; perClass: ClassMetrics[]; absent: number[] } {
  const matrix = confusionMatrix(yTrue, yPred, k);
  const perClass = perClassMetrics(yTrue, P, k, matrix);
  const support = perClass.map((c) => c.support);
  const roc = averageOverClasses(perClass.map((c) => c.roc_auc), support);
  const pr = averageOverClasses(perClass.map((c) => c.pr_auc), support);
  const prf = multiclassMetrics(matrix);
  return {
    metrics: {
      accuracy: prf.accuracy,
      macro_roc_auc: roc.macro,
      weighted_roc_auc: roc.weighted,
      macro_pr_auc: pr.macro,
      weighted_pr_auc: pr.weighted,
      macro_precision: prf.macro_precision,
      macro_recall: prf.macro_recall,
      macro_f1: prf.macro_f1,
      weighted_precision: prf.weighted_precision,
      weighted_recall: prf.weighted_recall,
      weighted_f1: prf.weighted_f1,
      log_loss: multiclassLogLoss(yTrue, P, k),
      brier: multiclassBrier(yTrue, P, k),
    },
    perClass,
    absent: support.flatMap((s, c) => (s === 0 ? [c] : [])),
  };
}

export interface RegressionMetrics {
  rmse: number;
  mae: number;
  r2: number;
  [key: string]: number;
}

export function regressionMetrics(y: ArrayLike<number>, pred: ArrayLike<number>): RegressionMetrics {
  return { rmse: rmse(y, pred), mae: mae(y, pred), r2: r2(y, pred) };
}

/**
 * Reliability-diagram bins: `bins` equal-width probability bins, each with the
 * mean predicted probability and the observed positive share (empty bins omitted).
 */
export function calibrationBins(
  positive: Binary,
  score: ArrayLike<number>,
  bins = 10,
): { predicted: number; observed: number; count: number }[] {
  const sumP = new Float64Array(bins), sumY = new Float64Array(bins), n = new Uint32Array(bins);
  for (let i = 0; i < score.length; i++) {
    const b = Math.min(bins - 1, Math.max(0, Math.floor(score[i] * bins)));
    sumP[b] += score[i];
    sumY[b] += positive[i] === 1 ? 1 : 0;
    n[b]++;
  }
  const out = [];
  for (let b = 0; b < bins; b++) {
    if (n[b] > 0) out.push({ predicted: sumP[b] / n[b], observed: sumY[b] / n[b], count: n[b] });
  }
  return out;
}
