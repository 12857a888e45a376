/**
 * The training stage as functions a task or a notebook can call:
 *
 *   loadTrainingData  -> the train and validation tables (configured feature
 *                        data with its split column, or any file + optional
 *                        validation file, else a seeded stratified split)
 *   resolveTarget     -> task, classes, positive class, encoded labels
 *   fitModel          -> a fitted Preprocessor + Estimator
 *   evaluate          -> validation metrics, curves, confusion matrix
 *   crossValidate     -> k-fold metrics on the training rows
 *   train             -> all of it, tracked as a run, saved as an artifact,
 *                        reported as HTML + Markdown
 */
import { join } from "node:path";
import type pl from "nodejs-polars";
import { UserError } from "../cli/errors.ts";
import { log as stderrLog, ProgressBar } from "../cli/progress.ts";
import type { Config, ModelParams } from "../config/schema.ts";
import { readTable } from "../data/io.ts";
import { gitInfo } from "../tracking/git.ts";
import { newRunId, TrackingStore } from "../tracking/store.ts";
import {
  type DataDigest,
  fileSha256,
  type Label,
  type Lineage,
  predictionsFromProba,
  writeArtifact,
} from "./artifact.ts";
import { SplitError, stratifiedKFold, trainValidationSplit } from "./cv.ts";
import { createEstimator, engineParams, type EstimatorKind, validateModelParams } from "./engines.ts";
import {
  binaryMetrics,
  calibrationBins,
  confusionMatrix,
  multiclassMetrics,
  prCurve,
  regressionMetrics,
  rocCurve,
} from "./metrics.ts";
import { type Columns, type Encoding, isMissing, Preprocessor, toNumber } from "./preprocess/index.ts";
import type { Estimator, Matrix, Signature } from "./types.ts";

export const FEATURES_FILE = "customer_features.parquet";
export const SPLIT_COLUMN = "split";

export interface TableData {
  columns: Columns;
  rows: number;
  digest: DataDigest;
}

export interface TrainingData {
  train: TableData;
  validation: TableData;
  target: string;
  /** columns never used as model inputs (id, split) */
  exclude: string[];
  /** how the validation rows were chosen */
  source: "features" | "file+validation" | "split";
}

export interface DataOptions {
  /** a CSV/Parquet/JSON file; default: <paths.features>/customer_features.parquet with its split column */
  data?: string;
  /** default: config.data.target */
  target?: string;
  /** a separate validation file (otherwise a seeded stratified split of `data`) */
  validation?: string;
}

function frameColumns(df: pl.DataFrame): Columns {
  const out: Columns = {};
  for (const name of df.columns) out[name] = df.getColumn(name).toArray() as unknown[];
  return out;
}

export function takeRows(cols: Columns, idx: ArrayLike<number>): Columns {
  const out: Columns = {};
  for (const [name, values] of Object.entries(cols)) {
    const v = new Array(idx.length);
    for (let i = 0; i < idx.length; i++) v[i] = values[idx[i]];
    out[name] = v;
  }
  return out;
}

function readForTraining(path: string, target: string): { df: pl.DataFrame; digest: DataDigest } {
  const df = readTable(path);
  if (!df.columns.includes(target)) {
    const shown = df.columns.slice(0, 12).join(", ") + (df.columns.length > 12 ? ", ..." : "");
    throw new UserError(`${path}: target column '${target}' not found (columns: ${shown})`);
  }
  return { df, digest: { path, sha256: fileSha256(path), rows: df.height } };
}

/** Stratum labels for splitting: the target's category, or none when it looks continuous. */
function splitStrata(
  values: ArrayLike<unknown>,
  task: ModelParams["task"],
): { ids: Int32Array; names: string[] } | undefined {
  if (task === "regression") return undefined;
  const ids = new Map<string, number>();
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const key = String(values[i]);
    let id = ids.get(key);
    if (id === undefined) ids.set(key, id = ids.size);
    out[i] = id;
  }
  if (task === "auto" && ids.size > 20) return undefined;
  return { ids: out, names: [...ids.keys()] };
}

