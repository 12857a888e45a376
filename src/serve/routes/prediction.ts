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
 *
 * The hot path (issue 14): the two routes are plain handlers of a Request
 * (`predictionHandlers`). createApp's fetch dispatches POST /predict and
 * POST /invocations to them by method and path before Hono (routes.ts), and
 * `predictionRoutes` mounts the same handlers on the root app before the
 * envelope middleware for an app that is mounted elsewhere. Each handler gives
 * itself the envelope (request id, headers, metrics, error body) in one pass
 * (`enveloped`, envelope.ts `reply`), by default with Content-Type and
 * X-Request-Id only (envelope.ts API_HEADERS); a 200 from /predict to a
 * caller that sent no X-Request-Id names its id in the body and has
 * Content-Type alone (envelope.ts `lean`, Deno's fast path). A request is scored as one
 * table (scoring.ts scoreTable: the validator's columns, one Float64Array
 * matrix, one predict; one record into its model's own buffers), and its
 * answer and log lines are written from the typed arrays (TableWriter) without
 * a Prediction object per record. Other methods on the two paths get the 405
 * through the envelope middleware as before.
 *
 * By entity id (issue 17): for a model trained on a feature service, a
 * /predict record that gives the service's join key (`{"customer_id": "C-1"}`)
 * and lacks inputs gets them from the online store (entity.ts joinEntities);
 * fields it gives override the stored ones. A model without a feature service
 * pays one WeakMap lookup for it.
 */
import { Hono } from "hono";
import { type Env, lean, type PredictionHeaders, predictionHeaderSet, reply } from "../envelope.ts";
import { allowOnly, errorAnswer, noModel } from "../errors.ts";
import type { ModelHolder, ServedModel } from "../holder.ts";
import { HttpError, mediaType, parseJsonBody, readBodyText, requestIdFrom } from "../http.ts";
import { type Metrics, requestKey } from "../metrics.ts";
import { parseMlflowCsv, parseMlflowJson } from "../mlflow.ts";
import { logDay, logHead, type PredictionLog } from "../predlog.ts";
import { explainQuery, explainTable, type RecordExplanation } from "../explain.ts";
import { entityPlan, type FeatureSource, joinEntities, lookupAt } from "../entity.ts";
import { type ScoredTable, scoreTable, TableWriter } from "../scoring.ts";
import { answerRows, type BatchSplitter, scorePart, type SplitScore } from "../split.ts";

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
  /** the online store for /predict by entity id (absent: records must carry every input) */
  features?: FeatureSource | null;
  /** the header set of the answers (serve.prediction_headers; default "api", envelope.ts API_HEADERS) */
  predictionHeaders?: PredictionHeaders;
  /** scores a large batch in two halves on two threads (split.ts; absent: one thread) */
  splitter?: BatchSplitter | null;
}

/** `url`: the request's URL, read once by the dispatcher (each read of `req.url` is a call into Deno) */
type Handler = (req: Request, rid: string, url: string) => Promise<string>;

/** The two prediction routes as plain handlers of a Request, each giving itself the envelope. */
export interface PredictionHandlers {
  /** `url`: `req.url` when the caller has read it already */
  predict: (req: Request, url?: string) => Promise<Response>;
  invocations: (req: Request, url?: string) => Promise<Response>;
}

/** The prediction handlers as a Hono app (POST /predict, POST /invocations). */
export function predictionRoutes(h: PredictionHandlers): Hono<Env> {
  const app = new Hono<Env>();
  app.post("/predict", (c) => h.predict(c.req.raw));
  app.post("/invocations", (c) => h.invocations(c.req.raw));
  return app;
}

export function predictionHandlers(opts: PredictionOptions): PredictionHandlers {
  const { holder, metrics, maxBatch } = opts;
  const bodyLimits = { maxBytes: opts.maxBodyBytes, timeoutMs: opts.readTimeoutMs };
  const log = opts.log ?? null;
  const features = opts.features ?? null;
  const splitter = opts.splitter ?? null;
  const headers = predictionHeaderSet(opts.predictionHeaders ?? "api");
  // the api header set: a route whose answer carries its request id in the body answers a caller that
  // sent no X-Request-Id on Deno's fast path (envelope.ts lean): no header but the content type
  const leanAnswers = headers.length === 0;

  /**
   * Counts the table's predictions and appends one log line per record: one
   * record's at once (its table is the model's reused buffers), a batch's
   * after its answer is handed over (PredictionLog.later; a batch's table is
   * its own).
   */
  const record = (m: ServedModel, w: TableWriter, rid: string, t: ScoredTable, probs: string[]) => {
    w.count(t, metrics);
    if (!log) return;
    const ts = Date.now();
    // no closure for one record: the hot path
    if (t.rows === 1) pushLines(log, m, w, rid, t, probs, ts);
    else log.later(() => pushLines(log, m, w, rid, t, probs, ts));
  };

  /** `record` for a batch scored in two halves: the worker's lines, then the helper's, in record order. */
  const recordSplit = (m: ServedModel, w: TableWriter, rid: string, s: SplitScore) => {
    const { own, theirs, ts } = s;
    metrics.batchSplits++;
    w.count(own.table, metrics);
    w.countLabels(theirs.rows, theirs.label, metrics);
    if (!log) return;
    log.later(() => pushLines(log, m, w, rid, own.table, own.probs, ts));
    // the helper's half when its lines come (a few ms on: lines of requests answered meanwhile may be first)
    void theirs.lines.then((l) => {
      if (l) return log.later(() => log.pushEncoded(m.name, logDay(ts), l.bytes, l.ends));
      // the helper failed after its answer: its half is scored again here for its lines (never lost)
      log.later(() => {
        const again = scorePart(m, theirs.text, maxBatch);
        pushLines(log, m, w, rid, again.table, again.probs, ts);
      });
    });
  };

  /**
   * A handler with the envelope the middleware gives other routes: request id,
   * the headers, the error body, and one metrics observation under `route`.
   * `idInBody`: the route's answer names its request id in the body, so with
   * the api header set a 200 to a caller that sent no X-Request-Id is `lean`
   * (a caller's id is echoed in the header, as on every other answer).
   */
  const enveloped = (route: string, handle: Handler, idInBody: boolean) => {
    // the route's one method: a 200 is always this key
    const answered = requestKey(route, "POST", 200);
    const leanWhenNoId = idInBody && leanAnswers;
    return async (req: Request, url?: string): Promise<Response> => {
      const t0 = performance.now();
      const sent = req.headers.get("x-request-id");
      const rid = requestIdFrom(sent);
      let res: Response;
      try {
        const text = await handle(req, rid, url ?? req.url);
        res = leanWhenNoId && sent === null ? lean(text) : reply(text, 200, rid, undefined, headers);
      } catch (e) {
        const a = errorAnswer(e as Error, rid, route, req.method, route);
        res = reply(a.text, a.status, rid, a.headers, headers);
      }
      const seconds = (performance.now() - t0) / 1000;
      if (res.status === 200) metrics.observeAt(answered, route, seconds);
      else metrics.observe(route, req.method, res.status, seconds);
      return res;
    };
  };

  const predict = enveloped("/predict", async (req, rid, url) => {
    if (mediaType(req.headers.get("content-type")) !== "application/json") {
      throw new HttpError(415, "expected Content-Type: application/json");
    }
    const explain = explainQuery(url);
    const text = await readBodyText(req, bodyLimits);
    const whole = holder.current;
    if (
      splitter && whole && splitter.wants(text.length, explain !== null) && !(features && entityPlan(whole))
    ) {
      const s = await splitter.score(whole, text, maxBatch, rid, log !== null, explain ? explain.top : 0);
      if (s) {
        const w = TableWriter.of(whole);
        recordSplit(whole, w, rid, s);
        return w.headOf(rid) + s.own.answer + "," + s.theirs.answer + "]}";
      }
    }
    let body = parseJsonBody(text);
    const m = holder.current;
    if (!m) throw noModel();
    // by entity id (entity.ts): only a model trained on a feature service looks anything up
    const ep = features && entityPlan(m);
    const at = ep && lookupAt(ep, body, maxBatch);
    if (at) body = await joinEntities(ep!, features!, features!.onMissing(m.name), body, at);
    // reuse: this handler is done with the table before it awaits anything
    const t = scoreTable(m, m.validator.table(body, maxBatch), Array.isArray(body) ? body : [body], {
      reuse: true,
    });
    // explained before logging: a model that cannot explain answers 422 and logs nothing
    const why: RecordExplanation[] | null = explain && explainTable(m, t, explain.top);
    const w = TableWriter.of(m);
    const probs = new Array<string>(t.rows);
    const out = w.headOf(rid) + answerRows(w, t, probs, why && why.map((e) => JSON.stringify(e)));
    record(m, w, rid, t, probs);
    return out + "]}";
  }, true);

  const invocations = enveloped("/invocations", async (req, rid) => {
    const type = mediaType(req.headers.get("content-type"));
    if (type !== "application/json" && type !== "text/csv") {
      throw new HttpError(415, "expected Content-Type: application/json or text/csv");
    }
    const text = await readBodyText(req, bodyLimits);
    const m = holder.current;
    if (!m) throw noModel();
    const names = m.validator.columns.map((col) => col.name);
    const raw = type === "text/csv"
      ? parseMlflowCsv(text, m.validator.columns)
      : parseMlflowJson(parseJsonBody(text), names);
    const t = scoreTable(m, m.validator.tableOf(raw, maxBatch), raw, { reuse: true });
    const w = TableWriter.of(m);
    const probs = new Array<string>(t.rows);
    let out = '{"predictions":[';
    for (let i = 0; i < t.rows; i++) {
      probs[i] = w.probabilities(t, i);
      if (i) out += ",";
      out += w.prediction(t, i);
    }
    record(m, w, rid, t, probs);
    return out + "]}";
  }, false); // MLflow's answer is {"predictions": [...]}: its request id stays in the header

  return { predict, invocations };
}

/** The log lines of a scored table, one per record, stamped `ts`. */
function pushLines(
  log: PredictionLog,
  m: ServedModel,
  w: TableWriter,
  rid: string,
  t: ScoredTable,
  probs: string[],
  ts: number,
): void {
  const head = logHead(ts, rid, true), day = logDay(ts);
  for (let i = 0; i < t.rows; i++) log.pushLine(m.name, w.logLine(head, t, i, probs[i]), day);
}

/** The 405s of the prediction paths (other methods), mounted after the envelope middleware. */
export function predictionFallbacks(): Hono<Env> {
  const app = new Hono<Env>();
  allowOnly(app, "/predict", "POST");
  allowOnly(app, "/invocations", "POST");
  return app;
}
