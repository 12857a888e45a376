/**
 * Starting the UI: open the tracking store and registry where the config
 * says (SQLite file or PostgreSQL URI, as every task does), build the app,
 * and listen. A store that cannot be opened, a bad --port or --service, or a
 * port already in use is the user's problem: one line (UserError), exit 2.
 */
import type { Config } from "../config/schema.ts";
import { trackingLocation } from "../config/paths.ts";
import { UserError } from "../core/errors.ts";
import { optionalEnv } from "../core/env.ts";
import { TrackingStore } from "../tracking/store.ts";
import { ModelRegistry, REGISTRY_SCHEMA } from "../registry/registry.ts";
import { modelsCommand } from "../registry/commands.ts";
import { Sessions } from "./auth.ts";
import { createUiApp } from "./app.ts";
import type { UiContext } from "./context.ts";

export interface UiOptions {
  host?: string;
  port?: string | number;
  service?: string;
  /** default: ORCHARD_ADMIN_TOKEN */
  adminToken?: string;
  /** the project folder whose deno.json declares the pipeline stages (default: the working directory) */
  projectDir?: string;
}

export function parsePort(text: string | number | undefined, fallback = 5000): number {
  if (text === undefined) return fallback;
  const s = String(text).trim();
  if (!/^\d+$/.test(s) || Number(s) > 65535) {
    throw new UserError(`--port must be an integer from 0 to 65535 (got '${text}')`);
  }
  return Number(s);
}

export function parseService(text: string | undefined): string | undefined {
  if (text === undefined || text === "") return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UserError(`--service must be a URL such as http://127.0.0.1:8000 (got '${text}')`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UserError(`--service must be an http(s) URL (got '${text}')`);
  }
  return url.toString().replace(/\/+$/, "");
}

/** Opens the store and registry and builds the UI's context (close `store` when done). */
export async function openUiContext(config: Config, opts: UiOptions = {}): Promise<UiContext> {
  const location = trackingLocation(config);
  let store: TrackingStore;
  try {
    store = await TrackingStore.open(location, { components: [REGISTRY_SCHEMA], keepStaleRuns: true });
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(
      `cannot open the tracking store at ${location}: ${(e as Error).message.split("\n")[0]}`,
    );
  }
  const registry = await ModelRegistry.open(store, {
    modelsDir: config.paths.models,
    gates: config.registry.gates,
  });
  const token = opts.adminToken ?? optionalEnv("ORCHARD_ADMIN_TOKEN");
  return {
    config,
    store,
    registry,
    reportsDir: config.paths.reports,
    predictionsDir: config.paths.predictions,
    monitoringDir: config.paths.monitoring,
    projectDir: opts.projectDir ?? Deno.cwd(),
    serviceUrl: parseService(opts.service),
    sessions: new Sessions(token),
    modelsAction: (positionals, v) => modelsCommand(config, positionals, v),
  };
}

export interface RunningUi {
  url: string;
  ctx: UiContext;
  finished: Promise<void>;
  shutdown(): Promise<void>;
}

/** Listens on host:port (default 127.0.0.1:5000). */
export async function startUi(config: Config, opts: UiOptions = {}): Promise<RunningUi> {
  const port = parsePort(opts.port);
  const host = opts.host ?? "127.0.0.1";
  const service = parseService(opts.service);
  const ctx = await openUiContext(config, { ...opts, service });
  const app = createUiApp(ctx);
  let server: Deno.HttpServer;
  try {
    server = Deno.serve({ hostname: host, port, onListen: () => {} }, app.fetch);
  } catch (e) {
    await ctx.store.close();
    if (e instanceof Deno.errors.AddrInUse) {
      throw new UserError(`cannot start: ${host}:${port} is in use (choose --port)`);
    }
    if (e instanceof Deno.errors.PermissionDenied) throw e;
    throw new UserError(`cannot listen on ${host}:${port}: ${(e as Error).message.split("\n")[0]}`);
  }
  const addr = server.addr as Deno.NetAddr;
  const shown = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  return {
    url: `http://${shown}:${addr.port}`,
    ctx,
    finished: server.finished,
    shutdown: async () => {
      await server.shutdown();
      await ctx.store.close();
    },
  };
}
