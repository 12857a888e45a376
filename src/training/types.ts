/**
 * The training stage's options and result, apart from the stage itself so the
 * report (which renders a result) and the stage (which writes the report) do not
 * import each other.
 */
import type { Config } from "../config/schema.ts";
import type { Label } from "../models/artifact.ts";
import type { ClassMetrics } from "../models/metrics.ts";
import type { DataOptions } from "./data.ts";

export interface TrainOptions extends DataOptions {
  config: Config;
  /** tracking store file; default config.tracking.store; null: do not track */
  store?: string | null;
  /** the experiment to file the run in; default: the model's (registry.models.<name>.experiment, see src/registry/settings.ts) */
  experiment?: string;
  /**
   * the registered model this run is for, whose settings (threshold, experiment) apply;
   * default: registry.model_name for the feature data, the --data file's stem otherwise
   */
  modelName?: string;
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
  /** the model the run is for (its settings applied) */
  model_name: string;
  /** the experiment the run is filed in */
  experiment: string;
  /** binary classification: the decision threshold the model predicts with */
  threshold?: number;
  /** where it came from: a config key, "default", or "auto" (F1-optimal on validation) */
  threshold_from?: string;
  threshold_auto?: boolean;
  artifact: string;
  report?: string;
  summary?: string;
  /** the validation metrics (see Evaluation.metrics in src/models/evaluate.ts); NaN: undefined on these rows */
  metrics: Record<string, number>;
  /** classification: each class's precision, recall, F1, support and one-vs-rest ROC/PR AUC */
  per_class?: (ClassMetrics & { class: Label })[];
  /** classification: classes with no validation row (left out of the macro AUC averages) */
  absent_classes?: Label[];
  positive_class?: Label;
  classes?: Label[];
  task: "classification" | "regression";
  algorithm: string;
  /** boosting: the rounds kept (after early stopping) */
  rounds_used?: number;
  /** model.* keys set away from their default that the engine does not read (train warns of each) */
  ignored_settings?: string[];
  train_seconds: number;
  rows: number;
  validation_rows: number;
  features: number;
  input_columns: number;
  dropped: { name: string; reason: string }[];
  cv?: { mean: Record<string, number>; std: Record<string, number> };
}
