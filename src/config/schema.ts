/**
 * The schema of params.yaml: the project's one config. Every section has
 * defaults, so an empty file is a valid config and a user's file only says what
 * differs. Each stage reads its own section.
 */
import { z } from "zod";

const SourceSchema = z.strictObject({
  path: z.string().min(1).describe("the file to read"),
  format: z.enum(["csv", "json", "ndjson", "parquet"]).optional().describe(
    "the file's format; inferred from the extension when absent",
  ),
});

export const PathsSchema = z.strictObject({
  raw: z.string().default("data/raw").describe("raw sources (data:generate writes here; prep reads here)"),
  interim: z.string().default("data/interim").describe("cleaned sources and rejected rows"),
  processed: z.string().default("data/processed").describe("train/validation split and quality.json"),
  features: z.string().default("data/features").describe("feature tables (Parquet)"),
  predictions: z.string().default("data/predictions").describe(
    "the prediction log the service writes (NDJSON per day)",
  ),
  monitoring: z.string().default("data/monitoring").describe("drift summaries and input statistics"),
  models: z.string().default("models").describe(
    "model artifacts, registered versions and the tracking store",
  ),
  reports: z.string().default("reports").describe("HTML and Markdown reports"),
});

/** How table files are read (train --data, predict --input, drift, the service's text/csv); src/data/csv.ts. */
export const ReadSchema = z.strictObject({
  delimiter: z.string().refine((s) => s === "auto" || s === "tab" || s.length === 1, {
    message: 'expected "auto", "tab" or one character',
  }).default("auto").describe(
    'CSV delimiter: "auto" detects comma, semicolon, tab or pipe (.tsv is tab); or one character, "tab"',
  ),
  quote: z.string().length(1).default('"').describe("the quote character of CSV fields"),
  decimal: z.enum(["auto", ".", ","]).default("auto").describe(
    'decimal mark of numbers in text: "auto" decides per file from the values (a tie: comma in a semicolon file)',
  ),
  thousands: z.enum(["auto", "none", ",", ".", " ", "'"]).default("auto").describe(
    'thousands separator: "auto" accepts "," (decimal point) or "." (decimal comma) in groups of three',
  ),
  null_tokens: z.array(z.string()).optional().describe(
    'cells read as missing; default "", NA, NaN, nan, null, NULL, None, N/A',
  ),
  encoding: z.enum(["utf-8", "latin-1", "windows-1252"]).default("utf-8").describe(
    "text encoding of CSV/JSON files (a UTF-8 BOM is stripped); latin-1 is read as windows-1252",
  ),
  numeric_share: z.number().gt(0).max(1).default(0.95).describe(
    "a text column is read as numbers when this share of its non-missing cells are numbers (the rest: missing, reported)",
  ),
});

export const DataSchema = z.strictObject({
  sources: z.strictObject({
    customers: SourceSchema.default({ path: "data/raw/customers.csv" }).describe("the customers table"),
    transactions: SourceSchema.default({ path: "data/raw/transactions.json" }).describe(
      "the transactions table",
    ),
  }).default({
    customers: { path: "data/raw/customers.csv" },
    transactions: { path: "data/raw/transactions.json" },
  }).describe("the raw sources prep reads"),
  target: z.string().default("churned").describe("the column the model predicts"),
  id_column: z.string().default("customer_id").describe("the entity key joining sources"),
  read: ReadSchema.default(ReadSchema.parse({})).describe(
    "how CSV and JSON files are read: delimiter, quote, decimal mark, thousands, missing tokens, encoding",
  ),
  as_of: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "a date YYYY-MM-DD").optional().describe(
    '"as of" date for recency/tenure; defaults to the latest transaction date',
  ),
});

export const SplitSchema = z.strictObject({
  validation_fraction: z.number().gt(0).lt(1).default(0.25).describe("share of rows held out for validation"),
  stratify: z.boolean().default(true).describe("keep class shares equal in both parts"),
  seed: z.number().int().nonnegative().default(42).describe(
    "seed of the split (and of cross-validation folds)",
  ),
});

