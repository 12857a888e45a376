import assert from "node:assert/strict";
import { addMissingLabels, DEFECT_RATES, generateWorld, labelCutoffs } from "../../src/data/generate.ts";

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

Deno.test("generate: the label history (labels.csv) at monthly cut-offs, and the other files unchanged by it", () => {
  const without = gen("nolabels", 400, 21);
  const r = generateWorld({
    customers: 400,
    seed: 21,
    months: 12,
    scenario: "baseline",
    outDir: `${tmp}/labels`,
    labelCutoffs: 3,
  });
  assert.equal(without.files.labels, undefined);
  for (const f of ["customers.csv", "transactions.json"]) {
    assert.equal(
      Deno.readTextFileSync(`${tmp}/labels/${f}`),
      Deno.readTextFileSync(`${tmp}/nolabels/${f}`),
      f,
    );
  }
  assert.deepEqual(r.labels!.cutoffs, ["2024-10-31", "2024-11-30", "2024-12-31"]);
  assert.deepEqual(labelCutoffs("2024-12-31", 2), ["2024-11-30", "2024-12-31"]);
  const lines = Deno.readTextFileSync(r.files.labels!).trimEnd().split("\n");
  assert.equal(lines[0], "customer_id,cutoff,churned");
  const rows = lines.slice(1).map((l) => l.split(","));
  assert.equal(rows.length, r.labels!.rows);
  // the truth: customers.csv's rows without a defect in signup_date or churned
  const cust = new Map<string, { signup: string; churned: string }>();
  for (const l of Deno.readTextFileSync(r.files.customers).trimEnd().split("\n").slice(1)) {
    const c = l.split(",");
    if (l.includes('"')) continue; // a quoted cell ("12,50") holds a comma
    if (/^\d{4}-\d{2}-\d{2}$/.test(c[1]) && c[8] !== "") cust.set(c[0], { signup: c[1], churned: c[8] });
  }
  const perCutoff = new Map<string, Set<string>>();
  for (const [id, cutoff, churned] of rows) {
    const c = cust.get(id);
    if (c) {
      assert.equal(churned, c.churned, `${id}: churned`);
      assert.ok(c.signup <= cutoff, `${id} signed up ${c.signup}, after cut-off ${cutoff}`);
    }
    perCutoff.set(cutoff, (perCutoff.get(cutoff) ?? new Set()).add(id));
  }
  // at the snapshot date every customer has a row; earlier, those signed up by then
  assert.equal(perCutoff.get("2024-12-31")!.size, 400);
  for (const [id, c] of cust) {
    for (const cutoff of r.labels!.cutoffs) {
      assert.equal(perCutoff.get(cutoff)!.has(id), c.signup <= cutoff, `${id} at ${cutoff}`);
    }
  }
  // transactions go on past the earlier cut-offs
  const txns = JSON.parse(Deno.readTextFileSync(r.files.transactions)) as { date: string }[];
  assert.ok(txns.filter((t) => t.date > "2024-10-31").length > 1000);
  assert.equal(JSON.parse(Deno.readTextFileSync(r.files.manifest)).labels.rows, rows.length);
});

Deno.test("generate: --if-missing adds the label history only to raw data this generator wrote", () => {
  const opts = { customers: 150, seed: 4, months: 12, scenario: "baseline" as const, labelCutoffs: 3 };
  generateWorld({ ...opts, outDir: `${tmp}/old`, labelCutoffs: 0 });
  const added = addMissingLabels({ ...opts, outDir: `${tmp}/old` });
  assert.equal(added.path, `${tmp}/old/labels.csv`);
  generateWorld({ ...opts, outDir: `${tmp}/fresh` });
  assert.equal(
    Deno.readTextFileSync(`${tmp}/old/labels.csv`),
    Deno.readTextFileSync(`${tmp}/fresh/labels.csv`),
  );
  // someone's own customers: no labels made up for them, and no scratch folder left behind
  generateWorld({ ...opts, outDir: `${tmp}/own`, labelCutoffs: 0 });
  Deno.writeTextFileSync(`${tmp}/own/customers.csv`, "customer_id,signup_date\nZ1,2024-01-01\n");
  const refused = addMissingLabels({ ...opts, outDir: `${tmp}/own` });
  assert.equal(refused.path, undefined);
  assert.match(refused.note, /did not write: no label history added/);
  assert.deepEqual([...Deno.readDirSync(`${tmp}/own`)].map((e) => e.name).sort(), [
    "customers.csv",
    "generation.json",
    "transactions.json",
  ]);
});
