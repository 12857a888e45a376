/**
 * bench:serve-path — where a POST /predict spends its time inside the app, in
 * process (no HTTP server, no load generator). Use it to see what a change to
 * the hot path costs; the end-to-end figures come from bench:serve (wrk).
 *
 * 1. One record: each stage of the hot path timed on its own (parse, the
 *    compiled validator against zod, scoreTable, the answer and the log line,
 *    the Response with the envelope's headers appended against in its init),
 *    then the whole app.fetch for /predict (prediction log on) and /health.
 * 2. A batch of 10,000 records (default: the model's training table, cycled):
 *    the typed-array path (validator.table, one matrix, one predict, text
 *    written from the arrays) stage by stage against the per-record path it
 *    replaced (zod per record, predictRecords, a Prediction object and
 *    JSON.stringify per record), then app.fetch for the batch, log on.
 * 3. Explanations: app.fetch for /predict?explain=true on one record and on
 *    batches of 100, 1,000 and 10,000.
 * 4. With --middleware: the hand-written envelope against Hono's middleware
 *    (hono/request-id, hono/secure-headers, hono/body-limit) in interleaved
 *    paired rounds, and hono/bearer-auth on an admin request (the figures in
 *    the comments of src/serve/envelope.ts and src/serve/http.ts).
 *
 * Times are medians of rounds (the machine is shared: the minimum is printed
 * beside the median).
 *
 *   deno task bench:serve-path [model-uri] [--records FILE] [--batch N] [--middleware]
 */
import { type Context, Hono } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { bodyLimit } from "hono/body-limit";
import { requestId } from "hono/request-id";
import { secureHeaders } from "hono/secure-headers";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { loadConfig } from "../src/config/load.ts";
import { trackingLocation } from "../src/config/paths.ts";
import process from "node:process";
import { parseArgs } from "node:util";
import {
  type Env,
  JSON_TYPE,
  reply,
  REQUEST_ID_OPTIONS,
  SECURE_HEADER_OPTIONS,
} from "../src/serve/envelope.ts";
import { ERROR_CODES } from "../src/serve/errors.ts";
import { ModelHolder } from "../src/serve/holder.ts";
import { HttpError, mediaType, parseJsonBody, readBodyText, requestIdFrom } from "../src/serve/http.ts";
import { registryLoader } from "../src/registry/loader.ts";
import { Metrics } from "../src/serve/metrics.ts";
import { logHead, logLine, PredictionLog } from "../src/serve/predlog.ts";
import { createApp } from "../src/serve/routes.ts";
import { predictValidated, scoreTable, TableWriter } from "../src/serve/scoring.ts";
import { BatchSplitter } from "../src/serve/split.ts";
import { explainRefusal } from "../src/serve/explain.ts";
import type { LoadedModel } from "../src/models/artifact.ts";
import { readTable } from "../src/data/io.ts";
import { median } from "./_stats.ts";

const { values: flags, positionals } = parseArgs({
  args: Deno.args,
  options: {
    records: { type: "string" },
    batch: { type: "string", default: "10000" },
    middleware: { type: "boolean", default: false },
  },
  allowPositionals: true,
});
const config = loadConfig();
const uri = positionals[0] ?? config.serve.model_uri;
const holder = new ModelHolder({
  uri,
  loader: registryLoader({ store: trackingLocation(config), modelsDir: config.paths.models }),
});
const loaded = await holder.reload();
if (loaded.error) {
  console.error(`bench:serve-path: ${loaded.error}`);
  console.error(
    "bench:serve-path needs a registered model: run `deno task pipeline` first, or pass a model URI",
  );
  Deno.exit(2);
}
const m = holder.current!;
const lm = m.model as unknown as LoadedModel;
// one record from the artifact's input example
const inputExample = JSON.parse(await Deno.readTextFile(`${m.dir}/input_example.json`));
const record = Array.isArray(inputExample) ? inputExample[0] : inputExample;
const text = JSON.stringify(record);

/** The headers the hand-written envelope put on every response (now SECURE_HEADER_OPTIONS + no-store). */
const HAND_SECURE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  "strict-transport-security": "max-age=15552000; includeSubDomains",
  "x-permitted-cross-domain-policies": "none",
  "cache-control": "no-store",
});

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

