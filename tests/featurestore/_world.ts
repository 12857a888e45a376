/**
 * Generated feature worlds for the feature store's tests: feature rows with
 * tied event timestamps, late-arriving corrections (same event time, later
 * created time), entity rows on TTL edges, entities with no history and an
 * unsorted entity table; plus the brute-force point-in-time reference the
 * polars join is checked against (a plain loop over every candidate row).
 */
import pl from "nodejs-polars";
import { join } from "node:path";
import { Rng } from "../../src/core/random.ts";
import { buildDefinitions } from "../../src/featurestore/definitions.ts";
import { FeatureStore } from "../../src/featurestore/store.ts";
import type { FeatureStoreConfig } from "../../src/config/schema.ts";

export interface FeatureRow {
  customer_id: string;
  ts: number;
  created: number;
  a: number;
  b: number | null;
}

export interface EntityRow {
  customer_id: string;
  event_timestamp: number;
}

export const TTL_MS = 50;

/** A world: feature rows for view `v1` (TTL 50 ms, created timestamps) and `v2` (no TTL, no created). */
export function world(
  seed: number,
  n = 400,
): { rows: FeatureRow[]; rows2: FeatureRow[]; entities: EntityRow[] } {
  const rng = new Rng(seed);
  const ids = Array.from({ length: 30 }, (_, i) => `C-${i}`);
  const rows: FeatureRow[] = [];
  let created = 1_000_000;
  for (let i = 0; i < n; i++) {
    const id = ids[Math.floor(rng.next() * 25)]; // C-25..C-29 have no history
    const ts = Math.floor(rng.next() * 300); // a small range: many ties
    rows.push({
      customer_id: id,
      ts,
      created: created + Math.floor(rng.next() * 1000) * 1000 + i,
      a: i,
      b: rng.next() < 0.1 ? null : rng.next(),
    });
  }
  // late-arriving corrections: the same (id, ts) again, created later
  for (let i = 0; i < 40; i++) {
    const r = rows[Math.floor(rng.next() * rows.length)];
    rows.push({ ...r, created: r.created + 10_000_000 + i, a: 10_000 + i });
  }
  created += 1;
  const rows2: FeatureRow[] = [];
  for (let i = 0; i < n / 2; i++) {
    const id = ids[Math.floor(rng.next() * 20)];
    rows2.push({ customer_id: id, ts: Math.floor(rng.next() * 300), created: 0, a: 100_000 + i, b: null });
  }
  // keep v2's (id, ts) unique: without a created timestamp a tie has no winner
  const seen = new Set<string>();
  const rows2u = rows2.filter((r) => {
    const k = `${r.customer_id}|${r.ts}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  const entities: EntityRow[] = [];
  for (let i = 0; i < 300; i++) {
    entities.push({
      customer_id: ids[Math.floor(rng.next() * 30)],
      event_timestamp: Math.floor(rng.next() * 360),
    });
  }
  // TTL edges: exactly ttl after a row (in), and ttl + 1 after it (out, unless another row is nearer)
  for (let i = 0; i < 40; i++) {
    const r = rows[Math.floor(rng.next() * rows.length)];
    entities.push({ customer_id: r.customer_id, event_timestamp: r.ts + TTL_MS });
    entities.push({ customer_id: r.customer_id, event_timestamp: r.ts + TTL_MS + 1 });
    entities.push({ customer_id: r.customer_id, event_timestamp: r.ts });
  }
  entities.push({ customer_id: "C-999", event_timestamp: 100 }); // an entity no view knows
  return { rows, rows2: rows2u, entities };
}

/** The latest row of `rows` at or before `t` for `id`, within `ttl` (null: none), ties by created. */
export function bruteForce(
  rows: FeatureRow[],
  id: string,
  t: number,
  ttl: number | null,
): FeatureRow | undefined {
  let best: FeatureRow | undefined;
  for (const r of rows) {
    if (r.customer_id !== id || r.ts > t) continue;
    if (ttl !== null && r.ts < t - ttl) continue;
    if (!best || r.ts > best.ts || (r.ts === best.ts && r.created > best.created)) best = r;
  }
  return best;
}

export function rowsFrame(rows: FeatureRow[], withCreated: boolean, shift = 0): pl.DataFrame {
  return pl.DataFrame({
    customer_id: rows.map((r) => r.customer_id),
    ts: rows.map((r) => r.ts + shift),
    ...(withCreated ? { created: rows.map((r) => r.created + shift) } : {}),
    a: rows.map((r) => r.a),
    b: rows.map((r) => r.b),
  }).withColumns(
    pl.col("ts").cast(pl.Int64).cast(pl.Datetime("ms")),
    ...(withCreated ? [pl.col("created").cast(pl.Int64).cast(pl.Datetime("ms"))] : []),
  );
}

export function fsBlock(dir: string, extra: Partial<FeatureStoreConfig> = {}): FeatureStoreConfig {
  return {
    directory: join(dir, "fs"),
    online_store: "sqlite",
    entities: { customer: { join_key: "customer_id", dtype: "string" } },
    feature_views: {
      v1: {
        entity: "customer",
        source: { path: join(dir, "v1.parquet") },
        timestamp_field: "ts",
        created_timestamp_field: "created",
        ttl: `${TTL_MS}ms`,
        features: { a: "int64", b: "float64" },
      },
      v2: {
        entity: "customer",
        source: { path: join(dir, "v2.csv"), query: "SELECT customer_id, ts, a AS a2, b AS b2 FROM source" },
        timestamp_field: "ts",
        ttl: null,
        features: { a2: "int64", b2: "float64" },
      },
    },
    feature_services: { both: { features: ["v1:*", "v2:a2"] } },
    ...extra,
  };
}

/**
 * A temp folder holding the world's sources, and a store over them, applied.
 * `shift` (ms) moves every event and created time by that much: epoch-sized
 * times, where the world's own are a few hundred ms.
 */
export function storeFor(seed: number, extra: Partial<FeatureStoreConfig> = {}, shift = 0) {
  const dir = Deno.makeTempDirSync({ prefix: "orchard-fs-" });
  const w = world(seed);
  rowsFrame(w.rows, true, shift).writeParquet(join(dir, "v1.parquet"));
  // the CSV holds epoch-ms integers for ts: the other timestamp form a source may use
  pl.DataFrame({
    customer_id: w.rows2.map((r) => r.customer_id),
    ts: w.rows2.map((r) => r.ts + shift),
    a: w.rows2.map((r) => r.a),
    b: w.rows2.map((r) => r.b),
  }).withColumns(pl.col("ts").cast(pl.Int64), pl.col("a").cast(pl.Int64)).writeCSV(join(dir, "v2.csv"));
  const block = fsBlock(dir, extra);
  const store = new FeatureStore(buildDefinitions(block), {
    directory: block.directory,
    onlineStore: block.online_store,
  });
  store.apply();
  return { dir, w, store, block, cleanup: () => Deno.removeSync(dir, { recursive: true }) };
}

/** One feature view `v` over `source`, of entity `entity` keyed by `key` (a string): the small stores of single-purpose tests. */
export interface OneView {
  source: string;
  entity?: string;
  key?: string;
  /** the entity's dtype (default string) */
  dtype?: "string" | "int64";
  timestamp?: string;
  created?: string;
  features: Record<string, "float64" | "int64" | "string" | "bool">;
  services?: Record<string, string[]>;
}

/** The feature_store block of one view (SQLite online store in `<dir>/fs`). */
export function oneViewBlock(dir: string, o: OneView) {
  const entity = o.entity ?? "customer";
  return {
    directory: join(dir, "fs"),
    online_store: "sqlite",
    entities: { [entity]: { join_key: o.key ?? "customer_id", dtype: o.dtype ?? "string" } },
    feature_views: {
      v: {
        entity,
        source: { path: o.source },
        timestamp_field: o.timestamp ?? "ts",
        ...(o.created ? { created_timestamp_field: o.created } : {}),
        ttl: null,
        features: o.features,
      },
    },
    feature_services: Object.fromEntries(
      Object.entries(o.services ?? {}).map(([n, f]) => [n, { features: f }]),
    ),
  };
}

/** A store over one view (SQLite online store in `<dir>/fs`); not applied. */
export function oneViewStore(dir: string, o: OneView): FeatureStore {
  const block = oneViewBlock(dir, o);
  return new FeatureStore(buildDefinitions(block), { directory: block.directory, onlineStore: "sqlite" });
}
