/**
 * The schema of params.yaml: the project's one config. Every section has
 * defaults, so an empty file is a valid config and a user's file only says what
 * differs. Each stage reads its own section.
 */
import { z } from "zod";

const SourceSchema = z.strictObject({
  path: z.string().min(1),
  /** csv | json | ndjson | parquet; inferred from the extension when absent */
  format: z.enum(["csv", "json", "ndjson", "parquet"]).optional(),
});

export const PathsSchema = z.strictObject({
  raw: z.string().default("data/raw"),
  interim: z.string().default("data/interim"),
  processed: z.string().default("data/processed"),
  features: z.string().default("data/features"),
  predictions: z.string().default("data/predictions"),
  monitoring: z.string().default("data/monitoring"),
  models: z.string().default("models"),
  reports: z.string().default("reports"),
});

export const DataSchema = z.strictObject({
  sources: z.strictObject({
    customers: SourceSchema.default({ path: "data/raw/customers.csv" }),
    transactions: SourceSchema.default({ path: "data/raw/transactions.json" }),
  }).default({
    customers: { path: "data/raw/customers.csv" },
    transactions: { path: "data/raw/transactions.json" },
  }),
  /** the column the model predicts */
  target: z.string().default("churned"),
  /** the entity key joining sources */
  id_column: z.string().default("customer_id"),
  /** "as of" date for recency/tenure; defaults to the latest transaction date */
  as_of: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "a date YYYY-MM-DD").optional(),
});

export const SplitSchema = z.strictObject({
  validation_fraction: z.number().gt(0).lt(1).default(0.25),
  stratify: z.boolean().default(true),
  seed: z.number().int().nonnegative().default(42),
});

export const QualitySchema = z.strictObject({
  /** the prep stage fails when more than this share of rows is rejected */
  max_rejected_share: z.number().min(0).max(1).default(0.1),
  /** ... or when any column's missing share after cleaning is above this */
  max_missing_share: z.number().min(0).max(1).default(0.01),
});

export const GenerateSchema = z.strictObject({
  customers: z.number().int().positive().default(5000),
  seed: z.number().int().nonnegative().default(7),
  months: z.number().int().positive().default(12),
});

export const ModelSchema = z.strictObject({
  algorithm: z.enum(["forest", "ml-random-forest", "logistic"]).default("forest"),
  task: z.enum(["auto", "classification", "regression"]).default("auto"),
  /** the class whose probability is scored; default: the minority class */
  positive_class: z.union([z.string(), z.number(), z.boolean()]).optional(),
  threshold: z.number().gt(0).lt(1).default(0.5),
  n_estimators: z.number().int().positive().default(100),
  max_depth: z.number().int().positive().nullable().default(null),
  min_samples_split: z.number().int().min(2).default(2),
  min_samples_leaf: z.number().int().positive().default(1),
  max_features: z.union([z.enum(["sqrt", "log2"]), z.number().positive(), z.null()]).default(
    "sqrt",
  ),
  bootstrap: z.boolean().default(true),
  max_samples: z.number().positive().nullable().default(null),
  class_weight: z.enum(["balanced"]).nullable().default(null),
  criterion: z.enum(["gini", "entropy", "squared_error"]).optional(),
  random_state: z.number().int().nonnegative().default(42),
  n_jobs: z.number().int().positive().nullable().default(null),
  /** logistic regression */
  C: z.number().positive().default(1),
  max_iter: z.number().int().positive().default(200),
  /** preprocessing */
  encoding: z.enum(["auto", "onehot", "ordinal"]).default("auto"),
  max_categories: z.number().int().min(2).default(20),
  cv_folds: z.number().int().min(0).default(0),
});

export const TuneSchema = z.strictObject({
  strategy: z.enum(["grid", "random"]).default("grid"),
  n_trials: z.number().int().positive().default(10),
  cv_folds: z.number().int().min(2).default(3),
  metric: z.string().default("roc_auc"),
  space: z.record(z.string(), z.array(z.union([z.string(), z.number(), z.boolean(), z.null()])))
    .default({ max_depth: [8, 12, null], n_estimators: [50, 100] }),
});