/** µs per call: the median (and min) of `rounds` rounds of n calls, after a warm-up. */
function time(label: string, n: number, f: () => unknown, rounds = 15): number {
  for (let i = 0; i < Math.min(n, 2000); i++) f();
  const per: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) f();
    per.push((performance.now() - t0) / n * 1000);
  }
  const med = median(per);
  console.log(`${label.padEnd(46)} ${med.toFixed(2).padStart(9)} µs  (min ${Math.min(...per).toFixed(2)})`);
  return med;
}
/** µs per call of f, n calls after a warm-up. */
async function perCall(n: number, f: () => Promise<unknown>, warm = Math.min(n, 2000)): Promise<number> {
  for (let i = 0; i < warm; i++) await f();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await f();
  return (performance.now() - t0) / n * 1000;
}
async function timeAsync(label: string, n: number, f: () => Promise<unknown>, rounds = 15): Promise<number> {
  await perCall(Math.min(n, 500), f);
  const per: number[] = [];
  for (let r = 0; r < rounds; r++) per.push(await perCall(n, f, 0));
  const med = median(per);
  const unit = med >= 10_000 ? "ms" : "µs", k = unit === "ms" ? 1000 : 1;
  console.log(
    `${label.padEnd(46)} ${(med / k).toFixed(2).padStart(9)} ${unit}  (min ${
      (Math.min(...per) / k).toFixed(2)
    })`,
  );
  return med;
}
const results: Record<string, number> = {};

console.log(`model ${m.name} version ${m.version} (${m.dir}, engine ${lm.manifest?.engine ?? "?"})`);
console.log(`\n1. one record of ${text.length} bytes (the artifact's input example)`);
const parsed = JSON.parse(text);
const records = [m.validator.one(record)];
const preds = m.model.predictRecords(records);
time("JSON.parse body", 20000, () => JSON.parse(text));
time("zod (the schema, one record)", 20000, () => m.validator.record.safeParse(parsed));
results.validate_one_us = time(
  "compiled validator: table (one record)",
  20000,
  () => m.validator.table(parsed, 1000),
);
const cols1 = m.validator.table(parsed, 1000);
time("predictRecords (per record: preprocess+model)", 5000, () => m.model.predictRecords(records));
results.score_one_us = time(
  "scoreTable (one matrix: preprocess+model)",
  5000,
  () => scoreTable(m, cols1, [parsed]),
);
time(
  "scoreTable, one record as the service scores it (reuse)",
  5000,
  () => scoreTable(m, cols1, [parsed], { reuse: true }),
);
const t1 = scoreTable(m, cols1, [parsed]);
const w = TableWriter.of(m);
time(
  "answer text, per record (JSON.stringify)",
  20000,
  () => JSON.stringify({ model: m.name, version: m.version, predictions: preds }),
);
time("answer text, from the arrays (TableWriter)", 20000, () => {
  const p = w.probabilities(t1, 0);
  return w.headOf("bench") + w.predictionObject(t1, 0, p) + "]}";
});
time("log line, per record (logLine)", 20000, () =>
  logLine({
    ts: Date.now(),
    requestId: "0b6f9b1e-6d0e-4c49-9d0a-3f1c2d7e8a90",
    model: m.name,
    version: m.version,
    inputs: records[0],
    prediction: preds[0].prediction,
    probabilities: preds[0].probabilities,
  }));
time(
  "log line, from the arrays (TableWriter)",
  20000,
  () => w.logLine(logHead(Date.now(), "0b6f9b1e-6d0e-4c49-9d0a-3f1c2d7e8a90"), t1, 0, w.probabilities(t1, 0)),
);
time("Response, 11 headers in the init", 20000, () =>
  new Response("{}", {
    headers: { ...HAND_SECURE_HEADERS, "content-type": "application/json", "x-request-id": "x" },
  }));
time("Response, envelope.ts reply (headers appended)", 20000, () => reply("{}", 200, "x"));

const MAX_BODY = 16 * 1024 * 1024, BATCH = Number(flags.batch);
const logDir = await Deno.makeTempDir({ dir: "data", prefix: ".bench-serve-path-log-" });
const log = new PredictionLog({ dir: logDir, worker: "bench", flushMs: 200, batchSize: 1000 }).start();
/** the service's app around the served model, the log on; with a splitter, large batches on two threads */
const benchApp = (splitter: BatchSplitter | null = null) =>
  createApp({
    holder,
    metrics: new Metrics("bench"),
    worker: "bench",
    maxBatch: Math.max(BATCH, 10_000),
    maxBodyBytes: MAX_BODY,
    readTimeoutMs: config.serve.read_timeout_ms,
    log,
    splitter,
  });
