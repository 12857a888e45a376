/**
 * The service entry point for `deno serve` (`deno task serve` runs it with
 * --parallel and least permissions): reads params.yaml (or ORCHARD_CONFIG),
 * the model URI from MODEL_URI (default serve.model_uri, models:/churn@champion),
 * loads the model before the module finishes evaluating (deno serve listens
 * only after that, so no request pays for a lazy load), and exports the Hono
 * app as default.
 *
 * Fails fast: a model that cannot be found or loaded at start-up is one line
 * (`serve: cannot start: ...`) and exit 2, at once. Retrying would leave a
 * service that answers /ready 503 forever and says why only in a log; a
 * supervisor restarting it is the better retry. A load failure after start-up
 * (a reload, an alias move) keeps the old version serving (holder.ts).
 *
 * Environment: MODEL_URI, ORCHARD_CONFIG, ORCHARD_SETS (JSON list of --set
 * overrides), ORCHARD_ADMIN_TOKEN (enables /admin/*), ORCHARD_PREDICTIONS_DIR
 * (overrides paths.predictions).
 */
import { errorLine } from "../core/errors.ts";
import { loadConfig } from "../config/load.ts";
import { loadPlugins } from "../models/engines/registry.ts";
import { trackingLocation } from "../config/paths.ts";
import { Cluster } from "./cluster.ts";
import { loadDocsAssets } from "./docs.ts";
import { ModelHolder } from "./holder.ts";
import { optionalEnv as env } from "../core/env.ts";
import { registryLoader, registryResolver } from "../registry/loader.ts";
import { Metrics } from "./metrics.ts";
import { featureSource } from "./entity.ts";
import { join } from "node:path";
import { PredictionLog } from "./predlog.ts";
import { createApp, type ServeState, workerSnapshot } from "./routes.ts";

let config;
try {
  const sets = env("ORCHARD_SETS");
  config = loadConfig({ path: env("ORCHARD_CONFIG"), sets: sets ? JSON.parse(sets) as string[] : [] });
  // a served model of a plugin engine needs its module registered before the load
  await loadPlugins(config.model.plugins);
} catch (e) {
  console.error(`serve: ${errorLine(e)}`);
  Deno.exit(2);
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
      `serve[${worker}]: serving ${next.name} version ${next.version}${prev ? ` (was ${prev.version})` : ""}`,
    );
  },
  onError: (message, failed) => {
    metrics.reloadFailures++;
    // the first load's failure is the one fatal line below
    if (holder.current) console.error(`serve[${worker}]: cannot load ${failed}: ${message}`);
  },
});
const first = await holder.start();
if (first.error) {
  // Deno.exit in one worker of `deno serve --parallel` ends the process: one line, whichever worker
  console.error(`serve: cannot start: cannot load ${uri}: ${first.error}`);
  Deno.exit(2);
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
  onMissing: config.serve.feature_store.on_missing,
  models: config.serve.feature_store.models,
});

const docs = loadDocsAssets();
docs.catch(() => console.error(`serve[${worker}]: swagger-ui-dist not readable; /docs is unavailable`));

let app;
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
  });
} catch (e) { // a token no Authorization header can carry
  console.error(`serve: ${errorLine(e)}`);
  Deno.exit(2);
}

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  state.draining = true;
  holder.stop();
  await log.close(); // later predictions are written synchronously
  await cluster.shutdown();
  cluster.close();
  await features.close().catch(() => {});
  const s = log.stats();
  console.log(
    `serve[${worker}]: ${signal}: prediction log flushed (${s.written} written, ${s.dropped} dropped)`,
  );
  Deno.exit(0);
}
for (const sig of ["SIGTERM", "SIGINT"] as const) {
  try {
    Deno.addSignalListener(sig, () => void shutdown(sig));
  } catch { /* signals unavailable (e.g. Windows SIGTERM) */ }
}

export default app;
