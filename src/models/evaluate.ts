/** Evaluation of a fitted model: validation metrics and curves, and k-fold cross-validation. */
import { UserError } from "../core/errors.ts";
import type { ModelParams } from "../config/schema.ts";
import { predictionsFromProba } from "./artifact.ts";
import { SplitError, stratifiedKFold } from "./cv.ts";
import {
  binaryMetrics,
  calibrationBins,
  type ClassMetrics,
  confusionMatrix,
  multiclassClassificationMetrics,
  perClassMetrics,
  prCurve,
  regressionMetrics,
  rocCurve,
} from "./metrics.ts";
import { type Columns, type Exclusion, takeRows } from "./preprocess/index.ts";
import type { Estimator, Matrix } from "./types.ts";
import { fitModel } from "./fit.ts";
import type { TargetInfo } from "./target.ts";
import type { Label } from "./artifact.ts";

export interface Evaluation {
  /**
   * The headline metrics. Binary: the positive class's accuracy, precision,
   * recall, f1, roc_auc, pr_auc, log_loss, brier and tp/fp/tn/fn. Multiclass
   * (k > 2): accuracy, macro_/weighted_ roc_auc, pr_auc (one-vs-rest),
   * precision, recall, f1, and the multiclass log_loss and brier (see
   * multiclassClassificationMetrics). A metric that is undefined on these rows
   * is NaN (stored as NULL, printed as the missing symbol, null in JSON).
   */
  metrics: Record<string, number>;
  /** classification: each class's precision, recall, F1, support and one-vs-rest AUCs, in class order */
  perClass?: (ClassMetrics & { class: Label })[];
  /** classification: the classes with no validation row (left out of the macro AUC averages) */
  absentClasses?: Label[];
  /** classification: k x k counts, rows = truth, columns = prediction */
  confusion?: number[][];
  roc?: { fpr: number[]; tpr: number[] };
  pr?: { precision: number[]; recall: number[] };
  calibration?: { predicted: number; observed: number; count: number }[];
  /** regression: a sample of (truth, prediction) pairs */
  residuals?: { y: number; pred: number }[];
}

/** Every metric `evaluate` reports, by model kind: what ct --primary-metric may name. */
export const EVALUATION_METRICS = {
  binary: [
    "accuracy",
    "precision",
    "recall",
    "f1",
    "roc_auc",
    "pr_auc",
    "log_loss",
    "brier",
    "tp",
    "fn",
    "fp",
    "tn",
  ],
  multiclass: [
    "accuracy",
    "macro_roc_auc",
    "weighted_roc_auc",
    "macro_pr_auc",
    "weighted_pr_auc",
    "macro_precision",
    "macro_recall",
    "macro_f1",
    "weighted_precision",
    "weighted_recall",
    "weighted_f1",
    "log_loss",
    "brier",
  ],
  regression: ["rmse", "mae", "r2"],
} as const;

/** Whether a training run can have metric `name`: an evaluation metric, its cv_mean_/cv_std_ summary, or train_seconds. */
export function isRunMetric(name: string): boolean {
  const base = name.replace(/^cv_(mean|std)_/, "");
  return name === "train_seconds" ||
    Object.values(EVALUATION_METRICS).some((names) => (names as readonly string[]).includes(base));
}

