/**
 * The service as one Hono app of small sub-apps: the envelope every response
 * gets (envelope.ts), the error policy (errors.ts), then the routes by
 * purpose, each its own app mounted with `app.route()`: ops (/health, /ready,
 * /model, /metrics), prediction (/predict, /invocations), docs (/openapi.json,
 * /docs) and admin (/admin/*). `createApp` takes its collaborators explicitly
 * so tests build one with `app.request()` and no server; app.ts wires the real
 * ones for `deno serve`.
 */
import { Hono } from "hono";
import { type Env, envelope } from "./envelope.ts";
import { notFound, onError } from "./errors.ts";
import type { Metrics } from "./metrics.ts";
import { type AdminOptions, adminRoutes } from "./routes/admin.ts";
import { type DocsOptions, docsRoutes } from "./routes/docs.ts";
import { type OpsOptions, opsRoutes } from "./routes/ops.ts";
import { type PredictionOptions, predictionRoutes } from "./routes/prediction.ts";

export type { Env } from "./envelope.ts";
export { type ServeState, workerSnapshot } from "./routes/ops.ts";

/** Everything the sub-apps need, in one options object. */
export type AppOptions = OpsOptions & PredictionOptions & DocsOptions & AdminOptions;

/** The root app without routes: the envelope, the error body, the 404. Sub-apps are mounted on it. */
export function serviceApp(metrics: Metrics): Hono<Env> {
  const app = new Hono<Env>();
  app.use(...envelope(metrics));
  app.onError(onError);
  app.notFound(notFound);
  return app;
}

export function createApp(opts: AppOptions): Hono<Env> {
  return serviceApp(opts.metrics)
    .route("/", predictionRoutes(opts))
    .route("/", opsRoutes(opts))
    .route("/", docsRoutes(opts))
    .route("/admin", adminRoutes(opts));
}
