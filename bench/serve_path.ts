/**
 * bench:serve-path — where one POST /predict spends its time inside the app,
 * in process (no HTTP server, no load generator): each stage of the request
 * path timed on its own, then the whole app.fetch for /predict and /health.
 * Use it to see what a change to the hot path costs; the end-to-end figures
 * come from bench:serve (wrk).
 *
 * Then the middleware, ours against Hono's, in the same run: the hand-written
 * envelope the service had before (request id, secure headers, streaming body
 * limit, kept below as the reference) with one piece at a time swapped for
 * hono/request-id, hono/secure-headers or hono/body-limit, all three, and the
 * service's createApp, each timed on the same POST /predict in interleaved
 * rounds. A piece whose median paired difference exceeds 5% of the
 * hand-written app.fetch, with its confidence interval above 0, stays ours in
 * src/serve (the numbers are written beside it: body-limit, in http.ts; the
 * request id and the secure headers, taken together, are Hono's, envelope.ts).
 * hono/bearer-auth is timed on an admin request: it is not on the prediction path.
 *
 *   deno task bench:serve-path [model-uri]     # default models:/churn@champion
 */
import { type Context, Hono } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { bodyLimit } from "hono/body-limit";
import { requestId } from "hono/request-id";
import { secureHeaders } from "hono/secure-headers";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { loadConfig } from "../src/config/load.ts";
import { trackingLocation } from "../src/config/paths.ts";
import { type Env, JSON_TYPE, REQUEST_ID_OPTIONS, SECURE_HEADER_OPTIONS } from "../src/serve/envelope.ts";
import { ERROR_CODES } from "../src/serve/errors.ts";
import { ModelHolder } from "../src/serve/holder.ts";
import { HttpError, mediaType, parseJsonBody, readBodyText, requestIdFrom } from "../src/serve/http.ts";
import { registryLoader } from "../src/registry/loader.ts";
import { Metrics } from "../src/serve/metrics.ts";
import { logLine } from "../src/serve/predlog.ts";
import { createApp } from "../src/serve/routes.ts";
import { predictValidated } from "../src/serve/scoring.ts";

const config = loadConfig();
const uri = Deno.args[0] ?? config.serve.model_uri;
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

function time(label: string, n: number, f: () => unknown): void {
  for (let i = 0; i < Math.min(n, 2000); i++) f();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) f();
  console.log(`${label.padEnd(34)} ${((performance.now() - t0) / n * 1000).toFixed(2).padStart(8)} µs`);
}
/** µs per call of f, n calls after a warm-up. */
async function perCall(n: number, f: () => Promise<unknown>, warm = Math.min(n, 2000)): Promise<number> {
  for (let i = 0; i < warm; i++) await f();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await f();
  return (performance.now() - t0) / n * 1000;
}
async function timeAsync(label: string, n: number, f: () => Promise<unknown>): Promise<void> {
  const us = await perCall(n, f);
  console.log(`${label.padEnd(34)} ${us.toFixed(2).padStart(8)} µs`);
}

console.log(`model ${m.name} version ${m.version} (${m.dir}), one record of ${text.length} bytes`);
const records = [m.validator.one(record)];
const preds = m.model.predictRecords(records);
time("JSON.parse body", 20000, () => JSON.parse(text));
const parsed = JSON.parse(text);
time("zod validation (one record)", 20000, () => m.validator.body(parsed, 1000));
time("predictRecords (preprocess+model)", 5000, () => m.model.predictRecords(records));
time("prediction-log line", 20000, () =>
  logLine({
    ts: Date.now(),
    requestId: "0b6f9b1e-6d0e-4c49-9d0a-3f1c2d7e8a90",
    model: m.name,
    version: m.version,
    inputs: records[0],
    prediction: preds[0].prediction,
    probabilities: preds[0].probabilities,
  }));
time("response JSON", 20000, () => JSON.stringify({ model: m.name, version: m.version, predictions: preds }));
time("Response with the secure headers", 20000, () =>
  new Response("{}", {
    headers: { ...HAND_SECURE_HEADERS, "content-type": "application/json", "x-request-id": "x" },
  }));

const MAX_BODY = 1e6;
const app = createApp({
  holder,
  metrics: new Metrics("bench"),
  worker: "bench",
  maxBatch: 1000,
  maxBodyBytes: MAX_BODY,
});
const headers = { "content-type": "application/json", "content-length": String(text.length) };
const predictRequest = () => new Request("http://x/predict", { method: "POST", headers, body: text });
const fetchAll = (a: { fetch(r: Request): Response | Promise<Response> }, r: () => Request) => async () => {
  const res = await a.fetch(r());
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`bench:serve-path: ${res.status} ${new URL(r().url).pathname}`);
};
await timeAsync("app.fetch POST /predict (no log)", 10000, fetchAll(app, predictRequest));
await timeAsync("app.fetch GET /health", 10000, fetchAll(app, () => new Request("http://x/health")));

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
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const median = (xs: number[]) => {
  const s = sorted(xs), h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
};
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