/** Validation metrics of a fitted estimator on an encoded matrix. */
export function evaluate(estimator: Estimator, X: Matrix, target: TargetInfo, threshold = 0.5): Evaluation {
  const y = target.yValidation;
  if (target.task === "regression") {
    const pred = estimator.predict(X);
    const residuals = Array.from(
      { length: Math.min(y.length, 2000) },
      (_, i) => ({ y: y[i], pred: pred[i] }),
    );
    return { metrics: regressionMetrics(y, pred), residuals };
  }
  const k = target.classes!.length, pos = target.positiveIndex!;
  const P = estimator.predictProba!(X);
  const score = new Float64Array(X.rows), truth = new Uint8Array(X.rows), predicted = new Int32Array(X.rows);
  for (let i = 0; i < X.rows; i++) {
    score[i] = P[i * k + pos];
    truth[i] = y[i] === pos ? 1 : 0;
  }
  const preds = predictionsFromProba(P, X.rows, {
    task: "classification",
    classes: target.classes,
    positiveClass: target.positiveClass,
    threshold,
  });
  const index = new Map(target.classes!.map((c, i) => [String(c), i]));
  for (let i = 0; i < X.rows; i++) predicted[i] = index.get(String(preds[i].prediction))!;
  const yi = Int32Array.from(y);
  const confusion = confusionMatrix(yi, predicted, k);
  const classes = target.classes!;
  if (k > 2) {
    // the predicted class is the most probable one; no metric is of one class alone
    const mc = multiclassClassificationMetrics(yi, P, k, predicted);
    return {
      metrics: mc.metrics,
      confusion,
      perClass: mc.perClass.map((c, i) => ({ class: classes[i], ...c })),
      absentClasses: mc.absent.map((i) => classes[i]),
    };
  }
  const metrics: Record<string, number> = binaryMetrics(truth, score, threshold);
  const neg = 1 - pos;
  metrics.tp = confusion[pos][pos];
  metrics.fn = confusion[pos][neg];
  metrics.fp = confusion[neg][pos];
  metrics.tn = confusion[neg][neg];
  const perClass = perClassMetrics(yi, P, k, confusion).map((c, i) => ({ class: classes[i], ...c }));
  const both = truth.some((t) => t === 1) && truth.some((t) => t === 0);
  return {
    metrics,
    confusion,
    perClass,
    absentClasses: perClass.filter((c) => c.support === 0).map((c) => c.class),
    roc: both ? rocCurve(truth, score) : undefined,
    pr: both ? prCurve(truth, score) : undefined,
    calibration: calibrationBins(truth, score, 10),
  };
}

/**
 * k-fold cross-validation on the training rows: preprocessing and engine are
 * refitted per fold. Returns each fold's metrics and their mean and std.
 */
export async function crossValidate(
  columns: Columns,
  target: TargetInfo,
  params: ModelParams,
  folds: number,
  seed: number,
  opts: {
    exclude?: readonly Exclusion[];
    threshold?: number;
    onFold?: (fold: number, m: Record<string, number>) => void;
  } = {},
): Promise<{ folds: Record<string, number>[]; mean: Record<string, number>; std: Record<string, number> }> {
  const y = target.yTrain;
  let splits;
  try {
    splits = stratifiedKFold(y.length, folds, seed, target.task === "classification" ? y : undefined);
  } catch (e) {
    if (e instanceof SplitError) throw new UserError(`cross-validation: ${e.message}`);
    throw e;
  }
  const results: Record<string, number>[] = [];
  for (let f = 0; f < splits.length; f++) {
    const { train, test } = splits[f];
    const yTr = Float64Array.from(train, (i) => y[i]);
    const fold: TargetInfo = { ...target, yTrain: yTr, yValidation: Float64Array.from(test, (i) => y[i]) };
    const { preprocessor, estimator } = await fitModel(takeRows(columns, train), yTr, params, target.kind, {
      exclude: opts.exclude,
    });
    const Xte = preprocessor.transform(takeRows(columns, test), test.length);
    const m = evaluate(estimator, Xte, fold, opts.threshold).metrics;
    results.push(m);
    opts.onFold?.(f, m);
  }
  const mean: Record<string, number> = {}, std: Record<string, number> = {};
  for (const key of Object.keys(results[0])) {
    const vals = results.map((r) => r[key]);
    const mu = vals.reduce((a, b) => a + b, 0) / vals.length;
    mean[key] = mu;
    std[key] = Math.sqrt(vals.reduce((a, b) => a + (b - mu) ** 2, 0) / vals.length);
  }
  return { folds: results, mean, std };
}

/**
 * A cross-validation's mean and (population) std of each metric over the
 * folds, as `cv_mean_<metric>` and `cv_std_<metric>` (for tracking; the folds
 * themselves are step history under `cv_fold_<metric>`, see cvFoldMetrics).
 */
export function cvSummaryMetrics(cv: { mean: Record<string, number>; std: Record<string, number> }) {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(cv.mean)) out[`cv_mean_${k}`] = v;
  for (const [k, v] of Object.entries(cv.std)) out[`cv_std_${k}`] = v;
  return out;
}

/** One fold's metrics as `cv_fold_<metric>` (logged with step = fold). */
export function cvFoldMetrics(fold: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(fold).map(([k, v]) => [`cv_fold_${k}`, v]));
}
