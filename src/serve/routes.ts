/**
 * The Hono app: every route, the error policy and the per-request envelope
 * (request id, secure headers, metrics). `createApp` takes its collaborators
 * explicitly so tests build one with `app.request()` and no server; app.ts
 * wires the real ones for `deno serve`.
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { UserError } from "../core/errors.ts";
import type { Prediction } from "../models/types.ts";
import type { Cluster } from "./cluster.ts";
import { DOCS_HTML, DOCS_INIT, type DocsAssets } from "./docs.ts";
import type { ModelHolder, ServedModel } from "./holder.ts";
import {
  DOCS_CSP,
  HttpError,
  mediaType,
  parseJsonBody,
  readBodyText,
  requestIdFrom,
  SECURE_HEADERS,
} from "./http.ts";
import { type Metrics, type MetricsSnapshot, renderMetrics } from "./metrics.ts";
import { parseMlflowCsv, parseMlflowJson } from "./mlflow.ts";
import { buildOpenApi } from "./openapi.ts";
import type { PredictionLog } from "./predlog.ts";
import { predictValidated, scoreRecords } from "./scoring.ts";

export interface ServeState {
  /** set on SIGTERM: /ready answers 503 so balancers stop sending traffic */
  draining: boolean;
}

export interface AppOptions {
  holder: ModelHolder;
  metrics: Metrics;
  worker: string;
  maxBatch: number;
  maxBodyBytes: number;
  log?: PredictionLog | null;
  cluster?: Cluster | null;
  /** the bearer token for /admin/*; without one every admin route answers 403 */
  adminToken?: string | null;
  docs?: Promise<DocsAssets> | null;
  state?: ServeState;
}

type Env = { Variables: { rid: string; route: string } };

const JSON_TYPE = "application/json; charset=utf-8";

function respond(
  rid: string,
  status: number,
  body: string,
  contentType = JSON_TYPE,
  extra?: Record<string, string>,
): Response {
  const headers: Record<string, string> = {
    ...SECURE_HEADERS,
    "content-type": contentType,
    "x-request-id": rid,
  };
  if (extra) Object.assign(headers, extra);
  return new Response(body, { status, headers });
}

function json(c: Context<Env>, value: unknown, status = 200): Response {
  return respond(c.get("rid"), status, JSON.stringify(value));
}

const NO_MODEL = () => new HttpError(503, "model not loaded yet (see /ready)");

/** Constant-time comparison of two strings. */
function sameToken(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a), y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

const STATUS_CODES: Record<number, string> = {
  400: "BAD_REQUEST",
  401: "UNAUTHORIZED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  405: "METHOD_NOT_ALLOWED",
  413: "PAYLOAD_TOO_LARGE",
  415: "UNSUPPORTED_MEDIA_TYPE",
  422: "INVALID_PARAMETER_VALUE",
  503: "SERVICE_UNAVAILABLE",
  500: "INTERNAL_ERROR",
};

