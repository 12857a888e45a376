/**
 * The typed-array scoring path (scoring.ts scoreTable, TableWriter, the
 * compiled validator's table) against the per-record path it replaced: for
 * every kind of model (forest and boosting, Yes/No and 1/0 labels, three
 * classes, a regressor, logistic regression) a batch's /predict and
 * /invocations answers and its prediction-log lines are the same bytes as
 * JSON.stringify of the Prediction objects predictRecords gives record by
 * record, and logLine of each. A bad record in a batch is still a 422 naming
 * its index and field, and the compiled validator takes and refuses exactly
 * what the zod schema does (fast-check).
 */
import { deepStrictEqual, equal, throws } from "node:assert/strict";
import fc from "fast-check";
import { fit } from "../../src/models/model.ts";
import { loadArtifact } from "../../src/models/artifact.ts";
import { HttpError } from "../../src/serve/http.ts";
import { logLine } from "../../src/serve/predlog.ts";
import { buildValidator } from "../../src/serve/validation.ts";
import type { Signature } from "../../src/models/types.ts";
import { makeRows } from "./fixture.ts";
import { makeApp, post, readLogLines } from "./helpers.ts";

const root = await Deno.makeTempDir({ prefix: "orchard-serve-scoring-" });
const rows = makeRows(300, 11).map((r, i) => ({
  ...r,
  // a missing value now and then, and a 1/0 label column
  monthly_charges: i % 17 === 0 ? null : r.monthly_charges,
  label: r.churn === "Yes" ? 1 : 0,
}));

interface Case {
  name: string;
  target: string;
  algorithm: string;
  drop: string[];
}
const CASES: Case[] = [
  { name: "forest, Yes/No", target: "churn", algorithm: "forest", drop: ["label"] },
  {
    name: "forest, 1/0 labels (integer-like probability keys)",
    target: "label",
    algorithm: "forest",
    drop: ["churn"],
  },
  { name: "boosting, binary", target: "churn", algorithm: "boosting", drop: ["label"] },
  { name: "boosting, three classes", target: "contract", algorithm: "boosting", drop: ["label"] },
  { name: "boosting, regression", target: "monthly_charges", algorithm: "boosting", drop: ["label"] },
  { name: "logistic, binary", target: "churn", algorithm: "logistic", drop: ["label"] },
];

async function served(c: Case, i: number) {
  const table = rows.map((r) => {
    const o: Record<string, unknown> = { ...r };
    for (const d of c.drop) delete o[d];
    if (c.target === "monthly_charges") o.monthly_charges ??= 50;
    return o;
  });
  const model = await fit(table, {
    target: c.target,
    algorithm: c.algorithm,
    n_estimators: 8,
    max_depth: 4,
    random_state: 3,
  });
  const dir = model.save(`${root}/m${i}`);
  const loader = (uri: string) =>
    Promise.resolve({ uri, name: "churn", version: "7", dir, model: loadArtifact(dir) });
  const t = await makeApp(loader, { maxBatch: 1000, maxBodyBytes: 1_000_000 });
  const inputs = t.holder.current!.validator.columns.map((col) => col.name);
  // what a client sends: the signature's columns, sometimes in another order or with an extra key
  const batch = table.slice(0, 120).map((r, k) => {
    const rec: Record<string, unknown> = {};
    const names = k % 3 === 1 ? [...inputs].reverse() : inputs;
    for (const n of names) rec[n] = r[n] ?? null;
    if (k % 5 === 2) rec.extra = "ignored";
    return rec;
  });
  return { t, batch, inputs };
}

const logLines = readLogLines;

