/**
 * A large /predict batch scored in two halves on two threads (split.ts): for
 * every kind of model the answer is the same bytes as the one-thread answer,
 * the log holds the same lines (every record once, in record order) and the
 * metrics the same counts; every error is the whole body's; a hot swap, a
 * helper that cannot start, and the log's shutdown lose nothing.
 */
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import fc from "fast-check";
import { fit } from "../../src/models/model.ts";
import { loadArtifact } from "../../src/models/artifact.ts";
import { BatchSplitter, cutInTwo, type SplitterOptions } from "../../src/serve/split.ts";
import type { ModelLoader } from "../../src/serve/types.ts";
import { makeRows } from "./fixture.ts";
import { makeApp, post, readLogLines, type TestApp } from "./helpers.ts";

const root = await Deno.makeTempDir({ prefix: "orchard-serve-split-" });
const rows = makeRows(400, 23).map((r, i) => ({
  ...r,
  monthly_charges: i % 13 === 0 ? null : r.monthly_charges,
}));

async function modelDir(target: string, algorithm: string, name: string): Promise<string> {
  const table = rows.map((r) => ({
    ...r,
    monthly_charges: target === "monthly_charges" ? r.monthly_charges ?? 50 : r.monthly_charges,
  }));
  const model = await fit(table, { target, algorithm, n_estimators: 8, max_depth: 4, random_state: 5 });
  return model.save(`${root}/${name}`);
}

const loaderOf = (dirs: Record<string, string>): ModelLoader => (uri) => {
  const version = uri.split("/").pop()!;
  const dir = dirs[version];
  return Promise.resolve({ uri, name: "churn", version, dir, model: loadArtifact(dir) });
};

/** the batch a client sends: records with every input, some with an extra key, some in another order */
function batchOf(t: TestApp, n: number): Record<string, unknown>[] {
  const inputs = t.holder.current!.validator.columns.map((c) => c.name);
  return rows.slice(0, n).map((r, k) => {
    const rec: Record<string, unknown> = {};
    for (const name of k % 4 === 1 ? [...inputs].reverse() : inputs) {
      rec[name] = (r as Record<string, unknown>)[name] ?? null;
    }
    if (k % 7 === 3) rec.note = "ignored";
    return rec;
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** sends large batches until the helper holds the model and one was split */
async function warm(t: TestApp, s: BatchSplitter, body: unknown): Promise<void> {
  // the helper's first load includes compiling it (type-checked under deno test, slow on a fresh clone)
  for (const until = Date.now() + 60_000; Date.now() < until && s.splits === 0;) {
    equal(
      (await t.app.request(post("/predict", body, "application/json", { "x-request-id": "warm" }))).status,
      200,
    );
    if (s.splits === 0) await sleep(20);
  }
  ok(s.splits > 0, "the helper never took the model");
}

/** the log's lines of one request id, without their time stamps, in file order */
async function linesOf(t: TestApp, rid: string): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const line of await readLogLines(t)) {
    const o = JSON.parse(line);
    if (o.request_id !== rid) continue;
    delete o.ts;
    out.push(o);
  }
  return out;
}

/** the predictions counted, by model, version and class */
function counts(t: TestApp): Record<string, number> {
  return t.metrics.snapshot(null, t.log.stats()).predictions;
}

/** what each count grew by */
function added(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]));
}

/** the same app twice, one with a splitter that splits every batch (minBytes 1; `more`: its other options) */
async function pair(
  dirs: Record<string, string>,
  uri = "models:/churn/1",
  more: Omit<SplitterOptions, "minBytes"> = {},
) {
  const splitter = new BatchSplitter({ minBytes: 1, ...more });
  const loader = loaderOf(dirs);
  const opts = { uri, maxBatch: 300, maxBodyBytes: 2_000_000 };
  const one = await makeApp(loader, opts);
  const two = await makeApp(loader, { ...opts, splitter });
  return { one, two, splitter, close: () => Promise.all([one.close(), two.close()]) };
}

const KINDS = [
  { name: "boosting, binary", target: "churn", algorithm: "boosting" },
  { name: "boosting, three classes", target: "contract", algorithm: "boosting" },
  { name: "boosting, regression", target: "monthly_charges", algorithm: "boosting" },
  { name: "forest, binary", target: "churn", algorithm: "forest" },
];

