/**
 * The measured half of bench/featurestore.ts, one job per process (so GNU
 * time's peak RSS is that job's): `gen <dir>` writes the generated sources;
 * `join <dir> big|feast` runs the point-in-time join and prints its seconds;
 * `read <dir> big` reads the views whole (the big join's same-run reference);
 * `online <dir> sqlite|redis://...` materializes the 50-feature view and
 * times one-entity lookups; `materialize <dir> sqlite|redis://...` times
 * materialize of 1,000,000 entities into a fresh online store. Generation is polars expressions over a row index
 * (deterministic, no random state): keys, event times and values are hashes of it.
 */
import pl from "nodejs-polars";
import { join } from "node:path";
import { buildDefinitions } from "../src/featurestore/definitions.ts";
import { FeatureStore } from "../src/featurestore/store.ts";
import type { FeatureStoreConfig } from "../src/config/schema.ts";

export const SHAPES = {
  // 3 views, 10,000,000 feature rows, 100 features; 1,000,000 entity rows over 200,000 entities
  big: {
    entities: 200_000,
    entityRows: 1_000_000,
    views: [[4_000_000, 34], [3_000_000, 33], [3_000_000, 33]],
  },
  // materialize's target: 1,000,000 entities, one view of 3,000,000 rows (3 per entity) x 50 features
  materialize: {
    entities: 1_000_000,
    entityRows: 1_000,
    views: [[3_000_000, 50]],
  },
  // feast#3003's shape: 17,000 entity rows x 1,000 features (5 views of 200; 50,000 rows each)
  feast: {
    entities: 10_000,
    entityRows: 17_000,
    views: [[50_000, 200], [50_000, 200], [50_000, 200], [50_000, 200], [
      50_000,
      200,
    ]],
  },
} as const;
type Shape = keyof typeof SHAPES;

const BASE = Date.UTC(2026, 0, 1);
const YEAR_S = 365 * 86_400;

/** materialize's window: every generated event time (a year from BASE) */
const WINDOW = { start: BASE - 86_400_000, end: BASE + YEAR_S * 1000 };

/** Empties a Redis online store (the next run starts from nothing; sqlite's is a file under the run's dir), then closes. */
async function closeStore(store: FeatureStore, arg: string): Promise<void> {
  if (arg !== "sqlite") {
    const online = await store.onlineStore() as unknown as { clear(): Promise<void> };
    await online.clear();
  }
  await store.close();
}

function index(n: number): pl.LazyDataFrame {
  return pl.DataFrame([(pl.intRange(0, n, 1, pl.Int64, true) as unknown as pl.Series).alias("i")]).lazy();
}

const key = (mult: number, entities: number) =>
  pl.concatString([pl.lit("C-"), pl.col("i").mul(mult).modulo(entities).cast(pl.Int64).cast(pl.Utf8)], "")
    .alias("customer_id");

export function generate(dir: string, shape: Shape): void {
  const s = SHAPES[shape];
  Deno.mkdirSync(dir, { recursive: true });
  s.views.forEach(([rows, features], v) => {
    index(rows).select(
      key([7919, 7927, 7933, 7937, 7949][v], s.entities),
      pl.col("i").mul(104729 + v).modulo(YEAR_S).cast(pl.Int64).mul(1000).add(BASE).cast(pl.Datetime("ms"))
        .alias("ts"),
      pl.col("i").modulo(997).cast(pl.Int64).mul(1000).add(BASE).cast(pl.Datetime("ms")).alias("created"),
      ...Array.from(
        { length: features },
        (_, j) =>
          pl.col("i").mul(2 * j + 1).add(j * 7919 + v).modulo(10007).cast(pl.Float64).div(100).alias(
            `v${v}_f${j}`,
          ),
      ),
    ).collectSync().writeParquet(join(dir, `view${v}.parquet`));
  });
  index(s.entityRows).select(
    key(15485863, s.entities),
    pl.col("i").mul(7_777_777).modulo(YEAR_S).cast(pl.Int64).mul(1000).add(BASE).cast(pl.Datetime("ms"))
      .alias("event_timestamp"),
    pl.col("i").modulo(2).alias("label"),
  ).collectSync().writeParquet(join(dir, "entities.parquet"));
}

export function block(dir: string, shape: Shape, online = "sqlite"): FeatureStoreConfig {
  const s = SHAPES[shape];
  // materialize's view keeps every row in TTL, so all 1,000,000 entities are written
  const ttl = shape === "materialize" ? "400d" : "90d";
  return {
    directory: join(dir, "fs"),
    online_store: online,
    entities: { customer: { join_key: "customer_id", dtype: "string" } },
    feature_views: Object.fromEntries(s.views.map(([, features], v) => [`view${v}`, {
      entity: "customer",
      source: { path: join(dir, `view${v}.parquet`) },
      timestamp_field: "ts",
      created_timestamp_field: "created",
      ttl,
      features: Object.fromEntries(
        Array.from({ length: features }, (_, j) => [`v${v}_f${j}`, "float64" as const]),
      ),
    }])),
    feature_services: {},
  };
}

