import assert from "node:assert/strict";
import { DEFECT_RATES, generateWorld } from "../../src/data/generate.ts";

const tmp = Deno.makeTempDirSync({ prefix: "orchard-gen-" });
const gen = (name: string, customers: number, seed: number, scenario: "baseline" | "drift" = "baseline") =>
  generateWorld({ customers, seed, months: 12, scenario, outDir: `${tmp}/${name}` });

Deno.test("generate: deterministic for a seed, different for another", () => {
  gen("a", 300, 5);
  gen("b", 300, 5);
  gen("c", 300, 6);
  for (const f of ["customers.csv", "transactions.json", "generation.json"]) {
    const a = Deno.readTextFileSync(`${tmp}/a/${f}`);
    const b = Deno.readTextFileSync(`${tmp}/b/${f}`);
    if (f === "generation.json") {
      assert.deepEqual({ ...JSON.parse(a), out_dir: 0, files: 0 }, {
        ...JSON.parse(b),
        out_dir: 0,
        files: 0,
      });
    } else assert.equal(a, b, f);
  }
  assert.notEqual(
    Deno.readTextFileSync(`${tmp}/a/customers.csv`),
    Deno.readTextFileSync(`${tmp}/c/customers.csv`),
  );
});

Deno.test("generate: counts, valid JSON, defects near their documented rates", () => {
  const r = gen("big", 4000, 11);
  const lines = Deno.readTextFileSync(r.files.customers).trimEnd().split("\n");
  assert.equal(lines.length - 1, r.customer_rows);
  assert.equal(r.customer_rows, r.customers + (r.defects.customers.duplicate_row ?? 0));
  const txns = JSON.parse(Deno.readTextFileSync(r.files.transactions)) as Record<string, unknown>[];
  assert.equal(txns.length, r.transactions);
  assert.ok(r.transactions > 4000 * 30, `about 50 transactions a customer, got ${r.transactions}`);
  assert.deepEqual(Object.keys(txns[0]), ["transaction_id", "customer_id", "date", "amount", "channel"]);
  for (const [kind, rate] of Object.entries(DEFECT_RATES.transactions)) {
    const got = (r.defects.transactions[kind] ?? 0) / r.transactions;
    assert.ok(Math.abs(got - rate) < rate * 0.35 + 0.0005, `${kind}: ${got} vs ${rate}`);
  }
  const dup = (r.defects.customers.duplicate_row ?? 0) / r.customers;
  assert.ok(dup > 0.005 && dup < 0.015, `duplicates ${dup}`);
  // the injected defects are really in the file
  assert.equal(
    txns.filter((t) => typeof t.amount === "number" && t.amount < 0).length,
    r.defects.transactions.negative_amount,
  );
  assert.equal(txns.filter((t) => t.amount === null).length, r.defects.transactions.missing_amount);
  assert.ok(r.churn_rate > 0.15 && r.churn_rate < 0.4, `churn rate ${r.churn_rate}`);
  assert.ok(txns.every((t) => String(t.date) <= r.as_of || !/^\d{4}-\d{2}-\d{2}$/.test(String(t.date))));
});

Deno.test("generate: the drift scenario is later and shifted", () => {
  const base = gen("base", 3000, 3);
  const drift = gen("drift", 3000, 3, "drift");
  assert.ok(drift.as_of > base.as_of);
  const rows = (p: string) =>
    Deno.readTextFileSync(p).trimEnd().split("\n").slice(1).map((l) => l.split(","));
  const meanCharges = (p: string) => {
    const xs = rows(p).filter((r) => r[2] === "basic").map((r) => Number(r[6]))
      .filter((x) => Number.isFinite(x) && x > 0);
    return xs.reduce((a, b) => a + b, 0) / xs.length;
  };
  const share = (p: string, col: number, v: string) =>
    rows(p).filter((r) => r[col] === v).length / rows(p).length;
  assert.ok(meanCharges(drift.files.customers) > 1.1 * meanCharges(base.files.customers));
  assert.ok(share(drift.files.customers, 3, "west") > share(base.files.customers, 3, "west") + 0.1);
  assert.ok(share(drift.files.customers, 2, "basic") > share(base.files.customers, 2, "basic") + 0.1);
  assert.ok(rows(drift.files.customers).every((r) => r[0].startsWith("D")));
  assert.ok(drift.churn_rate > base.churn_rate);
});
