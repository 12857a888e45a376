/** Unit tests of the service's pieces: prediction log, metrics, MLflow parsing, validation, launch command. */
import { deepStrictEqual, equal, match, ok, throws } from "node:assert/strict";
import { ConfigSchema } from "../../src/config/schema.ts";
import { HttpError, mediaType, parseJsonBody, readBodyText, requestIdFrom } from "../../src/serve/http.ts";
import { serveCommand } from "../../src/serve/launch.ts";
import { Metrics, renderMetrics } from "../../src/serve/metrics.ts";
import { parseCsv, parseMlflowCsv, parseMlflowJson } from "../../src/serve/mlflow.ts";
import { logDay, type LogEntry, logHead, logLine, PredictionLog } from "../../src/serve/predlog.ts";
import fc from "fast-check";
import { z } from "zod";
import { buildValidator } from "../../src/serve/validation.ts";
import type { Signature } from "../../src/models/types.ts";

const entry = (i: number, ts = Date.UTC(2025, 0, 2, 10)): LogEntry => ({
  ts,
  requestId: `r${i}`,
  model: "churn",
  version: "3",
  inputs: { x: i },
  prediction: "Yes",
  probabilities: { No: 0.25, Yes: 0.75 },
});

Deno.test("prediction log line: the same object JSON.stringify would give, ts first, awkward values escaped", () => {
  const ts = Date.UTC(2025, 11, 31, 23, 59, 59, 999);
  const e: LogEntry = {
    ts,
    requestId: 'r"1\\',
    model: "churn",
    version: "12",
    inputs: { plan: 'qu"ote\n', n: 1.5, missing: null, "0": "int-like key" },
    prediction: 1,
    probabilities: { "0": 0.25, "1": 0.75 },
  };
  for (const at of [ts, ts + 1, ts]) { // the cached ISO time follows the timestamp
    const line = logLine({ ...e, ts: at });
    ok(!line.includes("\n"), "one line");
    deepStrictEqual(JSON.parse(line), {
      ts: new Date(at).toISOString(),
      request_id: e.requestId,
      model: "churn",
      version: "12",
      inputs: e.inputs,
      prediction: 1,
      probabilities: { "0": 0.25, "1": 0.75 },
    });
    equal(line.slice(0, 17), `{"ts":"${new Date(at).toISOString().slice(0, 10)}`);
  }
  const bare = JSON.parse(logLine({ ...e, prediction: undefined, probabilities: undefined }));
  deepStrictEqual([bare.prediction, bare.probabilities], [null, null]);
});

