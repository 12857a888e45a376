/**
 * Thousands of malformed bodies (fast-check) at /predict and /invocations: no
 * 5xx, never a stack trace, and the service answers correctly afterwards.
 */
import fc from "fast-check";
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { dirLoader, sampleRecord, trainFixture } from "./fixture.ts";
import { makeApp, noStack, post } from "./helpers.ts";

const root = await Deno.makeTempDir({ prefix: "orchard-serve-fuzz-" });
const dir = await trainFixture(`${root}/m`, { seed: 5, trees: 8 });
const loader = dirLoader({ "models:/churn@champion": { name: "churn", version: "1", dir } });

const field = fc.constantFrom(
  "tenure",
  "monthly_charges",
  "contract",
  "paperless",
  "extra",
  "__proto__",
  "constructor",
);
const anyJson = fc.jsonValue({ maxDepth: 3 });
const mutatedRecord = fc.record({ key: field, value: anyJson, drop: fc.boolean() }).map(
  ({ key, value, drop }) => {
    const rec: Record<string, unknown> = { ...sampleRecord(3) };
    if (drop) delete rec[key];
    else rec[key] = value;
    return JSON.stringify(rec);
  },
);
const mlflowish = fc.record({
  key: fc.constantFrom("dataframe_split", "dataframe_records", "instances", "inputs", "params", "other"),
  value: anyJson,
}).map(({ key, value }) => JSON.stringify({ [key]: value }));
const bodies = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: "binary", maxLength: 200 }),
  anyJson.map((v) => JSON.stringify(v)),
  mutatedRecord,
  mlflowish,
  fc.array(mutatedRecord, { maxLength: 5 }).map((xs) => `[${xs.join(",")}]`),
  fc.string({ maxLength: 200 }).map((s) => `tenure,contract\n${s}`),
);
const types = fc.constantFrom(
  "application/json",
  "application/json; charset=utf-8",
  "text/csv",
  "text/plain",
  "",
  "application/x-www-form-urlencoded",
);

Deno.test("fuzz: malformed bodies never get a 5xx or a stack, and the service stays correct", async () => {
  const t = await makeApp(loader, { maxBatch: 10, maxBodyBytes: 5000 });
  try {
    const rec = sampleRecord(9);
    // the same request id before and after, so the answers compare whole
    const again = () => post("/predict", rec, "application/json", { "x-request-id": "fuzz.same" });
    const before = await (await t.app.request(again())).json();
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("/predict", "/invocations"),
        bodies,
        types,
        async (path, body, type) => {
          const headers: Record<string, string> = type ? { "content-type": type } : {};
          const res = await t.app.request(
            new Request(`http://local${path}`, { method: "POST", headers, body }),
          );
          const text = await res.text();
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          ok(
            res.status < 500,
            `${res.status} for ${path} ${type} ${JSON.stringify(body).slice(0, 200)}: ${text}`,
          );
          ok(noStack(text), text);
          // a request id: in the header, or (a 200 from /predict to a caller that sent none) in the body
          ok(res.headers.get("x-request-id") ?? (path === "/predict" && JSON.parse(text).request_id));
          if (res.status !== 200) equal(typeof JSON.parse(text).error, "string");
        },
      ),
      { numRuns: 3000, seed: 42 },
    );
    ok(
      (statuses.get(400) ?? 0) > 0 && (statuses.get(415) ?? 0) > 0 && (statuses.get(422) ?? 0) > 0,
      JSON.stringify([...statuses]),
    );
    const after = await (await t.app.request(again())).json();
    deepStrictEqual(after, before);
    equal((await t.app.request("/ready")).status, 200);
  } finally {
    await t.close();
  }
});
