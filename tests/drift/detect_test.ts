import assert, { deepEqual, equal, throws } from "node:assert/strict";
import pl from "nodejs-polars";
import { DriftSchema } from "../../src/config/schema.ts";
import { UserError } from "../../src/core/errors.ts";
import { detectDrift } from "../../src/drift/detect.ts";
import { profileFrame } from "../../src/drift/profile.ts";

const cfg = DriftSchema.parse({});

/** Deterministic pseudo-normal values (sum of 4 Lehmer uniforms). */
function values(n: number, seed: number, mean = 0, sd = 1): number[] {
  let x = seed;
  const u = () => (x = (x * 48271) % 2147483647) / 2147483647;
  return Array.from({ length: n }, () => mean + sd * ((u() + u() + u() + u() - 2) * Math.sqrt(3)));
}
function cats(n: number, levels: string[], seed: number): string[] {
  let x = seed;
  return Array.from(
    { length: n },
    () => levels[Math.floor(((x = (x * 48271) % 2147483647) / 2147483647) * levels.length)],
  );
}

Deno.test("profiles drop nulls and NaN and sort numeric columns", () => {
  const df = pl.DataFrame({ a: [3, null, 1, NaN, 2], b: ["x", null, "y", "x", ""] });
  const p = profileFrame(df, ["a", "b"]);
  const a = p.get("a")!, b = p.get("b")!;
  assert(a.kind === "numeric" && b.kind === "categorical");
  deepEqual([...a.sorted], [1, 2, 3]);
  equal(a.missing, 2);
  deepEqual([...b.counts].sort(), [["x", 2], ["y", 1]]);
  equal(b.missing, 2);
});

Deno.test("small data: KS / chi-square chosen, the shifted column drifts, ids and target are skipped", () => {
  const n = 400;
  const ref = pl.DataFrame({
    customer_id: Array.from({ length: n }, (_, i) => i),
    churned: values(n, 5).map((v) => (v > 0 ? 1 : 0)),
    age: values(n, 11, 40, 10),
    spend: values(n, 12, 100, 20),
    plan: cats(n, ["a", "b", "c"], 13),
  });
  const cur = pl.DataFrame({
    customer_id: Array.from({ length: n }, (_, i) => i + n),
    age: values(n, 21, 40, 10),
    spend: values(n, 22, 130, 20), // shifted
    plan: cats(n, ["a", "b", "c"], 23),
  });
  const r = detectDrift(ref, cur, { config: cfg, exclude: ["customer_id"], target: "churned" });
  deepEqual(r.columns.map((c) => c.column).sort(), ["age", "plan", "spend"]);
  const by = Object.fromEntries(r.columns.map((c) => [c.column, c]));
  equal(by.age.test, "ks");
  equal(by.plan.test, "chisquare");
  assert(by.spend.drifted && !by.age.drifted && !by.plan.drifted, JSON.stringify(r.columns));
  equal(r.columns[0].column, "spend"); // sorted by score, drifted first
  deepEqual(r.drifted_columns, ["spend"]);
  equal(r.dataset_drift, false); // 1/3 < 0.5
  assert(by.spend.psi > 0.2);
  equal(r.charts.length, 3);
  // the shifted column is also out of the reference range; everything else passes
  deepEqual(r.quality.filter((q) => q.status === "fail").map((q) => [q.check, q.columns]), [["out_of_range", [
    "spend",
  ]]]);
});

Deno.test("dataset drift when the drifted share reaches drift_share", () => {
  const ref = pl.DataFrame({ a: values(300, 1), b: values(300, 2) });
  const cur = pl.DataFrame({ a: values(300, 3, 2), b: values(300, 4) });
  const r = detectDrift(ref, cur, { config: cfg });
  equal(r.drift_share, 0.5);
  equal(r.dataset_drift, true);
  equal(detectDrift(ref, cur, { config: DriftSchema.parse({ drift_share: 0.6 }) }).dataset_drift, false);
});

