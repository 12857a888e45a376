/**
 * The training stage's options and result, apart from the stage itself so the
 * report (which renders a result) and the stage (which writes the report) do not
 * import each other.
 */
import type { Config } from "../config/schema.ts";
import type { Label } from "../models/artifact.ts";
import type { DataOptions } from "./data.ts";

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