export const QualitySchema = z.strictObject({
  max_rejected_share: z.number().min(0).max(1).default(0.1).describe(
    "the prep stage fails when more than this share of rows is rejected",
  ),
  max_missing_share: z.number().min(0).max(1).default(0.01).describe(
    "... or when any column's missing share after cleaning is above this",
  ),
});

export const GenerateSchema = z.strictObject({
  customers: z.number().int().positive().default(5000).describe("number of customers to generate"),
  seed: z.number().int().nonnegative().default(7).describe(
    "seed of the generator: the same seed writes the same files",
  ),
  months: z.number().int().positive().max(600).default(12).describe(
    "months of transactions to generate (at most 600: 50 years before the snapshot date)",
  ),
  label_cutoffs: z.number().int().nonnegative().default(3).describe(
    "monthly cut-offs of the label history (labels.csv: customer_id, cutoff, churned), the last at the snapshot date; at most months; 0: none",
  ),
});

export const ModelSchema = z.strictObject({
  algorithm: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/, "must be an engine name").default("boosting")
    .describe(
      "the engine: boosting (gradient boosting, the default: it scored best on 4 of 5 real tables, docs/guides/engines.md), forest, logistic, ml-random-forest, or one a plugin registers (model.plugins)",
    ),
  plugins: z.array(z.string().min(1)).default([]).describe(
    "engine plugin modules to load, e.g. [./plugins/knn.ts]: each exports `engine` (or a default) made with defineEngine",
  ),
  engine_params: z.record(z.string(), z.unknown()).default({}).describe(
    "settings of a plugin engine, checked by the plugin's own schema (built-in engines use the model.* keys)",
  ),
  task: z.enum(["auto", "classification", "regression"]).default("auto").describe(
    "auto: regression for a numeric target with many values, else classification",
  ),
  positive_class: z.union([z.string(), z.number(), z.boolean()]).optional().describe(
    "the class whose probability is scored; default: the minority class",
  ),
  threshold: z.number().gt(0).lt(1).default(0.5).describe(
    "binary decision threshold on the positive class probability, for registry.model_name (other models: registry.models.<name>.threshold, default 0.5)",
  ),
  n_estimators: z.number().int().positive().default(100).describe("number of trees"),
  max_depth: z.number().int().positive().nullable().default(null).describe(
    "maximum tree depth; null: unlimited",
  ),
  min_samples_split: z.number().int().min(2).default(2).describe("fewest rows a node needs to be split"),
  min_samples_leaf: z.number().int().positive().nullable().default(null).describe(
    "fewest rows in a leaf; null: the engine's default (forest 1, boosting 20)",
  ),
  max_features: z.union([z.enum(["sqrt", "log2"]), z.number().positive(), z.null()]).default("sqrt")
    .describe("features drawn per split: sqrt, log2, a share (0-1], a count, or null for all"),
  bootstrap: z.boolean().default(true).describe("draw each tree's rows with replacement"),
  max_samples: z.number().positive().nullable().default(null).describe(
    "rows per tree: a share (0-1] or a count; null: all",
  ),
  class_weight: z.enum(["balanced"]).nullable().default(null).describe(
    "balanced: weight classes inversely to their frequency",
  ),
  criterion: z.enum(["gini", "entropy", "squared_error"]).optional().describe(
    "split criterion (default gini for classifiers, squared_error for regressors)",
  ),
  random_state: z.number().int().nonnegative().default(42).describe("seed of the engine"),
  n_jobs: z.number().int().positive().nullable().default(null).describe(
    "worker threads for training; null: one per core",
  ),
  C: z.number().positive().default(1).describe(
    "logistic regression: inverse regularization strength (smaller: stronger L2 penalty)",
  ),
  max_iter: z.number().int().positive().nullable().default(null).describe(
    "logistic regression: iteration limit (null: 200); boosting: most rounds (null: 1,000 when early stopping is on, which picks the count; else 100)",
  ),
  // gradient boosting (model.algorithm = boosting), named as in LightGBM and HistGradientBoosting
  learning_rate: z.number().positive().default(0.1).describe("boosting: shrinkage of every tree's values"),
  max_leaf_nodes: z.number().int().min(2).nullable().default(31).describe(
    "boosting: leaves per tree, grown best-first; null: no limit (then max_depth bounds the tree)",
  ),
  l2_regularization: z.number().nonnegative().default(0).describe(
    "boosting: L2 penalty on leaf values (LightGBM lambda_l2)",
  ),
  min_gain_to_split: z.number().nonnegative().default(0).describe(
    "boosting: smallest gain a split must have",
  ),
  subsample: z.number().gt(0).max(1).default(1).describe("boosting: share of the rows drawn for each round"),
  colsample: z.number().gt(0).max(1).default(1).describe(
    "boosting: share of the features drawn for each tree",
  ),
  scale_pos_weight: z.number().positive().default(1).describe(
    "boosting, binary: weight of the positive class (instead of class_weight)",
  ),
  max_bins: z.number().int().min(2).max(255).default(255).describe("boosting: histogram bins per feature"),
  early_stopping: z.union([z.literal("auto"), z.boolean()]).default("auto").describe(
    "boosting: stop when the early-stopping score stops improving; auto: on with a --validation file to stop on, or from 1,000 training rows",
  ),
  early_stopping_on: z.enum(["train", "validation"]).default("train").describe(
    "boosting: the rows early stopping scores: train (validation_fraction of the training rows, held out; " +
      "the validation metrics stay unbiased) or validation (the --validation file, like XGBoost's eval_set)",
  ),
  validation_fraction: z.number().gt(0).lt(1).default(0.1).describe(
    "boosting: share of the training rows held out for early stopping (without --validation)",
  ),
  n_iter_no_change: z.number().int().positive().default(10).describe(
    "boosting: rounds without improvement before early stopping ends training",
  ),
  scoring: z.enum(["loss", "roc_auc", "accuracy", "r2"]).default("loss").describe(
    "boosting: the early-stopping score: loss (log loss or squared error), roc_auc (binary), accuracy, r2 (regression)",
  ),
  cat_smooth: z.number().nonnegative().default(10).describe(
    "boosting, categorical splits: added to a category's hessian sum when categories are ordered by gradient, and the fewest rows a category needs to join a split's set",
  ),
  cat_l2: z.number().nonnegative().default(10).describe(
    "boosting, categorical splits: extra L2 penalty on a set split's child values",
  ),
  max_cat_threshold: z.number().int().positive().default(32).describe(
    "boosting, categorical splits: most categories in the set a split sends left",
  ),
  min_data_per_group: z.number().int().positive().default(100).describe(
    "boosting, categorical splits: fewest rows between two candidate sets, and on the right side",
  ),
  monotonic_cst: z.record(z.string(), z.union([z.literal(-1), z.literal(0), z.literal(1)])).default({})
    .describe(
      "boosting: input column -> 1 (prediction only rises with it), -1 (only falls) or 0; numeric and boolean columns",
    ),
  encoding: z.enum(["auto", "onehot", "ordinal"]).default("auto").describe(
    "categorical columns: onehot, ordinal codes, or auto (one-hot for logistic, ordinal for trees)",
  ),
  max_categories: z.number().int().min(2).default(20).describe(
    'one-hot: levels kept per column (the rest become "other")',
  ),
  cv_folds: z.number().int().min(0).default(0).describe(
    "k-fold cross-validation on the training rows (seeded by split.seed); 0 or 1: none",
  ),
});

