/**
 * The service stays bounded whatever a client sends (issue 14, part 4): metric
 * series under a flood of made-up method names, string length, numbers that
 * are finite but absurd, and a request body that never completes (over a raw
 * TCP socket against a real Deno.serve, trickling bytes).
 */
import { equal, match, ok } from "node:assert/strict";
import { loadArtifact } from "../../src/models/artifact.ts";
import { fit } from "../../src/models/model.ts";
import { Metrics, renderMetrics } from "../../src/serve/metrics.ts";
import { dirLoader, makeRows, sampleRecord, trainFixture } from "./fixture.ts";
import { makeApp, post } from "./helpers.ts";

const root = await Deno.makeTempDir({ prefix: "orchard-serve-bounds-" });
const v1 = await trainFixture(`${root}/v1`, { seed: 3, trees: 4 });
const loader = dirLoader({ "models:/churn@champion": { name: "churn", version: "1", dir: v1 } });
const NO_LOG = { written: 0, writeErrors: 0, dropped: 0, pending: 0, lastError: null };

Deno.test("bounds: 3,000 requests with made-up method names add one metric series, not 3,000", async () => {
  const t = await makeApp(loader);
  try {
    const before = renderMetrics([t.metrics.snapshot(null, NO_LOG)]).length;
    const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    for (let i = 0; i < 3000; i++) {
      let method = "X";
      for (let k = i; k > 0; k = Math.floor(k / 26)) method += letters[k % 26];
      for (const path of ["/predict", "/nowhere"]) {
        const res = await t.app.fetch(new Request(`http://local${path}`, { method }));
        await res.body?.cancel();
        ok(res.status === 405 || res.status === 404, `${method} ${path}: ${res.status}`);
      }
    }
    const text = renderMetrics([t.metrics.snapshot(null, NO_LOG)]);
    const series = text.split("\n").filter((l) => l.startsWith("orchard_http_requests_total{"));
    equal(series.length, 2, series.join("\n"));
    ok(series.every((l) => l.includes('method="other"')), series.join("\n"));
    match(text, /orchard_http_requests_total\{route="\/predict",method="other",status="405"\} 3000/);
    // two latency histograms (/predict, unmatched) are new; nothing grows with the flood
    ok(text.length < before + 4000, `/metrics grew from ${before} to ${text.length} bytes`);
  } finally {
    await t.close();
  }
});

Deno.test("bounds: a regressor's predictions are one metric series per model version, not one per predicted value", async () => {
  const rows = makeRows(300, 5).map((r) => ({ ...r, churn: undefined }));
  const model = await fit(rows, {
    target: "monthly_charges",
    algorithm: "boosting",
    n_estimators: 8,
    random_state: 3,
  });
  const dir = model.save(`${root}/regressor`);
  const reg = (uri: string) =>
    Promise.resolve({ uri, name: "charges", version: "2", dir, model: loadArtifact(dir) });
  const t = await makeApp(reg, { maxBatch: 1000, maxBodyBytes: 1_000_000 });
  try {
    const batch = rows.map(({ monthly_charges: _, churn: __, ...r }) => r);
    const res = await t.app.fetch(post("/predict", batch));
    const values = new Set((await res.json()).predictions.map((p: { prediction: number }) => p.prediction));
    ok(values.size > 20, `the regressor predicted ${values.size} distinct values`);
    for (const r of batch.slice(0, 50)) await (await t.app.fetch(post("/predict", r))).body?.cancel();
    const text = renderMetrics([t.metrics.snapshot(null, NO_LOG)]);
    const series = text.split("\n").filter((l) => l.startsWith("orchard_predictions_total{"));
    equal(series.length, 1, series.slice(0, 5).join("\n"));
    equal(series[0], 'orchard_predictions_total{model="charges",version="2",class=""} 350');
  } finally {
    await t.close();
  }
});

Deno.test('bounds: a model version\'s predicted-class series stop at 100; later labels count as class="other"', () => {
  const m = new Metrics("w");
  for (let i = 0; i < 1000; i++) m.predicted("plugin", "1", `label-${i}`);
  m.predicted("plugin", "1", "label-5", 2); // a label it already counts keeps its own series
  m.predicted("plugin", "2", "label-999"); // another version has its own 100
  const text = renderMetrics([m.snapshot(null, NO_LOG)]);
  const series = text.split("\n").filter((l) => l.startsWith("orchard_predictions_total{"));
  equal(series.length, 102);
  ok(
    series.includes('orchard_predictions_total{model="plugin",version="1",class="other"} 900'),
    series.join("\n"),
  );
  ok(series.includes('orchard_predictions_total{model="plugin",version="1",class="label-5"} 3'));
  ok(series.includes('orchard_predictions_total{model="plugin",version="2",class="label-999"} 1'));
});

