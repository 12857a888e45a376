import assert from "node:assert/strict";
import {
  BATCH_FEATURES_FILE,
  FEATURES_FILE,
  prepOutputs,
  storeLocation,
  trackingLocation,
} from "../../src/config/paths.ts";
import { UserError } from "../../src/core/errors.ts";

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

Deno.test("store locations: a path, postgresql:// and the MLflow/SQLAlchemy spellings; any other scheme is refused naming it, password hidden", () => {
  assert.equal(storeLocation("models/orchard.db", "tracking.store"), "models/orchard.db");
  assert.equal(storeLocation("postgresql://u:p@h/db", "tracking.uri"), "postgresql://u:p@h/db");
  assert.equal(storeLocation("postgres://u:p@h/db", "tracking.uri"), "postgresql://u:p@h/db");
  assert.equal(
    storeLocation("postgresql+psycopg2://u:p@h:5432/db", "tracking.uri"),
    "postgresql://u:p@h:5432/db",
  );
  assert.equal(storeLocation("sqlite:///models/x.db", "tracking.uri"), "models/x.db");
  assert.equal(storeLocation("sqlite:////tmp/x.db", "tracking.uri"), "/tmp/x.db");
  for (const bad of ["mysql://a:secret@h/db", "sqlite:///", "http://h/x", "file://x.db"]) {
    assert.throws(
      () => storeLocation(bad, "ORCHARD_TRACKING_URI"),
      (e: Error) =>
        e instanceof UserError && e.message.startsWith("ORCHARD_TRACKING_URI = ") &&
        /not a store Orchard opens/.test(e.message) && !e.message.includes("secret"),
      bad,
    );
  }
  const config = { tracking: { store: "models/orchard.db", uri: "mysql://a:secret@h/db" } };
  assert.throws(() => trackingLocation(config), /^UserError: tracking\.uri = mysql:\/\/a:\*+@h\/db/);
});