/** Reads the training and validation tables described by the options and config. */
export function loadTrainingData(config: Config, opts: DataOptions = {}): TrainingData {
  const target = opts.target ?? config.data.target;
  const idCol = config.data.id_column;
  if (opts.validation && !opts.data) throw new UserError("--validation needs --data (the training file)");
  if (!opts.data) {
    const path = join(config.paths.features, FEATURES_FILE);
    try {
      Deno.statSync(path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        throw new UserError(
          `${path}: not found; run \`deno task features\` first, or pass --data FILE --target COL`,
        );
      }
    }
    const { df, digest } = readForTraining(path, target);
    if (!df.columns.includes(SPLIT_COLUMN)) {
      throw new UserError(
        `${path}: no '${SPLIT_COLUMN}' column; re-run \`deno task features\` or pass --data`,
      );
    }
    const cols = frameColumns(df);
    const tr: number[] = [], va: number[] = [];
    const split = cols[SPLIT_COLUMN];
    for (let i = 0; i < df.height; i++) {
      if (split[i] === "train") tr.push(i);
      else if (split[i] === "validation") va.push(i);
    }
    if (tr.length === 0 || va.length === 0) {
      throw new UserError(`${path}: needs rows with split = train and split = validation`);
    }
    return {
      train: { columns: takeRows(cols, tr), rows: tr.length, digest: { ...digest, rows: tr.length } },
      validation: { columns: takeRows(cols, va), rows: va.length, digest: { ...digest, rows: va.length } },
      target,
      exclude: [idCol, SPLIT_COLUMN].filter((c) => df.columns.includes(c)),
      source: "features",
    };
  }
  const main = readForTraining(opts.data, target);
  const exclude = [idCol].filter((c) => main.df.columns.includes(c));
  const cols = dropMissingTarget(frameColumns(main.df), target, opts.data);
  const rows = cols[target].length;
  if (opts.validation) {
    const v = readForTraining(opts.validation, target);
    const vcols = dropMissingTarget(frameColumns(v.df), target, opts.validation);
    return {
      train: { columns: cols, rows, digest: main.digest },
      validation: { columns: vcols, rows: vcols[target].length, digest: v.digest },
      target,
      exclude,
      source: "file+validation",
    };
  }
  const { validation_fraction: fraction, seed, stratify } = config.split;
  let parts;
  try {
    const strata = stratify ? splitStrata(cols[target], config.model.task) : undefined;
    parts = trainValidationSplit(rows, fraction, seed, strata?.ids, strata?.names);
  } catch (e) {
    if (e instanceof SplitError) throw new UserError(`${opts.data}: too small to split: ${e.message}`);
    throw e;
  }
  return {
    train: { columns: takeRows(cols, parts.train), rows: parts.train.length, digest: { ...main.digest } },
    validation: {
      columns: takeRows(cols, parts.validation),
      rows: parts.validation.length,
      digest: { ...main.digest },
    },
    target,
    exclude,
    source: "split",
  };
}

function dropMissingTarget(cols: Columns, target: string, path: string): Columns {
  const y = cols[target];
  const keep: number[] = [];
  for (let i = 0; i < y.length; i++) if (!isMissing(y[i])) keep.push(i);
  if (keep.length === 0) throw new UserError(`${path}: target column '${target}' has no values`);
  if (keep.length === y.length) return cols;
  stderrLog(`${path}: skipped ${y.length - keep.length} rows with a missing target`);
  return takeRows(cols, keep);
}

export interface TargetInfo {
  task: "classification" | "regression";
  kind: EstimatorKind;
  classes?: Label[];
  positiveClass?: Label;
  positiveIndex?: number;
  yTrain: Float64Array;
  yValidation: Float64Array;
}

function labelOf(v: unknown): Label {
  if (typeof v === "string") return v.trim();
  if (typeof v === "number" || typeof v === "boolean") return v;
  if (typeof v === "bigint") return Number(v);
  return String(v);
}

function compareLabels(a: Label, b: Label): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "boolean" && typeof b === "boolean") return Number(a) - Number(b);
  const sa = String(a), sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/** Decides classification or regression and encodes the labels (class indices or numbers). */