CASES.forEach((c, i) => {
  Deno.test(`scoring: ${c.name}: a batch's answer and log lines are the per-record path's, byte for byte`, async () => {
    const { t, batch } = await served(c, i);
    try {
      const m = t.holder.current!;
      const res = await t.app.request(
        post("/predict", batch, "application/json", { "x-request-id": "req.1" }),
      );
      equal(res.status, 200);
      const text = await res.text();
      const records = batch.map((r) => m.validator.one(r));
      const perRecord = records.map((r) => m.model.predictRecords([r])[0]);
      equal(
        text,
        JSON.stringify({ model: "churn", version: "7", request_id: "req.1", predictions: perRecord }),
      );
      // one record (an object, not an array) is a table of one row
      const one = await t.app.request(
        post("/predict", batch[1], "application/json", { "x-request-id": "r2" }),
      );
      equal(
        await one.text(),
        JSON.stringify({ model: "churn", version: "7", request_id: "r2", predictions: [perRecord[1]] }),
      );

      const lines = (await logLines(t)).slice(0, batch.length);
      equal(lines.length, batch.length);
      const ts = Date.parse(JSON.parse(lines[0]).ts);
      deepStrictEqual(
        lines,
        records.map((inputs, k) =>
          logLine({
            ts,
            requestId: "req.1",
            model: "churn",
            version: "7",
            inputs,
            prediction: perRecord[k].prediction,
            probabilities: perRecord[k].probabilities,
          })
        ),
      );

      const inv = await t.app.request(post("/invocations", { dataframe_records: batch }));
      equal(await inv.text(), JSON.stringify({ predictions: perRecord.map((p) => p.prediction) }));
    } finally {
      await t.close();
    }
  });
});

Deno.test("scoring: a record's log inputs are the fields it was scored on, an inherited enumerable one too", async () => {
  const { t, batch, inputs } = await served(CASES[2], 91);
  const proto = Object.prototype as Record<string, unknown>;
  const last = inputs.at(-1)!;
  try {
    // the signature's keys in its order but the last, which a polluted prototype gives (enumerable):
    // for-in lists the keys in the signature's order, and the log must still write the field it scored
    const rec: Record<string, unknown> = {};
    for (const n of inputs.slice(0, -1)) rec[n] = batch[0][n];
    proto[last] = batch[0][last];
    let status: number;
    try {
      status =
        (await t.app.request(post("/predict", rec, "application/json", { "x-request-id": "p1" }))).status;
    } finally {
      delete proto[last];
    }
    equal(status, 200);
    const [line] = await logLines(t);
    deepStrictEqual(Object.keys(JSON.parse(line).inputs), inputs);
    deepStrictEqual(
      JSON.parse(line).inputs,
      t.holder.current!.validator.one({ ...rec, [last]: batch[0][last] }),
    );
  } finally {
    await t.close();
  }
});

Deno.test("scoring: a bad record in a batch is a 422 naming its index and field; nothing is scored or logged", async () => {
  const { t, batch } = await served(CASES[2], 90);
  try {
    const bad = batch.map((r) => ({ ...r }));
    bad[57].tenure = "long";
    bad[83].contract = 3;
    delete bad[99].paperless;
    const res = await t.app.request(post("/predict", bad));
    equal(res.status, 422);
    const body = await res.json();
    deepStrictEqual(body.details.map((d: { record: number; field: string }) => [d.record, d.field]), [
      [57, "tenure"],
      [83, "contract"],
      [99, "paperless"],
    ]);
    equal(body.details[0].message, 'expected a number, got string "long"');
    equal(body.details[2].message, "required field is missing");
    equal((await logLines(t)).length, 0);
  } finally {
    await t.close();
  }
});

