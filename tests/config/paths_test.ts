import assert from "node:assert/strict";
import { BATCH_FEATURES_FILE, FEATURES_FILE, prepOutputs } from "../../src/config/paths.ts";

Deno.test("prepOutputs: every file prep writes, under the configured directories", () => {
  const out = prepOutputs({ interim: "work/interim/", processed: "work/processed" });
  assert.deepEqual(out, {
    rejected_customers: "work/interim/rejected_customers.csv",
    rejected_transactions: "work/interim/rejected_transactions.csv",
    cleaned_customers: "work/interim/cleaned_customers.csv",
    filtered_sales: "work/interim/filtered_sales.csv",
    train: "work/processed/train.csv",
    validation: "work/processed/validation.csv",
    quality: "work/processed/quality.json",
  });
});

Deno.test("feature file names are distinct Parquet files", () => {
  assert.notEqual(FEATURES_FILE, BATCH_FEATURES_FILE);
  for (const f of [FEATURES_FILE, BATCH_FEATURES_FILE]) assert.match(f, /\.parquet$/);
});
