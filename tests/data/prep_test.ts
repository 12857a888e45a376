import assert from "node:assert/strict";
import pl from "nodejs-polars";
import { UserError } from "../../src/core/errors.ts";
import { ConfigSchema } from "../../src/config/schema.ts";
import { generateWorld } from "../../src/data/generate.ts";
import { qualityGate, runPrep } from "../../src/data/prep.ts";

const tmp = Deno.makeTempDirSync({ prefix: "orchard-prep-" });
const world = generateWorld({
  customers: 1500,
  seed: 21,
  months: 12,
  scenario: "baseline",
  outDir: `${tmp}/raw`,
});
const config = (extra: Record<string, unknown> = {}, out = "out") =>
  ConfigSchema.parse({
    data: {
      sources: {
        customers: { path: world.files.customers },
        transactions: { path: world.files.transactions },
      },
    },
    paths: {
      interim: `${tmp}/${out}/interim`,
      processed: `${tmp}/${out}/processed`,
      features: `${tmp}/${out}/features`,
    },
    ...extra,
  });
const csvRows = (p: string) => pl.readCSV(p, { inferSchemaLength: 0 }).height;

Deno.test("prep: rows in = kept + rejected, in the report and in the files", () => {
  const r = runPrep(config());
  for (const [name, s] of Object.entries(r.quality.sources)) {
    assert.equal(s.kept + s.rejected, s.rows_in, name);
    assert.equal(Object.values(s.rejected_by_reason).reduce((a, b) => a + b, 0), s.rejected, name);
  }
  const c = r.quality.sources.customers, t = r.quality.sources.transactions;
  assert.equal(c.rows_in, world.customer_rows);
  assert.equal(t.rows_in, world.transactions);
  assert.equal(csvRows(r.outputs.rejected_customers), c.rejected);
  assert.equal(csvRows(r.outputs.rejected_transactions), t.rejected);
  assert.equal(csvRows(r.outputs.cleaned_customers), c.kept);
  assert.equal(csvRows(r.outputs.filtered_sales), t.kept);
  assert.equal(csvRows(r.outputs.train) + csvRows(r.outputs.validation), c.kept);
  assert.equal(r.quality.split!.train + r.quality.split!.validation, c.kept);
  // the rejected file says why, for every row
  const rej = pl.readCSV(r.outputs.rejected_transactions, { inferSchemaLength: 0 });
  assert.equal(rej.getColumn("reason").nullCount(), 0);
  // single-defect transaction kinds are found exactly
  const d = world.defects.transactions;
  assert.equal(t.rejected_by_reason["malformed date"], d.malformed_date);
  assert.equal(t.rejected_by_reason["negative amount"], d.negative_amount);
  assert.equal(t.rejected_by_reason["non-numeric amount"], d.non_numeric_amount);
  assert.equal(t.rejected_by_reason["missing amount"], d.missing_amount);
  assert.equal(t.rejected_by_reason["unknown channel"], d.unknown_channel);
  assert.equal(t.rejected_by_reason["unknown customer_id"], d.unknown_customer);
  // kept customers are unique; every kept sale belongs to a kept customer
  const kept = pl.readCSV(r.outputs.cleaned_customers, { inferSchemaLength: 0 });
  assert.equal(kept.getColumn("customer_id").nUnique(), kept.height);
  const sales = pl.readCSV(r.outputs.filtered_sales, { inferSchemaLength: 0 });
  assert.equal(
    sales.filter(pl.col("customer_id").isIn(pl.lit(kept.getColumn("customer_id"))).not()).height,
    0,
  );
  // the missing values left are under the gate
  for (const share of Object.values(c.missing_share)) assert.ok(share <= 0.01);
  assert.equal(r.quality.gate.passed, true);
  const q = JSON.parse(Deno.readTextFileSync(r.outputs.quality));
  assert.deepEqual(q.sources.customers.rejected_by_reason, c.rejected_by_reason);
  assert.equal(q.as_of, world.as_of);
});

Deno.test("prep: same inputs and seed give the same bytes", () => {
  const a = runPrep(config({}, "a")), b = runPrep(config({}, "b"));
  for (const k of ["train", "validation", "filtered_sales", "rejected_customers", "quality"]) {
    const ta = Deno.readTextFileSync(a.outputs[k]).replaceAll(`${tmp}/a`, "");
    const tb = Deno.readTextFileSync(b.outputs[k]).replaceAll(`${tmp}/b`, "");
    assert.equal(ta, tb, k);
  }
});

