import assert from "node:assert/strict";
import pl from "nodejs-polars";
import { UserError } from "../../src/core/errors.ts";
import { customersSchema, type SourceSchema, transactionsSchema } from "../../src/data/schemas.ts";
import { castToSchema, missingShare, validateSource } from "../../src/data/validate.ts";

const H = [
  "customer_id",
  "signup_date",
  "plan",
  "region",
  "contract",
  "payment_method",
  "monthly_charges",
  "support_calls",
  "churned",
];
const rows: (string | null)[][] = [
  ["C1", "2020-01-05", "basic", "north", "monthly", "card", "20.5", "1", "0"], // ok
  ["C2", "2020-02-30", "basic", "north", "monthly", "card", "20", "1", "1"], // malformed date
  ["C3", "2020-01-05", " Premium ", "south", "annual", "card", "90", "0", "0"], // ok, cleaned plan
  ["C4", "2020-01-05", "platinum", "south", "annual", "card", "90", "0", "0"], // unknown plan
  ["C5", "2020-01-05", "basic", null, "annual", "card", "-3", "0", "0"], // negative charges
  ["C6", "2020-01-05", "basic", null, "annual", "card", "abc", "0", "0"], // non-numeric
  ["C7", "2020-01-05", "basic", "east", "annual", "card", null, "1.5", "0"], // non-integer calls
  ["C8", "2020-01-05", "basic", "east", "annual", "card", "10", "2", "2"], // invalid binary
  ["C9", "2020-01-05", "basic", "east", "annual", "card", "10", "2", null], // missing target
  [null, "2020-01-05", "basic", "east", "annual", "card", "10", "2", "1"], // missing id
  ["C1", "2020-01-05", "basic", "north", "monthly", "card", "20.5", "1", "0"], // duplicate of C1
  ["C2", "2021-03-01", "basic", "north", "monthly", "card", "20", "1", "1"], // first VALID C2: kept
  ["C10", "17-05-2023", "basic", "east", "annual", "card", "10", "2", "1"], // non-ISO date
];
const frame = () => pl.DataFrame(Object.fromEntries(H.map((h, j) => [h, rows.map((r) => r[j])])));

Deno.test("validate: each bad row rejected with its reason, nothing dropped silently", () => {
  const { kept, rejected, report } = validateSource(frame(), customersSchema(), { path: "c.csv" });
  assert.equal(kept.height + rejected.height, rows.length);
  assert.equal(report.rows_in, rows.length);
  assert.deepEqual(kept.getColumn("customer_id").toArray(), ["C1", "C3", "C2"]);
  const reasons = Object.fromEntries(
    rejected.toRecords().map((r) => [`${r.customer_id}|${r.signup_date}`, r.reason]),
  );
  assert.deepEqual(reasons, {
    "C2|2020-02-30": "malformed signup_date",
    "C4|2020-01-05": "unknown plan",
    "C5|2020-01-05": "negative monthly_charges",
    "C6|2020-01-05": "non-numeric monthly_charges",
    "C7|2020-01-05": "non-integer support_calls",
    "C8|2020-01-05": "invalid churned",
    "C9|2020-01-05": "missing churned",
    "null|2020-01-05": "missing customer_id",
    "C1|2020-01-05": "duplicate customer_id",
    "C10|17-05-2023": "malformed signup_date",
  });
  assert.equal(Object.values(report.rejected_by_reason).reduce((a, b) => a + b, 0), rejected.height);
  // cleaned and typed
  assert.equal(kept.getColumn("plan").toArray()[1], "premium");
  assert.ok(kept.getColumn("signup_date").dtype.equals(pl.Date));
  assert.ok(kept.getColumn("churned").dtype.equals(pl.Int64));
  assert.equal(kept.getColumn("monthly_charges").toArray()[0], 20.5);
  // the rejected file keeps the raw text
  assert.equal(
    rejected.filter(pl.col("customer_id").eq(pl.lit("C6"))).getColumn("monthly_charges").toArray()[0],
    "abc",
  );
  assert.ok(
    report.schema_violations.some((v) => v.column === "plan" && v.check === "unknown level" && v.rows === 1),
  );
});

Deno.test("validate: missing required column names the file; extra/optional columns are reported", () => {
  assert.throws(
    () => validateSource(frame().drop("churned"), customersSchema(), { path: "data/raw/c.csv" }),
    (e: unknown) =>
      e instanceof UserError && e.message === "data/raw/c.csv: missing required column 'churned'",
  );
  const { kept, report } = validateSource(
    frame().drop("region").withColumns(pl.lit("x").alias("extra")),
    customersSchema(),
    { path: "c.csv" },
  );
  assert.ok(report.schema_violations.some((v) => v.column === "extra" && v.check === "unexpected column"));
  assert.ok(report.schema_violations.some((v) => v.column === "region" && v.check === "missing column"));
  assert.equal(kept.getColumn("region").nullCount(), kept.height);
  assert.ok(!kept.columns.includes("extra"));
});

Deno.test("validate: extra checks run after the schema's; JSON numbers and strings both parse", () => {
  const df = pl.DataFrame({
    transaction_id: ["T1", "T2", "T3", "T4", "T5"],
    customer_id: ["C1", "C1", "X9", "C2", "C1"],
    date: ["2024-01-01", "2024-01-02", "2024-01-03", "bad", "2024-01-04"],
    amount: ["1.5", "2", "3", "4", "12,50"],
    channel: ["web", "APP", "store", "web", "web"],
  });
  const schema: SourceSchema = transactionsSchema();
  const { kept, rejected } = validateSource(df, schema, {
    path: "t.json",
    extra: [{ fails: pl.col("customer_id").isIn(["C1", "C2"]).not(), reason: "unknown customer_id" }],
  });
  assert.deepEqual(kept.getColumn("transaction_id").toArray(), ["T1", "T2"]);
  assert.deepEqual(kept.getColumn("channel").toArray(), ["web", "app"]);
  assert.deepEqual(rejected.getColumn("reason").toArray(), [
    "unknown customer_id",
    "malformed date",
    "non-numeric amount",
  ]);
});

Deno.test("castToSchema and missingShare", () => {
  const df = pl.DataFrame({
    customer_id: ["A"],
    signup_date: ["2020-01-02"],
    monthly_charges: ["3.5"],
    churned: ["1"],
  });
  const typed = castToSchema(df, customersSchema());
  assert.ok(typed.getColumn("signup_date").dtype.equals(pl.Date));
  assert.equal(typed.getColumn("monthly_charges").toArray()[0], 3.5);
  assert.equal(typed.getColumn("churned").toArray()[0], 1);
  assert.deepEqual(missingShare(pl.DataFrame({ a: [1, null, 3, null], b: ["x", "y", "z", "w"] })), {
    a: 0.5,
    b: 0,
  });
});