export const TuneSchema = z.strictObject({
  strategy: z.enum(["grid", "random"]).default("grid").describe(
    "grid: every combination; random: n_trials draws",
  ),
  n_trials: z.number().int().positive().default(10).describe("random search: number of trials"),
  cv_folds: z.number().int().min(2).default(3).describe(
    "k of the k-fold cross-validation that scores each trial (seeded by split.seed)",
  ),
  metric: z.string().default("roc_auc").describe(
    "the metric the search optimizes (minimized for log_loss, brier, rmse, mae; else maximized)",
  ),
  space: z.record(z.string(), z.array(z.union([z.string(), z.number(), z.boolean(), z.null()])))
    .optional().describe(
      "model key -> the values to try; default: the engine's own space (forest: max_depth [8, 12, null] x " +
        "n_estimators [50, 100]; boosting: learning_rate [0.05, 0.1] x max_leaf_nodes [8, 31] x min_samples_leaf [20, 50])",
    ),
});

export const TrackingSchema = z.strictObject({
  store: z.string().default("models/orchard.db").describe(
    "the tracking store and registry: a SQLite file, or a postgresql://user:password@host:5432/db URI",
  ),
  uri: z.string().regex(/^postgres(ql)?:\/\//, "must start with postgresql://").optional().describe(
    "a PostgreSQL store for a team (postgresql://user:password@host:5432/db[?schema=name]); overrides store; the ORCHARD_TRACKING_URI variable overrides both",
  ),
  experiment: z.string().default("churn").describe("the experiment runs are filed under"),
});

