/**
 * A fitted model as one object, in the spirit of scikit-learn's Pipeline:
 * the fitted preprocessing and the engine together, fitted from a table and
 * used on tables. No tracking store, no files until `save`:
 *
 *   const model = await fit(df, { target: "churn", n_estimators: 200 });
 *   model.predict(rows); model.predictProba(rows); model.evaluate(labelled);
 *   model.explain(rows);   // SHAP values per input column: bias + contributions = the raw output
 *   model.shapImportance(rows); // global importance: mean |SHAP| per input column
 *   model.save("models/my_model"); const again = load("models/my_model");
 *
 * The training stage (src/training/train.ts) is this plus tracking, lineage and
 * reports. `save` writes the same artifact the stage writes, so `deno task serve
 * --model <dir>` and `deno task predict` take it as it is.
 */
import type pl from "nodejs-polars";
import { UserError } from "../core/errors.ts";
import type { ModelParams } from "../config/schema.ts";
import { validateConfig } from "../config/load.ts";
import {
  type DataDigest,
  type Label,
  type Lineage,
  loadArtifact,
  scoreMatrix,
  writeArtifact,
} from "./artifact.ts";
import { engineParams, validateModelParams } from "./engines/registry.ts";
import { evaluate, type Evaluation } from "./evaluate.ts";
import { fitModel, resolveEncoding } from "./fit.ts";
import {
  type Columns,
  columnsFromRecords,
  type Exclusion,
  inputProblem,
  isMissing,
  type Preprocessor,
  rowCount,
} from "./preprocess/index.ts";
import { encodeTarget, resolveTarget, type TargetInfo } from "./target.ts";
import {
  canExplain,
  explainMatrix,
  type ExplainOptions,
  type Explanation,
  meanAbsShap,
  notExplainable,
  sampleRows,
  type ShapSummary,
  shapSummary,
  type ShapSummaryOptions,
} from "./explain.ts";
import type { Estimator, Matrix, Prediction, Signature } from "./types.ts";

export type {
  Contribution,
  ExplainOptions,
  Explanation,
  ShapFeature,
  ShapSummary,
  ShapSummaryOptions,
} from "./explain.ts";

/** What `fit`, `predict` and `evaluate` take: a polars DataFrame, records, or columns by name. */
export type Table = pl.DataFrame | Record<string, unknown>[] | Columns;

export interface ModelFitOptions extends Partial<ModelParams> {
  /** the column to predict */
  target: string;
  /** columns never used as inputs (ids, leakage); a {name, reason} is listed among the dropped columns */
  exclude?: readonly Exclusion[];
  /** a progress bar on stderr while trees grow (default false) */
  progress?: boolean;
  /** labelled rows an engine that stops early (boosting) scores each round on, instead of holding out training rows */
  validation?: Table;
}

function isFrame(t: Table): t is pl.DataFrame {
  return typeof (t as pl.DataFrame).getColumn === "function" && Array.isArray((t as pl.DataFrame).columns);
}

/** Numeric dtypes whose typed arrays hold the numbers toArray gives. */
const NUMERIC_DTYPES = new Set([
  "Float64",
  "Float32",
  "Int64",
  "Int32",
  "Int16",
  "Int8",
  "UInt32",
  "UInt16",
  "UInt8",
]);

/**
 * A series as a plain array. A numeric one without nulls goes through its
 * typed array: polars' toArray makes one value at a time (measured: 1.8 s
 * against 0.1 s for 200,000 x 30), with the same numbers.
 */
function seriesValues(s: pl.Series): unknown[] {
  if (NUMERIC_DTYPES.has(s.dtype.variant) && s.nullCount() === 0) {
    const typed = s.toTypedArray(), n = typed.length, out = new Array<unknown>(n);
    // Int64 comes as a BigInt64Array: Number() rounds as toArray does. (A loop: Array.from costs 8x.)
    if (typed instanceof BigInt64Array) { for (let i = 0; i < n; i++) out[i] = Number(typed[i]); }
    else for (let i = 0, t = typed as ArrayLike<number>; i < n; i++) out[i] = t[i];
    return out;
  }
  return s.toArray() as unknown[];
}

/** Any Table as columns by name (a DataFrame's columns become plain arrays once). */
export function tableColumns(table: Table): Columns {
  if (Array.isArray(table)) return columnsFromRecords(table);
  if (isFrame(table)) {
    const out: Columns = {};
    for (const name of table.columns) out[name] = seriesValues(table.getColumn(name));
    return out;
  }
  if (table === null || typeof table !== "object") {
    throw new UserError("expected a table: a DataFrame, records or columns");
  }
  return table;
}

/**
 * Validates params as the `model` section of a config: the same defaults and the
 * same one line per problem (key, value, what it expects) as params.yaml gets.
 */
export function modelParams(params: Partial<ModelParams>): ModelParams {
  return validateConfig({ model: params }, "fit").model;
}

