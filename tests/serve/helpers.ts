/** Builds a test app around real trained artifacts (see fixture.ts). */
import { ModelHolder } from "../../src/serve/holder.ts";
import { Metrics } from "../../src/serve/metrics.ts";
import { PredictionLog } from "../../src/serve/predlog.ts";
import type { Hono } from "hono";
import { type AppOptions, createApp, type Env, serviceApp } from "../../src/serve/routes.ts";
import { loadDocsAssets } from "../../src/serve/docs.ts";
import type { ModelLoader } from "../../src/serve/types.ts";
import type { ValueLimits } from "../../src/serve/validation.ts";
import type { FeatureSource } from "../../src/serve/entity.ts";
import type { BatchSplitter } from "../../src/serve/split.ts";

export interface TestApp {
  app: ReturnType<typeof createApp>;
  holder: ModelHolder;
  metrics: Metrics;
  log: PredictionLog;
  logDir: string;
  close(): Promise<void>;
}

export async function makeApp(
  loader: ModelLoader,
  opts: {
    uri?: string;
    load?: boolean;
    adminToken?: string | null;
    maxBatch?: number;
    maxBodyBytes?: number;
    readTimeoutMs?: number;
    limits?: ValueLimits;
    docs?: boolean;
    features?: FeatureSource | null;
    predictionHeaders?: "api" | "full";
    splitter?: BatchSplitter | null;
  } = {},
): Promise<TestApp> {
  const logDir = await Deno.makeTempDir({ prefix: "orchard-predlog-" });
  const holder = new ModelHolder({ uri: opts.uri ?? "models:/churn@champion", loader, limits: opts.limits });
  if (opts.load ?? true) {
    const r = await holder.reload();
    if (r.error) throw new Error(r.error);
  }
  const metrics = new Metrics("test");
  const log = new PredictionLog({ dir: logDir, worker: "test", flushMs: 50, batchSize: 100 });
  const app = createApp(
    {
      holder,
      metrics,
      worker: "test",
      maxBatch: opts.maxBatch ?? 50,
      maxBodyBytes: opts.maxBodyBytes ?? 20_000,
      readTimeoutMs: opts.readTimeoutMs,
      log,
      adminToken: opts.adminToken ?? null,
      docs: opts.docs ? loadDocsAssets() : null,
      features: opts.features ?? null,
      predictionHeaders: opts.predictionHeaders,
      splitter: opts.splitter ?? null,
    } satisfies AppOptions,
  );
  return {
    app,
    holder,
    metrics,
    log,
    logDir,
    async close() {
      holder.stop();
      await opts.splitter?.drain();
      opts.splitter?.close();
      await log.close();
      await Deno.remove(logDir, { recursive: true });
    },
  };
}

export function post(
  path: string,
  body: unknown,
  contentType = "application/json",
  headers: Record<string, string> = {},
) {
  return new Request(`http://local${path}`, {
    method: "POST",
    headers: { "content-type": contentType, ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** Asserts a response never leaks a stack trace or internal path. */
export function noStack(text: string): boolean {
  return !/\bat (async )?\S+ \(|file:\/\/|\.ts:\d+/.test(text);
}

/** One sub-app on the service's root (envelope, error body, 404), as createApp mounts it. */
export function mount(
  sub: Hono<Env>,
  at = "/",
  metrics = new Metrics("test"),
): { app: Hono<Env>; metrics: Metrics } {
  return { app: serviceApp(metrics).route(at, sub), metrics };
}

/** The requests counted so far, as "route method status" -> count. */
export function counted(metrics: Metrics): Record<string, number> {
  const log = { written: 0, writeErrors: 0, dropped: 0, pending: 0, lastError: null };
  return Object.fromEntries(
    Object.entries(metrics.snapshot(null, log).requests).map(([k, v]) => [k.replaceAll("\t", " "), v]),
  );
}

/** The secure headers every response carries (docs/reference/http.md). */
export const SECURE_HEADERS: Readonly<Record<string, string>> = {
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  "strict-transport-security": "max-age=15552000; includeSubDomains",
  "x-permitted-cross-domain-policies": "none",
  "cache-control": "no-store",
};

/** Every line of a test app's prediction log, flushed first, file by file (model, date, worker file). */
export async function readLogLines(t: TestApp): Promise<string[]> {
  await t.log.flush();
  const out: string[] = [];
  for await (const m of Deno.readDir(t.logDir)) {
    for await (const d of Deno.readDir(`${t.logDir}/${m.name}`)) {
      for await (const f of Deno.readDir(`${t.logDir}/${m.name}/${d.name}`)) {
        const text = await Deno.readTextFile(`${t.logDir}/${m.name}/${d.name}/${f.name}`);
        out.push(...text.split("\n").filter(Boolean));
      }
    }
  }
  return out;
}
