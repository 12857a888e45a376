/**
 * The features over time: month-end snapshot dates, and each snapshot row
 * equal to the one-record customerFeatures as of its date (one definition),
 * only for customers signed up by then, blind to later transactions.
 */
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import { COMPUTED_COLUMNS, customerFeatures } from "../../src/features/customer.ts";
import { buildSnapshots, SNAPSHOT_TIME, snapshotDates } from "../../src/features/snapshots.ts";

Deno.test("snapshotDates: month-ends from the first month through asOf, and asOf", () => {
  assert.deepEqual(snapshotDates("2024-01-15", "2024-04-10"), [
    "2024-01-31",
    "2024-02-29",
    "2024-03-31",
    "2024-04-10",
  ]);
  assert.deepEqual(snapshotDates("2024-01-01", "2024-03-31"), ["2024-01-31", "2024-02-29", "2024-03-31"]);
  assert.deepEqual(snapshotDates("2024-03-31", "2024-03-31"), ["2024-03-31"]);
});

Deno.test("buildSnapshots: each row is customerFeatures as of its date; customers appear once signed up", () => {
  const customers = pl.DataFrame({
    customer_id: ["A", "B", "C"],
    signup_date: ["2023-05-01", "2024-02-10", "2024-03-20"],
    plan: ["basic", "premium", "basic"],
    region: ["north", "south", "east"],
    contract: ["monthly", "annual", "monthly"],
    payment_method: ["card", "invoice", "card"],
    monthly_charges: [20.5, 90, 25],
    support_calls: [1, 0, 3],
  }).withColumns(pl.col("signup_date").str.strptime(pl.Date, "%Y-%m-%d"));
  const txns = [
    ["A", "2023-12-01", 10],
    ["A", "2024-01-31", 5],
    ["A", "2024-02-01", 7.25],
    ["B", "2024-02-15", 40],
    ["B", "2024-03-31", 12],
    ["A", "2024-04-02", 1000], // after every snapshot: seen by none
  ] as const;
  const sales = pl.DataFrame({
    customer_id: txns.map((t) => t[0]),
    date: txns.map((t) => t[1]),
    amount: txns.map((t) => t[2]),
  }).withColumns(pl.col("date").str.strptime(pl.Date, "%Y-%m-%d"), pl.col("amount").cast(pl.Float64));
  const dates = ["2024-01-31", "2024-02-29", "2024-03-31"];
  const snap = buildSnapshots(customers, sales, dates);
  assert.deepEqual(snap.columns, ["customer_id", SNAPSHOT_TIME, ...COMPUTED_COLUMNS]);
  const rows = snap.toRecords() as Record<string, unknown>[];
  const key = (r: Record<string, unknown>) =>
    `${r.customer_id}@${(r[SNAPSHOT_TIME] as Date).toISOString().slice(0, 10)}`;
  assert.deepEqual(rows.map(key), [
    "A@2024-01-31",
    "A@2024-02-29",
    "B@2024-02-29",
    "A@2024-03-31",
    "B@2024-03-31",
    "C@2024-03-31",
  ]);
  const records = customers.toRecords() as Record<string, unknown>[];
  for (const r of rows) {
    const asOf = (r[SNAPSHOT_TIME] as Date).toISOString().slice(0, 10);
    const c = records.find((x) => x.customer_id === r.customer_id)!;
    const one = customerFeatures(
      c,
      txns.filter((t) => t[0] === r.customer_id).map((t) => ({ date: t[1], amount: t[2] })),
      { asOf },
    );
    for (const col of COMPUTED_COLUMNS) assert.equal(Number(r[col]), Number(one[col]), `${key(r)} ${col}`);
  }
  assert.equal(rows.find((r) => key(r) === "A@2024-03-31")!.monetary_total, 22.25);
});
