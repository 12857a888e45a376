/**
 * The one scoring path shared by POST /predict, POST /invocations and
 * `deno task predict`: records validated against the model's signature, then
 * the artifact's predictRecords (its saved preprocessing, then the engine).
 * One record never goes through a DataFrame.
 */
import type { Prediction } from "../models/types.ts";
import type { ServedModel } from "./holder.ts";

/** Validates raw records (422 naming each bad field) and scores them. */
export function scoreRecords(
  m: ServedModel,
  raw: unknown[],
  maxBatch: number,
): { records: Record<string, unknown>[]; predictions: Prediction[] } {
  const records = m.validator.many(raw, maxBatch);
  return { records, predictions: predictValidated(m, records) };
}

/** Scores records that already passed the validator. */
export function predictValidated(m: ServedModel, records: Record<string, unknown>[]): Prediction[] {
  const preds = m.model.predictRecords(records);
  if (!Array.isArray(preds) || preds.length !== records.length) {
    throw new Error(
      `model returned ${
        Array.isArray(preds) ? preds.length : "no"
      } predictions for ${records.length} records`,
    );
  }
  return preds;
}
