/**
 * The contracts between the model engines, the training stage, the registry and
 * the service. Engines see only numbers; preprocessing turns records into them.
 */

/** A dense row-major matrix of features. NaN means missing. */
export interface Matrix {
  readonly data: Float64Array;
  readonly rows: number;
  readonly cols: number;
}

export function matrix(rows: number, cols: number, data = new Float64Array(rows * cols)): Matrix {
  if (data.length !== rows * cols) throw new Error(`matrix: ${data.length} values for ${rows}x${cols}`);
  return { data, rows, cols };
}

/**
 * An engine, in scikit-learn's shape: settings in the constructor, learned
 * state set by fit. Classifier targets are class indices 0..k-1 (the caller
 * keeps the label names); regressor targets are numbers.
 */
export interface FitOptions {
  /** trees grown so far of `total` (engines that grow trees call it) */
  onProgress?: (done: number, total: number) => void;
  /**
   * per column of X: true when it holds a categorical column's ordinal codes
   * (0..L-1 the training levels by frequency, L other/unseen, -1 missing);
   * engines with native categorical splits split on them as sets
   */
  categorical?: ArrayLike<boolean>;
  /** a validation set for early stopping (engines that stop early use it instead of holding out rows) */
  validation?: { X: Matrix; y: Float64Array };
}

/** The scale an engine's `explain` attributes: what bias + contributions add up to. */
export type ExplainScale = "probability" | "log_odds" | "logit" | "value";

export interface Estimator {
  readonly kind: "classifier" | "regressor";
  fit(X: Matrix, y: Float64Array, opts?: FitOptions): Promise<void>;
  /** class index (classifier) or value (regressor), one per row */
  predict(X: Matrix): Float64Array;
  /** classifier only: rows x nClasses, row-major; each row sums to 1 */
  predictProba?(X: Matrix): Float64Array;
  /**
   * optional one-row fast paths (the service's single record), the same numbers
   * as predict/predictProba on a one-row matrix: a classifier's probabilities
   * written into `out` (nClasses long, returned), a regressor's value
   */
  predictProbaRow?(x: ArrayLike<number>, out?: Float64Array): Float64Array;
  predictRow?(x: ArrayLike<number>): number;
  /**
   * per-row SHAP values, if the engine has them: bias[i] (the expected value) + the
   * row's contributions (rows x cols, row-major) = row i's raw output for class
   * `classes[i]` (classifier; default: its predicted class) or its prediction
   * (regressor), on the scale `explainScale` names: the forest's class probability,
   * boosting's and logistic regression's log-odds of the class (binary; class 0 is
   * the negation of class 1's) or per-class logit (multiclass), a regressor's value
   */
  explain?(X: Matrix, classes?: ArrayLike<number>): { bias: Float64Array; contributions: Float64Array };
  /** what explain's bias + contributions add up to (default "probability" for a classifier, "value" for a regressor) */
  readonly explainScale?: ExplainScale;
  /** impurity-based or coefficient-based importances, one per column, if the engine has them */
  featureImportances?(): Float64Array | undefined;
  /** the compact serialized form; `loadEstimator` in src/models/engines.ts reads it back */
  toBytes(): Uint8Array;
}

export type ColumnKind = "numeric" | "categorical" | "boolean" | "datetime";

/** The input signature saved with a model: what a record must look like. */
export interface SignatureColumn {
  name: string;
  kind: ColumnKind;
  /** categorical: the levels seen in training (others are handled as unseen) */
  categories?: string[];
  /** whether training data had missing values here (missing is always accepted) */
  nullable: boolean;
}
export interface Signature {
  inputs: SignatureColumn[];
  target: { name: string; kind: "classification" | "regression"; classes?: (string | number | boolean)[] };
  /** the feature service the model was trained on (train --feature-service): /predict can join its online features by entity id */
  feature_service?: SignatureFeatureService;
}

/**
 * Where a model's inputs live in the online store: its feature service, the
 * entity's join key, and per feature view the version trained on, its TTL and
 * each feature's position in the view's stored row. Enough to look a record up
 * without the feature store's definitions (the service loads no polars).
 */
export interface SignatureFeatureService {
  name: string;
  entity: string;
  join_key: string;
  views: {
    view: string;
    version: number;
    /** null: values never expire */
    ttl_ms: number | null;
    features: { name: string; index: number }[];
  }[];
}

/** One scored record. */
export interface Prediction {
  prediction: string | number | boolean;
  /** classification only: class label -> probability */
  probabilities?: Record<string, number>;
}