Deno.test("bounds: a string over serve.max_string_length is a 422 naming the field, and is not logged", async () => {
  const t = await makeApp(loader, { limits: { maxStringLength: 1024, maxAbsNumber: 1e15 } });
  try {
    const long = { ...sampleRecord(), contract: "x".repeat(1025) };
    const res = await t.app.fetch(post("/predict", long));
    const b = await res.json();
    equal(res.status, 422, JSON.stringify(b));
    equal(b.details[0].field, "contract");
    equal(b.details[0].message, "expected at most 1024 characters, got 1025");
    // in a batch, the record index too; 1,024 characters still pass (an unseen level)
    const ok1024 = { ...sampleRecord(), contract: "y".repeat(1024) };
    const batch = await t.app.fetch(post("/predict", [ok1024, long]));
    const bb = await batch.json();
    equal(batch.status, 422);
    equal(bb.details.length, 1);
    equal(bb.details[0].record, 1);
    equal(bb.details[0].field, "contract");
    equal((await t.app.fetch(post("/predict", ok1024))).status, 200);
    // characters are code points, as the OpenAPI document's maxLength counts them: 1,024 emoji
    // (2,048 UTF-16 units) pass, 1,025 are refused naming 1,025 characters
    equal(
      (await t.app.fetch(post("/predict", { ...sampleRecord(), contract: "😀".repeat(1024) }))).status,
      200,
    );
    const emoji = await t.app.fetch(post("/predict", { ...sampleRecord(), contract: "😀".repeat(1025) }));
    equal(emoji.status, 422);
    equal((await emoji.json()).details[0].message, "expected at most 1024 characters, got 1025");
    await t.log.flush();
    equal(t.log.stats().written, 2, "only the records that passed are logged");
  } finally {
    await t.close();
  }
});

Deno.test("bounds: numbers must be finite and within ±serve.max_abs_number (1.79e308 and 1e999 are 422)", async () => {
  const t = await makeApp(loader);
  try {
    for (const text of ["1.79e308", "-1.79e308", "1e999", "1e16"]) {
      const rec = JSON.stringify(sampleRecord()).replace(/"tenure":[^,}]+/, `"tenure":${text}`);
      const res = await t.app.fetch(post("/predict", rec));
      const b = await res.json();
      equal(res.status, 422, `${text}: ${JSON.stringify(b)}`);
      equal(b.details[0].field, "tenure");
      match(b.details[0].message, /^expected a number(?: within ±1000000000000000)?, got /);
    }
    const edge = JSON.stringify(sampleRecord()).replace(/"tenure":[^,}]+/, `"tenure":1e15`);
    equal((await t.app.fetch(post("/predict", edge))).status, 200, "the bound itself passes");
  } finally {
    await t.close();
  }
});

/** Reads what the server sends until it has a whole HTTP response head or `ms` passes. */
async function readHead(conn: Deno.Conn, ms: number): Promise<string> {
  const buf = new Uint8Array(8192);
  let text = "";
  const until = Date.now() + ms;
  while (!text.includes("\r\n\r\n") && Date.now() < until) {
    const n = await Promise.race([
      conn.read(buf),
      new Promise<"wait">((r) => setTimeout(() => r("wait"), Math.max(1, until - Date.now()))),
    ]);
    if (n === null) break;
    if (n === "wait") continue;
    text += new TextDecoder().decode(buf.subarray(0, n));
  }
  return text;
}

Deno.test({
  name: "bounds: a body that never completes is cut off after serve.read_timeout_ms with 408",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const t = await makeApp(loader, { readTimeoutMs: 400 });
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, t.app.fetch);
    const { port } = server.addr;
    const enc = new TextEncoder();
    const conns: Deno.Conn[] = [];
    try {
      for (const framing of ["content-length: 5000", "transfer-encoding: chunked"]) {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port });
        conns.push(conn);
        const t0 = performance.now();
        await conn.write(
          enc.encode(
            `POST /predict HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n${framing}\r\n\r\n`,
          ),
        );
        const chunked = framing.startsWith("transfer");
        let trickling = true;
        const trickle = (async () => { // a byte every 50 ms, never the whole body
          while (trickling) {
            try {
              await conn.write(enc.encode(chunked ? "1\r\n{\r\n" : "{"));
            } catch {
              return;
            }
            await new Promise((r) => setTimeout(r, 50));
          }
        })();
        const head = await readHead(conn, 5000);
        trickling = false;
        await trickle;
        const took = performance.now() - t0;
        match(head, /^HTTP\/1\.1 408 /, `${framing}: ${head}`);
        match(head, /\r\nconnection: close\r\n/i);
        ok(took >= 350 && took < 3000, `${framing}: answered after ${took.toFixed(0)} ms`);
      }
      // a whole body in time is answered as ever
      const res = await fetch(`http://127.0.0.1:${port}/predict`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(sampleRecord()),
      });
      equal(res.status, 200);
      await res.body?.cancel();
    } finally {
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      await server.shutdown();
      await t.close();
    }
  },
});

Deno.test({
  name: "bounds: cleanup",
  sanitizeResources: false,
  async fn() {
    await Deno.remove(root, { recursive: true });
  },
});
