/**
 * feature_store.project namespaces a shared Redis online store: two projects with a view of the same name
 * each read their own values (they read each other's, by position, before). Needs Redis on 127.0.0.1:6379
 * or ORCHARD_TEST_REDIS_URI; without one that test says it skipped.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import pl from "nodejs-polars";
import { createClient } from "redis";
import { ConfigSchema } from "../../src/config/schema.ts";
import { redisPrefixOf } from "../../src/featurestore/open.ts";
import { FeatureStore } from "../../src/featurestore/store.ts";
import { oneViewBlock } from "./_world.ts";

const REDIS = Deno.env.get("ORCHARD_TEST_REDIS_URI") || "redis://127.0.0.1:6379";
const redisUp = await (async () => {
  const c = createClient({ url: REDIS, socket: { connectTimeout: 1000, reconnectStrategy: false } });
  c.on("error", () => {});
  try {
    await c.connect();
    await c.close();
    return true;
  } catch {
    return false;
  }
})();

Deno.test("redisPrefixOf: a project's own namespace; none set keeps the old keys", () => {
  assert.equal(redisPrefixOf({}), "orchard:fs:");
  assert.equal(redisPrefixOf({ project: "churn" }), "orchard:fs:churn:");
  assert.throws(() => ConfigSchema.parse({ feature_store: { project: "a b" } }));
});

Deno.test({
  name: `two projects on one Redis server, a view of the same name: each reads its own${
    redisUp ? "" : " [redis: skipped, no server]"
  }`,
  ignore: !redisUp,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const root = Deno.makeTempDirSync({ prefix: "orchard-fs-projects-" });
    const run = crypto.randomUUID().slice(0, 8);
    const stores: FeatureStore[] = [];
    try {
      for (const [k, value] of [[0, 1.5], [1, 99]] as const) {
        const dir = join(root, `p${k}`);
        Deno.mkdirSync(dir);
        pl.DataFrame({ customer_id: ["C-1"], ts: [1000], f: [value] }).withColumns(
          pl.col("ts").cast(pl.Int64),
        )
          .writeParquet(join(dir, "v.parquet"));
        const config = ConfigSchema.parse({
          feature_store: {
            ...oneViewBlock(dir, { source: join(dir, "v.parquet"), features: { f: "float64" } }),
            online_store: REDIS,
            project: `test-${run}-${k}`,
          },
        });
        const store = await FeatureStore.fromConfig(config);
        store.apply();
        await store.materialize({ start: 0, end: 2000 });
        stores.push(store);
      }
      for (const [k, value] of [[0, 1.5], [1, 99]] as const) {
        const got = await stores[k].getOnlineFeatures({ customer_id: ["C-1"] }, ["v:f"], { now: 2000 });
        assert.equal(got.rows[0].values.f, value, `project ${k}`);
      }
    } finally {
      for (const s of stores) {
        const online = await s.onlineStore() as unknown as { clear(): Promise<void> };
        await online.clear();
        await s.close();
      }
      Deno.removeSync(root, { recursive: true });
    }
  },
});
