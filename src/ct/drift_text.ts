/**
 * The training sets' drift as one terminal line (runs diff A B). Kept apart
 * from data.ts, which loads polars, so printing needs no native addon.
 */
import type { TrainingSetDrift } from "./data.ts";

/** One line for a terminal: the training sets' drift share, or why it was not measured. */
export function trainingSetDriftText(d: TrainingSetDrift): string {
  if (!d.measured) return `Drift between the training sets: not measured (${d.note})`;
  return `Drift between the training sets (A's as the reference): share ${
    d.share.toFixed(3)
  } of ${d.tested_columns} ` +
    `columns, dataset drift ${d.dataset_drift ? "YES" : "no"} (from ${d.threshold})` +
    (d.drifted_columns.length ? `; drifted: ${d.drifted_columns.join(", ")}` : "") +
    ` [${d.reference_rows} vs ${d.current_rows} rows]`;
}