const MetricThresholdSchema = z.strictObject({
  threshold: z.number().optional().describe("absolute floor (or ceiling when greater_is_better is false)"),
  min_absolute_change: z.number().optional().describe("candidate - champion must be at least this"),
  min_relative_change: z.number().optional().describe(
    "(candidate - champion) / |champion| must be at least this",
  ),
  greater_is_better: z.boolean().optional().describe(
    "whether a higher value is better; default: false for the losses rmse, mae, mse, log_loss and brier (and their cv_ means), true otherwise",
  ),
});

/** A model name as the registry accepts it (src/registry/types.ts MODEL_NAME_RE). */
export const ModelNameSchema = z.string().regex(
  /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/,
  "letters, digits, _ . - (not starting with . or -)",
).max(200);

/**
 * One registered model's own settings (src/registry/settings.ts resolves
 * them): each key left out falls back to the global key for the example
 * model (registry.model_name), and to the defaults of the model's task kind
 * for any other model.
 */
const ModelSettingsSchema = z.strictObject({
  gates: z.record(z.string(), MetricThresholdSchema).optional().describe(
    "metric -> promotion gate for this model's @champion and Production; default: registry.gates for registry.model_name, else by task kind (binary: roc_auc >= 0.7, f1 >= 0.5; multiclass: accuracy >= 0.5, macro_f1 >= 0.5; regression: r2 >= 0.5, rmse no worse than the champion)",
  ),
  threshold: z.union([z.number().gt(0).lt(1), z.enum(["auto"])]).optional().describe(
    "binary decision threshold on the positive class probability, or auto: the F1-optimal threshold on the validation rows (binary only); default: model.threshold for registry.model_name, else 0.5",
  ),
  experiment: z.string().min(1).optional().describe(
    "the experiment train files this model's runs under and register looks in for latest; default: tracking.experiment for registry.model_name, else the model's name",
  ),
});

export const RegistrySchema = z.strictObject({
  model_name: z.string().regex(/^[A-Za-z0-9_.-]+$/, "letters, digits, _ . -").default("churn").describe(
    "the registered model the pipeline registers into",
  ),
  gates: z.record(z.string(), MetricThresholdSchema).default({
    recall: { threshold: 0.7, greater_is_better: true },
    f1: { threshold: 0.6, greater_is_better: true },
  }).describe(
    "metric -> promotion gate for @champion and Production of registry.model_name (other models: registry.models)",
  ),
  models: z.record(ModelNameSchema, ModelSettingsSchema).default({}).describe(
    "per-model settings: model name -> its gates, threshold and experiment",
  ),
});

/** What /predict by entity id does with a feature the online store has no fresh value for. */
const OnMissing = z.enum(["reject", "missing"]);

