import assert from "node:assert/strict";
import pl from "nodejs-polars";
import { ConfigSchema } from "../../src/config/schema.ts";
import { generateWorld } from "../../src/data/generate.ts";
import { runPrep } from "../../src/data/prep.ts";
import {
  buildFeatures,
  customerFeatures,
  epochDay,
  MODEL_INPUT_COLUMNS,
  type TransactionRecord,
} from "../../src/features/customer.ts";
import { runFeatures } from "../../src/features/stage.ts";

const customers = () =>
  pl.DataFrame({
    customer_id: ["A", "B", "C"],
    signup_date: ["2023-12-31", "2024-10-01", "2024-12-01"],
    plan: ["basic", "premium", "standard"],
    region: ["north", null, "east"],
    contract: ["monthly", "annual", "monthly"],
    payment_method: ["card", "card", "invoice"],
    monthly_charges: [20, 90, 50],
    support_calls: [1, 0, 3],
    churned: [1, 0, 0],
  }).withColumns(pl.col("signup_date").str.strptime(pl.Date, "%Y-%m-%d"));
const sales = () =>
  pl.DataFrame({
    customer_id: ["A", "A", "A", "B", "A"],
    date: ["2024-12-31", "2024-09-01", "2024-07-01", "2024-11-15", "2025-01-05"],
    amount: [10, 30, 5, 40, 999],
  }).withColumns(pl.col("date").str.strptime(pl.Date, "%Y-%m-%d"));
const asOf = "2024-12-31";

Deno.test("buildFeatures: hand-checked values", () => {
  const f = buildFeatures(customers(), sales(), { asOf });
  const rows = f.toRecords() as Record<string, number | string | null>[];
  assert.deepEqual(f.columns, ["customer_id", ...MODEL_INPUT_COLUMNS, "churned"]);
  const [a, b, c] = rows;
  // A: 3 sales up to asOf (the 2025 one is ignored); last 91 days: 12-31 only; prev 91: 09-01 only
  assert.equal(a.frequency, 3);
  assert.equal(a.monetary_total, 45);
  assert.equal(a.monetary_avg, 15);
  assert.equal(a.recency_days, 0);
  assert.equal(a.spend_last_3m, 10);
  assert.equal(a.spend_prev_3m, 30);
  assert.equal(a.txn_last_3m, 1);
  assert.equal(a.txn_prev_3m, 1);
  assert.equal(a.spend_change_3m, (10 - 30) / 40);
  assert.equal(a.tenure_months, 12); // 366 days / 30.4375
  assert.equal(b.recency_days, 46);
  assert.equal(b.spend_change_3m, 1);
  // C: no transactions: zeros, recency from signup
  assert.equal(c.frequency, 0);
  assert.equal(c.monetary_avg, 0);
  assert.equal(c.recency_days, 30);
  assert.equal(c.spend_change_3m, 0);
  assert.equal(b.region, null);
});

Deno.test("customerFeatures (one record, no DataFrame) equals the batch, row for row", () => {
  const tmp = Deno.makeTempDirSync({ prefix: "orchard-feat-" });
  const world = generateWorld({
    customers: 600,
    seed: 4,
    months: 12,
    scenario: "baseline",
    outDir: `${tmp}/raw`,
  });
  const cfg = ConfigSchema.parse({
    data: {
      sources: {
        customers: { path: world.files.customers },
        transactions: { path: world.files.transactions },
      },
    },
    paths: { interim: `${tmp}/interim`, processed: `${tmp}/processed`, features: `${tmp}/features` },
  });
  runPrep(cfg);
  const r = runFeatures(cfg);
  const batch = pl.readParquet(r.output);
  assert.equal(batch.height, r.rows);
  const cust = pl.readCSV(`${tmp}/interim/cleaned_customers.csv`, { inferSchemaLength: 0 }).toRecords();
  const salesRows = pl.readCSV(`${tmp}/interim/filtered_sales.csv`, { inferSchemaLength: 0 }).toRecords();
  const byCustomer = new Map<string, TransactionRecord[]>();
  for (const s of salesRows) {
    const list = byCustomer.get(String(s.customer_id)) ?? [];
    list.push({ date: String(s.date), amount: Number(s.amount) });
    byCustomer.set(String(s.customer_id), list);
  }
  const batchById = new Map(batch.toRecords().map((row) => [String(row.customer_id), row]));
  assert.equal(batchById.size, cust.length);
  let withNoSales = 0;
  for (const c of cust) {
    const typed = {
      ...c,
      monthly_charges: c.monthly_charges === null ? null : Number(c.monthly_charges),
      support_calls: c.support_calls === null ? null : Number(c.support_calls),
      churned: Number(c.churned),
    };
    const one = customerFeatures(typed, byCustomer.get(String(c.customer_id)) ?? [], { asOf: r.as_of });
    const row = batchById.get(String(c.customer_id))!;
    if (!byCustomer.has(String(c.customer_id))) withNoSales++;
    for (const k of Object.keys(one)) {
      const x = one[k], y = row[k];
      if (typeof x === "number" && typeof y === "number" && !Number.isInteger(x)) {
        assert.ok(Math.abs(x - y) <= 1e-9 * Math.max(1, Math.abs(x)), `${c.customer_id}.${k}: ${x} vs ${y}`);
      } else assert.equal(x, y, `${c.customer_id}.${k}`);
    }
  }
  assert.ok(withNoSales > 0, "the sample includes customers with no sales");
});

Deno.test("epochDay", () => {
  assert.equal(epochDay("1970-01-02"), 1);
  assert.equal(epochDay("2024-12-31") - epochDay("2023-12-31"), 366);
  assert.throws(() => epochDay("nope"), RangeError);
});