export function resolveTarget(
  trainValues: ArrayLike<unknown>,
  validValues: ArrayLike<unknown>,
  params: Pick<ModelParams, "task" | "positive_class">,
  name = "target",
): TargetInfo {
  const present: unknown[] = [];
  for (let i = 0; i < trainValues.length; i++) if (!isMissing(trainValues[i])) present.push(trainValues[i]);
  if (present.length !== trainValues.length) throw new UserError(`target '${name}' has missing values`);
  let task = params.task;
  if (task === "auto") {
    const numeric = present.every((v) => typeof v === "number" || typeof v === "bigint");
    const distinct = new Set(present.map(String)).size;
    task = numeric && (distinct > 20 || !present.every((v) => Number.isInteger(Number(v))))
      ? "regression"
      : "classification";
  }
  if (task === "regression") {
    const enc = (vals: ArrayLike<unknown>, which: string) => {
      const y = new Float64Array(vals.length);
      for (let i = 0; i < vals.length; i++) {
        y[i] = typeof vals[i] === "boolean" ? NaN : toNumber(vals[i]);
        if (!Number.isFinite(y[i])) {
          throw new UserError(
            `target '${name}' is not numeric (${which} row ${i + 1}: ${JSON.stringify(vals[i])}); ` +
              `regression needs numbers (or set model.task=classification)`,
          );
        }
      }
      return y;
    };
    return {
      task,
      kind: "regressor",
      yTrain: enc(trainValues, "training"),
      yValidation: enc(validValues, "validation"),
    };
  }
  const counts = new Map<string, { label: Label; n: number }>();
  for (const v of present) {
    const label = labelOf(v);
    const key = String(label);
    const c = counts.get(key);
    if (c) c.n++;
    else counts.set(key, { label, n: 1 });
  }
  if (counts.size < 2) {
    throw new UserError(
      `target '${name}' has a single class (${
        JSON.stringify([...counts.values()][0]?.label)
      }) in the training data; need at least two`,
    );
  }
  const classes = [...counts.values()].map((c) => c.label).sort(compareLabels);
  const index = new Map(classes.map((c, i) => [String(c), i]));
  let positiveIndex: number;
  if (params.positive_class !== undefined) {
    positiveIndex = index.get(String(params.positive_class)) ?? -1;
    if (positiveIndex < 0) {
      throw new UserError(
        `model.positive_class = ${
          JSON.stringify(params.positive_class)
        }: not a class of '${name}' (classes: ${classes.map(String).join(", ")})`,
      );
    }
  } else {
    // the minority class; a tie goes to the later class in sorted order (1 over 0, "yes" over "no")
    positiveIndex = 0;
    for (let i = 1; i < classes.length; i++) {
      if (counts.get(String(classes[i]))!.n <= counts.get(String(classes[positiveIndex]))!.n) {
        positiveIndex = i;
      }
    }
  }
  const enc = (vals: ArrayLike<unknown>, which: string) => {
    const y = new Float64Array(vals.length);
    for (let i = 0; i < vals.length; i++) {
      const c = index.get(String(labelOf(vals[i])));
      if (c === undefined) {
        throw new UserError(
          `target '${name}': ${which} row ${i + 1} has class ${
            JSON.stringify(vals[i])
          }, not seen in training`,
        );
      }
      y[i] = c;
    }
    return y;
  };
  return {
    task,
    kind: "classifier",
    classes,
    positiveClass: classes[positiveIndex],
    positiveIndex,
    yTrain: enc(trainValues, "training"),
    yValidation: enc(validValues, "validation"),
  };
}

/** "auto" encoding: one-hot for logistic regression, ordinal codes for tree ensembles. */
export function resolveEncoding(params: ModelParams): Encoding {
  if (params.encoding !== "auto") return params.encoding;
  return params.algorithm === "logistic" ? "onehot" : "ordinal";
}

type ProgressFit = {
  fit(
    X: Matrix,
    y: Float64Array,
    opts: { onProgress?: (done: number, total: number) => void },
  ): Promise<void>;
};

export interface FitOptions {
  exclude?: string[];
  progress?: boolean;
}

/** Fits preprocessing on the training columns, then the engine on the encoded matrix. */
export async function fitModel(
  columns: Columns,
  y: Float64Array,
  params: ModelParams,
  kind: EstimatorKind,
  opts: FitOptions = {},
): Promise<{ preprocessor: Preprocessor; estimator: Estimator; X: Matrix }> {
  const preprocessor = Preprocessor.fit(columns, {
    encoding: resolveEncoding(params),
    maxCategories: params.max_categories,
    exclude: opts.exclude,
  });
  if (preprocessor.width === 0) throw new UserError("no usable input columns left after preprocessing");
  const X = preprocessor.transform(columns, y.length);
  const estimator = createEstimator(params, kind);
  const bar = opts.progress && params.algorithm !== "logistic"
    ? new ProgressBar("training trees", params.n_estimators)
    : undefined;
  let last = 0;
  const onProgress = bar
    ? (done: number) => {
      bar.tick(done - last);
      last = done;
    }
    : undefined;
  // engines that grow trees report progress through fit's third argument; others ignore it
  await (estimator as ProgressFit).fit(X, y, { onProgress });
  if (bar && last < params.n_estimators) bar.tick(params.n_estimators - last);
  return { preprocessor, estimator, X };
}