export const ServeSchema = z.strictObject({
  model_uri: z.string().default("models:/churn@champion").describe(
    "the model the service loads (models:/name@alias, models:/name/version, or a path)",
  ),
  host: z.string().min(1).default("0.0.0.0").describe("address the service listens on"),
  port: z.number().int().min(0).max(65535).default(8000).describe("port the service listens on"),
  workers: z.number().int().positive().nullable().default(null).describe(
    "worker isolates sharing the port; null: one per core",
  ),
  max_batch: z.number().int().positive().default(10_000).describe(
    "most records in one request (413 over it)",
  ),
  max_body_bytes: z.number().int().positive().default(16_000_000).describe(
    "largest request body in bytes (413 over it); the default fits max_batch records of up to 1.6 KB of JSON each",
  ),
  max_string_length: z.number().int().positive().default(1024).describe(
    "longest string value of a record field, in characters (422 naming the field over it)",
  ),
  max_abs_number: z.number().positive().default(1e15).describe(
    "largest magnitude of a numeric value (422 naming the field over it): past 2^53 a float64 is no measurement, and drift statistics square values",
  ),
  split_batch_bytes: z.number().int().min(0).default(1_000_000).describe(
    "a /predict body of at least this many bytes (about 2,300 records of 20 fields) is cut in two at a record boundary, and a helper thread of the worker scores the second half on another core; the answer and the log are the same (0: one thread always). Under it the split gains nothing: bench:serve-batch timed 1,000 records (430 KB) at 9.4 ms split and 9.3 ms not",
  ),
  read_timeout_ms: z.number().int().positive().default(10_000).describe(
    "a request body not received in full this long after its headers is answered 408",
  ),
  idle_timeout_ms: z.number().int().positive().default(5_000).describe(
    "a connection with no request in progress this long is closed: an idle keep-alive, headers that never complete, or an answer its client does not read (deno task serve; `deno serve` of src/serve/app.ts cannot)",
  ),
  max_connections: z.number().int().positive().default(4_096).describe(
    "connections each worker holds at once; one past that is closed as it arrives (deno task serve)",
  ),
  engine: z.enum(["guarded", "plain"]).default("guarded").describe(
    "HTTP engine of deno task serve: guarded (Deno's per-connection engine, which this service times out and bounds: idle_timeout_ms, max_connections) or plain (Deno.serve as it is, one worker, no idle timeout: for a Deno whose internals changed, or behind a proxy that bounds connections itself)",
  ),
  prediction_headers: z.enum(["api", "full"]).default("api").describe(
    "headers of /predict and /invocations answers: api (Content-Type and X-Request-Id; a 200 from /predict to a caller that sent no X-Request-Id has its id in the body and Content-Type alone, Deno's fast path) or full (also Cache-Control: no-store and the secure headers every other route sends; each header costs about 1-2.5 µs of CPU per response)",
  ),
  max_semi_space_mb: z.number().int().min(1).max(1024).nullable().default(64).describe(
    "V8's young-generation semi-space of each worker in MB (--v8-flags=--max-semi-space-size): at 64 a 10,000-record batch's objects die young instead of being promoted and collected by full GCs (36 vs 72 ms a batch in process), with no change for one-record requests; null: V8's default",
  ),
  single_threaded_gc: z.boolean().default(true).describe(
    "run V8's garbage collector on each worker's own thread (--single-threaded-gc): on a machine whose cores the workers and the load already fill, a parallel scavenge waits for helper threads that are not scheduled, and those pauses set the tail (bench:serve: p99 4.4-5.5 ms against 4.4-14 ms on 2 cores, the same CPU per request)",
  ),
  log_flush_ms: z.number().int().positive().default(1000).describe("prediction log: flush interval"),
  log_batch: z.number().int().positive().default(500).describe("prediction log: lines per write"),
  reload_poll_ms: z.number().int().positive().default(5000).describe(
    "how often the service checks whether its URI points at a new version",
  ),
  feature_store: z.strictObject({
    on_missing: OnMissing.default("reject").describe(
      "a model trained on a feature service, asked by entity id: a feature missing or expired in the online store (and not in the request) is a 422 naming it (reject) or a missing value the model imputes (missing)",
    ),
    models: z.record(z.string().min(1), OnMissing).default({}).describe(
      "per-model on_missing: model name -> reject | missing",
    ),
  }).default({ on_missing: "reject", models: {} }).describe(
    "predicting by entity id (the model's feature service joined from feature_store's online store)",
  ),
});

const NumTest = z.enum(["ks", "wasserstein", "psi", "chisquare", "jensenshannon", "z"]);

