/**
 * Serving by entity id end to end through the runner (2 workers), with the
 * command line and permissions of `deno task serve`:
 *
 * - SQLite, the whole pipeline: the example world over time, its feature store
 *   applied, a model trained on the `churn` feature service (whose signature
 *   records the service), materialized, registered, served. /predict with an id
 *   answers what /predict with the entity's stored record (read back from
 *   /features) answers, for single records and a batch; an unknown entity is a
 *   404 naming it; the prediction log holds the joined inputs.
 * - Redis (skipped, saying so, without a server on 127.0.0.1:6379 or
 *   ORCHARD_TEST_REDIS_URI): the fixture model of entity_fixture.ts, its rows
 *   in Redis under view names of its own: by id, an override, an expired
 *   feature rejected with 422 naming it and the entity, and /features.
 */
import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import { join } from "node:path";
import { createClient } from "redis";
import { loadConfig } from "../../src/config/load.ts";
import { ConfigSchema } from "../../src/config/schema.ts";
import { openOnlineStore } from "../../src/featurestore/open.ts";
import { ModelRegistry } from "../../src/registry/registry.ts";
import { serveCommand } from "../../src/serve/launch.ts";
import { TrackingStore } from "../../src/tracking/store.ts";
import { train } from "../../src/training/train.ts";
import { applyStore, pitWorld } from "../training/_pit_world.ts";
import { C1, fillStore, makeService, REDIS_URI, redisUp, trainEntityModel } from "./entity_fixture.ts";
import { freePort, writeServeParams } from "./launch_helpers.ts";