/** The params a fitted model records (and the train stage logs): the engine's, resolved for the task. */
export function fittedParams(params: ModelParams, target: TargetInfo, name: string): Record<string, unknown> {
  return {
    algorithm: params.algorithm,
    ...engineParams(params, target.kind),
    encoding: resolveEncoding(params),
    max_categories: params.max_categories,
    task: target.task,
    target: name,
    // binary only: with more classes the prediction is the most probable one, whatever these say
    ...(target.task === "classification" && target.classes?.length === 2
      ? { threshold: params.threshold, positive_class: target.positiveClass }
      : {}),
  };
}

export interface ModelState {
  engine: string;
  target: string;
  task: "classification" | "regression";
  classes?: Label[];
  positiveClass?: Label;
  threshold: number;
  preprocessor: Preprocessor;
  estimator: Estimator;
  signature: Signature;
  params: Record<string, unknown>;
  metrics?: Record<string, number>;
  inputExample?: Record<string, unknown>[];
  trainingData?: DataDigest;
}

export class Model {
  readonly engine: string;
  readonly target: string;
  readonly task: "classification" | "regression";
  readonly classes: Label[] | undefined;
  readonly positiveClass: Label | undefined;
  readonly threshold: number;
  readonly preprocessor: Preprocessor;
  readonly estimator: Estimator;
  readonly signature: Signature;
  /** the params it was fitted with, as recorded in an artifact */
  readonly params: Record<string, unknown>;
  /** metrics of the last `evaluate` (saved with the model) */
  metrics: Record<string, number>;
  readonly inputExample: Record<string, unknown>[];
  /** what it was fitted on (a table in memory has no path) */
  readonly trainingData: DataDigest;

  constructor(state: ModelState) {
    this.engine = state.engine;
    this.target = state.target;
    this.task = state.task;
    this.classes = state.classes;
    this.positiveClass = state.positiveClass;
    this.threshold = state.threshold;
    this.preprocessor = state.preprocessor;
    this.estimator = state.estimator;
    this.signature = state.signature;
    this.params = state.params;
    this.metrics = state.metrics ?? {};
    this.inputExample = state.inputExample ?? [];
    this.trainingData = state.trainingData ?? { path: "(in memory)", sha256: "", rows: 0 };
  }

  /** The encoded feature matrix of a table: the saved preprocessing, exactly as served. */
  transform(table: Table): Matrix {
    const cols = tableColumns(table);
    // as the service validates a record: a missing column or an unreadable value is refused, not imputed
    const problem = inputProblem(this.preprocessor.columns, cols);
    if (problem) throw new UserError(problem);
    return this.preprocessor.transform(cols, rowCount(cols));
  }

  /** One prediction per row, with class probabilities for a classifier. */
  predictRows(table: Table): Prediction[] {
    return scoreMatrix(this.estimator, this.transform(table), this);
  }

  /** The predicted label (classification, after the decision threshold) or value (regression) per row. */
  predict(table: Table): (Label | number)[] {
    return this.predictRows(table).map((p) => p.prediction);
  }

  /** rows x classes probabilities, columns in `classes` order; classification only. */
  predictProba(table: Table): number[][] {
    if (this.task !== "classification" || !this.estimator.predictProba) {
      throw new UserError(`predictProba: this is a ${this.task} model; use predict`);
    }
    const X = this.transform(table);
    const P = this.estimator.predictProba(X);
    const k = this.classes!.length;
    return Array.from({ length: X.rows }, (_, i) => Array.from(P.subarray(i * k, (i + 1) * k)));
  }

  /** Metrics, curves and confusion on labelled rows (the table holds the target column). */
  evaluate(table: Table): Evaluation {
    const cols = tableColumns(table);
    const y = cols[this.target];
    if (!y) throw new UserError(`evaluate: the table has no target column '${this.target}'`);
    const target = encodeTarget(y, this, this.target);
    const evaluation = evaluate(
      this.estimator,
      this.preprocessor.transform(cols, y.length),
      target,
      this.threshold,
    );
    this.metrics = evaluation.metrics;
    return evaluation;
  }

  /** Whether the engine computes SHAP values (`explain` throws a UserError naming the engine otherwise). */
  get explainable(): boolean {
    return canExplain(this);
  }

  /**
   * Per-row SHAP values per input column, on the engine's raw output scale
   * (`scale`): the forest's class probability, boosting's and logistic
   * regression's log-odds (binary) or boosting's logit (multiclass), a
   * regressor's value. For every row, bias (the base value: the expected
   * output over the training data) + the sum of its contributions = its raw
   * output (`values`). A binary model explains the positive class, a
   * multiclass one each row's predicted class (or `opts.class` for every row).
   * An input column's encoded parts (one-hot levels, date parts, missing
   * indicator) are summed back to it, so `columns` are the source columns.
   * Engines without SHAP values (ml-random-forest, plugins without explain)
   * are a UserError naming the engine.
   */
  explain(table: Table, opts: ExplainOptions = {}): Explanation {
    if (!canExplain(this)) throw notExplainable(this.engine);
    return explainMatrix(this, this.transform(table), opts);
  }