const app = benchApp();
const post = (body: string, path = "/predict") => () =>
  new Request(`http://x${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", "content-length": String(body.length) },
    body,
  });
const predictRequest = post(text);
const fetchAll = (a: { fetch(r: Request): Response | Promise<Response> }, r: () => Request) => async () => {
  const res = await a.fetch(r());
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`bench:serve-path: ${res.status} ${new URL(r().url).pathname}`);
};
results.fetch_one_us = await timeAsync(
  "app.fetch POST /predict (log on)",
  2000,
  fetchAll(app, predictRequest),
);
{
  const f = fetchAll(app, predictRequest), per: number[] = [];
  for (let r = 0; r < 15; r++) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < 2000; i++) await f();
    const c = process.cpuUsage(c0);
    per.push((c.user + c.system) / 2000);
  }
  results.fetch_one_cpu_us = median(per);
  console.log(
    `${"  the same, CPU time of the process".padEnd(46)} ${median(per).toFixed(2).padStart(9)} µs  (min ${
      Math.min(...per).toFixed(2)
    })`,
  );
}
await timeAsync("app.fetch GET /health", 2000, fetchAll(app, () => new Request("http://x/health")));

// ---- 2. a batch ------------------------------------------------------------------------------------

const names = m.validator.columns.map((c) => c.name);
const source = flags.records ?? lm.lineage?.data?.train?.path;
let pool: Record<string, unknown>[] = Array.isArray(inputExample) ? inputExample : [inputExample];
let from = "the artifact's input example";
if (source) {
  try {
    const df = readTable(source);
    pool = (df.select(...names.filter((n) =>
      df.columns.includes(n)
    )).toRecords() as Record<string, unknown>[])
      .map((r) => {
        const o: Record<string, unknown> = {};
        for (const n of names) {
          const v = r[n];
          o[n] = typeof v === "bigint" ? Number(v) : v instanceof Date ? v.toISOString() : v ?? null;
        }
        return o;
      });
    from = `${source} (${pool.length} rows)`;
  } catch (e) {
    console.error(
      `bench:serve-path: cannot read ${source} (${
        (e as Error).message.split("\n")[0]
      }); using the input example`,
    );
  }
}
const batch = Array.from({ length: BATCH }, (_, i) => pool[i % pool.length]);
const batchText = JSON.stringify(batch);
console.log(
  `\n2. a batch of ${BATCH.toLocaleString("en")} records from ${from}, ${
    (batchText.length / 1e6).toFixed(2)
  } MB`,
);
const ms = (label: string, f: () => unknown, rounds = 9) => {
  f();
  const per: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    f();
    per.push(performance.now() - t0);
  }
  const med = median(per);
  console.log(`${label.padEnd(46)} ${med.toFixed(2).padStart(9)} ms  (min ${Math.min(...per).toFixed(2)})`);
  return med;
};
const batchParsed = JSON.parse(batchText);
ms("JSON.parse body", () => JSON.parse(batchText));
const before = {
  validate: ms("per record: zod per record (the old validator)", () => {
    const out = [];
    for (const r of batchParsed) out.push(m.validator.record.parse(r));
    return out;
  }),
};
const batchRecords = m.validator.many(batchParsed, BATCH);
const after = { validate: ms("typed: validator.table", () => m.validator.table(batchParsed, BATCH)) };
const cols = m.validator.table(batchParsed, BATCH);
Object.assign(before, {
  transform: ms("per record: transformRecords", () => lm.preprocessor.transformRecords(batchRecords)),
});
const byName = Object.fromEntries(names.map((n, j) => [n, cols[j]]));
Object.assign(after, {
  transform: ms("typed: Preprocessor.transform (columns)", () => lm.preprocessor.transform(byName, BATCH)),
});
const X = lm.preprocessor.transform(byName, BATCH);
ms(
  "engine predict over the matrix",
  () => lm.estimator.predictProba ? lm.estimator.predictProba(X) : lm.estimator.predict(X),
);
const batchPreds = m.model.predictRecords(batchRecords);
Object.assign(before, {
  objects: ms(
    "per record: predictRecords (+ Prediction objects)",
    () => m.model.predictRecords(batchRecords),
  ),
  answer: ms(
    "per record: answer JSON.stringify",
    () => JSON.stringify({ model: m.name, version: m.version, predictions: batchPreds }),
  ),
  log: ms("per record: log lines (logLine)", () => {
    const ts = Date.now();
    for (let i = 0; i < BATCH; i++) {
      logLine({
        ts,
        requestId: "r",
        model: m.name,
        version: m.version,
        inputs: batchRecords[i],
        prediction: batchPreds[i].prediction,
        probabilities: batchPreds[i].probabilities,
      });
    }
  }),
});
Object.assign(after, {
  score: ms("typed: scoreTable (transform + predict + decide)", () => scoreTable(m, cols, batchParsed)),
});
const tb = scoreTable(m, cols, batchParsed);
const probs = Array.from({ length: BATCH }, (_, i) => w.probabilities(tb, i));
Object.assign(after, {
  answer: ms("typed: answer text (TableWriter)", () => {
    let s = w.headOf("bench");
    for (let i = 0; i < BATCH; i++) s += (i ? "," : "") + w.predictionObject(tb, i, w.probabilities(tb, i));
    return (s + "]}").length;
  }),
  log: ms("typed: log lines (TableWriter)", () => {
    const head = logHead(Date.now(), "r");
    let n = 0;
    for (let i = 0; i < BATCH; i++) n += w.logLine(head, tb, i, probs[i]).length;
    return n;
  }),
});
const oldPath = () => { // the per-record path as it was: validate, score, log lines, answer
  const body = JSON.parse(batchText);
  const recs = m.validator.body(body, BATCH);
  const out = predictValidated(m, recs);
  const ts = Date.now();
  for (let i = 0; i < out.length; i++) {
    logLine({
      ts,
      requestId: "r",
      model: m.name,
      version: m.version,
      inputs: recs[i],
      prediction: out[i].prediction,
      probabilities: out[i].probabilities,
    });
  }
  return JSON.stringify({ model: m.name, version: m.version, predictions: out }).length;
};
results.batch_per_record_path_ms = ms("per record path, whole (parse..answer, no HTTP)", () => oldPath());
// the same app with the service's batch splitter (split.ts: the second half on a helper thread)
const splitter = new BatchSplitter({ minBytes: config.serve.split_batch_bytes || 1_000_000 });
const splitApp = benchApp(splitter);
const batchFetch = fetchAll(app, post(batchText)), splitFetch = fetchAll(splitApp, post(batchText));
const fetchTimes: number[] = [], fetchCpu: number[] = [], splitTimes: number[] = [];
await batchFetch();
// the helper loads the model on the first large batch and is used once it holds it
for (let k = 0; k < 100 && splitter.wants(batchText.length, false) && splitter.splits === 0; k++) {
  await splitFetch();
  await new Promise((r) => setTimeout(r, 50));
}
const splitOk = splitter.splits > 0;
for (let k = 0; splitOk && k < 10; k++) await splitFetch(); // the helper's code warmed up too
// interleaved rounds: one thread, then two
for (let r = 0; r < 15; r++) {
  const t0 = performance.now(), c0 = process.cpuUsage();
  await batchFetch();
  const c = process.cpuUsage(c0);
  fetchTimes.push(performance.now() - t0);
  fetchCpu.push((c.user + c.system) / 1000);
  await log.flush(); // the log's write between requests, as its timer would
  if (!splitOk) continue;
  const t1 = performance.now();
  await splitFetch();
  splitTimes.push(performance.now() - t1);
  await log.flush();
}
results.batch_fetch_ms = median(fetchTimes);
results.batch_fetch_cpu_ms = median(fetchCpu);
console.log(
  `${`app.fetch POST /predict, ${BATCH.toLocaleString("en")} records (log on)`.padEnd(46)} ${
    results.batch_fetch_ms.toFixed(2).padStart(9)
  } ms  (min ${Math.min(...fetchTimes).toFixed(2)}; 15 requests)`,
);
// on a shared machine the wall time waits for a core; the process's CPU time per request does not
// (it counts V8's helper threads too, so it is if anything an overestimate)
console.log(
  `${"  the same, CPU time of the process".padEnd(46)} ${
    results.batch_fetch_cpu_ms.toFixed(2).padStart(9)
  } ms  (min ${Math.min(...fetchCpu).toFixed(2)})`,
);
if (splitOk) {
  results.batch_fetch_split_ms = median(splitTimes);
  console.log(
    `${"  the same, split on two threads (split.ts)".padEnd(46)} ${
      results.batch_fetch_split_ms.toFixed(2).padStart(9)
    } ms  (min ${Math.min(...splitTimes).toFixed(2)}; 15 requests, interleaved)`,
  );
} else {
  console.log(
    `  the same, split on two threads: not measured (${
      splitter.wants(batchText.length, false)
        ? "the helper did not take the model"
        : "the body is under serve.split_batch_bytes"
    })`,
  );
}

// ---- 3. explanations --------------------------------------------------------------------------------

console.log("\n3. /predict?explain=true (top 5 contributions per record), app.fetch, log on");
if (explainRefusal(m)) console.log(`   skipped: ${explainRefusal(m)}`);
else {
  results.explain_one_us = await timeAsync(
    "explain, one record",
    300,
    fetchAll(app, post(text, "/predict?explain=true")),
    9,
  );
  let slow = results.explain_one_us > 10_000; // a forest's TreeSHAP can take 100 ms a record
  for (const n of [100, 1000, BATCH]) {
    if (slow) {
      console.log(
        `${
          `explain, a batch of ${n.toLocaleString("en")}`.padEnd(46)
        }   skipped (the last one took over 2 s)`,
      );
      continue;
    }
    const body = JSON.stringify(batch.slice(0, n));
    const f = fetchAll(app, post(body, "/predict?explain=true"));
    const g = fetchAll(splitApp, post(body, "/predict?explain=true"));
    const split = splitOk && splitter.wants(body.length, true);
    await f();
    if (split) await g();
    const per: number[] = [], perSplit: number[] = [];
    // interleaved: one thread, then split over two (when the body is large enough to be split)
    for (let r = 0; r < (n >= 10_000 || slow ? 3 : 7); r++) {
      const t0 = performance.now();
      await f();
      per.push(performance.now() - t0);
      await log.flush();
      if (!split) continue;
      const t1 = performance.now();
      await g();
      perSplit.push(performance.now() - t1);
      await log.flush();
    }
    results[`explain_${n}_ms`] = median(per);
    slow = median(per) > 2000;
    console.log(
      `${`explain, a batch of ${n.toLocaleString("en")}`.padEnd(46)} ${
        median(per).toFixed(2).padStart(9)
      } ms  (min ${Math.min(...per).toFixed(2)}; ${per.length} requests)`,
    );
    if (split) {
      results[`explain_${n}_split_ms`] = median(perSplit);
      console.log(
        `${"  the same, split on two threads".padEnd(46)} ${
          median(perSplit).toFixed(2).padStart(9)
        } ms  (min ${Math.min(...perSplit).toFixed(2)})`,
      );
    }
  }
}
splitter.close();
await log.close();
await Deno.remove(logDir, { recursive: true });
console.log(
  `\nRESULT ${
    JSON.stringify({
      model: m.name,
      version: m.version,
      engine: lm.manifest?.engine,
      batch: BATCH,
      ...results,
    })
  }`,
);
if (!flags.middleware) {
  holder.stop();
  Deno.exit(0);
}

// ---- ours against Hono's middleware, same run --------------------------------------------------

type Piece = "request-id" | "secure-headers" | "body-limit";

/**
 * The service's POST /predict path with the envelope before the move to Hono's middleware
 * (the reference), with the pieces in `hono` swapped for Hono's. The handler is the service's.
 */
function variant(hono: ReadonlySet<Piece>): Hono<Env> {
  const honoId = hono.has("request-id"), honoHeaders = hono.has("secure-headers");
  const metrics = new Metrics("bench");
  const a = new Hono<Env>();
  const reply = (c: Context<Env>, status: number, body: string, extra?: Record<string, string>) => {
    const h: Record<string, string> = honoHeaders
      ? { "content-type": JSON_TYPE }
      : { ...HAND_SECURE_HEADERS, "content-type": JSON_TYPE };
    if (!honoId) h["x-request-id"] = c.get("requestId");
    if (extra) Object.assign(h, extra);
    // Hono's request id is a prepared header: only a response built through the context carries it
    return honoId
      ? c.body(body, status as ContentfulStatusCode, h)
      : new Response(body, { status, headers: h });
  };
  a.use(async (c, next) => { // the hand-written envelope: request id, route label, latency, headers
    const t0 = performance.now();
    if (!honoId) c.set("requestId", requestIdFrom(c.req.header("x-request-id")));
    c.set("route", "unmatched");
    await next();
    const res = c.res;
    if (honoHeaders) {
      if (!res.headers.has("cache-control")) res.headers.set("cache-control", "no-store");
    } else if (!res.headers.has("x-request-id")) {
      for (const k in HAND_SECURE_HEADERS) {
        if (!res.headers.has(k)) res.headers.set(k, HAND_SECURE_HEADERS[k]);
      }
      res.headers.set("x-request-id", c.get("requestId"));
    }
    metrics.observe(c.get("route"), c.req.method, res.status, (performance.now() - t0) / 1000);
  });
  if (honoId) a.use(requestId(REQUEST_ID_OPTIONS));
  if (honoHeaders) a.use(secureHeaders(SECURE_HEADER_OPTIONS));
  a.onError((e, c) => {
    const status = e instanceof HttpError ? e.status : 500;
    const body = { error: e.message, error_code: ERROR_CODES[status], request_id: c.get("requestId") };
    return reply(c, status, JSON.stringify(body), e instanceof HttpError ? e.headers : undefined);
  });
  const handler = async (c: Context<Env>) => {
    c.set("route", "/predict");
    if (mediaType(c.req.header("content-type")) !== "application/json") {
      throw new HttpError(415, "expected Content-Type: application/json");
    }
    // with hono/body-limit the limit is its job: read the whole (already capped) body
    const limit = hono.has("body-limit") ? Number.MAX_SAFE_INTEGER : MAX_BODY;
    const body = parseJsonBody(await readBodyText(c.req.raw, limit));
    const cur = holder.current;
    if (!cur) throw new HttpError(503, "model not loaded yet (see /ready)");
    const recs = cur.validator.body(body, 1000);
    const out = predictValidated(cur, recs);
    for (const p of out) metrics.predicted(cur.name, cur.version, p.prediction);
    return reply(c, 200, JSON.stringify({ model: cur.name, version: cur.version, predictions: out }));
  };
  if (hono.has("body-limit")) {
    a.post(
      "/predict",
      bodyLimit({
        maxSize: MAX_BODY,
        onError: () => {
          throw new HttpError(413, `request body is larger than ${MAX_BODY} bytes`);
        },
      }),
      handler,
    );
  } else a.post("/predict", handler);
  return a;
}

/** Times the apps in interleaved rounds (rotating the order); µs per request, one array per app. */
async function rounds(apps: (() => Promise<unknown>)[], nRounds: number, n: number): Promise<number[][]> {
  const out = apps.map(() => [] as number[]);
  for (const f of apps) await perCall(3000, f, 0); // warm-up
  for (let r = 0; r < nRounds; r++) {
    for (let k = 0; k < apps.length; k++) {
      const i = (k + r) % apps.length;
      out[i].push(await perCall(n, apps[i], 20));
    }
  }
  return out;
}
/** A 95% confidence interval of the median, from order statistics (no assumption on the distribution). */
function medianCi(xs: number[]): [number, number] {
  const s = sorted(xs), half = 0.98 * Math.sqrt(s.length);
  return [
    s[Math.max(0, Math.floor(s.length / 2 - half))],
    s[Math.min(s.length - 1, Math.ceil(s.length / 2 + half))],
  ];
}
const fmt = (x: number, w = 7) => x.toFixed(2).padStart(w);
const signed = (x: number, w = 7) => ((x >= 0 ? "+" : "") + x.toFixed(2)).padStart(w);

// Many short interleaved rounds, each compared with the reference's round next to it: a GC pause or a
// slow stretch of the machine then lands on every variant alike.
const ROUNDS = 151, N = 200, THRESHOLD = 0.05;
const variants: [string, Hono<Env>][] = [
  ["hand-written (reference)", variant(new Set())],
  ["+ hono/request-id", variant(new Set(["request-id"]))],
  ["+ hono/secure-headers", variant(new Set(["secure-headers"]))],
  ["+ request-id + secure-headers", variant(new Set(["request-id", "secure-headers"]))],
  ["+ hono/body-limit", variant(new Set(["body-limit"]))],
  ["all three Hono", variant(new Set(["request-id", "secure-headers", "body-limit"]))],
  ["createApp (src/serve as built)", app],
];
for (const [name, a] of variants) { // the same answer from every variant
  const res = await a.fetch(predictRequest());
  const b = await res.json();
  if (res.status !== 200 || b.predictions?.length !== 1) throw new Error(`${name}: ${res.status}`);
  for (const [k, v] of Object.entries(HAND_SECURE_HEADERS)) {
    if (res.headers.get(k) !== v) throw new Error(`${name}: ${k} is ${res.headers.get(k)}, expected ${v}`);
  }
  if (!res.headers.get("x-request-id")) throw new Error(`${name}: no x-request-id`);
}
console.log(
  `\nPOST /predict through app.fetch, ours vs Hono's middleware: ${ROUNDS} interleaved rounds of ${N} requests.` +
    `\nΔ: median of the per-round differences from the reference [its 95% CI], and as % of the reference's` +
    `\nmedian; "costs" when Δ > ${THRESHOLD * 100}% and the CI is above 0.`,
);
const times = await rounds(variants.map(([, a]) => fetchAll(a, predictRequest)), ROUNDS, N);
const ref = times[0], refMedian = median(ref);
console.log(
  `${"variant".padEnd(31)} ${"median µs".padStart(9)}   ${"Δ µs".padStart(7)} ${"[95% CI]".padStart(16)} ${
    "Δ %".padStart(7)
  }`,
);
variants.forEach(([name, _], i) => {
  let delta = "";
  if (i > 0) {
    const d = times[i].map((x, r) => x - ref[r]);
    const dm = median(d), [lo, hi] = medianCi(d), pct = dm / refMedian;
    const verdict = pct > THRESHOLD && lo > 0
      ? "costs > 5%"
      : lo > 0
      ? "slower, within 5%"
      : hi < 0
      ? "faster"
      : "no difference beyond noise";
    delta = `${signed(dm)} ${`[${signed(lo, 0)}, ${signed(hi, 0)}]`.padStart(16)} ${
      signed(pct * 100, 6)
    }%  ${verdict}`;
  }
  console.log(`${name.padEnd(31)} ${fmt(median(times[i]), 9)}   ${delta}`);
});