/** Starts the service as `deno task serve` does; returns its base URL and a stop that flushes (SIGTERM). */
async function startService(cfgPath: string, modelUri: string) {
  const config = loadConfig({ path: cfgPath });
  const port = freePort();
  const cmd = serveCommand({ config, configPath: cfgPath, host: "127.0.0.1", port, workers: 2, modelUri });
  const child = new Deno.Command("deno", { args: cmd.args, env: cmd.env, stdout: "piped", stderr: "piped" })
    .spawn();
  const base = `http://127.0.0.1:${port}`;
  const until = Date.now() + 60_000;
  for (;;) {
    try {
      const res = await fetch(`${base}/ready`);
      await res.body?.cancel();
      if (res.status === 200) break;
    } catch { /* not listening yet */ }
    if (Date.now() > until) {
      try {
        child.kill("SIGKILL");
      } catch { /* exited */ }
      const err = new TextDecoder().decode((await child.output()).stderr);
      throw new Error(`service did not become ready; stderr:\n${err}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base,
    async stop(): Promise<number> {
      child.kill("SIGTERM");
      const status = await child.status;
      await child.stdout.cancel().catch(() => {});
      await child.stderr.cancel().catch(() => {});
      return status.code;
    },
    kill() {
      try {
        child.kill("SIGKILL");
      } catch { /* exited */ }
    },
  };
}

async function call(base: string, path: string, body?: unknown) {
  const res = await fetch(
    `${base}${path}`,
    body === undefined ? undefined : {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    },
  );
  const text = await res.text();
  ok(!/\.ts:\d+|file:\/\//.test(text), text);
  return { status: res.status, body: JSON.parse(text) };
}

Deno.test({
  name: "e2e by entity id [sqlite]: train on a feature service, materialize, serve, predict by customer_id",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const w = pitWorld(300, 10);
    let svc: Awaited<ReturnType<typeof startService>> | undefined;
    try {
      // activity rows never expire here, so every entity's features are present at today's date
      const fs = w.config.feature_store;
      const config = ConfigSchema.parse({
        ...w.config,
        model: { ...w.config.model, max_iter: 30 },
        feature_store: {
          ...fs,
          feature_views: {
            ...fs.feature_views,
            customer_activity: { ...fs.feature_views.customer_activity, ttl: null },
          },
        },
      });
      const fstore = await applyStore(config);
      const res = await train({ config, reportsDir: null, verbose: false });
      const sig = JSON.parse(Deno.readTextFileSync(join(res.artifact, "signature.json")));
      equal(sig.feature_service.name, "churn");
      equal(sig.feature_service.join_key, "customer_id");
      deepStrictEqual(
        sig.feature_service.views.map((v: { view: string; version: number }) => [v.view, v.version]),
        [
          ["customer_profile", 1],
          ["customer_activity", 1],
        ],
      );
      const looked = sig.feature_service.views.flatMap((v: { features: { name: string }[] }) =>
        v.features.map((f) => f.name)
      ).sort();
      deepStrictEqual(
        looked,
        sig.inputs.map((c: { name: string }) => c.name).sort(),
        "every input is looked up",
      );

      await fstore.materialize({ start: 0 });
      await fstore.close();
      const store = await TrackingStore.open(config.tracking.store);
      const registry = await ModelRegistry.open(store, { modelsDir: config.paths.models });
      await registry.register({ runId: res.run_id, name: "churn" });
      await store.close();

      const cfgPath = join(w.dir, "serve.yaml");
      Deno.writeTextFileSync(
        cfgPath,
        [
          "paths:",
          `  models: ${config.paths.models}`,
          `  predictions: ${config.paths.predictions}`,
          "tracking:",
          `  store: ${config.tracking.store}`,
          "feature_store:",
          `  directory: ${config.feature_store.directory}`,
          "serve:",
          "  log_flush_ms: 60000",
          "",
        ].join("\n"),
      );
      svc = await startService(cfgPath, "models:/churn/1");
      const labels = Deno.readTextFileSync(config.training_set.labels.path).trim().split("\n");
      const head = labels[0].split(",");
      const ids = [...new Set(labels.slice(1).map((l) => l.split(",")[head.indexOf("customer_id")]))].slice(
        0,
        8,
      );
      const f = await call(svc.base, "/features", { customer_id: ids });
      equal(f.status, 200, JSON.stringify(f.body));
      const records = f.body.rows.map(
        (r: { values: Record<string, unknown>; statuses: Record<string, string> }) => {
          ok(Object.values(r.statuses).every((s) => s === "present"), JSON.stringify(r));
          return r.values;
        },
      );
      for (let i = 0; i < ids.length; i++) {
        const byId = await call(svc.base, "/predict", { customer_id: ids[i] });
        const full = await call(svc.base, "/predict", records[i]);
        equal(byId.status, 200, JSON.stringify(byId.body));
        deepStrictEqual(byId.body.predictions, full.body.predictions);
      }
      const batch = await call(svc.base, "/predict", ids.map((id) => ({ customer_id: id })));
      const fullBatch = await call(svc.base, "/predict", records);
      equal(batch.status, 200);
      deepStrictEqual(batch.body.predictions, fullBatch.body.predictions);
      const unknown = await call(svc.base, "/predict", { customer_id: "C-nobody" });
      equal(unknown.status, 404);
      match(unknown.body.error, /customer_id "C-nobody"/);

      equal(await svc.stop(), 0);
      svc = undefined;
      const lines: Record<string, unknown>[] = [];
      const walk = (dir: string) => {
        for (const e of Deno.readDirSync(dir)) {
          const p = join(dir, e.name);
          if (e.isDirectory) walk(p);
          else lines.push(...Deno.readTextFileSync(p).trim().split("\n").map((l) => JSON.parse(l)));
        }
      };
      walk(config.paths.predictions);
      equal(lines.length, 2 * ids.length + 2 * ids.length);
      const logged = new Set(lines.map((l) => JSON.stringify(l.inputs)));
      ok(records.every((r: unknown) => logged.has(JSON.stringify(r))), "the joined inputs are logged");
    } finally {
      svc?.kill();
      w.cleanup();
    }
  },
});

const redis = await redisUp();

Deno.test({
  name: `e2e by entity id [redis${
    redis ? "" : ": skipped, no server"
  }]: by id, override, expired rejected, /features`,
  ignore: !redis,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "orchard-serve-redis-" });
    const tag = `_t${crypto.randomUUID().slice(0, 8).replace(/-/g, "")}`;
    const service = makeService(tag);
    const dir = await trainEntityModel(`${root}/m`, 3, service);
    const online = await openOnlineStore(REDIS_URI);
    const tables = await fillStore(online, Date.now(), service);
    await online.close();
    const cfgPath = await writeServeParams(root, ["feature_store:", `  online_store: ${REDIS_URI}`]);
    let svc: Awaited<ReturnType<typeof startService>> | undefined;
    try {
      svc = await startService(cfgPath, dir);
      const byId = await call(svc.base, "/predict", { customer_id: "C-1" });
      equal(byId.status, 200, JSON.stringify(byId.body));
      deepStrictEqual(byId.body.predictions, (await call(svc.base, "/predict", C1)).body.predictions);
      const over = await call(svc.base, "/predict", { customer_id: "C-1", tenure: 60 });
      deepStrictEqual(
        over.body.predictions,
        (await call(svc.base, "/predict", { ...C1, tenure: 60 })).body.predictions,
      );
      const expired = await call(svc.base, "/predict", { customer_id: "C-2" });
      equal(expired.status, 422);
      deepStrictEqual(expired.body.details.map((d: { field: string }) => d.field).sort(), [
        "monthly_charges",
        "tenure",
      ]);
      match(expired.body.details[0].message, /expired in the online store for customer_id "C-2"/);
      const f = await call(svc.base, "/features?customer_id=C-2&features=tenure,contract");
      equal(f.status, 200, JSON.stringify(f.body));
      deepStrictEqual(f.body.rows[0].statuses, { tenure: "expired", contract: "present" });
      equal((await call(svc.base, "/features?customer_id=C-404")).status, 404);
      equal(await svc.stop(), 0);
      svc = undefined;
    } finally {
      svc?.kill();
      const c = createClient({ url: REDIS_URI });
      await c.connect();
      for (const t of tables) for (const k of ["C-1", "C-2", "C-3"]) await c.del(`orchard:fs:${t}:${k}`);
      await c.close();
      await Deno.remove(root, { recursive: true });
    }
  },
});