KINDS.forEach((kind, i) => {
  Deno.test(`split: ${kind.name}: the answer, explained or not, the log lines and the counts are the one-thread path's`, async () => {
    const p = await pair({ "1": await modelDir(kind.target, kind.algorithm, `k${i}`) });
    try {
      const body = batchOf(p.one, 250);
      await warm(p.two, p.splitter, body);
      const splits = p.splitter.splits;
      const ask = (t: TestApp) =>
        t.app.request(post("/predict", body, "application/json", { "x-request-id": "r.1" }));
      const [a, b] = [await ask(p.one), await ask(p.two)];
      equal(p.splitter.splits, splits + 1, "the batch was split");
      equal(b.status, 200);
      equal(await b.text(), await a.text());
      await p.splitter.drain();
      const [la, lb] = [await linesOf(p.one, "r.1"), await linesOf(p.two, "r.1")];
      equal(lb.length, body.length);
      deepStrictEqual(lb, la);
      // and the counts of one more batch on each
      const [ca, cb] = [counts(p.one), counts(p.two)];
      await ask(p.one);
      await ask(p.two);
      equal(p.splitter.splits, splits + 2);
      deepStrictEqual(added(cb, counts(p.two)), added(ca, counts(p.one)));
      // explained: each half's records explained where it is scored, the same answer
      const explain = (t: TestApp) =>
        t.app.request(
          post("/predict?explain=true&top=3", body, "application/json", { "x-request-id": "x.1" }),
        );
      const [ea, eb] = [await explain(p.one), await explain(p.two)];
      equal(p.splitter.splits, splits + 3, "the explained batch was split");
      equal(eb.status, 200);
      const answer = await eb.text();
      equal(answer, await ea.text());
      equal(JSON.parse(answer).predictions[249].explanation.top.length, 3);
    } finally {
      await p.close();
    }
  });
});

Deno.test("split: every error is the whole body's: a bad record in either half, too many records, bad JSON", async () => {
  const p = await pair({ "1": await modelDir("churn", "boosting", "errors") });
  try {
    const body = batchOf(p.one, 250);
    await warm(p.two, p.splitter, body);
    const bad = body.map((r) => ({ ...r }));
    bad[20].tenure = "long";
    bad[230].contract = 7;
    delete bad[240].paperless;
    const text = JSON.stringify(body);
    const cases: [string, string][] = [
      ["bad records in both halves", JSON.stringify(bad)],
      [
        "a bad record in the second half only",
        JSON.stringify(body.map((r, k) => k === 200 ? { ...r, tenure: null, paperless: 3 } : r)),
      ],
      ["301 records: over max_batch, each half under it", JSON.stringify([...body, ...body.slice(0, 51)])],
      ["malformed JSON in the second half", text.slice(0, -30) + "}}]"],
      ["a number in the array", text.slice(0, -1) + ",3]"],
      [
        "a cut inside a string",
        JSON.stringify(body.map((r, k) => k === 124 ? { ...r, contract: "x},{" + "y".repeat(400) } : r)),
      ],
    ];
    for (const [what, raw] of cases) {
      const send = (t: TestApp) =>
        t.app.request(
          new Request("http://local/predict", {
            method: "POST",
            headers: { "content-type": "application/json", "x-request-id": "e.1" },
            body: raw,
          }),
        );
      const [a, b] = [await send(p.one), await send(p.two)];
      equal(b.status, a.status, what);
      equal(await b.text(), await a.text(), what);
    }
    await p.splitter.drain();
    // nothing was logged for a refused body, and the one accepted (the string with "},{") logged every record
    deepStrictEqual(await linesOf(p.two, "e.1"), await linesOf(p.one, "e.1"));
    equal((await linesOf(p.two, "e.1")).length, 250);
  } finally {
    await p.close();
  }
});

Deno.test("split: after a hot swap no batch is split with the old version; the new one is split once the helper holds it", async () => {
  const dirs = {
    "1": await modelDir("churn", "boosting", "swap1"),
    "2": await modelDir("churn", "forest", "swap2"),
  };
  const p = await pair(dirs);
  try {
    const body = batchOf(p.one, 250);
    await warm(p.two, p.splitter, body);
    const before = p.splitter.splits;
    equal((await p.two.holder.reload({ uri: "models:/churn/2" })).version, "2");
    equal((await p.one.holder.reload({ uri: "models:/churn/2" })).version, "2");
    const ask = (t: TestApp) =>
      t.app.request(post("/predict", body, "application/json", { "x-request-id": "s.1" }));
    const first = await ask(p.two);
    equal(p.splitter.splits, before, "the first batch after the swap is scored on one thread");
    const want = await (await ask(p.one)).text();
    equal(await first.text(), want);
    ok(want.includes('"version":"2"'));
    // and once the helper has loaded version 2, batches are split again, with version 2's answers
    for (const until = Date.now() + 60_000; Date.now() < until && p.splitter.splits === before;) {
      const r = await ask(p.two);
      equal(await r.text(), want);
      if (p.splitter.splits === before) await sleep(20);
    }
    ok(p.splitter.splits > before);
  } finally {
    await p.close();
  }
});

