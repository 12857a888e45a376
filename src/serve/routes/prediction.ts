/**
 * The prediction routes, the service's hot path: POST /predict (one record or
 * a batch, in Orchard's shape) and POST /invocations (MLflow's scoring
 * protocol: dataframe_split, dataframe_records, instances, inputs, or CSV).
 * Both validate against the served model's signature, score through the one
 * scoring path (scoring.ts), count each prediction by class and append it to
 * the prediction log. The handler reads `holder.current` once, so a hot swap
 * never mixes two versions within a request. `/predict?explain=true[&top=N]`
 * adds each record's largest SHAP contributions (explain.ts); without a query
 * string the route does no more than it did before explanations existed.
 */
import { Hono } from "hono";
import type { Prediction } from "../../models/types.ts";
import { type Env, json } from "../envelope.ts";
import { allowOnly, noModel } from "../errors.ts";
import type { ModelHolder, ServedModel } from "../holder.ts";
import { HttpError, mediaType, parseJsonBody, readBodyText } from "../http.ts";
import type { Metrics } from "../metrics.ts";
import { parseMlflowCsv, parseMlflowJson } from "../mlflow.ts";
import type { PredictionLog } from "../predlog.ts";
import { explainQuery, explainRecords } from "../explain.ts";
import { predictValidated, scoreRecords } from "../scoring.ts";

export interface PredictionOptions {
  holder: ModelHolder;
  metrics: Metrics;
  /** records per request at most (413 over it) */
  maxBatch: number;
  /** request body bytes at most (413 over it) */
  maxBodyBytes: number;
  /** a body not received in full this long after the handler starts is a 408 (absent: no deadline) */
  readTimeoutMs?: number;
  log?: PredictionLog | null;
}

export function predictionRoutes(opts: PredictionOptions): Hono<Env> {
  const { holder, metrics, maxBatch } = opts;
  const bodyLimits = { maxBytes: opts.maxBodyBytes, timeoutMs: opts.readTimeoutMs };
  const log = opts.log ?? null;
  const app = new Hono<Env>();

  const logPredictions = (
    m: ServedModel,
    rid: string,
    records: Record<string, unknown>[],
    preds: Prediction[],
  ) => {
    const ts = Date.now();
    for (let i = 0; i < preds.length; i++) {
      const p = preds[i];
      metrics.predicted(m.name, m.version, p.prediction);
      log?.push({
        ts,
        requestId: rid,
        model: m.name,
        version: m.version,
        inputs: records[i],
        prediction: p.prediction,
        probabilities: p.probabilities,
      });
    }
  };

  app.post("/predict", async (c) => {
    c.set("route", "/predict");
    if (mediaType(c.req.header("content-type")) !== "application/json") {
      throw new HttpError(415, "expected Content-Type: application/json");
    }
    const explain = explainQuery(c.req.url);
    const body = parseJsonBody(await readBodyText(c.req.raw, bodyLimits));
    const m = holder.current;
    if (!m) throw noModel();
    const records = m.validator.body(body, maxBatch);
    const preds = predictValidated(m, records);
    // explained before logging: a model that cannot explain answers 422 and logs nothing
    const why = explain && explainRecords(m, records, explain.top);
    logPredictions(m, c.get("requestId"), records, preds);
    const predictions = why ? preds.map((p, i) => ({ ...p, explanation: why[i] })) : preds;
    return json(c, { model: m.name, version: m.version, predictions });
  });

  app.post("/invocations", async (c) => {
    c.set("route", "/invocations");
    const type = mediaType(c.req.header("content-type"));
    if (type !== "application/json" && type !== "text/csv") {
      throw new HttpError(415, "expected Content-Type: application/json or text/csv");
    }
    const text = await readBodyText(c.req.raw, bodyLimits);
    const m = holder.current;
    if (!m) throw noModel();
    const names = m.validator.columns.map((col) => col.name);
    const raw = type === "text/csv"
      ? parseMlflowCsv(text, m.validator.columns)
      : parseMlflowJson(parseJsonBody(text), names);
    const { records, predictions: preds } = scoreRecords(m, raw, maxBatch);
    logPredictions(m, c.get("requestId"), records, preds);
    return json(c, { predictions: preds.map((p) => p.prediction) });
  });

  allowOnly(app, "/predict", "POST");
  allowOnly(app, "/invocations", "POST");
  return app;
}