Deno.test("scoring: the compiled validator takes and refuses exactly what the zod schema does", () => {
  const signature: Signature = {
    inputs: [
      { name: "n", kind: "numeric", nullable: true },
      { name: "b", kind: "boolean", nullable: false },
      { name: "d", kind: "datetime", nullable: false },
      { name: "word", kind: "categorical", categories: ["a", "b"], nullable: false },
      { name: "code", kind: "categorical", categories: ["1", "2", "true"], nullable: false },
    ],
    target: { name: "y", kind: "classification", classes: [0, 1] },
  };
  const v = buildValidator(signature, { maxStringLength: 8, maxAbsNumber: 1000 });
  const value = fc.oneof(
    fc.constant(null),
    fc.constant(undefined),
    fc.boolean(),
    fc.constantFrom(0, 1, -0, 1000, -1000, 1000.5, 1e308, Infinity, NaN),
    fc.double(),
    fc.integer(),
    fc.constantFrom("yes", "N", "true", "1", "0", "2024-03-01", "2024-03-01T10:00Z", "a", "b", "NA", ""),
    fc.string({ maxLength: 12 }),
    // 8 and 9 characters of 2 UTF-16 units each: the limit (8) counts code points
    fc.constantFrom("😀".repeat(8), "😀".repeat(9), "a" + "😀".repeat(7), "\ud83d".repeat(9)),
    fc.constant([1]),
    fc.constant({ x: 1 }),
  );
  const record = fc.oneof(
    fc.record({ n: value, b: value, d: value, word: value, code: value, extra: value }, { requiredKeys: [] }),
    value,
  );
  const outcome = (f: () => unknown) => {
    try {
      return { ok: f() };
    } catch (e) {
      if (!(e instanceof HttpError)) throw e;
      return { status: e.status, message: e.message, details: e.details };
    }
  };
  fc.assert(
    fc.property(fc.array(record, { minLength: 1, maxLength: 4 }), (recs) => {
      const parsed = recs.map((r) => v.record.safeParse(r));
      const table = outcome(() => v.table(recs, 10));
      const many = outcome(() => v.many(recs, 10));
      if (parsed.every((p) => p.success)) {
        const data = parsed.map((p) => p.data as Record<string, unknown>);
        const names = v.columns.map((col) => col.name);
        deepStrictEqual(table, { ok: names.map((n) => data.map((r) => r[n])) });
        deepStrictEqual(many, { ok: data });
      } else {
        equal((table as { status: number }).status, 422);
        deepStrictEqual(table, many);
        const refused = parsed.flatMap((p, i) => (p.success ? [] : [i]));
        deepStrictEqual([
          ...new Set((many as { details: { record: number }[] }).details.map((d) => d.record)),
        ], refused);
      }
    }),
    { numRuns: 3000, seed: 14 },
  );
  throws(() => v.table([], 10), /no records/);
  throws(() => v.table(new Array(11).fill({}), 10), /over the limit of 10/);
});

Deno.test("scoring: the compiled batch loop reads any column name, and a wide signature keeps the generic loop", () => {
  // names that are no identifier: each becomes a string literal in the compiled loop
  const awkward = ['a"b', "c\\d", "constructor", "__proto__", "line\u2028sep", "", "${x}`"];
  const wide = Array.from({ length: 300 }, (_, j) => `f${j}`);
  for (const names of [awkward, wide]) {
    const signature: Signature = {
      inputs: names.map((name) => ({ name, kind: "numeric" as const, nullable: true })),
      target: { name: "y", kind: "regression" },
    };
    const v = buildValidator(signature);
    // parsed from JSON, as a body is: "__proto__" is then an own key
    const good = JSON.parse(
      JSON.stringify([0, 1, 2].map((i) => Object.fromEntries(names.map((n, j) => [n, i * 10 + j])))),
    );
    deepStrictEqual(v.table(good, 10), names.map((_, j) => [j, 10 + j, 20 + j]));
    // one bad value in the middle record: the same 422 as zod's, naming it
    const bad = JSON.parse(JSON.stringify(good));
    bad[1][names[1]] = "x";
    throws(() => v.table(bad, 10), (e: HttpError) => {
      equal(e.status, 422);
      deepStrictEqual(e.details, [{
        record: 1,
        field: names[1],
        message: 'expected a number, got string "x"',
      }]);
      return true;
    });
    // a missing key is missing, not read from the prototype ("constructor"); the problems are zod's
    // (zod itself names no missing "__proto__")
    const missing = JSON.parse(JSON.stringify(good));
    for (const n of names) delete missing[2][n];
    const zodFields = [
      ...new Set(v.record.safeParse(missing[2]).error!.issues.map((i) => String(i.path[0]))),
    ];
    throws(() => v.table(missing, 10), (e: HttpError) => {
      equal(e.status, 422);
      deepStrictEqual(e.details!.map((d) => d.field), zodFields.slice(0, 100)); // at most 100 problems reported
      return zodFields.includes("constructor") || !names.includes("constructor");
    });
  }
});

Deno.test("scoring: cleanup", async () => {
  await Deno.remove(root, { recursive: true });
});