async function main() {
  const [cmd, dir, arg] = Deno.args;
  if (cmd === "gen") return generate(dir, arg as Shape);
  if (cmd === "join") {
    const b = block(dir, arg as Shape);
    const store = new FeatureStore(buildDefinitions(b), { directory: b.directory });
    store.apply();
    const t0 = performance.now();
    const entities = pl.readParquet(join(dir, "entities.parquet"));
    const refs = Object.keys(b.feature_views).map((v) => `${v}:*`);
    const { frame, stats } = store.getHistoricalFeatures(entities, refs);
    const seconds = (performance.now() - t0) / 1000;
    // the same checksum the pandas reference prints: the sum of every joined value (nulls skipped)
    const featureCols = frame.columns.slice(entities.width);
    const sums = frame.select(...featureCols.map((c) => pl.col(c).sum())).row(0) as number[];
    const checksum = sums.reduce((a, b) => a + (b ?? 0), 0);
    console.log(
      JSON.stringify({ seconds, rows: frame.height, columns: frame.width, matched: stats.matched, checksum }),
    );
    return;
  }
  if (cmd === "read") {
    // the reference for the big join, same run: reading every view's rows and columns from Parquet
    const t0 = performance.now();
    let cells = 0;
    for (const v of Object.keys(block(dir, arg as Shape).feature_views)) {
      const df = pl.readParquet(join(dir, `${v}.parquet`));
      cells += df.height * df.width;
    }
    console.log(JSON.stringify({ seconds: (performance.now() - t0) / 1000, cells }));
    return;
  }
  if (cmd === "materialize") {
    // a fresh online store each run: a second run over a full one would write nothing (nothing is newer)
    const b = block(dir, "materialize", arg);
    const fsDir = join(dir, "fs-materialize");
    try {
      Deno.removeSync(fsDir, { recursive: true });
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    const store = new FeatureStore(buildDefinitions(b), {
      directory: fsDir,
      onlineStore: arg === "sqlite" ? join(fsDir, "online.db") : arg,
      redisPrefix: "orchard-bench-mat:",
    });
    store.apply();
    const t0 = performance.now();
    const [mat] = await store.materialize(WINDOW);
    const seconds = (performance.now() - t0) / 1000;
    await closeStore(store, arg);
    console.log(JSON.stringify({
      backend: arg === "sqlite" ? "sqlite" : "redis",
      seconds,
      entities: mat.entities,
      written: mat.written,
      features: Object.keys(b.feature_views.view0.features).length,
    }));
    return;
  }
  if (cmd === "online") {
    // one view of 50 features (view0's first 50 of the big shape's 34? no: its own file)
    const b = block(dir, "feast", arg);
    const v = b.feature_views.view0;
    v.features = Object.fromEntries(Object.entries(v.features).slice(0, 50));
    b.feature_views = { view0: v };
    const store = new FeatureStore(buildDefinitions(b), {
      directory: b.directory,
      onlineStore: arg === "sqlite" ? join(dir, "fs", "online.db") : arg,
      redisPrefix: "orchard-bench:",
    });
    store.apply();
    const m0 = performance.now();
    const [mat] = await store.materialize(WINDOW);
    const materializeSeconds = (performance.now() - m0) / 1000;
    const features = Object.keys(v.features).map((f) => `view0:${f}`);
    const ids = Array.from({ length: 2000 }, (_, i) => `C-${(i * 7919) % SHAPES.feast.entities}`);
    for (let i = 0; i < 2000; i++) await store.getOnlineFeatures({ customer_id: [ids[i]] }, features); // warm up
    const times: number[] = [];
    for (let r = 0; r < 10; r++) {
      for (const id of ids) {
        const t = performance.now();
        const res = await store.getOnlineFeatures({ customer_id: [id] }, features);
        times.push(performance.now() - t);
        if (res.rows[0].statuses[Object.keys(v.features)[0]] === "missing") throw new Error(`${id} missing`);
      }
    }
    times.sort((a, b) => a - b);
    const q = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))];
    await closeStore(store, arg);
    console.log(JSON.stringify({
      backend: arg === "sqlite" ? "sqlite" : "redis",
      entities: mat.entities,
      materialize_seconds: materializeSeconds,
      lookups: times.length,
      p50_ms: q(0.5),
      p99_ms: q(0.99),
      max_ms: times.at(-1),
    }));
    return;
  }
  throw new Error(`usage: gen|join|read|materialize|online <dir> <arg>`);
}

if (import.meta.main) await main();
