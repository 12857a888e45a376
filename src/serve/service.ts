/**
 * The prediction service of one worker, wired from the config: reads
 * params.yaml (or ORCHARD_CONFIG) and the model URI from MODEL_URI (default
 * serve.model_uri, models:/churn@champion), loads the model before it returns
 * (no request pays for a lazy load), and builds the Hono app with its
 * collaborators: the model holder, metrics, the prediction log, the workers'
 * cluster channel and the online feature store.
 *
 * Fails fast: a config or model that cannot be read or loaded at start-up is
 * a `StartError` whose message is the one line to print (`cannot start: ...`),
 * for the entry point to exit 2 with at once. Retrying would leave a service
 * that answers /ready 503 forever and says why only in a log; a supervisor
 * restarting it is the better retry. A load failure after start-up (a reload,
 * an alias move) keeps the old version serving (holder.ts).
 *
 * Environment: MODEL_URI, ORCHARD_CONFIG, ORCHARD_SETS (JSON list of --set
 * overrides), ORCHARD_ADMIN_TOKEN (enables /admin/*), ORCHARD_PREDICTIONS_DIR
 * (overrides paths.predictions).
 */
import type { Hono } from "hono";
import { errorLine } from "../core/errors.ts";
import { loadConfig } from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import { loadPlugins } from "../models/engines/registry.ts";
import { trackingLocation } from "../config/paths.ts";
import { Cluster } from "./cluster.ts";
import { loadDocsAssets } from "./docs.ts";
import { ModelHolder } from "./holder.ts";
import { optionalEnv as env } from "../core/env.ts";
import { registryLoader, registryResolver } from "../registry/loader.ts";
import { Metrics } from "./metrics.ts";
import { featureSource } from "./entity.ts";
import { redisPrefixOf } from "../featurestore/open.ts";
import { join } from "node:path";
import { PredictionLog } from "./predlog.ts";
import { createApp, type Env, type ServeState, workerSnapshot } from "./routes.ts";
import { BatchSplitter } from "./split.ts";

/** A start that cannot succeed: the message is the whole line to print. */
export class StartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StartError";
  }
}

export interface Service {
  app: Hono<Env>;
  metrics: Metrics;
  config: Config;
  worker: string;
  /** drains, flushes the prediction log and closes the stores; resolves with the line to print */
  shutdown(signal: string): Promise<string>;
}

export async function startService(): Promise<Service> {
  let config: Config;
  try {
    const sets = env("ORCHARD_SETS");
    config = loadConfig({ path: env("ORCHARD_CONFIG"), sets: sets ? JSON.parse(sets) as string[] : [] });
    // a served model of a plugin engine needs its module registered before the load
    await loadPlugins(config.model.plugins);
  } catch (e) {
    throw new StartError(errorLine(e));
  }

  const uri = env("MODEL_URI") ?? config.serve.model_uri;
  const worker = `w${Deno.pid}-${crypto.getRandomValues(new Uint32Array(1))[0].toString(36)}`;
  const metrics = new Metrics(worker);
  const state: ServeState = { draining: false };
  const log = new PredictionLog({
    dir: env("ORCHARD_PREDICTIONS_DIR") ?? config.paths.predictions,
    worker,
    flushMs: config.serve.log_flush_ms,
    batchSize: config.serve.log_batch,
  }).start();
  const where = { store: trackingLocation(config), modelsDir: config.paths.models };
  const holder = new ModelHolder({
    uri,
    loader: registryLoader(where),
    resolver: registryResolver(where),
    pollMs: config.serve.reload_poll_ms,
    limits: { maxStringLength: config.serve.max_string_length, maxAbsNumber: config.serve.max_abs_number },
    onSwap: (next, prev) => {
      if (prev) metrics.reloads++;
      console.log(
        `serve[${worker}]: serving ${next.name} version ${next.version}${
          prev ? ` (was ${prev.version})` : ""
        }`,
      );
    },
    onError: (message, failed) => {
      metrics.reloadFailures++;
      // the first load's failure is the one fatal line
      if (holder.current) console.error(`serve[${worker}]: cannot load ${failed}: ${message}`);
    },
  });
  const first = await holder.start();
  if (first.error) {
    holder.stop();
    await log.close().catch(() => {});
    throw new StartError(`cannot start: cannot load ${uri}: ${first.error}`);
  }

  const cluster = new Cluster("orchard-serve", worker, {
    snapshot: () => workerSnapshot(metrics, holder, log),
    reload: (u) => holder.reload({ uri: u }),
    flush: () => log.flush(),
  });

  // /predict by entity id and /features: the online store opens on the first lookup
  const fsc = config.feature_store;
  const features = featureSource({
    location: fsc.online_store === "sqlite" ? join(fsc.directory, "online.db") : fsc.online_store,
    prefix: redisPrefixOf(fsc),
    onMissing: config.serve.feature_store.on_missing,
    models: config.serve.feature_store.models,
  });

  const docs = loadDocsAssets();
  docs.catch(() => console.error(`serve[${worker}]: swagger-ui-dist not readable; /docs is unavailable`));

  // a large batch's second half on another core (split.ts); one core: nothing to gain
  const splitter = config.serve.split_batch_bytes > 0 && navigator.hardwareConcurrency > 1
    ? new BatchSplitter({
      minBytes: config.serve.split_batch_bytes,
      onGiveUp: (why) => console.error(`serve[${worker}]: ${why}; batches are scored on one thread`),
    })
    : null;

  let app: Hono<Env>;
  try {
    app = createApp({
      holder,
      metrics,
      worker,
      maxBatch: config.serve.max_batch,
      maxBodyBytes: config.serve.max_body_bytes,
      readTimeoutMs: config.serve.read_timeout_ms,
      predictionHeaders: config.serve.prediction_headers,
      log,
      cluster,
      adminToken: env("ORCHARD_ADMIN_TOKEN") ?? null,
      docs,
      state,
      features,
      splitter,
    });
  } catch (e) { // a token no Authorization header can carry
    splitter?.close();
    holder.stop();
    cluster.close();
    await log.close().catch(() => {});
    throw new StartError(errorLine(e));
  }

  let stopping: Promise<string> | null = null;
  const shutdown = (signal: string) =>
    stopping ??= (async () => {
      state.draining = true;
      holder.stop();
      await splitter?.drain(); // the log lines of batch halves still on the helper
      splitter?.close();
      await log.close(); // later predictions are written synchronously
      await cluster.shutdown();
      cluster.close();
      await features.close().catch(() => {});
      const s = log.stats();
      return `serve[${worker}]: ${signal}: prediction log flushed (${s.written} written, ${s.dropped} dropped)`;
    })();
  return { app, metrics, config, worker, shutdown };
}