console.log(
  "request-id alone pays for c.body copying the reference's 11-header init (Hono's id is a prepared header);\n" +
    "with secure-headers the init has one header, hence the combined line, which is what src/serve uses.\n" +
    "body-limit reads req.body first, which makes the body a stream: src/serve keeps its own reader.",
);

// hono/bearer-auth: the admin API only, never on /predict; timed on one authorized request
const TOKEN = "bench-admin-token";
const handAuth = new Hono();
handAuth.use("/admin/*", async (c, next) => { // the hand-written check it replaced
  const match = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header("authorization") ?? "");
  const x = new TextEncoder().encode(match?.[1] ?? ""), y = new TextEncoder().encode(TOKEN);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  if (!match || diff !== 0) return c.text("unauthorized", 401);
  await next();
});
handAuth.get("/admin/ping", (c) => c.text("ok"));
const honoAuth = new Hono();
honoAuth.use("/admin/*", bearerAuth({ token: TOKEN, realm: "orchard-admin" }));
honoAuth.get("/admin/ping", (c) => c.text("ok"));
const adminRequest = () =>
  new Request("http://x/admin/ping", { headers: { authorization: `Bearer ${TOKEN}` } });
const [handT, honoT] = await rounds(
  [fetchAll(handAuth, adminRequest), fetchAll(honoAuth, adminRequest)],
  11,
  1000,
);
const authDelta = handT.map((x, r) => honoT[r] - x);
console.log(
  `\nadmin request (not on /predict): hand-written bearer check ${fmt(median(handT), 0)} µs, ` +
    `hono/bearer-auth ${fmt(median(honoT), 0)} µs (Δ ${
      signed(median(authDelta), 0)
    } µs: it hashes both tokens with SHA-256)`,
);
holder.stop();