Deno.test("split: a helper that cannot start leaves every batch to one thread, and is given up on once", async () => {
  const broken = `${root}/broken_worker.ts`;
  await Deno.writeTextFile(broken, 'throw new Error("no helper here");\n');
  const why: string[] = [];
  const p = await pair({ "1": await modelDir("churn", "boosting", "broken") }, undefined, {
    workerUrl: new URL(`file://${broken}`),
    maxFailures: 2,
    onGiveUp: (w) => why.push(w),
  });
  const { one, two, splitter } = p;
  try {
    const body = batchOf(one, 250);
    const want =
      await (await one.app.request(post("/predict", body, "application/json", { "x-request-id": "b" })))
        .text();
    const ask = async () => {
      const r = await two.app.request(post("/predict", body, "application/json", { "x-request-id": "b" }));
      equal(await r.text(), want);
    };
    // each batch starts the helper again until it has failed twice (its load fails after the batch)
    for (let k = 0; k < 400 && why.length === 0; k++) {
      await ask();
      await sleep(25);
    }
    equal(why.length, 1);
    ok(why[0].includes("failed 2 times"), why[0]);
    for (let k = 0; k < 3; k++) await ask(); // and it is not started again
    equal(splitter.splits, 0);
    equal(why.length, 1);
  } finally {
    await p.close();
  }
});

Deno.test("split: lines of a split batch still on the helper reach the log when the service drains it", async () => {
  const p = await pair({ "1": await modelDir("churn", "boosting", "drain") });
  try {
    const body = batchOf(p.one, 250);
    await warm(p.two, p.splitter, body);
    const res = await p.two.app.request(
      post("/predict", body, "application/json", { "x-request-id": "d.1" }),
    );
    equal(res.status, 200);
    // the shutdown's order (service.ts): drain the helper, stop it, close the log
    await p.splitter.drain();
    p.splitter.close();
    await p.two.log.close();
    equal((await linesOf(p.two, "d.1")).length, 250);
    equal(p.two.log.stats().dropped, 0);
  } finally {
    await p.close();
  }
});

Deno.test("split: cutInTwo cuts only where both halves are the array's records, or the first half does not parse", () => {
  const value = fc.oneof(
    fc.string(),
    fc.constantFrom("},{", "} , {", '"},{"', '\\"},{'),
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => !Object.is(x, -0)),
    fc.boolean(),
    fc.constant(null),
    fc.array(fc.dictionary(fc.constantFrom("a", "b"), fc.integer()), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom("x", "y"), fc.string({ maxLength: 5 }), { maxKeys: 3 }),
  );
  const key = fc.string({ maxLength: 4 }).filter((k) => k !== "__proto__");
  const records = fc.array(fc.dictionary(key, value, { maxKeys: 4 }), {
    minLength: 1,
    maxLength: 12,
  });
  fc.assert(
    fc.property(records, fc.constantFrom(0, 1, 2), (recs, indent) => {
      const text = JSON.stringify(recs, null, indent || undefined);
      const cut = cutInTwo(text);
      if (!cut) return;
      let first: unknown[];
      try {
        first = JSON.parse(text.slice(0, cut.firstEnd) + "]");
      } catch {
        return; // a cut inside a value: the body goes the usual way
      }
      const second = JSON.parse("[" + text.slice(cut.secondStart));
      deepStrictEqual([...first, ...second], JSON.parse(text));
      ok(first.length >= 1 && second.length >= 1);
    }),
    { numRuns: 2000 },
  );
  equal(cutInTwo('{"a":1}'), null);
  equal(cutInTwo("[]"), null);
  equal(cutInTwo('[{"a":1}]'), null);
  deepStrictEqual(cutInTwo(' [{"a":1} ,\n {"b":2}]'), { firstEnd: 9, secondStart: 13 });
});
