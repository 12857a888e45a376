/**
 * The command line for `deno task serve`: runner.ts (worker isolates sharing
 * the port, each timing out idle and slow connections) with only the
 * permissions the service needs (listen on one address; read
 * the config, models, store and the Swagger UI package; write the prediction
 * log and the store's folder; the online feature store's folder, or its Redis
 * address; a fixed list of environment variables).
 */
import { dirname, resolve } from "node:path";
import { UserError } from "../core/errors.ts";
import { optionalEnv } from "../core/env.ts";
import type { Config } from "../config/schema.ts";
import { trackingLocation } from "../config/paths.ts";
import { isPostgresUri, POSTGRES_ENV } from "../store/sql.ts";

/** the yaml package reads LOG_TOKENS and LOG_STREAM when parsing params.yaml */
const SERVE_ENV = [
  "MODEL_URI",
  "ORCHARD_TRACKING_URI",
  "ORCHARD_CONFIG",
  "ORCHARD_ADMIN_TOKEN",
  "ORCHARD_PREDICTIONS_DIR",
  "ORCHARD_SETS",
  "ORCHARD_DEBUG",
  "LOG_TOKENS",
  "LOG_STREAM",
];

export interface LaunchOptions {
  config: Config;
  /** the config file (passed on as ORCHARD_CONFIG) */
  configPath?: string;
  /** --port, else PORT, else serve.port */
  port?: string | number;
  /** what gave `port`, for its message (default "port") */
  portSource?: string;
  host?: string;
  modelUri?: string;
  workers?: number | null;
  /** --set overrides, passed on as ORCHARD_SETS (JSON) */
  sets?: string[];
  /** the service's main module (default src/serve/runner.ts beside this file) */
  entry?: string;
}

function parsePort(text: string | number, from: string): number {
  const n = typeof text === "number" ? text : Number(String(text).trim());
  if (!Number.isInteger(n) || n < 0 || n > 65535 || String(text).trim() === "") {
    throw new UserError(`${from} = ${JSON.stringify(text)}: expected a port number 0..65535`);
  }
  return n;
}

export interface LaunchCommand {
  args: string[];
  env: Record<string, string>;
  host: string;
  port: number;
  modelUri: string;
}

export function serveCommand(opts: LaunchOptions): LaunchCommand {
  const { config } = opts;
  const port = opts.port !== undefined ? parsePort(opts.port, opts.portSource ?? "port") : config.serve.port;
  const host = opts.host ?? config.serve.host;
  const modelUri = opts.modelUri ?? config.serve.model_uri;
  const entry = opts.entry ?? new URL("./runner.ts", import.meta.url).pathname;
  const location = trackingLocation(config);
  const postgres = isPostgresUri(location);
  // a SQLite store needs its folder (WAL files); a PostgreSQL one its server's address
  const storeDir = postgres ? config.paths.models : dirname(location) || ".";
  const reads = new Set([config.paths.models, storeDir, "node_modules", opts.configPath ?? "params.yaml"]);
  // the runner's workers load Orchard's source: a Worker's module graph needs read access
  reads.add(resolve(new URL("..", import.meta.url).pathname));
  if (!modelUri.startsWith("models:")) reads.add(modelUri);
  // a plugin engine is imported at start-up: its module (Orchard's own source it imports is read anyway)
  for (const plugin of config.model.plugins) if (!/^[a-z]+:/i.test(plugin)) reads.add(plugin);
  // the service logs where ORCHARD_PREDICTIONS_DIR says, else paths.predictions: grant that folder
  const writes = new Set([optionalEnv("ORCHARD_PREDICTIONS_DIR") ?? config.paths.predictions, storeDir]);
  // /predict by entity id reads the online store: SQLite in the feature store's folder (WAL files), or Redis
  const online = config.feature_store.online_store;
  const redis = /^rediss?:\/\//.test(online) ? new URL(online) : null;
  if (!redis) {
    const dir = online === "sqlite" ? config.feature_store.directory : dirname(online) || ".";
    reads.add(dir);
    writes.add(dir);
  }
  const nets = [`${host.includes(":") ? `[${host}]` : host}:${port}`];
  if (redis) nets.push(`${redis.hostname}:${redis.port || "6379"}`);
  if (postgres) {
    const url = new URL(location);
    nets.push(`${url.hostname}:${url.port || "5432"}`);
  }
  const workers = opts.workers ?? config.serve.workers;
  const env: Record<string, string> = { MODEL_URI: modelUri };
  if (postgres) env.ORCHARD_TRACKING_URI = location;
  if (opts.configPath) env.ORCHARD_CONFIG = opts.configPath;
  if (opts.sets?.length) env.ORCHARD_SETS = JSON.stringify(opts.sets);
  const semi = config.serve.max_semi_space_mb;
  const v8 = [
    ...(semi ? [`--max-semi-space-size=${semi}`] : []),
    ...(config.serve.single_threaded_gc ? ["--single-threaded-gc"] : []),
  ];
  const args = [
    "run",
    "--no-prompt",
    ...(v8.length ? [`--v8-flags=${v8.join(",")}`] : []),
    `--allow-net=${nets.join(",")}`,
    `--allow-read=${[...reads].map((p) => resolve(p)).join(",")}`,
    `--allow-write=${[...writes].map((p) => resolve(p)).join(",")}`,
    `--allow-env=${[...SERVE_ENV, ...(postgres ? POSTGRES_ENV : [])].join(",")}`,
    entry,
    `--host=${host}`,
    `--port=${port}`,
    ...(workers ? [`--workers=${workers}`] : []),
    ...(config.serve.engine === "plain" ? ["--engine=plain"] : []),
  ];
  return { args, env, host, port, modelUri };
}