Deno.test("prep: the quality gate fails with a clear message and writes no split", () => {
  const cfg = config({ quality: { max_rejected_share: 0.001, max_missing_share: 0.001 } }, "gate");
  // features built from an earlier, passing run: stale once the gate fails
  Deno.mkdirSync(`${tmp}/gate/features`, { recursive: true });
  Deno.writeTextFileSync(`${tmp}/gate/features/customer_features.parquet`, "stale");
  assert.throws(() => runPrep(cfg), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.match(e.message, /^quality gate failed \(\d+ problems\): customers: [\d.]+% of rows rejected/);
    assert.match(e.message, /above quality\.max_rejected_share 0\.10%/);
    assert.match(e.message, /customers\.support_calls: [\d.]+% missing after cleaning/);
    return true;
  });
  const q = JSON.parse(Deno.readTextFileSync(`${tmp}/gate/processed/quality.json`));
  assert.equal(q.gate.passed, false);
  assert.throws(() => Deno.statSync(`${tmp}/gate/processed/train.csv`));
  assert.throws(() => Deno.statSync(`${tmp}/gate/features/customer_features.parquet`), Deno.errors.NotFound);
});

Deno.test("prep: a failed gate removes the previous run's split and features, so nothing trains on them", () => {
  const ok = runPrep(config({}, "stale"));
  const features = `${tmp}/stale/features/customer_features.parquet`;
  Deno.mkdirSync(`${tmp}/stale/features`, { recursive: true });
  Deno.writeTextFileSync(features, "built from the previous split");
  const strict = config({ quality: { max_rejected_share: 0.001, max_missing_share: 1 } }, "stale");
  assert.throws(() => runPrep(strict), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.equal(e.message.split("\n").length, 1);
    assert.match(
      e.message,
      /^quality gate failed .*; removed stale outputs .*train\.csv.*customer_features\.parquet$/,
    );
    return true;
  });
  for (const k of ["train", "validation", "cleaned_customers", "filtered_sales"]) {
    assert.throws(() => Deno.statSync(ok.outputs[k]), Deno.errors.NotFound, k);
  }
  assert.throws(() => Deno.statSync(features), Deno.errors.NotFound);
  // what this run found is still written: its rejected rows and its quality report
  assert.ok(Deno.statSync(ok.outputs.rejected_customers).isFile);
  assert.equal(JSON.parse(Deno.readTextFileSync(ok.outputs.quality)).gate.passed, false);
});

Deno.test("qualityGate: thresholds are strict upper bounds", () => {
  const src = {
    rows_in: 100,
    kept: 90,
    rejected: 10,
    rejected_by_reason: {},
    missing_share: { a: 0.01 },
    path: "",
    schema_violations: [],
  };
  assert.equal(qualityGate({ s: src }, { max_rejected_share: 0.1, max_missing_share: 0.01 }).passed, true);
  const g = qualityGate({ s: src }, { max_rejected_share: 0.09, max_missing_share: 0.009 });
  assert.equal(g.failures.length, 2);
});

Deno.test("prep: a source with a header and no rows is said of that file, not as the other table's rejects", () => {
  const header = Deno.readTextFileSync(world.files.customers).split("\n")[0] + "\n";
  Deno.mkdirSync(`${tmp}/hdr`, { recursive: true });
  Deno.writeTextFileSync(`${tmp}/hdr/customers.csv`, header);
  Deno.writeTextFileSync(`${tmp}/hdr/transactions.json`, "[]");
  const base = config({}, "hdr-out");
  const only = (customers: string, transactions: string) =>
    ConfigSchema.parse({
      ...base,
      data: {
        ...base.data,
        sources: { customers: { path: customers }, transactions: { path: transactions } },
      },
    });
  assert.throws(
    () => runPrep(only(`${tmp}/hdr/customers.csv`, world.files.transactions)),
    (e: unknown) =>
      e instanceof UserError && e.message === `${tmp}/hdr/customers.csv: no rows (a header only)`,
  );
  assert.throws(
    () => runPrep(only(world.files.customers, `${tmp}/hdr/transactions.json`)),
    (e: unknown) =>
      e instanceof UserError && e.message.startsWith(`${tmp}/hdr/transactions.json: empty JSON array`),
  );
});