export const DriftSchema = z.strictObject({
  num_test: NumTest.nullable().default(null).describe(
    "forces one test for every numeric column (default: chosen per column)",
  ),
  cat_test: NumTest.nullable().default(null).describe("forces one test for every categorical column"),
  per_column: z.record(z.string(), NumTest).default({}).describe("per-column test overrides: column -> test"),
  thresholds: z.record(z.string(), z.number()).default({}).describe("per-column threshold overrides"),
  drift_share: z.number().gt(0).max(1).default(0.5).describe(
    "dataset drift when at least this share of columns drifted",
  ),
  psi_threshold: z.number().positive().default(0.2).describe("PSI above this is drift"),
  psi_bins: z.number().int().min(2).default(10).describe("quantile bins for PSI"),
  missing_tolerance: z.number().min(0).max(1).default(0.05).describe(
    "quality: a column fails when its current missing share exceeds the reference's by more than this",
  ),
  out_of_range_tolerance: z.number().min(0).max(1).default(0.01).describe(
    "quality: a numeric column fails when more than this share lies outside the reference range",
  ),
  performance_tolerance: z.number().min(0).default(0.05).describe(
    "performance: degraded when a metric falls more than this below the model's validation value",
  ),
  schedule: z.string().default("0 2 * * *").describe("cron expression (UTC) for drift:schedule"),
});

/** A name the feature store accepts for an entity, feature view, feature service or feature. */
const FS_NAME = z.string().regex(
  /^[A-Za-z_][A-Za-z0-9_]*$/,
  "letters, digits and _ (not starting with a digit)",
);

/** A duration: a number of seconds, or a count and a unit (s, m, h, d, w), e.g. 30d. */
export const DurationSchema = z.union([
  z.number().int().nonnegative(),
  z.string().regex(/^\d+(\.\d+)?\s*(ms|s|m|h|d|w)$/, "a duration such as 90s, 15m, 12h, 30d or 2w"),
]);

export const FeatureTypeSchema = z.enum(["float64", "int64", "string", "bool"]);

export const EntitySchema = z.strictObject({
  join_key: FS_NAME.describe("the column that identifies the entity in sources and entity tables"),
  dtype: z.enum(["string", "int64"]).default("string").describe("the join key's type"),
  description: z.string().optional().describe("what the entity is"),
});

export const FeatureViewSourceSchema = z.strictObject({
  path: z.string().min(1).describe("a Parquet or CSV file (or a glob of Parquet files)"),
  format: z.enum(["parquet", "csv"]).optional().describe("the file's format; inferred from the extension"),
  query: z.string().min(1).optional().describe(
    "a polars SQL query over the file, which is table `source`: SELECT *, a / b AS ratio FROM source WHERE ...",
  ),
});

export const FeatureViewSchema = z.strictObject({
  entity: FS_NAME.describe("the entity (feature_store.entities) whose join key the source carries"),
  source: FeatureViewSourceSchema.describe("where the feature rows come from"),
  timestamp_field: z.string().min(1).default("event_timestamp").describe(
    "the event-timestamp column: when each row's values became true",
  ),
  created_timestamp_field: z.string().min(1).optional().describe(
    "a created-timestamp column: of two rows with the same entity and event timestamp, the later created wins",
  ),
  ttl: DurationSchema.nullable().default(null).describe(
    "how long a row's values stay valid after its event timestamp (offline and online); null: forever",
  ),
  features: z.record(FS_NAME, FeatureTypeSchema).describe(
    "feature column -> type (float64, int64, string, bool), in order",
  ),
  description: z.string().optional().describe("what the view holds"),
});

export const FeatureServiceSchema = z.strictObject({
  features: z.array(
    z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*:([A-Za-z_][A-Za-z0-9_]*|\*)$/, "view:feature or view:*"),
  )
    .min(1).describe("the features a model uses: view:feature, or view:* for all of a view's features"),
  description: z.string().optional().describe("what the service is for"),
});