  /**
   * Global importance by mean |SHAP value| per input column, largest first,
   * over the table's rows (or a seeded sample of `opts.sample` of them), for
   * the output `explain` explains. Unlike the engine's impurity importance it
   * is in the units of the output (`explain`'s scale) and reflects these rows.
   */
  shapImportance(
    table: Table,
    opts: ExplainOptions & { sample?: number; seed?: number } = {},
  ): { name: string; importance: number }[] {
    if (!canExplain(this)) throw notExplainable(this.engine);
    let X = this.transform(table);
    if (opts.sample !== undefined && opts.sample < X.rows) {
      const idx = sampleRows(X.rows, opts.sample, opts.seed ?? 0), w = X.cols;
      const data = new Float64Array(idx.length * w);
      idx.forEach((r, i) => data.set(X.data.subarray(r * w, (r + 1) * w), i * w));
      X = { data, rows: idx.length, cols: w };
    }
    return meanAbsShap(explainMatrix(this, X, opts));
  }

  /**
   * SHAP values of a seeded sample of the table's rows (default 500), gathered
   * by input column with the rows' values, largest mean |SHAP| first: what the
   * summary and dependence charts (`shapSummaryChart`, `shapDependenceChart`)
   * and the training report draw.
   */
  shapSummary(table: Table, opts: ShapSummaryOptions = {}): ShapSummary {
    if (!canExplain(this)) throw notExplainable(this.engine);
    return shapSummary(this, tableColumns(table), opts);
  }

  /**
   * Writes the model as an artifact directory (atomically); returns the directory.
   * The train stage passes its run's lineage, recorded params and metrics.
   */
  save(
    dir: string,
    record: { lineage?: Lineage; params?: Record<string, unknown>; metrics?: Record<string, number> } = {},
  ): string {
    return writeArtifact(dir, {
      engine: this.engine,
      estimator: this.estimator,
      preprocessor: this.preprocessor,
      signature: this.signature,
      inputExample: this.inputExample,
      metrics: record.metrics ?? this.metrics,
      params: record.params ?? this.params,
      lineage: record.lineage ?? {
        run_id: null,
        data: { train: this.trainingData },
        code_version: { commit: null, dirty: null },
      },
      task: this.task,
      classes: this.classes,
      positiveClass: this.positiveClass,
      threshold: this.threshold,
    });
  }

  /**
   * A model saved by `save` or by the train stage, verified against the
   * checksum record saved with it (loadArtifact): a changed, missing or added
   * file is a UserError naming it.
   */
  static load(dir: string): Model {
    const a = loadArtifact(dir);
    return new Model({
      engine: a.manifest.engine,
      target: a.signature.target.name,
      task: a.signature.target.kind,
      classes: a.classes,
      positiveClass: a.positiveClass,
      threshold: a.threshold,
      preprocessor: a.preprocessor,
      estimator: a.estimator,
      signature: a.signature,
      params: a.params,
      metrics: a.metrics,
      inputExample: a.inputExample,
      trainingData: a.lineage.data.train,
    });
  }
}

/** A few raw training records, JSON-ready, saved as the artifact's input example. */
export function inputExample(cols: Columns, pre: Preprocessor, n = 3): Record<string, unknown>[] {
  const rows = Math.min(n, rowCount(cols));
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

/** Fits preprocessing and an engine on a table; `target` names the column to predict. */
export async function fit(table: Table, options: ModelFitOptions): Promise<Model> {
  const { target: name, exclude = [], progress = false, validation, ...rest } = options;
  if (!name) throw new UserError("fit: options.target names the column to predict");
  const params = modelParams(rest);
  const cols = tableColumns(table);
  if (!(name in cols)) {
    throw new UserError(`fit: no target column '${name}' (columns: ${Object.keys(cols).join(", ")})`);
  }
  const target = resolveTarget(cols[name], [], params, name);
  validateModelParams(params, target.kind);
  let valid: { columns: Columns; y: Float64Array } | undefined;
  if (validation !== undefined) {
    const vcols = tableColumns(validation);
    if (!(name in vcols)) throw new UserError(`fit: the validation rows have no target column '${name}'`);
    valid = { columns: vcols, y: encodeTarget(vcols[name], target, name).yValidation };
  }
  const { preprocessor, estimator } = await fitModel(cols, target.yTrain, params, target.kind, {
    exclude: [...exclude, name],
    progress,
    ...(valid ? { validation: valid } : {}),
  });
  return new Model({
    engine: params.algorithm,
    target: name,
    task: target.task,
    classes: target.classes,
    positiveClass: target.positiveClass,
    threshold: params.threshold,
    preprocessor,
    estimator,
    signature: {
      inputs: preprocessor.signatureInputs(),
      target: { name, kind: target.task, ...(target.classes ? { classes: target.classes } : {}) },
    },
    params: fittedParams(params, target, name),
    inputExample: inputExample(cols, preprocessor),
    trainingData: { path: "(in memory)", sha256: "", rows: target.yTrain.length },
  });
}

/** Loads a model directory written by `Model.save` or by the train stage (the same as `Model.load`). */
export function load(dir: string): Model {
  return Model.load(dir);
}
