/**
 * The service as one Hono app of small sub-apps: the prediction routes first
 * (the hot path, dispatched by method and path before Hono in the app's fetch,
 * and matched before any middleware when the app is mounted; they give
 * themselves the envelope), the envelope every other response gets (envelope.ts), the error
 * policy (errors.ts), then the routes by purpose, each its own app mounted with `app.route()`: ops (/health, /ready,
 * /model, /metrics), prediction (/predict, /invocations), features (/features), docs (/openapi.json,
 * /docs) and admin (/admin/*). `createApp` takes its collaborators explicitly
 * so tests build one with `app.request()` and no server; app.ts wires the real
 * ones (service.ts).
 */
import { Hono } from "hono";
import { type Env, envelope } from "./envelope.ts";
import { notFound, onError } from "./errors.ts";
import type { Metrics } from "./metrics.ts";
import { type AdminOptions, adminRoutes } from "./routes/admin.ts";
import { type DocsOptions, docsRoutes } from "./routes/docs.ts";
import { type FeaturesOptions, featuresRoutes } from "./routes/features.ts";
import { type OpsOptions, opsRoutes } from "./routes/ops.ts";
import {
  predictionFallbacks,
  type PredictionHandlers,
  predictionHandlers,
  type PredictionOptions,
  predictionRoutes,
} from "./routes/prediction.ts";

export type { Env } from "./envelope.ts";
export { type ServeState, workerSnapshot } from "./routes/ops.ts";

/** Everything the sub-apps need, in one options object. */
export type AppOptions = OpsOptions & PredictionOptions & FeaturesOptions & DocsOptions & AdminOptions;

/**
 * The root app: the envelope, the error body, the 404. Sub-apps are mounted on
 * it. `hot` (the prediction routes) is routed before the envelope middleware:
 * its handlers give themselves the envelope (routes/prediction.ts).
 */
export function serviceApp(metrics: Metrics, hot?: Hono<Env>): Hono<Env> {
  const app = new Hono<Env>();
  if (hot) app.route("/", hot);
  app.use(...envelope(metrics));
  app.onError(onError);
  app.notFound(notFound);
  return app;
}

export function createApp(opts: AppOptions): Hono<Env> {
  const hot = predictionHandlers(opts);
  const app = serviceApp(opts.metrics, predictionRoutes(hot))
    .route("/", predictionFallbacks())
    .route("/", opsRoutes(opts))
    .route("/", featuresRoutes(opts))
    .route("/", docsRoutes(opts))
    .route("/admin", adminRoutes(opts));
  return withHotPath(app, hot);
}

/** The path of a request URL (`http://host/path?query` -> `/path`), as Hono's router reads it. */
export function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("://") + 3);
  if (start < 0) return "/";
  const q = url.indexOf("?", start);
  return q < 0 ? url.slice(start) : url.slice(start, q);
}

/**
 * The app's fetch, with POST /predict and POST /invocations dispatched by
 * method and path straight to their handlers before Hono's router and context
 * (the same handlers the app routes them to: `app.request()` and a mounted
 * app answer the same). Every other request is Hono's.
 */
function withHotPath(app: Hono<Env>, hot: PredictionHandlers): Hono<Env> {
  const routed = app.fetch;
  app.fetch = (req, env, ctx) => {
    if (req.method === "POST") {
      const url = req.url, path = pathOf(url);
      if (path === "/predict") return hot.predict(req, url);
      if (path === "/invocations") return hot.invocations(req, url);
    }
    return routed(req, env, ctx);
  };
  return app;
}