Deno.test("quality checks: missing/extra columns, types, missing share, new categories, out of range", () => {
  const ref = pl.DataFrame({
    a: values(200, 1, 10, 1),
    b: cats(200, ["x", "y"], 2),
    c: values(200, 3),
    gone: values(200, 4),
  });
  const cur = pl.DataFrame({
    a: values(200, 5, 30, 1), // all out of range
    b: cats(200, ["x", "y", "z"], 6), // new category z
    c: values(200, 7).map((v, i) => (i % 4 === 0 ? null : v)), // 25% missing
    extra: values(200, 8),
  });
  const r = detectDrift(ref, cur, { config: cfg });
  const q = Object.fromEntries(r.quality.map((x) => [x.check, x]));
  equal(q.missing_columns.status, "fail");
  deepEqual(q.missing_columns.columns, ["gone"]);
  deepEqual(q.extra_columns.columns, ["extra"]);
  equal(q.column_types.status, "pass");
  deepEqual(q.missing_share.columns, ["c"]);
  deepEqual(q.new_categories.columns, ["b"]);
  deepEqual(q.out_of_range.columns, ["a"]);

  const typed = detectDrift(pl.DataFrame({ a: [1, 2, 3] }), pl.DataFrame({ a: ["1", "two", "3"] }), {
    config: cfg,
  });
  const t = typed.quality.find((x) => x.check === "column_types")!;
  equal(t.status, "fail");
  deepEqual(t.columns, ["a"]);
});

Deno.test("constant columns and empty sides do not crash", () => {
  const ref = pl.DataFrame({
    k: [1, 1, 1, 1],
    n: [null, null, null, null] as (number | null)[],
    v: [1, 2, 3, 4],
  });
  const cur = pl.DataFrame({ k: [1, 1, 1], n: [1, 2, 3], v: [1, 2, 3] });
  const r = detectDrift(ref, cur, { config: cfg });
  const k = r.columns.find((c) => c.column === "k")!;
  equal(k.test, "z");
  equal(k.p_value, 1);
  equal(k.drifted, false);
  assert(r.notes.some((n) => n.includes("'n'")));
});

Deno.test("bad input: empty current, no shared columns", () => {
  const ref = pl.DataFrame({ a: [1, 2, 3] });
  throws(() => detectDrift(ref, pl.DataFrame({ a: [] as number[] }), { config: cfg }), /empty/);
  throws(() => detectDrift(ref, pl.DataFrame({ b: [1] }), { config: cfg }), UserError);
  throws(() => detectDrift(ref, pl.DataFrame({ b: [1] }), { config: cfg }), /no shared columns/);
});

Deno.test("prediction drift is tested when both sides have predictions", () => {
  const ref = pl.DataFrame({ a: values(100, 1), prediction: values(100, 2).map((v) => (v > 0 ? 1 : 0)) });
  const cur = pl.DataFrame({
    a: values(100, 3),
    prediction: values(100, 4).map(() => 1),
    ts: values(100, 5),
  });
  const r = detectDrift(ref, cur, { config: cfg });
  const p = r.columns.find((c) => c.column === "prediction")!;
  equal(p.role, "prediction");
  assert(p.drifted);
  assert(!r.columns.some((c) => c.column === "ts")); // log metadata is not a feature
  equal(r.quality.find((q) => q.check === "extra_columns")!.status, "pass");
});

