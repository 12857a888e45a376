/**
 * bench:serve-path — where one POST /predict spends its time inside the app,
 * in process (no HTTP server, no load generator): each stage of the request
 * path timed on its own, then the whole app.fetch for /predict and /health.
 * Use it to see what a change to the hot path costs; the end-to-end figures
 * come from bench:serve (wrk).
 *
 *   deno task bench:serve-path [model-uri]     # default models:/churn@champion
 */
import { loadConfig } from "../src/config/load.ts";
import { ModelHolder } from "../src/serve/holder.ts";
import { SECURE_HEADERS } from "../src/serve/http.ts";
import { registryLoader } from "../src/registry/loader.ts";
import { Metrics } from "../src/serve/metrics.ts";
import { logLine } from "../src/serve/predlog.ts";
import { createApp } from "../src/serve/routes.ts";

const config = loadConfig();
const uri = Deno.args[0] ?? config.serve.model_uri;
const holder = new ModelHolder({
  uri,
  loader: registryLoader({ store: config.tracking.store, modelsDir: config.paths.models }),
});
const loaded = await holder.reload();
if (loaded.error) {
  console.error(`bench:serve-path: ${loaded.error}`);
  Deno.exit(2);
}
const m = holder.current!;
// one record from the artifact's input example
const inputExample = JSON.parse(await Deno.readTextFile(`${m.dir}/input_example.json`));
const record = Array.isArray(inputExample) ? inputExample[0] : inputExample;
const text = JSON.stringify(record);

function time(label: string, n: number, f: () => unknown): void {
  for (let i = 0; i < Math.min(n, 2000); i++) f();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) f();
  console.log(`${label.padEnd(34)} ${((performance.now() - t0) / n * 1000).toFixed(2).padStart(8)} µs`);
}
async function timeAsync(label: string, n: number, f: () => Promise<unknown>): Promise<void> {
  for (let i = 0; i < Math.min(n, 2000); i++) await f();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await f();
  console.log(`${label.padEnd(34)} ${((performance.now() - t0) / n * 1000).toFixed(2).padStart(8)} µs`);
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
    headers: { ...SECURE_HEADERS, "content-type": "application/json", "x-request-id": "x" },
  }));

const app = createApp({
  holder,
  metrics: new Metrics("bench"),
  worker: "bench",
  maxBatch: 1000,
  maxBodyBytes: 1e6,
});
const headers = { "content-type": "application/json", "content-length": String(text.length) };
await timeAsync("app.fetch POST /predict (no log)", 10000, async () => {
  const res = await app.fetch(new Request("http://x/predict", { method: "POST", headers, body: text }));
  await res.arrayBuffer();
});
await timeAsync("app.fetch GET /health", 10000, async () => {
  const res = await app.fetch(new Request("http://x/health"));
  await res.arrayBuffer();
});
holder.stop();