export interface Evaluation {
  metrics: Record<string, number>;
  /** classification: k x k counts, rows = truth, columns = prediction */
  confusion?: number[][];
  roc?: { fpr: number[]; tpr: number[] };
  pr?: { precision: number[]; recall: number[] };
  calibration?: { predicted: number; observed: number; count: number }[];
  /** regression: a sample of (truth, prediction) pairs */
  residuals?: { y: number; pred: number }[];
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
  const metrics: Record<string, number> = binaryMetrics(truth, score, threshold);
  const yi = Int32Array.from(y);
  const confusion = confusionMatrix(yi, predicted, k);
  if (k > 2) {
    // the predicted class is the most probable one: accuracy, precision, recall and F1 follow it
    Object.assign(metrics, multiclassMetrics(confusion, pos));
  } else {
    const neg = 1 - pos;
    metrics.tp = confusion[pos][pos];
    metrics.fn = confusion[pos][neg];
    metrics.fp = confusion[neg][pos];
    metrics.tn = confusion[neg][neg];
  }
  const both = truth.some((t) => t === 1) && truth.some((t) => t === 0);
  return {
    metrics,
    confusion,
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
    exclude?: string[];
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

export interface TrainOptions extends DataOptions {
  config: Config;
  /** tracking store file; default config.tracking.store; null: do not track */
  store?: string | null;
  experiment?: string;
  runName?: string;
  parentRunId?: string;
  tags?: Record<string, string>;
  /** where artifacts go; default <paths.models>/artifacts */
  artifactsDir?: string;
  /** where reports go; default config.paths.reports; null: no report */
  reportsDir?: string | null;
  /** progress bar and messages on stderr (default true) */
  verbose?: boolean;
}

export interface TrainResult {
  run_id: string;
  artifact: string;
  report?: string;
  summary?: string;
  metrics: Record<string, number>;
  positive_class?: Label;
  classes?: Label[];
  task: "classification" | "regression";
  algorithm: string;
  train_seconds: number;
  rows: number;
  validation_rows: number;
  features: number;
  input_columns: number;
  dropped: { name: string; reason: string }[];
  cv?: { mean: Record<string, number>; std: Record<string, number> };
}

function inputExample(cols: Columns, pre: Preprocessor, n = 3): Record<string, unknown>[] {
  const rows = Math.min(n, Object.values(cols)[0]?.length ?? 0);
  return Array.from({ length: rows }, (_, i) => {
    const rec: Record<string, unknown> = {};
    for (const c of pre.columns) {
      const v = cols[c.name]?.[i];
      rec[c.name] = v instanceof Date
        ? v.toISOString()
        : typeof v === "bigint"
        ? Number(v)
        : isMissing(v)
        ? null
        : v;
    }
    return rec;
  });
}

/** The whole stage: data -> fit -> evaluate -> artifact -> report, recorded as one run. */
export async function train(opts: TrainOptions): Promise<TrainResult> {
  const { config } = opts;
  const params = config.model;
  const verbose = opts.verbose ?? true;
  const reportsDir = opts.reportsDir === undefined ? config.paths.reports : opts.reportsDir;
  // Plot, d3 and linkedom take a moment to load: start now, so it overlaps training in the workers
  const reportModule = reportsDir ? import("../report/train_report.ts") : undefined;
  reportModule?.catch(() => {}); // a load error surfaces where it is awaited
  const say = (m: string) => verbose && stderrLog(m);
  const data = loadTrainingData(config, opts);
  const target = resolveTarget(
    data.train.columns[data.target],
    data.validation.columns[data.target],
    params,
    data.target,
  );
  validateModelParams(params, target.kind);
  const exclude = [...data.exclude, data.target];

  const storePath = opts.store === undefined ? config.tracking.store : opts.store;
  const store = storePath ? TrackingStore.open(storePath) : undefined;
  const git = gitInfo();
  const runId = store
    ? store.startRun({
      experiment: opts.experiment ?? config.tracking.experiment,
      runName: opts.runName,
      parentRunId: opts.parentRunId,
      tags: {
        ...(opts.tags ?? {}),
        "git.commit": git.commit ?? "unknown",
        "git.dirty": String(git.dirty ?? "unknown"),
        "orchard.stage": "train",
      },
    }).runId
    : newRunId();
  try {
    const runParams: Record<string, unknown> = {
      algorithm: params.algorithm,
      ...engineParams(params, target.kind),
      encoding: resolveEncoding(params),
      max_categories: params.max_categories,
      task: target.task,
      target: data.target,
      ...(target.task === "classification"
        ? { threshold: params.threshold, positive_class: target.positiveClass }
        : {}),
      ...(params.cv_folds >= 2 ? { cv_folds: params.cv_folds } : {}),
      data: data.train.digest.path,
      ...(data.source === "file+validation" ? { validation_data: data.validation.digest.path } : {}),
      ...(data.source === "split"
        ? { split_seed: config.split.seed, validation_fraction: config.split.validation_fraction }
        : {}),
    };
    store?.logParams(runId, runParams);
    store?.logDataset(runId, { name: "train", ...data.train.digest });
    store?.logDataset(runId, { name: "validation", ...data.validation.digest });

    let cv: TrainResult["cv"];
    if (params.cv_folds >= 2) {
      const bar = verbose ? new ProgressBar("cross-validation folds", params.cv_folds) : undefined;
      const res = await crossValidate(
        data.train.columns,
        target,
        { ...params },
        params.cv_folds,
        config.split.seed,
        {
          exclude,
          threshold: params.threshold,
          onFold: (f, m) => {
            store?.logMetrics(
              runId,
              Object.fromEntries(Object.entries(m).map(([k, v]) => [`cv_fold_${k}`, v])),
              f,
            );
            bar?.tick();
          },
        },
      );
      cv = { mean: res.mean, std: res.std };
      store?.logMetrics(runId, {
        ...Object.fromEntries(Object.entries(res.mean).map(([k, v]) => [`cv_${k}_mean`, v])),
        ...Object.fromEntries(Object.entries(res.std).map(([k, v]) => [`cv_${k}_std`, v])),
      });
    }

    const t0 = performance.now();
    const { preprocessor, estimator } = await fitModel(
      data.train.columns,
      target.yTrain,
      params,
      target.kind,
      {
        exclude,
        progress: verbose,
      },
    );
    const trainSeconds = (performance.now() - t0) / 1000;
    if (preprocessor.dropped.length) {
      say(`dropped columns: ${preprocessor.dropped.map((d) => `${d.name} (${d.reason})`).join(", ")}`);
    }
    const Xva = preprocessor.transform(data.validation.columns, data.validation.rows);
    const evaluation = evaluate(estimator, Xva, target, params.threshold);
    const metrics = { ...evaluation.metrics, train_seconds: trainSeconds };
    store?.logMetrics(runId, metrics);

    const signature: Signature = {
      inputs: preprocessor.signatureInputs(),
      target: {
        name: data.target,
        kind: target.task,
        ...(target.classes ? { classes: target.classes } : {}),
      },
    };
    const lineage: Lineage = {
      run_id: store ? runId : null,
      data: { train: data.train.digest, validation: data.validation.digest },
      code_version: git,
    };
    const artifactsDir = opts.artifactsDir ?? join(config.paths.models, "artifacts");
    const artifact = writeArtifact(join(artifactsDir, runId), {
      engine: params.algorithm,
      estimator,
      preprocessor,
      signature,
      inputExample: inputExample(data.train.columns, preprocessor),
      metrics,
      params: runParams,
      lineage,
      task: target.task,
      classes: target.classes,
      positiveClass: target.positiveClass,
      threshold: params.threshold,
    });
    store?.logArtifact(runId, "model", artifact);

    const result: TrainResult = {
      run_id: runId,
      artifact,
      metrics,
      positive_class: target.positiveClass,
      classes: target.classes,
      task: target.task,
      algorithm: params.algorithm,
      train_seconds: trainSeconds,
      rows: data.train.rows,
      validation_rows: data.validation.rows,
      features: preprocessor.width,
      input_columns: preprocessor.columns.length,
      dropped: preprocessor.dropped,
      ...(cv ? { cv } : {}),
    };

    if (reportsDir && reportModule) {
      const { writeTrainReport } = await reportModule;
      const imp = estimator.featureImportances?.();
      const paths = writeTrainReport(reportsDir, {
        result,
        evaluation,
        params: runParams,
        importances: imp ? preprocessor.columnImportances(imp) : undefined,
        lineage,
      });
      result.report = paths.html;
      result.summary = paths.markdown;
      store?.logArtifact(runId, "report", paths.html);
    }
    store?.endRun(runId, "FINISHED");
    return result;
  } catch (e) {
    try {
      store?.endRun(runId, "FAILED");
    } catch { /* keep the original error */ }
    throw e;
  } finally {
    store?.close();
  }
}