Deno.test("a current made of categories the reference never saw drifts; a few new values among many do not", () => {
  const ref = pl.DataFrame({ c: cats(500, ["a", "b"], 31) });
  const disjoint = detectDrift(ref, pl.DataFrame({ c: cats(500, ["p", "q"], 32) }), { config: cfg });
  const mostlyNew = detectDrift(
    ref,
    pl.DataFrame({ c: [...cats(200, ["a", "b"], 33), ...cats(300, ["p"], 34)] }),
    {
      config: cfg,
    },
  );
  const fewNew = detectDrift(
    ref,
    pl.DataFrame({ c: [...cats(495, ["a", "b"], 35), "p", "p", "q", "p", "q"] }),
    {
      config: cfg,
    },
  );
  for (
    const [name, r, drifted] of [["disjoint", disjoint, true], ["60% new", mostlyNew, true], [
      "1% new",
      fewNew,
      false,
    ]] as const
  ) {
    const c = r.columns[0];
    equal(c.test, "chisquare", name);
    assert(Number.isFinite(c.score), `${name}: a score, not '-': ${c.score}`);
    equal(c.drifted, drifted, `${name}: p ${c.score}`);
    equal(r.dataset_drift, drifted, name);
  }
  assert(disjoint.columns[0].score < 1e-100);
});

Deno.test("a date column (ISO text or a Date column) is tested as a number of days, not as categories", () => {
  const day = (offset: number) =>
    new Date(Date.UTC(2023, 0, 1) + offset * 86_400_000).toISOString().slice(0, 10);
  const spread = (n: number, seed: number, shift = 0) =>
    values(n, seed, 300 + shift, 80).map((v) => day(Math.round(v)));
  const ref = pl.DataFrame({ signup_date: spread(800, 41), plan: cats(800, ["a", "b"], 42) });
  const same = pl.DataFrame({ signup_date: [...spread(390, 43), "", null], plan: cats(392, ["a", "b"], 44) });
  const r = detectDrift(ref, same, { config: cfg });
  const c = r.columns.find((x) => x.column === "signup_date")!;
  equal(c.type, "numeric");
  equal(c.drifted, false, JSON.stringify(c));
  assert(
    !r.quality.some((q) => q.status === "fail" && q.check === "new_categories"),
    JSON.stringify(r.quality),
  );
  assert(r.notes.some((n) => /dates tested as days.*signup_date/.test(n)));
  const later = pl.DataFrame({ signup_date: spread(400, 45, 200), plan: cats(400, ["a", "b"], 46) });
  equal(
    detectDrift(ref, later, { config: cfg }).columns.find((x) => x.column === "signup_date")!.drifted,
    true,
  );
  // a polars Date column on one side and ISO text on the other are the same dates
  const typed = same.withColumns(pl.col("signup_date").str.strptime(pl.Date, "%Y-%m-%d"));
  const t = detectDrift(ref, typed, { config: cfg }).columns.find((x) => x.column === "signup_date")!;
  deepEqual([t.type, t.drifted, t.score], [c.type, c.drifted, c.score]);
  // text that is not all dates stays categorical
  const mixed = pl.DataFrame({ signup_date: [...spread(10, 47), "soon"] });
  equal(detectDrift(mixed, mixed, { config: cfg }).columns[0].type, "categorical");
});

Deno.test("missing tokens and padding read as training reads them: a log's \"NA\" is a missing value, ' basic' is basic", () => {
  const plan = cats(600, ["basic", "pro"], 51);
  const asFile = pl.DataFrame({ plan: plan.map((p, i) => (i % 20 === 0 ? null : p)) });
  const asLog = pl.DataFrame({
    plan: plan.map((p, i) => (i % 20 === 0 ? "NA" : i % 7 === 0 ? ` ${p} ` : p)),
  });
  const ref = pl.DataFrame({ plan: cats(600, ["basic", "pro"], 52) });
  const fromFile = detectDrift(ref, asFile, { config: cfg }),
    fromLog = detectDrift(ref, asLog, { config: cfg });
  deepEqual(fromLog.columns[0].score, fromFile.columns[0].score);
  assert(!fromLog.quality.some((q) => q.status === "fail"), JSON.stringify(fromLog.quality));
  const p = profileFrame(asLog, ["plan"]).get("plan")!;
  assert(p.kind === "categorical");
  deepEqual([...p.counts.keys()].sort(), ["basic", "pro"]);
  equal(p.missing, 30);
});
