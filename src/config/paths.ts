/**
 * File names that more than one stage agrees on. They live in config, the layer
 * every stage may import, so no stage reaches sideways into another for a name.
 */
import { join } from "node:path";
import { optionalEnv } from "../core/env.ts";

/**
 * Where the tracking store and registry live: ORCHARD_TRACKING_URI, else
 * tracking.uri, else tracking.store (a SQLite file by default).
 */
export function trackingLocation(config: { tracking: { store: string; uri?: string } }): string {
  return optionalEnv("ORCHARD_TRACKING_URI") ?? config.tracking.uri ?? config.tracking.store;
}

/** The feature stage's training table, under `paths.features`. */
export const FEATURES_FILE = "customer_features.parquet";
/** The feature stage's output for a scoring batch (`features --batch`), under `paths.features`. */
export const BATCH_FEATURES_FILE = "batch_features.parquet";

/**
 * Where prep writes and what the feature stage reads back: one list, so the two
 * stages cannot disagree on a name.
 */
export function prepOutputs(paths: { interim: string; processed: string }): {
  rejected_customers: string;
  rejected_transactions: string;
  cleaned_customers: string;
  filtered_sales: string;
  train: string;
  validation: string;
  quality: string;
} {
  return {
    rejected_customers: join(paths.interim, "rejected_customers.csv"),
    rejected_transactions: join(paths.interim, "rejected_transactions.csv"),
    cleaned_customers: join(paths.interim, "cleaned_customers.csv"),
    filtered_sales: join(paths.interim, "filtered_sales.csv"),
    train: join(paths.processed, "train.csv"),
    validation: join(paths.processed, "validation.csv"),
    quality: join(paths.processed, "quality.json"),
  };
}
