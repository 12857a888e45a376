/**
 * Definitions: a TypeScript definitions file (defineFeatureStore, with a
 * polars transform) merged with params' block; every problem reported at
 * once; the digest that makes a new version changes with what matters (TTL,
 * features, the transform's code) and not with how a TTL is written.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import pl from "nodejs-polars";
import { ConfigSchema } from "../../src/config/schema.ts";
import { UserErrors } from "../../src/core/errors.ts";
import {
  buildDefinitions,
  canonical,
  digestOf,
  loadDefinitions,
} from "../../src/featurestore/definitions.ts";
import {
  diffRegistry,
  readRegistry,
  registeredVersions,
  registryPath,
} from "../../src/featurestore/registry.ts";
import { sha256Hex } from "../../src/core/digest.ts";
import { FeatureStore } from "../../src/featurestore/store.ts";
import { oneViewBlock, oneViewStore } from "./_world.ts";

const SRC = new URL("../../src/featurestore/definitions.ts", import.meta.url).href;

Deno.test("a TypeScript definitions file with a transform, merged with params; the join uses the transform", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "orchard-fs-defs-" });
  try {
    pl.DataFrame({
      customer_id: ["C-1", "C-1", "C-2"],
      ts: [1000, 2000, 1500],
      spend: [10, 200, 30],
    }).withColumns(pl.col("ts").cast(pl.Int64)).writeParquet(join(dir, "tx.parquet"));
    Deno.writeTextFileSync(
      join(dir, "defs.ts"),
      `import pl from "nodejs-polars";
import { defineFeatureStore } from "${SRC}";
export default defineFeatureStore({
  feature_views: {
    big: {
      entity: "customer",
      source: { path: ${JSON.stringify(join(dir, "tx.parquet"))} },
      timestamp_field: "ts",
      features: { spend: "float64" },
      transform: (lf) => lf.filter(pl.col("spend").gt(50)),
    },
  },
  feature_services: { s: { features: ["big:spend"] } },
});
`,
    );
    const config = ConfigSchema.parse({
      feature_store: {
        directory: join(dir, "fs"),
        definitions: join(dir, "defs.ts"),
        entities: { customer: { join_key: "customer_id" } },
      },
    });
    const defs = await loadDefinitions(config);
    assert.deepEqual([...defs.views.keys()], ["big"]);
    const store = await FeatureStore.fromConfig(config);
    store.apply();
    const ents = pl.DataFrame({ customer_id: ["C-1", "C-1", "C-2"], event_timestamp: [1500, 2500, 1600] })
      .withColumns(pl.col("event_timestamp").cast(pl.Int64));
    const { frame } = store.getHistoricalFeatures(ents, "s");
    assert.deepEqual(
      frame.getColumn("spend").toArray(),
      [null, 200, null],
      "rows the transform drops are never joined",
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("every problem at once: unknown entity, unknown feature, a feature that is also the join key", () => {
  assert.throws(
    () =>
      buildDefinitions({
        entities: { customer: { join_key: "customer_id", dtype: "string" } },
        feature_views: {
          a: {
            entity: "shopper",
            source: { path: "x.parquet" },
            timestamp_field: "ts",
            ttl: null,
            features: { f: "float64" },
          },
          b: {
            entity: "customer",
            source: { path: "y.parquet" },
            timestamp_field: "ts",
            ttl: "1d",
            features: { customer_id: "string" },
          },
        },
        feature_services: { s: { features: ["a:nope"] } },
      }),
    (e: unknown) => {
      assert.ok(e instanceof UserErrors);
      assert.equal(e.problems.length, 3, e.problems.join("\n"));
      assert.match(e.problems[0], /feature view a: unknown entity 'shopper'/);
      assert.match(e.problems[1], /feature view b: feature customer_id is also its join key/);
      assert.match(e.problems[2], /feature service s: unknown feature 'nope' in feature view a/);
      return true;
    },
  );
});

Deno.test("the digest: 30d and 2592000 seconds are one version; a TTL, a feature or a transform change is a new one", () => {
  const view = (ttl: string | number, features: Record<string, "float64" | "int64"> = { f: "float64" }) =>
    buildDefinitions({
      entities: { customer: { join_key: "customer_id", dtype: "string" } },
      feature_views: {
        v: { entity: "customer", source: { path: "x.parquet" }, timestamp_field: "ts", ttl, features },
      },
      feature_services: {},
    }).views.get("v")!;
  assert.equal(digestOf("view", view("30d")), digestOf("view", view(2_592_000)));
  assert.notEqual(digestOf("view", view("30d")), digestOf("view", view("7d")));
  assert.notEqual(digestOf("view", view("30d")), digestOf("view", view("30d", { f: "int64" })));
  const a = { ...view("1d"), transform: (lf: pl.LazyDataFrame) => lf };
  const b = { ...view("1d"), transform: (lf: pl.LazyDataFrame) => lf.limit(1) };
  assert.notEqual(digestOf("view", a), digestOf("view", b));
});

Deno.test("the digest: the entity's join key and its dtype are part of a view's version", () => {
  const view = (join_key: string, dtype: "string" | "int64") =>
    buildDefinitions({
      entities: { customer: { join_key, dtype } },
      feature_views: {
        v: {
          entity: "customer",
          source: { path: "x.parquet" },
          timestamp_field: "ts",
          ttl: null,
          features: { f: "float64" },
        },
      },
      feature_services: {},
    }).views.get("v")!;
  // the keys its online rows and training joins are written under: 00042 as a string is not 42
  assert.notEqual(
    digestOf("view", view("customer_id", "string")),
    digestOf("view", view("customer_id", "int64")),
  );
  assert.notEqual(digestOf("view", view("customer_id", "string")), digestOf("view", view("cust", "string")));
});

Deno.test("a view registered before its entity key was in its version is not re-versioned; apply records the key", () => {
  const dir = Deno.makeTempDirSync({ prefix: "orchard-fs-legacy-" });
  try {
    pl.DataFrame({ customer_id: ["C-1"], ts: [1], a: [1.5] }).withColumns(pl.col("ts").cast(pl.Int64))
      .writeParquet(join(dir, "v.parquet"));
    const store = oneViewStore(dir, { source: join(dir, "v.parquet"), features: { a: "float64" } });
    store.apply();
    // the registry as an earlier Orchard wrote it: the view's definition and digest without entity_key
    const file = registryPath(join(dir, "fs"));
    const reg = JSON.parse(Deno.readTextFileSync(file));
    const v1 = reg.feature_views.v.versions[0];
    assert.ok("entity_key" in v1.definition);
    delete v1.definition.entity_key;
    v1.digest = sha256Hex(JSON.stringify(v1.definition)).slice(0, 16);
    Deno.writeTextFileSync(file, JSON.stringify(reg));

    const unchanged = store.plan().changes.find((c) => c.kind === "feature_view")!;
    assert.equal(unchanged.action, "unchanged");
    assert.deepEqual([...registeredVersions(store.definitions, join(dir, "fs"))], [["v", 1]]);
    store.apply();
    const after = readRegistry(join(dir, "fs")).feature_views.v.versions;
    assert.equal(after.length, 1, "still version 1");
    assert.deepEqual(after[0].definition, canonical("view", store.definitions.views.get("v")!));
    // now the key is recorded: a dtype change is a new version
    const int64 = buildDefinitions(
      oneViewBlock(dir, { source: join(dir, "v.parquet"), features: { a: "float64" }, dtype: "int64" }),
    );
    const change = diffRegistry(int64, readRegistry(join(dir, "fs"))).find((c) => c.kind === "feature_view")!;
    assert.equal(change.action, "change");
    assert.equal(change.to, 2);
    assert.ok(change.details.some((d) => d.startsWith("entity_key")), change.details.join("; "));
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("plan: a feature service's changed features are named (+, -), not 'reordered'", () => {
  const dir = Deno.makeTempDirSync({ prefix: "orchard-fs-plan-" });
  try {
    pl.DataFrame({ customer_id: ["C-1"], ts: [1], a: [1.5], b: [2.5] }).withColumns(
      pl.col("ts").cast(pl.Int64),
    )
      .writeParquet(join(dir, "v.parquet"));
    const store = (service: string[]) =>
      oneViewStore(dir, {
        source: join(dir, "v.parquet"),
        features: { a: "float64", b: "float64" },
        services: { s: service },
      });
    store(["v:a"]).apply();
    const details = (service: string[]) =>
      store(service).plan().changes.find((c) => c.kind === "feature_service" && c.name === "s")!.details;
    assert.deepEqual(details(["v:a", "v:b"]), ["features: +v:b"]);
    assert.deepEqual(details(["v:b"]), ["features: +v:b, -v:a"]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a feature service whose views share a feature name is refused when declared, naming both", () => {
  const view = (source: string) => ({
    entity: "customer",
    source: { path: source },
    timestamp_field: "ts",
    ttl: null,
    features: { tenure: "float64" as const },
  });
  assert.throws(
    () =>
      buildDefinitions({
        entities: { customer: { join_key: "customer_id", dtype: "string" } },
        feature_views: { acct: view("a.parquet"), other: view("b.parquet") },
        feature_services: { s: { features: ["acct:*", "other:*"] } },
      }),
    (e: unknown) =>
      e instanceof UserErrors &&
      /feature service s: acct:tenure and other:tenure share the name 'tenure'/.test(e.message),
  );
});
