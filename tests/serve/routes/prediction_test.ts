/**
 * The prediction sub-app alone: the answer's shape, the order of the checks
 * (content type, body size, JSON, model loaded, records), and what each
 * prediction leaves behind (a count by class, a log entry with the request id).
 */
import { deepStrictEqual, equal, match } from "node:assert/strict";
import { ModelHolder } from "../../../src/serve/holder.ts";
import { Metrics } from "../../../src/serve/metrics.ts";
import type { LogEntry, PredictionLog } from "../../../src/serve/predlog.ts";
import {
  predictionFallbacks,
  predictionHandlers,
  predictionRoutes,
} from "../../../src/serve/routes/prediction.ts";
import { serviceApp } from "../../../src/serve/routes.ts";
import { dirLoader, sampleRecord, trainFixture } from "../fixture.ts";
import { counted, post } from "../helpers.ts";

const root = await Deno.makeTempDir({ prefix: "orchard-serve-prediction-" });
const dir = await trainFixture(`${root}/m`, { seed: 5, trees: 4 });
const loader = dirLoader({ "models:/churn@champion": { name: "churn", version: "2", dir } });

async function prediction(load = true) {
  const holder = new ModelHolder({ uri: "models:/churn@champion", loader });
  if (load) await holder.reload();
  const metrics = new Metrics("test");
  const logged: LogEntry[] = [];
  // the route pushes serialized lines (logLine's text), a batch's deferred (later); read back into entries
  const log = {
    later: (push: () => void) => push(),
    pushLine: (_model: string, line: string) => {
      const o = JSON.parse(line);
      logged.push({
        ts: Date.parse(o.ts),
        requestId: o.request_id,
        model: o.model,
        version: o.version,
        inputs: o.inputs,
        prediction: o.prediction,
        probabilities: o.probabilities ?? undefined,
      });
    },
  } as unknown as PredictionLog;
  // as createApp mounts them: the handlers before the envelope middleware, the 405s after it
  const app = serviceApp(
    metrics,
    predictionRoutes(predictionHandlers({ holder, metrics, maxBatch: 3, maxBodyBytes: 1000, log })),
  )
    .route("/", predictionFallbacks());
  return { app, holder, metrics, logged };
}

async function failure(res: Response, status: number) {
  equal(res.status, status);
  const body = await res.json();
  equal(typeof body.error, "string");
  return body;
}

Deno.test("prediction: /predict answers model, version and one prediction per record", async () => {
  const { app, holder } = await prediction();
  const res = await app.request(post("/predict", [sampleRecord(1), sampleRecord(2)]));
  equal(res.status, 200);
  const body = await res.json();
  deepStrictEqual(Object.keys(body), ["model", "version", "request_id", "predictions"]);
  deepStrictEqual([body.model, body.version, body.predictions.length], ["churn", "2", 2]);
  deepStrictEqual(
    body.predictions,
    JSON.parse(JSON.stringify(holder.current!.model.predictRecords([sampleRecord(1), sampleRecord(2)]))),
  );
  holder.stop();
});

Deno.test("prediction: checks run in order: content type, size, JSON, model loaded, then the records", async () => {
  const { app, holder } = await prediction(false);
  const big = JSON.stringify({ pad: "x".repeat(2000) });
  match((await failure(await app.request(post("/predict", big, "text/plain")), 415)).error, /Content-Type/);
  match((await failure(await app.request(post("/predict", big)), 413)).error, /larger than 1000 bytes/);
  match((await failure(await app.request(post("/predict", "{nope")), 400)).error, /malformed JSON/);
  await failure(await app.request(post("/predict", sampleRecord())), 503);
  await holder.reload();
  const tooMany = await failure(await app.request(post("/predict", [1, 2, 3, 4].map(sampleRecord))), 413);
  equal(tooMany.error, "batch of 4 records is over the limit of 3");
  const bad = await failure(await app.request(post("/predict", { ...sampleRecord(), tenure: "long" })), 422);
  deepStrictEqual(bad.details.map((d: { field: string }) => d.field), ["tenure"]);
  holder.stop();
});

Deno.test("prediction: /invocations scores MLflow bodies; its errors carry MLflow's message", async () => {
  const { app, holder } = await prediction();
  const rec = sampleRecord(4);
  const res = await app.request(post("/invocations", { dataframe_records: [rec] }));
  equal(res.status, 200);
  deepStrictEqual(await res.json(), {
    predictions: holder.current!.model.predictRecords([rec]).map((p) => p.prediction),
  });
  const err = await failure(await app.request(post("/invocations", { nothing: 1 })), 400);
  equal(err.message, err.error);
  equal(err.error_code, "BAD_REQUEST");
  await failure(await app.request(post("/invocations", "a,b", "application/xml")), 415);
  holder.stop();
});

Deno.test("prediction: each prediction is counted by class and logged with the request id", async () => {
  const { app, holder, metrics, logged } = await prediction();
  const recs = [sampleRecord(7), sampleRecord(8)];
  const out = await (await app.request(post("/predict", recs, "application/json", { "x-request-id": "p-1" })))
    .json();
  deepStrictEqual(logged.map((e) => [e.requestId, e.model, e.version, e.prediction]), [
    ["p-1", "churn", "2", out.predictions[0].prediction],
    ["p-1", "churn", "2", out.predictions[1].prediction],
  ]);
  deepStrictEqual(logged.map((e) => e.inputs), recs);
  const snap = metrics.snapshot(null, {
    written: 0,
    writeErrors: 0,
    dropped: 0,
    pending: 0,
    lastError: null,
  });
  equal(Object.values(snap.predictions).reduce((a, b) => a + b, 0), 2);
  deepStrictEqual(counted(metrics), { "/predict POST 200": 1 });
  holder.stop();
});

Deno.test("prediction: GET gets 405 with Allow: POST", async () => {
  const { app, holder } = await prediction();
  for (const path of ["/predict", "/invocations"]) {
    const res = await app.request(path);
    equal(res.headers.get("allow"), "POST");
    equal((await failure(res, 405)).error, `GET is not allowed on ${path} (use POST)`);
  }
  holder.stop();
});
