/**
 * File names that more than one stage agrees on. They live in config, the layer
 * every stage may import, so no stage reaches sideways into another for a name.
 */
import { join } from "node:path";
import { optionalEnv } from "../core/env.ts";
import { UserError } from "../core/errors.ts";
import { redactUri } from "../core/uri.ts";

/**
 * Where the tracking store and registry live: ORCHARD_TRACKING_URI, else
 * tracking.uri, else tracking.store (a SQLite file by default).
 */
export function trackingLocation(config: { tracking: { store: string; uri?: string } }): string {
  const env = optionalEnv("ORCHARD_TRACKING_URI");
  if (env !== undefined) return storeLocation(env, "ORCHARD_TRACKING_URI");
  if (config.tracking.uri !== undefined) return storeLocation(config.tracking.uri, "tracking.uri");
  return storeLocation(config.tracking.store, "tracking.store");
}

/**
 * A store location as Orchard opens it: a SQLite file path, or a postgresql:// URI. The spellings an
 * MLflow or SQLAlchemy user writes are read too (sqlite:///relative.db, sqlite:////absolute.db,
 * postgresql+psycopg2://); any other scheme is one line naming it (password hidden), not a file of that
 * name created in a folder called `mysql:`.
 */
export function storeLocation(raw: string, source: string): string {
  const text = raw.trim();
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(text)?.[1];
  if (scheme === undefined) return raw;
  if (/^postgres(ql)?(\+[A-Za-z0-9_]+)?$/i.test(scheme)) return "postgresql" + text.slice(scheme.length);
  if (/^sqlite$/i.test(scheme) && text.startsWith("/", scheme.length + 3)) {
    const path = text.slice(scheme.length + 4);
    if (path !== "" && path !== "/") return path;
  }
  throw new UserError(
    `${source} = ${redactUri(text)}: not a store Orchard opens (use a SQLite file path, sqlite:///path, ` +
      "or postgresql://user:password@host/database)",
  );
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
