/**
 * What load balancers, Prometheus and operators ask the service: GET /health
 * (the process answers), /ready (a model is loaded and the service is not
 * draining: 503 otherwise, so a balancer stops sending traffic), /model (what
 * is served: version, signature, metrics, lineage) and /metrics (Prometheus,
 * merged over every worker). None of them touches a request body.
 */
import { Hono } from "hono";
import { type Env, json, send } from "../envelope.ts";
import { allowOnly, noModel } from "../errors.ts";
import type { Cluster } from "../cluster.ts";
import type { ModelHolder } from "../holder.ts";
import { type Metrics, type MetricsSnapshot, renderMetrics } from "../metrics.ts";
import type { PredictionLog } from "../predlog.ts";

export interface ServeState {
  /** set on SIGTERM: /ready answers 503 so balancers stop sending traffic */
  draining: boolean;
}

export interface OpsOptions {
  holder: ModelHolder;
  metrics: Metrics;
  worker: string;
  log?: PredictionLog | null;
  cluster?: Cluster | null;
  state?: ServeState;
}

const PROMETHEUS_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export function opsRoutes(opts: OpsOptions): Hono<Env> {
  const { holder, metrics, worker } = opts;
  const log = opts.log ?? null;
  const cluster = opts.cluster ?? null;
  const state = opts.state ?? { draining: false };
  const app = new Hono<Env>();

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
      // only when the holder refused to swap to a version (another target, classes, inputs...): which, and why
      ...(holder.refused ? { refused: holder.refused } : {}),
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
    if (!m) throw noModel();
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
    return send(c, renderMetrics([own, ...peers]), PROMETHEUS_TYPE);
  });

  for (const path of ["/health", "/ready", "/model", "/metrics"]) allowOnly(app, path, "GET, HEAD");
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