export function createApp(opts: AppOptions): Hono<Env> {
  const { holder, metrics, worker, maxBatch, maxBodyBytes } = opts;
  const log = opts.log ?? null;
  const cluster = opts.cluster ?? null;
  const state = opts.state ?? { draining: false };
  const openapiCache = new WeakMap<ServedModel, string>();
  let openapiNoModel: string | undefined;
  const app = new Hono<Env>();

  // The envelope: request id, route label, latency, secure headers on every response.
  app.use(async (c, next) => {
    const t0 = performance.now();
    c.set("rid", requestIdFrom(c.req.header("x-request-id")));
    c.set("route", "unmatched");
    await next();
    const res = c.res;
    if (!res.headers.has("x-request-id")) {
      for (const k in SECURE_HEADERS) if (!res.headers.has(k)) res.headers.set(k, SECURE_HEADERS[k]);
      res.headers.set("x-request-id", c.get("rid"));
    }
    metrics.observe(c.get("route"), c.req.method, res.status, (performance.now() - t0) / 1000);
  });

  app.onError((e, c) => {
    const rid = c.get("rid") ?? crypto.randomUUID();
    let status = 500, message = "internal error", details, headers;
    if (e instanceof HttpError) {
      status = e.status;
      message = e.message;
      details = e.details;
      headers = e.headers;
    } else if (e instanceof UserError) {
      status = 422;
      message = e.message.split("\n")[0];
    } else {
      console.error(
        `serve: internal error on ${c.req.method} ${c.req.path} [${rid}]: ${String(e).split("\n")[0]}`,
      );
    }
    const body: Record<string, unknown> = {
      error: message,
      error_code: STATUS_CODES[status] ?? "ERROR",
      request_id: rid,
    };
    if (c.get("route") === "/invocations") body.message = message; // MLflow clients read "message"
    if (details) body.details = details;
    return respond(rid, status, JSON.stringify(body), JSON_TYPE, headers);
  });

  app.notFound((c) => {
    throw new HttpError(404, `no route for ${c.req.method} ${c.req.path}`);
  });

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
    const body = parseJsonBody(await readBodyText(c.req.raw, maxBodyBytes));
    const m = holder.current;
    if (!m) throw NO_MODEL();
    const records = m.validator.body(body, maxBatch);
    const preds = predictValidated(m, records);
    logPredictions(m, c.get("rid"), records, preds);
    return json(c, { model: m.name, version: m.version, predictions: preds });
  });

  app.post("/invocations", async (c) => {
    c.set("route", "/invocations");
    const type = mediaType(c.req.header("content-type"));
    if (type !== "application/json" && type !== "text/csv") {
      throw new HttpError(415, "expected Content-Type: application/json or text/csv");
    }
    const text = await readBodyText(c.req.raw, maxBodyBytes);
    const m = holder.current;
    if (!m) throw NO_MODEL();
    const names = m.validator.columns.map((col) => col.name);
    const raw = type === "text/csv"
      ? parseMlflowCsv(text, m.validator.columns)
      : parseMlflowJson(parseJsonBody(text), names);
    const { records, predictions: preds } = scoreRecords(m, raw, maxBatch);
    logPredictions(m, c.get("rid"), records, preds);
    return json(c, { predictions: preds.map((p) => p.prediction) });
  });

  app.get("/health", (c) => {
    c.set("route", "/health");
    return json(c, { status: "ok", worker });
  });

  app.get("/ready", (c) => {
    c.set("route", "/ready");
    const m = holder.current;
    const ls = log?.stats();
    const logOk = !ls?.lastError;
    const status = !m ? "loading" : state.draining ? "draining" : logOk ? "ready" : "degraded";
    return json(c, {
      status,
      model: m?.name ?? null,
      version: m?.version ?? null,
      worker,
      error: holder.lastError,
      prediction_log: {
        ok: logOk,
        last_error: ls?.lastError ?? null,
        pending: ls?.pending ?? 0,
        dropped: ls?.dropped ?? 0,
      },
    }, m && !state.draining ? 200 : 503);
  });

  app.get("/model", (c) => {
    c.set("route", "/model");
    const m = holder.current;
    if (!m) throw NO_MODEL();
    return json(c, {
      name: m.name,
      version: m.version,
      uri: m.uri,
      loaded_at: new Date(m.loadedAt).toISOString(),
      signature: m.model.signature,
      metrics: m.model.metrics ?? {},
      classes: m.classLabels,
      positive_class: m.model.positiveClass ?? null,
      params: m.model.params ?? {},
      lineage: m.model.lineage ?? null,
    });
  });

  app.get("/metrics", async (c) => {
    c.set("route", "/metrics");
    const own = workerSnapshot(metrics, holder, log);
    const peers = cluster ? await cluster.collect() : [];
    return respond(
      c.get("rid"),
      200,
      renderMetrics([own, ...peers]),
      "text/plain; version=0.0.4; charset=utf-8",
    );
  });

  app.get("/openapi.json", (c) => {
    c.set("route", "/openapi.json");
    const m = holder.current;
    let text = m ? openapiCache.get(m) : openapiNoModel;
    if (!text) {
      text = JSON.stringify(buildOpenApi(m, maxBatch));
      if (m) openapiCache.set(m, text);
      else openapiNoModel = text;
    }
    return respond(c.get("rid"), 200, text);
  });

  const docsAsset = async (c: Context<Env>, pick: (d: DocsAssets) => string, type: string) => {
    c.set("route", "/docs");
    if (!opts.docs) throw new HttpError(404, "API docs are not enabled");
    let assets: DocsAssets;
    try {
      assets = await opts.docs;
    } catch {
      throw new HttpError(404, "API docs are unavailable (swagger-ui-dist not installed)");
    }
    return respond(c.get("rid"), 200, pick(assets), type, {
      "content-security-policy": DOCS_CSP,
      "cache-control": "public, max-age=3600",
    });
  };
  app.get("/docs", (c) => docsAsset(c, () => DOCS_HTML, "text/html; charset=utf-8"));
  app.get("/docs/", (c) => docsAsset(c, () => DOCS_HTML, "text/html; charset=utf-8"));
  app.get("/docs/swagger-ui.css", (c) => docsAsset(c, (d) => d.css, "text/css; charset=utf-8"));
  app.get(
    "/docs/swagger-ui-bundle.js",
    (c) => docsAsset(c, (d) => d.bundle, "text/javascript; charset=utf-8"),
  );
  app.get("/docs/init.js", (c) => docsAsset(c, () => DOCS_INIT, "text/javascript; charset=utf-8"));

  // Admin: nothing works without a configured token; a wrong or missing bearer gets 401.
  app.use("/admin/*", async (c, next) => {
    c.set("route", "/admin");
    if (!opts.adminToken) {
      throw new HttpError(403, "admin API disabled: set ORCHARD_ADMIN_TOKEN to enable it");
    }
    const auth = c.req.header("authorization") ?? "";
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (!m || !sameToken(m[1], opts.adminToken)) {
      throw new HttpError(401, "missing or wrong bearer token", undefined, {
        "www-authenticate": 'Bearer realm="orchard-admin"',
      });
    }
    await next();
  });

  app.post("/admin/reload", async (c) => {
    c.set("route", "/admin/reload");
    const text = await readBodyText(c.req.raw, 64 * 1024);
    let uri: string | undefined;
    if (text.trim() !== "") {
      if (mediaType(c.req.header("content-type")) !== "application/json") {
        throw new HttpError(415, "expected Content-Type: application/json");
      }
      const body = parseJsonBody(text) as { model_uri?: unknown };
      if (body === null || typeof body !== "object" || Array.isArray(body)) {
        throw new HttpError(422, 'expected a JSON object, e.g. {"model_uri": "models:/churn@champion"}');
      }
      if (body.model_uri !== undefined) {
        if (typeof body.model_uri !== "string" || body.model_uri.trim() === "") {
          throw new HttpError(422, "model_uri: expected a non-empty string", [{
            field: "model_uri",
            message: "expected a non-empty string",
          }]);
        }
        uri = body.model_uri;
      }
    }
    const [own, peers] = await Promise.all([
      holder.reload({ uri }),
      cluster ? cluster.reloadAll(uri) : Promise.resolve([]),
    ]);
    if (own.error) {
      throw new HttpError(
        422,
        `could not load ${uri ?? holder.uri}: ${own.error}; still serving version ${own.version ?? "none"}`,
      );
    }
    return json(c, {
      model: holder.current?.name ?? null,
      version: own.version,
      changed: own.changed,
      previous: own.previous,
      workers: [{ worker, version: own.version, changed: own.changed }, ...peers],
    });
  });

  // Known paths with the wrong method: 405 with Allow.
  const allow: Record<string, string> = {
    "/predict": "POST",
    "/invocations": "POST",
    "/admin/reload": "POST",
    "/health": "GET, HEAD",
    "/ready": "GET, HEAD",
    "/model": "GET, HEAD",
    "/metrics": "GET, HEAD",
    "/openapi.json": "GET, HEAD",
    "/docs": "GET, HEAD",
  };
  for (const [path, methods] of Object.entries(allow)) {
    app.all(path, (c) => {
      c.set("route", path);
      throw new HttpError(405, `${c.req.method} is not allowed on ${path} (use ${methods})`, undefined, {
        allow: methods,
      });
    });
  }
  return app;
}

/** This worker's metrics with the model it serves and its prediction log's state. */
export function workerSnapshot(
  metrics: Metrics,
  holder: ModelHolder,
  log: PredictionLog | null,
): MetricsSnapshot {
  const m = holder.current;
  return metrics.snapshot(
    m ? { name: m.name, version: m.version } : null,
    log?.stats() ?? { written: 0, writeErrors: 0, dropped: 0, pending: 0, lastError: null },
  );
}