export const FeatureStoreSchema = z.strictObject({
  directory: z.string().default("data/featurestore").describe(
    "the feature store's folder: the registry (registry.json) and the SQLite online store (online.db)",
  ),
  definitions: z.string().optional().describe(
    "a TypeScript file whose default export (defineFeatureStore) adds entities, views and services, e.g. featurestore.ts",
  ),
  online_store: z.string().default("sqlite").describe(
    "sqlite (online.db in directory), a path to a SQLite file, or a redis://host:port URI",
  ),
  project: z.string().regex(/^[A-Za-z0-9_.-]+$/, "letters, digits, '.', '_' and '-' only").optional()
    .describe(
      "the project's name in a shared Redis online store: its keys are orchard:fs:<project>:... (default orchard:fs:...); give each project that shares one Redis server its own, or they read each other's views",
    ),
  entities: z.record(FS_NAME, EntitySchema).default({}).describe("entity name -> its join key"),
  feature_views: z.record(FS_NAME, FeatureViewSchema).default({}).describe(
    "feature view name -> its source, timestamps, TTL and typed features",
  ),
  feature_services: z.record(FS_NAME, FeatureServiceSchema).default({}).describe(
    "feature service name -> the features a model uses",
  ),
});

/** Training on a feature service: a label table with timestamps, joined point-in-time (src/training/feature_set.ts). */
export const TrainingSetSchema = z.strictObject({
  feature_service: FS_NAME.nullable().default(null).describe(
    "train (without --data) on this feature service's point-in-time join with the label table; null: on paths.features/customer_features.parquet",
  ),
  labels: z.strictObject({
    path: z.string().min(1).default("data/raw/labels.csv").describe("the label table (CSV, Parquet, JSON)"),
    entity_key: z.string().min(1).default("customer_id").describe(
      "its entity column (the join key of the service's views)",
    ),
    timestamp: z.string().min(1).default("cutoff").describe(
      "its timestamp column: each row's features are taken as of this time",
    ),
    label: z.string().min(1).optional().describe("its label column (default data.target)"),
  }).default({ path: "data/raw/labels.csv", entity_key: "customer_id", timestamp: "cutoff" }).describe(
    "the label table: one row per (entity, timestamp) with the label observed then",
  ),
  missing: z.enum(["drop", "keep"]).default("drop").describe(
    "rows for which a view found no row in time (or within TTL): drop them, or keep them with missing values",
  ),
});

export const ConfigSchema = z.strictObject({
  paths: PathsSchema.default(PathsSchema.parse({})).describe("where each stage reads and writes"),
  data: DataSchema.default(DataSchema.parse({})).describe("the raw sources, target and entity key"),
  split: SplitSchema.default(SplitSchema.parse({})).describe("the train/validation split"),
  quality: QualitySchema.default(QualitySchema.parse({})).describe("prep's quality gate"),
  generate: GenerateSchema.default(GenerateSchema.parse({})).describe("the example world (data:generate)"),
  model: ModelSchema.default(ModelSchema.parse({})).describe("model and preprocessing params (train)"),
  tune: TuneSchema.default(TuneSchema.parse({})).describe("hyperparameter search (tune)"),
  tracking: TrackingSchema.default(TrackingSchema.parse({})).describe("the tracking store"),
  registry: RegistrySchema.default(RegistrySchema.parse({})).describe(
    "the model registry and its promotion gates",
  ),
  serve: ServeSchema.default(ServeSchema.parse({})).describe("the prediction service"),
  drift: DriftSchema.default(DriftSchema.parse({})).describe("drift checks, thresholds and schedule"),
  feature_store: FeatureStoreSchema.default(FeatureStoreSchema.parse({})).describe(
    "the feature store: entities, feature views, feature services and the online store",
  ),
  training_set: TrainingSetSchema.default(TrainingSetSchema.parse({})).describe(
    "train on a feature service joined point-in-time with a label table",
  ),
}).strict();

export type Config = z.infer<typeof ConfigSchema>;
export type ModelParams = z.infer<typeof ModelSchema>;
export type DriftConfig = z.infer<typeof DriftSchema>;
export type RegistryConfig = z.infer<typeof RegistrySchema>;
export type MetricThreshold = z.infer<typeof MetricThresholdSchema>;
export type FeatureStoreConfig = z.infer<typeof FeatureStoreSchema>;
export type FeatureViewConfig = z.infer<typeof FeatureViewSchema>;
export type TrainingSetConfig = z.infer<typeof TrainingSetSchema>;