export const TrackingSchema = z.strictObject({
  store: z.string().default("models/orchard.db"),
  experiment: z.string().default("churn"),
});

const MetricThresholdSchema = z.strictObject({
  /** absolute floor (or ceiling when greater_is_better is false) */
  threshold: z.number().optional(),
  /** candidate - champion must be at least this */
  min_absolute_change: z.number().optional(),
  /** (candidate - champion) / |champion| must be at least this */
  min_relative_change: z.number().optional(),
  greater_is_better: z.boolean().default(true),
});

export const RegistrySchema = z.strictObject({
  model_name: z.string().regex(/^[A-Za-z0-9_.-]+$/, "letters, digits, _ . -").default("churn"),
  gates: z.record(z.string(), MetricThresholdSchema).default({
    recall: { threshold: 0.7, greater_is_better: true },
    f1: { threshold: 0.6, greater_is_better: true },
  }),
});

export const ServeSchema = z.strictObject({
  model_uri: z.string().default("models:/churn@champion"),
  host: z.string().min(1).default("0.0.0.0"),
  port: z.number().int().min(0).max(65535).default(8000),
  /** deno serve --parallel workers; null: one per core */
  workers: z.number().int().positive().nullable().default(null),
  max_batch: z.number().int().positive().default(1000),
  max_body_bytes: z.number().int().positive().default(1_000_000),
  log_flush_ms: z.number().int().positive().default(1000),
  log_batch: z.number().int().positive().default(500),
  reload_poll_ms: z.number().int().positive().default(5000),
});

const NumTest = z.enum(["ks", "wasserstein", "psi", "chisquare", "jensenshannon", "z"]);

export const DriftSchema = z.strictObject({
  /** forces one test for every numeric column (default: chosen per column) */
  num_test: NumTest.nullable().default(null),
  /** forces one test for every categorical column */
  cat_test: NumTest.nullable().default(null),
  /** per-column test overrides: column -> test */
  per_column: z.record(z.string(), NumTest).default({}),
  /** per-column threshold overrides */
  thresholds: z.record(z.string(), z.number()).default({}),
  drift_share: z.number().gt(0).max(1).default(0.5),
  psi_threshold: z.number().positive().default(0.2),
  psi_bins: z.number().int().min(2).default(10),
  /** quality: a column fails when its current missing share exceeds the reference's by more than this */
  missing_tolerance: z.number().min(0).max(1).default(0.05),
  /** quality: a numeric column fails when more than this share lies outside the reference range */
  out_of_range_tolerance: z.number().min(0).max(1).default(0.01),
  /** performance: degraded when a metric falls more than this below the model's validation value */
  performance_tolerance: z.number().min(0).default(0.05),
  schedule: z.string().default("0 2 * * *"),
});

export const ConfigSchema = z.strictObject({
  paths: PathsSchema.default(PathsSchema.parse({})),
  data: DataSchema.default(DataSchema.parse({})),
  split: SplitSchema.default(SplitSchema.parse({})),
  quality: QualitySchema.default(QualitySchema.parse({})),
  generate: GenerateSchema.default(GenerateSchema.parse({})),
  model: ModelSchema.default(ModelSchema.parse({})),
  tune: TuneSchema.default(TuneSchema.parse({})),
  tracking: TrackingSchema.default(TrackingSchema.parse({})),
  registry: RegistrySchema.default(RegistrySchema.parse({})),
  serve: ServeSchema.default(ServeSchema.parse({})),
  drift: DriftSchema.default(DriftSchema.parse({})),
}).strict();

export type Config = z.infer<typeof ConfigSchema>;
export type ModelParams = z.infer<typeof ModelSchema>;
export type DriftConfig = z.infer<typeof DriftSchema>;
export type RegistryConfig = z.infer<typeof RegistrySchema>;
export type MetricThreshold = z.infer<typeof MetricThresholdSchema>;