Deno.test("prediction log: batches by date into <worker>-<n>.ndjson; close flushes; later pushes write at once", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const log = new PredictionLog({ dir, worker: "w1", flushMs: 60_000, batchSize: 1000 }).start();
    for (let i = 0; i < 5; i++) log.push(entry(i));
    log.push(entry(5, Date.UTC(2025, 0, 3, 0, 0, 1)));
    equal(log.stats().pending, 6);
    await log.close();
    deepStrictEqual(log.stats().pending, 0);
    const day1 = (await Deno.readTextFile(`${dir}/model=churn/date=2025-01-02/w1-0.ndjson`)).trim().split(
      "\n",
    ).map((l) => JSON.parse(l));
    equal(day1.length, 5);
    deepStrictEqual(day1[0], {
      ts: "2025-01-02T10:00:00.000Z",
      request_id: "r0",
      model: "churn",
      version: "3",
      inputs: { x: 0 },
      prediction: "Yes",
      probabilities: { No: 0.25, Yes: 0.75 },
    });
    equal(
      (await Deno.readTextFile(`${dir}/model=churn/date=2025-01-03/w1-0.ndjson`)).trim().split("\n").length,
      1,
    );
    log.push(entry(9)); // after close: written synchronously, never lost
    ok((await Deno.readTextFile(`${dir}/model=churn/date=2025-01-02/w1-final.ndjson`)).includes('"r9"'));
    equal(log.stats().written, 7);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("prediction log: a full batch flushes without the timer; files roll over by size", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const log = new PredictionLog({ dir, worker: "w2", flushMs: 60_000, batchSize: 3, maxFileBytes: 400 });
    for (let i = 0; i < 9; i++) {
      log.push(entry(i));
      if (i % 3 === 2) {
        // the full batch flushes by itself (no timer for a minute): wait for its write, however slow the disk
        for (let waited = 0; log.stats().written < i + 1 && waited < 10_000; waited += 5) {
          await new Promise((r) => setTimeout(r, 5));
        }
        equal(log.stats().pending, 0);
        equal(log.stats().written, i + 1);
      }
    }
    equal(log.stats().written, 9);
    const files = [...Deno.readDirSync(`${dir}/model=churn/date=2025-01-02`)].map((e) => e.name).sort();
    ok(files.length > 1, files.join());
    ok(files.every((f) => /^w2-\d+\.ndjson$/.test(f)));
    let total = 0;
    for (const f of files) {
      total += (await Deno.readTextFile(`${dir}/model=churn/date=2025-01-02/${f}`)).trim().split("\n").length;
    }
    equal(total, 9);
    await log.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("prediction log: write errors are counted, retried, and past the cap the oldest are dropped", async () => {
  let failing = true;
  const written: string[] = [];
  const log = new PredictionLog({
    dir: "/nonexistent-never-used",
    worker: "w3",
    flushMs: 60_000,
    batchSize: 1000,
    maxPending: 4,
    append: (_p, bytes) =>
      failing
        ? Promise.reject(new Error("ENOSPC: no space left"))
        : (written.push(new TextDecoder().decode(bytes)), Promise.resolve()),
  });
  // the directory cannot be created either: both paths count as write errors
  for (let i = 0; i < 3; i++) log.push(entry(i));
  await log.flush();
  let s = log.stats();
  ok(s.writeErrors >= 1);
  ok(s.lastError);
  equal(s.pending, 3);
  for (let i = 3; i < 6; i++) log.push(entry(i));
  s = log.stats();
  equal(s.pending, 4);
  equal(s.dropped, 2);
  throws(() => new PredictionLog({ dir: "x", worker: "../evil", flushMs: 1, batchSize: 1 }));
  failing = false;
  await log.close();
  // the retry writes the lines kept, whole and in order: the two oldest were dropped
  const ids = written.join("").trim().split("\n").map((l) => JSON.parse(l).request_id);
  deepStrictEqual(ids, ["r2", "r3", "r4", "r5"]);
  equal(log.stats().written, 4);
});

Deno.test("prediction log: a deferred push runs after the current task, or first thing in a flush; close writes it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const log = new PredictionLog({ dir, worker: "w6", flushMs: 60_000, batchSize: 1000 });
    log.later(() => log.push(entry(0)));
    equal(log.stats().pending, 0, "not before the current task ends");
    await new Promise((r) => setTimeout(r, 0));
    equal(log.stats().pending, 1, "after it");
    log.later(() => log.push(entry(1)));
    await log.flush(); // at once: the flush runs the deferred push first
    equal(log.stats().written, 2);
    log.later(() => log.push(entry(2)));
    log.later(() => {
      throw new Error("boom");
    });
    const errors = log.stats().writeErrors;
    await log.close();
    equal(log.stats().written, 3);
    equal(log.stats().writeErrors, errors + 1, "the push that threw is counted");
    const ids = (await Deno.readTextFile(`${dir}/model=churn/date=2025-01-02/w6-0.ndjson`)).trim().split("\n")
      .map((l) => JSON.parse(l).request_id);
    deepStrictEqual(ids, ["r0", "r1", "r2"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("prediction log: lines spanning many chunks, and one larger than a chunk, are written whole, in order, as UTF-8", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const log = new PredictionLog({ dir, worker: "w5", flushMs: 60_000, batchSize: 100_000 });
    const big = "Zürich ✓ ".repeat(40_000); // ~400 K UTF-16 units, over 1 MB of UTF-8: its own chunk
    const entries: LogEntry[] = [];
    for (let i = 0; i < 3000; i++) {
      entries.push({
        ...entry(i),
        inputs: { x: i, city: i === 1500 ? big : `Zürich-${i}-${"é".repeat(i % 50)}` },
      });
    }
    for (const e of entries) log.push(e);
    equal(log.stats().pending, 3000);
    await log.close();
    const text = await Deno.readTextFile(`${dir}/model=churn/date=2025-01-02/w5-0.ndjson`);
    const lines = text.split("\n");
    equal(lines.pop(), "", "ends with a newline");
    deepStrictEqual(lines, entries.map(logLine));
    deepStrictEqual(log.stats(), { written: 3000, writeErrors: 0, dropped: 0, pending: 0, lastError: null });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("prediction log: past the cap it drops the oldest down to 90% of it, not one line per push", () => {
  const log = new PredictionLog({
    dir: "/nonexistent-never-used",
    worker: "w4",
    flushMs: 60_000,
    batchSize: 1000,
    maxPending: 100,
    append: () => Promise.reject(new Error("EIO")),
  });
  for (let i = 0; i < 101; i++) log.push(entry(i));
  let s = log.stats();
  equal(s.pending, 90);
  equal(s.dropped, 11);
  for (let i = 101; i < 110; i++) log.push(entry(i));
  s = log.stats();
  equal(s.pending, 99, "under the cap again: nothing more dropped");
  equal(s.dropped, 11);
});

Deno.test("prediction log: lines encoded elsewhere go in order with pushed ones, count, drop past the cap, and after close", async () => {
  const dir = await Deno.makeTempDir();
  const enc = new TextEncoder();
  const encoded = (from: number, n: number) => {
    const lines = Array.from({ length: n }, (_, k) => logLine(entry(from + k)) + "\n");
    const bytes = enc.encode(lines.join("")), ends = new Int32Array(n);
    let at = 0;
    lines.forEach((l, k) => ends[k] = at += enc.encode(l).length);
    return { bytes, ends };
  };
  try {
    const log = new PredictionLog({ dir, worker: "w5", flushMs: 60_000, batchSize: 1000 });
    log.push(entry(0));
    const a = encoded(1, 3);
    log.pushEncoded("churn", "2025-01-02", a.bytes, a.ends);
    log.push(entry(4));
    equal(log.stats().pending, 5);
    await log.flush();
    const file = `${dir}/model=churn/date=2025-01-02/w5-0.ndjson`;
    deepStrictEqual(
      (await Deno.readTextFile(file)).trim().split("\n").map((l) => JSON.parse(l).request_id),
      ["r0", "r1", "r2", "r3", "r4"],
    );
    equal(log.stats().written, 5);
    await log.close();
    const b = encoded(7, 2);
    log.pushEncoded("churn", "2025-01-02", b.bytes, b.ends); // after close: written at once, counted
    ok((await Deno.readTextFile(`${dir}/model=churn/date=2025-01-02/w5-final.ndjson`)).includes('"r8"'));
    equal(log.stats().written, 7);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  // past the cap the oldest go, encoded lines as well as pushed ones
  const capped = new PredictionLog({
    dir: "/nonexistent-never-used",
    worker: "w6",
    flushMs: 60_000,
    batchSize: 1000,
    maxPending: 100,
    append: () => Promise.reject(new Error("EIO")),
  });
  const big = encoded(0, 101);
  capped.pushEncoded("churn", "2025-01-02", big.bytes, big.ends);
  deepStrictEqual([capped.stats().pending, capped.stats().dropped], [90, 11]);
});

Deno.test("readBodyText: UTF-8 with or without Content-Length; bytes that are not UTF-8, or U+FFFD, are a 400", async () => {
  const req = (bytes: Uint8Array<ArrayBuffer>, length: boolean) =>
    new Request("http://x/", {
      method: "POST",
      headers: length ? { "content-length": String(bytes.byteLength) } : {},
      body: length ? bytes : new Blob([bytes]).stream(),
    });
  const enc = new TextEncoder();
  for (const length of [true, false]) {
    equal(await readBodyText(req(enc.encode('{"city":"Zürich"}'), length), 1000), '{"city":"Zürich"}');
    for (const bad of [new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), enc.encode('{"a":"\uFFFD"}')]) {
      try {
        await readBodyText(req(bad, length), 1000);
        throw new Error(`accepted (${length ? "with" : "without"} Content-Length)`);
      } catch (e) {
        ok(e instanceof HttpError && e.status === 400, String(e));
        match(e.message, /not valid UTF-8/);
      }
    }
  }
});

Deno.test("readBodyText: reads in flight expire on their own deadlines; one that completes meanwhile is answered", async () => {
  // the reads in flight are one linked list: completions unlink from its head, middle and end
  const enc = new TextEncoder();
  const streams: ReadableStreamDefaultController<Uint8Array>[] = [];
  const read = (declared: boolean) => {
    const body = new ReadableStream<Uint8Array>({ start: (c) => void streams.push(c) });
    const req = new Request("http://x/", {
      method: "POST",
      headers: declared ? { "content-length": "7" } : {},
      body,
    });
    const t0 = performance.now();
    return readBodyText(req, { maxBytes: 1000, timeoutMs: 150 }).then(
      (text) => ({ text, status: 200, ms: performance.now() - t0 }),
      (e: HttpError) => ({ text: e.message, status: e.status, ms: performance.now() - t0 }),
    );
  };
  // the sweeper's timer is unref'd (a server's listener keeps the loop alive): this one keeps the test's
  const alive = setTimeout(() => {}, 10_000);
  try {
    for (const declared of [true, false]) {
      streams.length = 0;
      const reads = [0, 1, 2, 3, 4, 5].map(() => read(declared));
      const completes = [0, 2, 5]; // the first in, one in the middle, the last in
      await new Promise((r) => setTimeout(r, 20));
      for (const i of completes) {
        streams[i].enqueue(enc.encode(`{"i":${i}}`));
        streams[i].close();
      }
      const got = await Promise.all(reads);
      for (let i = 0; i < got.length; i++) {
        if (completes.includes(i)) {
          deepStrictEqual([got[i].status, got[i].text], [200, `{"i":${i}}`], `read ${i}`);
          ok(got[i].ms < 150, `read ${i} answered after ${got[i].ms.toFixed(0)} ms`);
        } else {
          equal(got[i].status, 408, `read ${i}: ${got[i].text}`);
          match(got[i].text, /not received within 150 ms/);
          ok(got[i].ms >= 145 && got[i].ms < 1000, `read ${i} expired after ${got[i].ms.toFixed(0)} ms`);
        }
      }
    }
  } finally {
    clearTimeout(alive);
  }
});

Deno.test("metrics: the workers' connection counts are summed; an app with no connection server has none", () => {
  const log = { written: 0, writeErrors: 0, dropped: 0, pending: 0, lastError: null };
  const a = new Metrics("a"), b = new Metrics("b");
  equal(renderMetrics([a.snapshot(null, log)]).includes("orchard_connections"), false);
  a.connections = () => ({ open: 3, idleClosed: 10, refused: 0 });
  b.connections = () => ({ open: 1, idleClosed: 290, refused: 2 });
  const text = renderMetrics([a.snapshot(null, log), b.snapshot(null, log)]);
  match(text, /^orchard_connections_open 4$/m);
  match(text, /^orchard_connections_idle_closed_total 300$/m);
  match(text, /^orchard_connections_refused_total 2$/m);
});

Deno.test("metrics: snapshots of several workers merge into one exposition", () => {
  const a = new Metrics("a"), b = new Metrics("b");
  a.observe("/predict", "POST", 200, 0.0004);
  a.observe("/predict", "POST", 200, 0.003);
  b.observe("/predict", "POST", 200, 7);
  b.observe("/predict", "POST", 422, 0.001);
  a.predicted("churn", "1", "Yes");
  b.predicted("churn", "1", "Yes");
  b.predicted("churn", "1", 'we"ird\\');
  const log = { written: 2, writeErrors: 0, dropped: 0, pending: 1, lastError: null };
  const text = renderMetrics([
    a.snapshot({ name: "churn", version: "1" }, log),
    b.snapshot({ name: "churn", version: "2" }, { ...log, lastError: "boom" }),
  ]);
  match(text, /orchard_http_requests_total\{route="\/predict",method="POST",status="200"\} 3\n/);
  match(text, /orchard_http_requests_total\{route="\/predict",method="POST",status="422"\} 1\n/);
  match(text, /duration_seconds_bucket\{route="\/predict",le="0.0005"\} 1\n/);
  match(text, /duration_seconds_bucket\{route="\/predict",le="0.005"\} 3\n/);
  match(text, /duration_seconds_bucket\{route="\/predict",le="5"\} 3\n/);
  match(text, /duration_seconds_bucket\{route="\/predict",le="\+Inf"\} 4\n/);
  match(text, /duration_seconds_count\{route="\/predict"\} 4\n/);
  match(text, /orchard_predictions_total\{model="churn",version="1",class="Yes"\} 2\n/);
  ok(text.includes('class="we\\"ird\\\\"} 1'));
  match(
    text,
    /orchard_model_info\{model="churn",version="1"\} 1\norchard_model_info\{model="churn",version="2"\} 1\n/,
  );
  match(text, /orchard_workers 2\n/);
  match(text, /orchard_prediction_log_pending 2\n/);
  match(text, /orchard_prediction_log_failing 1\n/);
  // every sample line is "name{labels} number"
  for (const line of text.trim().split("\n")) {
    ok(line.startsWith("#") || /^[a-z_]+(\{.*\})? -?[0-9.e+-]+$/.test(line), line);
  }
});

const sig: Signature = {
  inputs: [
    { name: "n", kind: "numeric", nullable: false },
    { name: "c", kind: "categorical", categories: ["a", "b"], nullable: false },
    { name: "b", kind: "boolean", nullable: true },
    { name: "d", kind: "datetime", nullable: true },
  ],
  target: { name: "y", kind: "classification", classes: ["0", "1"] },
};

Deno.test("validation: kinds, nulls, extras, and one problem per field", () => {
  const v = buildValidator(sig);
  deepStrictEqual(v.one({ n: 1.5, c: "zz", b: true, d: "2024-03-01", extra: 1 }), {
    n: 1.5,
    c: "zz",
    b: true,
    d: "2024-03-01",
  });
  deepStrictEqual(v.one({ n: null, c: "3", b: 0, d: 1700000000000 }), {
    n: null,
    c: "3",
    b: 0,
    d: 1700000000000,
  });
  // a number or boolean where the training levels are words is mistyped
  for (const c of [3, true]) {
    throws(
      () => v.one({ n: 1, c, b: null, d: null }),
      (e: HttpError) =>
        e.status === 422 && e.details!.length === 1 && e.details![0].field === "c" &&
        /expected a string/.test(e.details![0].message),
    );
  }
  // coded levels ("1", "2") may come unquoted
  const coded = buildValidator({
    ...sig,
    inputs: [{ name: "c", kind: "categorical", categories: ["1", "2"], nullable: false }],
  });
  deepStrictEqual(coded.one({ c: 2 }), { c: 2 });
  deepStrictEqual(coded.one({ c: "7" }), { c: "7" });
  throws(() => coded.one({ c: [2] }), (e: HttpError) => e.status === 422);
  deepStrictEqual(v.one({ n: 2, c: "a", b: "yes", d: "2024-03-01T10:00:00Z" }).b, "yes");
  // every bad field is named, not just the first (a validator function returning true means it matched)
  throws(() => v.one({ n: "1", c: [], b: 2, d: "March" }), (e) => {
    ok(e instanceof HttpError);
    equal(e.status, 422);
    deepStrictEqual(e.details!.map((d) => d.field), ["n", "c", "b", "d"]);
    return true;
  });
  throws(() => v.many([{ n: 1, c: "a", b: null, d: null }, {}], 10), (e) => {
    ok(e instanceof HttpError);
    deepStrictEqual(e.details!.map((d) => [d.record, d.field]), [
      [1, "n"],
      [1, "c"],
      [1, "b"],
      [1, "d"],
    ]);
    ok(e.details!.every((d) => /missing/.test(d.message)));
    return true;
  });
  throws(() => v.many([], 10), (e: HttpError) => e.status === 422);
  throws(() => v.many([{}, {}, {}], 2), (e: HttpError) => e.status === 413);
  throws(() => v.body("x", 10), (e: HttpError) => e.status === 422);
});

Deno.test("mlflow: each input format becomes records; CSV cells are typed by the signature", () => {
  const cols = ["n", "c", "b", "d"];
  const want = [{ n: 1, c: "a", b: true, d: null }, { n: 2, c: "b", b: false, d: null }];
  deepStrictEqual(
    parseMlflowJson({
      dataframe_split: { columns: cols, data: [[1, "a", true, null], [2, "b", false, null]] },
    }, cols),
    want,
  );
  deepStrictEqual(parseMlflowJson({ dataframe_split: { data: [[1, "a", true, null]] } }, cols), [want[0]]);
  deepStrictEqual(parseMlflowJson({ dataframe_records: want }, cols), want);
  deepStrictEqual(parseMlflowJson({ instances: want }, cols), want);
  deepStrictEqual(
    parseMlflowJson({ inputs: { n: [1, 2], c: ["a", "b"], b: [true, false], d: [null, null] } }, cols),
    want,
  );
  deepStrictEqual(parseMlflowJson({ inputs: { n: 1, c: "a", b: true, d: null } }, cols), [want[0]]);
  for (
    const bad of [null, [], { x: 1 }, { instances: 5 }, {
      dataframe_split: { columns: ["n"], data: [[1, 2]] },
    }]
  ) {
    throws(() => parseMlflowJson(bad, cols), (e: HttpError) => e.status === 400, JSON.stringify(bad));
  }
  deepStrictEqual(parseCsv('a,b\n"x, ""y""",2\r\n\n3,\n'), [["a", "b"], ['x, "y"', "2"], ["3", ""]]);
  deepStrictEqual(parseMlflowCsv("n,c,b,d,z\n1.5,a,true,,q\nNA,b,0,2024-01-01,r\n", sig.inputs), [
    { n: 1.5, c: "a", b: "true", d: null },
    { n: null, c: "b", b: "0", d: "2024-01-01" },
  ]);
  deepStrictEqual(parseMlflowCsv("n,c\nabc,a\n", sig.inputs), [{ n: "abc", c: "a" }]); // left for the validator to name
  throws(() => parseMlflowCsv("n,n\n1,2\n", sig.inputs), (e: HttpError) => e.status === 400);
  throws(() => parseMlflowCsv("n,c\n1\n", sig.inputs), (e: HttpError) => e.status === 400);
});

Deno.test("http helpers: media type and request ids", () => {
  equal(mediaType("Application/JSON; charset=utf-8"), "application/json");
  equal(mediaType(null), "");
  equal(requestIdFrom("ok-id_1.2:3"), "ok-id_1.2:3");
  match(requestIdFrom("bad id"), /^[0-9a-f-]{36}$/);
  match(requestIdFrom("x".repeat(200)), /^[0-9a-f-]{36}$/);
});

Deno.test("http helpers: a JSON body, an empty or blank one, a malformed one", () => {
  deepStrictEqual(parseJsonBody(' {"a": [1, "x"]}\n'), { a: [1, "x"] });
  for (const blank of ["", " ", "\r\n\t "]) {
    throws(
      () => parseJsonBody(blank),
      (e: HttpError) => e.status === 400 && e.message === "request body is empty, expected JSON",
    );
  }
  throws(
    () => parseJsonBody('{"a":'),
    (e: HttpError) => e.status === 400 && e.message.startsWith("malformed JSON: "),
  );
});

Deno.test("prediction log: a request id the service made or accepted is its line's JSON text as it is", () => {
  const ts = Date.UTC(2026, 11, 4, 21, 0, 0, 5);
  for (const id of [requestIdFrom(null), requestIdFrom("ok-id_1.2:3"), requestIdFrom("x".repeat(128))]) {
    equal(logHead(ts, id, true), logHead(ts, id));
    equal(JSON.parse(logHead(ts, id, true) + "}").request_id, id);
  }
  // any other id is stringified (escaped)
  equal(JSON.parse(logHead(ts, 'a"b\n') + "}").request_id, 'a"b\n');
});

Deno.test("launch: the runner's workers on one port, with least permissions", () => {
  const config = ConfigSchema.parse({ serve: { port: 9000 } });
  const c = serveCommand({
    config,
    port: "8123",
    host: "127.0.0.1",
    workers: 2,
    modelUri: "models:/churn/3",
  });
  equal(c.port, 8123);
  deepStrictEqual(c.args.slice(0, 2), ["run", "--no-prompt"]);
  const runner = c.args.findIndex((a) => a.endsWith("/src/serve/runner.ts"));
  ok(runner > 0, String(c.args));
  deepStrictEqual(c.args.slice(runner + 1), ["--host=127.0.0.1", "--port=8123", "--workers=2"]);
  ok(c.args.includes("--allow-net=127.0.0.1:8123"));
  ok(
    !c.args.some((a) =>
      a === "-A" || a === "--allow-all" || a === "--allow-run" || a.startsWith("--allow-ffi")
    ),
  );
  const write = c.args.find((a) => a.startsWith("--allow-write="))!;
  ok(write.includes("/data/predictions") && write.includes("/models"));
  ok(c.args.find((a) => a.startsWith("--allow-env="))!.includes("ORCHARD_ADMIN_TOKEN"));
  equal(c.env.MODEL_URI, "models:/churn/3");
  // the workers read Orchard's source (their module graph), and nothing outside the grants
  const read = c.args.find((a) => a.startsWith("--allow-read="))!.split("=")[1].split(",");
  ok(read.some((p) => p.endsWith("/src")), String(read));
  equal(serveCommand({ config }).port, 9000);
  // a bad port names what gave it: PORT from the environment, or --port
  throws(
    () => serveCommand({ config, port: "abc", portSource: "PORT" }),
    /^UserError: PORT = "abc": expected a port/,
  );
  throws(() => serveCommand({ config, port: "-1", portSource: "--port" }), /^UserError: --port = "-1"/);
  // V8's young generation: serve.max_semi_space_mb (default 64), none with null
  // V8: serve.max_semi_space_mb (default 64) and serve.single_threaded_gc (default true), none when off
  ok(c.args.includes("--v8-flags=--max-semi-space-size=64,--single-threaded-gc"), String(c.args));
  const v8 = (serve: Record<string, unknown>) =>
    serveCommand({ config: ConfigSchema.parse({ serve }) }).args.filter((a) => a.startsWith("--v8-flags"));
  deepStrictEqual(v8({ max_semi_space_mb: 16 }), [
    "--v8-flags=--max-semi-space-size=16,--single-threaded-gc",
  ]);
  deepStrictEqual(v8({ max_semi_space_mb: null }), ["--v8-flags=--single-threaded-gc"]);
  // serve.engine plain: the runner's --engine (one worker on Deno.serve); guarded, the default, adds nothing
  ok(!c.args.some((a) => a.startsWith("--engine")), String(c.args));
  const plain = serveCommand({ config: ConfigSchema.parse({ serve: { engine: "plain" } }) }).args;
  equal(plain.at(-1), "--engine=plain");
  deepStrictEqual(v8({ max_semi_space_mb: null, single_threaded_gc: false }), []);
  throws(() => serveCommand({ config, port: "http" }), /expected a port/);
  throws(() => serveCommand({ config, port: "70000" }), /expected a port/);
});

Deno.test("serveCommand grants the prediction log's folder from ORCHARD_PREDICTIONS_DIR, and a PostgreSQL store's address", () => {
  const config = ConfigSchema.parse({ tracking: { uri: "postgresql://u:pw@db.example:6543/orchard" } });
  Deno.env.set("ORCHARD_PREDICTIONS_DIR", "/srv/predictions");
  try {
    const c = serveCommand({ config, port: "8123", host: "127.0.0.1", modelUri: "models:/churn/3" });
    const write = c.args.find((a) => a.startsWith("--allow-write="))!;
    ok(write.split("=")[1].split(",").includes("/srv/predictions"), write);
    ok(c.args.includes("--allow-net=127.0.0.1:8123,db.example:6543"), String(c.args));
    equal(c.env.ORCHARD_TRACKING_URI, "postgresql://u:pw@db.example:6543/orchard");
    ok(c.args.find((a) => a.startsWith("--allow-env="))!.includes("PGPASSWORD"));
  } finally {
    Deno.env.delete("ORCHARD_PREDICTIONS_DIR");
  }
});

Deno.test("prediction log: a line's time is toISOString's, whatever the millisecond (cached per second)", () => {
  const head = (ts: number) => logHead(ts, "r1");
  const want = (ts: number) => `{"ts":"${new Date(ts).toISOString()}","request_id":"r1"`;
  // the same second, then its neighbours, then anywhere: every ts alike
  const base = Date.UTC(2026, 11, 3, 6, 7, 18);
  for (
    const ts of [
      base,
      base + 1,
      base + 9,
      base + 10,
      base + 99,
      base + 100,
      base + 999,
      base + 1000,
      base - 1,
    ]
  ) {
    equal(head(ts), want(ts));
  }
  fc.assert(
    fc.property(fc.integer({ min: -62_000_000_000_000, max: 8_640_000_000_000_000 }), (ts) => {
      equal(head(ts), want(ts));
      equal(logDay(ts), new Date(ts).toISOString().slice(0, 10));
    }),
    { numRuns: 2000 },
  );
  equal(head(253402300800000), want(253402300800000)); // year 10000: +010000-01-01...
  equal(head(1.5), want(1.5));
});

Deno.test("validation: a date the calendar does not have is a 422 naming the field, in words, not scored as missing", () => {
  const v = buildValidator(sig);
  const base = { n: 1, c: "a", b: null };
  for (
    const d of [
      "2023-13-45",
      "0000-00-00",
      "2023-02-30",
      "2023-06-31",
      "2023-06-01T25:61:61Z",
      "9999-99-99T99:99",
    ]
  ) {
    throws(() => v.one({ ...base, d }), (e: HttpError) => {
      equal(e.status, 422, d);
      deepStrictEqual(e.details!.map((p) => p.field), ["d"], d);
      match(e.details![0].message, /expected an ISO 8601 date or epoch milliseconds/, d);
      return true;
    });
    // the batch path (typed columns) refuses it too
    throws(() => v.table([{ ...base, d }], 10), (e: HttpError) => e.status === 422, d);
  }
  // real dates still pass: a leap day, the end of a month, a zone offset, year 0
  for (const d of ["2024-02-29", "2023-04-30T23:59:59.999Z", "2023-06-01T10:00+05:30", "0000-01-01"]) {
    deepStrictEqual(v.one({ ...base, d }).d, d);
  }
  // a boolean that is none of the words is named in words, not as zod's pattern
  throws(() => v.one({ ...base, b: "maybe", d: null }), (e: HttpError) => {
    match(e.details![0].message, /^expected a boolean \(true\/false, 0\/1\), got string "maybe"$/);
    return true;
  });
});

Deno.test("validation: the problem count is every problem, though only the first 100 are listed", () => {
  const v = buildValidator(sig);
  // 4 missing fields in each of 40 records: 160 problems
  for (const check of [() => v.many(Array(40).fill({}), 100), () => v.table(Array(40).fill({}), 100)]) {
    throws(check, (e: HttpError) => {
      match(e.message, /^invalid input: 160 problems \(/);
      equal(e.details!.length, 100);
      return true;
    });
  }
});

Deno.test("mlflow CSV: a datetime cell of epoch milliseconds is a number, as in JSON; boolean and date cells are trimmed", () => {
  deepStrictEqual(parseMlflowCsv("n,c,b,d\n1, a , true , 1685577600000\n2,b,0, 2024-01-01 \n", sig.inputs), [
    { n: 1, c: " a ", b: "true", d: 1685577600000 },
    { n: 2, c: "b", b: "0", d: "2024-01-01" },
  ]);
  const v = buildValidator(sig);
  deepStrictEqual(v.many(parseMlflowCsv("n,c,b,d\n1,a, true, 1685577600000\n", sig.inputs), 10), [
    { n: 1, c: "a", b: "true", d: 1685577600000 },
  ]);
});

Deno.test("validation: the record's JSON Schema (what /openapi.json publishes) takes the boolean words in any case, as the validator does", () => {
  const v = buildValidator(sig);
  const schema = z.toJSONSchema(v.record, { io: "input", unrepresentable: "any" }) as {
    properties: Record<string, { anyOf?: { type?: string; pattern?: string; anyOf?: unknown[] }[] }>;
  };
  // JSON Schema patterns carry no flags: the pattern itself must be the whole set
  const patterns = JSON.stringify(schema.properties.b).match(/"pattern":"((?:[^"\\]|\\.)*)"/g) ?? [];
  equal(patterns.length, 1, JSON.stringify(schema.properties.b));
  const pattern = new RegExp(JSON.parse(`{${patterns[0]}}`).pattern);
  for (const word of ["TRUE", "Yes", "y", "F", "no", "1", "0", "tRuE"]) {
    ok(pattern.test(word), word);
    deepStrictEqual(v.one({ n: 1, c: "a", b: word, d: null }).b, word);
  }
  for (const word of ["maybe", "2", "yess", ""]) ok(!pattern.test(word), word);
});
