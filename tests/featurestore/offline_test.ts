/**
 * The point-in-time join against a brute-force reference on generated worlds:
 * tied event timestamps, late-arriving corrections (created timestamp), TTL
 * edges (exactly TTL old is in, one ms more is out), entities with no history,
 * an unsorted entity table, a CSV source with epoch-ms timestamps and a SQL
 * query; then the time-window form, and bad input as one-line user errors.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import fc from "fast-check";
import pl from "nodejs-polars";
import { UserError } from "../../src/core/errors.ts";
import { buildDefinitions } from "../../src/featurestore/definitions.ts";
import { FeatureStore } from "../../src/featurestore/store.ts";
import { resolveFeatures } from "../../src/featurestore/definitions.ts";
import { gatherValues, pointInTimeJoin } from "../../src/featurestore/offline.ts";
import { hashKey, type KeyCoder } from "../../src/featurestore/asof.ts";
import { bruteForce, type EntityRow, storeFor, TTL_MS, world } from "./_world.ts";

const entityFrame = (rows: EntityRow[]) =>
  pl.DataFrame({
    customer_id: rows.map((r) => r.customer_id),
    event_timestamp: rows.map((r) => r.event_timestamp),
    label: rows.map((_, i) => i),
  }).withColumns(pl.col("event_timestamp").cast(pl.Int64).cast(pl.Datetime("ms")));

for (const seed of [1, 2, 3]) {
  Deno.test(`point-in-time join = brute force (seed ${seed}): ties, late rows, TTL edges, no history, unsorted`, () => {
    const s = storeFor(seed);
    try {
      const { frame, stats, versions } = s.store.getHistoricalFeatures(entityFrame(s.w.entities), "both");
      assert.deepEqual(versions, { v1: 1, v2: 1 });
      assert.deepEqual(frame.columns, ["customer_id", "event_timestamp", "label", "a", "b", "a2"]);
      assert.equal(frame.height, s.w.entities.length);
      const a = frame.getColumn("a").toArray(), b = frame.getColumn("b").toArray();
      const a2 = frame.getColumn("a2").toArray(), label = frame.getColumn("label").toArray();
      let matched = 0, edgesIn = 0, edgesOut = 0, late = 0;
      s.w.entities.forEach((e, i) => {
        assert.equal(label[i], i, "the entity table's row order is kept");
        const want = bruteForce(s.w.rows, e.customer_id, e.event_timestamp, TTL_MS);
        assert.equal(a[i], want?.a ?? null, `row ${i} ${e.customer_id}@${e.event_timestamp}: a`);
        assert.equal(b[i], want ? want.b : null, `row ${i}: b`);
        if (want) matched++;
        if (want && e.event_timestamp - want.ts === TTL_MS) edgesIn++;
        if (want && want.a >= 10_000) late++;
        const older = bruteForce(s.w.rows, e.customer_id, e.event_timestamp, null);
        if (!want && older) edgesOut++;
        assert.equal(
          a2[i],
          bruteForce(s.w.rows2, e.customer_id, e.event_timestamp, null)?.a ?? null,
          `row ${i}: a2`,
        );
      });
      assert.equal(stats.matched.v1, matched);
      // the generated world really exercises each case
      assert.ok(edgesIn > 0, "a row exactly TTL old is used");
      assert.ok(edgesOut > 0, "rows older than TTL are not");
      assert.ok(late > 0, "a late correction (same event time, later created) wins");
      assert.ok(s.w.entities.some((e, i) => e.customer_id === "C-27" && a[i] === null), "no history: null");
    } finally {
      s.cleanup();
    }
  });
}

Deno.test("property: any small world, any entity rows: the join equals brute force", () => {
  const s = storeFor(9);
  try {
    fc.assert(
      fc.property(
        fc.array(fc.record({ id: fc.integer({ min: 0, max: 29 }), t: fc.integer({ min: -10, max: 400 }) }), {
          minLength: 1,
          maxLength: 60,
        }),
        (ents) => {
          const rows = ents.map((e) => ({ customer_id: `C-${e.id}`, event_timestamp: e.t }));
          const { frame } = s.store.getHistoricalFeatures(entityFrame(rows), ["v1:a"]);
          const got = frame.getColumn("a").toArray();
          rows.forEach((e, i) =>
            assert.equal(got[i], bruteForce(s.w.rows, e.customer_id, e.event_timestamp, TTL_MS)?.a ?? null)
          );
        },
      ),
      { numRuns: 40, seed: 17 },
    );
  } finally {
    s.cleanup();
  }
});

Deno.test("property: both match strategies, hashed or string keys, equal brute force, colliding hashes included", () => {
  // the same world at its own times and moved to 2026 (epoch-sized times)
  const shifts = [0, Date.UTC(2026, 0, 1)];
  const stores = shifts.map((shift) => storeFor(11, {}, shift));
  const s = stores[0];
  try {
    const refs = resolveFeatures(s.store.definitions, "both");
    // every key hashes alike, or two thirds of them do: the collision check must catch it and redo
    const coders: (KeyCoder | null)[] = [
      hashKey,
      null,
      () => pl.lit(7).cast(pl.UInt64),
      (k) => k.str.lengths().cast(pl.UInt64),
    ];
    fc.assert(
      fc.property(
        fc.array(fc.record({ id: fc.integer({ min: 0, max: 31 }), t: fc.integer({ min: -10, max: 400 }) }), {
          minLength: 1,
          maxLength: 80,
        }),
        fc.constantFrom(...coders),
        fc.boolean(),
        fc.integer({ min: 0, max: 1 }),
        (ents, coder, byKey, which) => {
          const defs = stores[which].store.definitions;
          // ids 30 and 31 are a null key and one no view knows
          const rows = ents.map((e) => ({
            customer_id: e.id === 30 ? null : `C-${e.id}`,
            event_timestamp: e.t,
          }));
          const df = pl.DataFrame({
            customer_id: rows.map((r) => r.customer_id),
            event_timestamp: rows.map((r) => r.event_timestamp + shifts[which]),
          }).withColumns(pl.col("event_timestamp").cast(pl.Int64).cast(pl.Datetime("ms")));
          const { frame, stats } = pointInTimeJoin(defs, df, refs, {}, { coder, byKey });
          const a = frame.getColumn("a").toArray(), b = frame.getColumn("b").toArray();
          const a2 = frame.getColumn("a2").toArray();
          let matched = 0;
          rows.forEach((e, i) => {
            const want = e.customer_id === null
              ? undefined
              : bruteForce(s.w.rows, e.customer_id, e.event_timestamp, TTL_MS);
            if (want) matched++;
            assert.equal(a[i], want?.a ?? null, `row ${i} ${e.customer_id}@${e.event_timestamp}`);
            assert.equal(b[i], want ? want.b : null);
            const want2 = e.customer_id === null
              ? undefined
              : bruteForce(s.w.rows2, e.customer_id, e.event_timestamp, null);
            assert.equal(a2[i], want2?.a ?? null);
          });
          assert.equal(stats.matched.v1, matched);
        },
      ),
      { numRuns: 100, seed: 23 },
    );
  } finally {
    for (const st of stores) st.cleanup();
  }
});

Deno.test("property: gathering values by row id, directly or in row id order, puts each at its row (null: none)", () => {
  fc.assert(
    fc.property(
      fc.array(fc.option(fc.double({ noNaN: true }), { nil: null }), { minLength: 1, maxLength: 50 }),
      fc.array(fc.option(fc.nat(), { nil: null }), { maxLength: 60 }),
      fc.integer({ min: 0, max: 100 }),
      (values, picks, sortedFrom) => {
        const rid = picks.map((p) => p === null ? null : p % values.length);
        const source = pl.DataFrame({ x: values, y: values.map((v) => v === null ? null : -v) }).lazy();
        const ridSeries = pl.DataFrame({ r: rid }).select(pl.col("r").cast(pl.UInt32)).getColumn("r");
        const [x, y] = gatherValues(
          source,
          [{ feature: "x", name: "a" }, { feature: "y", name: "b" }],
          ridSeries,
          sortedFrom,
        );
        assert.deepEqual([x.name, y.name], ["a", "b"]);
        assert.deepEqual(x.toArray(), rid.map((r) => r === null ? null : values[r]));
        assert.deepEqual(y.toArray(), rid.map((r) => r === null || values[r] === null ? null : -values[r]!));
      },
    ),
    { numRuns: 60, seed: 3 },
  );
});

Deno.test("two entities, one keyed by int64: each view joins by its own key, both strategies = brute force", () => {
  const s = storeFor(12);
  try {
    // a shop view: int64 keys 0..8 (9 never appears), its own TTL, created-time ties resolved as in v1
    const shopRows = s.w.rows.map((r, i) => ({ ...r, customer_id: `S${i % 9}`, a: r.a * 2 + 1 }));
    pl.DataFrame({
      shop_id: shopRows.map((_, i) => i % 9),
      ts: shopRows.map((r) => r.ts),
      created: shopRows.map((r) => r.created),
      x: shopRows.map((r) => r.a),
    }).withColumns(
      pl.col("shop_id").cast(pl.Int64),
      pl.col("ts").cast(pl.Int64).cast(pl.Datetime("ms")),
      pl.col("created").cast(pl.Int64).cast(pl.Datetime("ms")),
      pl.col("x").cast(pl.Int64),
    ).writeParquet(join(s.dir, "v3.parquet"));
    const block = {
      ...s.block,
      entities: { ...s.block.entities, shop: { join_key: "shop_id", dtype: "int64" as const } },
      feature_views: {
        ...s.block.feature_views,
        v3: {
          entity: "shop",
          source: { path: join(s.dir, "v3.parquet") },
          timestamp_field: "ts",
          created_timestamp_field: "created",
          ttl: "30ms",
          features: { x: "int64" as const },
        },
      },
    };
    const defs = buildDefinitions(block);
    const refs = resolveFeatures(defs, ["v1:a", "v3:x"]);
    const ents = s.w.entities.map((e, i) => ({ ...e, shop: i % 11 === 0 ? null : i % 10 }));
    const df = pl.DataFrame({
      customer_id: ents.map((e) => e.customer_id),
      shop_id: ents.map((e) => e.shop),
      event_timestamp: ents.map((e) => e.event_timestamp),
    }).withColumns(
      pl.col("shop_id").cast(pl.Int64),
      pl.col("event_timestamp").cast(pl.Int64).cast(pl.Datetime("ms")),
    );
    for (const byKey of [false, true]) {
      const { frame, stats } = pointInTimeJoin(defs, df, refs, {}, { byKey });
      const a = frame.getColumn("a").toArray(), x = frame.getColumn("x").toArray();
      let matched = 0;
      ents.forEach((e, i) => {
        assert.equal(
          a[i],
          bruteForce(s.w.rows, e.customer_id, e.event_timestamp, TTL_MS)?.a ?? null,
          `a ${i}`,
        );
        const want = e.shop === null ? undefined : bruteForce(shopRows, `S${e.shop}`, e.event_timestamp, 30);
        if (want) matched++;
        assert.equal(x[i], want?.a ?? null, `x ${i} shop ${e.shop}@${e.event_timestamp}`);
      });
      assert.equal(stats.matched.v3, matched);
      assert.ok(matched > 0 && matched < ents.length);
    }
  } finally {
    s.cleanup();
  }
});

Deno.test("time-window form: every (entity, event time) the views saw in [start, end], joined point in time", () => {
  const s = storeFor(4);
  try {
    const { frame } = s.store.getHistoricalFeatures({ start: 100, end: 200 }, ["v1:a", "v2:a2"]);
    const keys = new Set<string>();
    for (const r of [...s.w.rows, ...s.w.rows2]) {
      if (r.ts >= 100 && r.ts <= 200) keys.add(`${r.customer_id}|${r.ts}`);
    }
    assert.equal(frame.height, keys.size);
    assert.deepEqual(frame.columns, ["customer_id", "event_timestamp", "a", "a2"]);
    const ids = frame.getColumn("customer_id").toArray() as string[];
    const ts = (frame.getColumn("event_timestamp").cast(pl.Int64).toArray() as unknown[]).map(Number);
    const a = frame.getColumn("a").toArray(), a2 = frame.getColumn("a2").toArray();
    for (let i = 0; i < frame.height; i++) {
      assert.ok(keys.has(`${ids[i]}|${ts[i]}`));
      if (i > 0) assert.ok(ts[i] >= ts[i - 1], "sorted by time");
      assert.equal(a[i], bruteForce(s.w.rows, ids[i], ts[i], TTL_MS)?.a ?? null);
      assert.equal(a2[i], bruteForce(s.w.rows2, ids[i], ts[i], null)?.a ?? null);
    }
  } finally {
    s.cleanup();
  }
});

Deno.test("ISO-string timestamps in the entity table; fullFeatureNames", () => {
  const s = storeFor(5);
  try {
    const e = s.w.entities.slice(0, 20);
    const df = pl.DataFrame({
      customer_id: e.map((r) => r.customer_id),
      when: e.map((r) => new Date(r.event_timestamp).toISOString()),
    });
    const { frame } = s.store.getHistoricalFeatures(df, ["v1:a"], {
      timestampColumn: "when",
      fullFeatureNames: true,
    });
    assert.deepEqual(frame.columns, ["customer_id", "when", "v1__a"]);
    frame.getColumn("v1__a").toArray().forEach((v, i) =>
      assert.equal(v, bruteForce(s.w.rows, e[i].customer_id, e[i].event_timestamp, TTL_MS)?.a ?? null)
    );
  } finally {
    s.cleanup();
  }
});

const userError = (fn: () => unknown, re: RegExp) =>
  assert.throws(
    fn,
    (e: unknown) => e instanceof UserError && re.test(e.message) && !e.message.includes("\n"),
  );

Deno.test("bad input: unknown feature, unknown view, unknown service, missing join key or timestamp column", () => {
  const s = storeFor(6);
  try {
    const df = entityFrame(world(6).entities.slice(0, 5));
    userError(
      () => s.store.getHistoricalFeatures(df, ["v1:nope"]),
      /unknown feature 'nope' in feature view v1/,
    );
    userError(() => s.store.getHistoricalFeatures(df, ["vx:a"]), /unknown feature view 'vx'/);
    userError(() => s.store.getHistoricalFeatures(df, "nope"), /unknown feature service 'nope'/);
    userError(
      () => s.store.getHistoricalFeatures(df.rename({ customer_id: "cust" }), ["v1:a"]),
      /no column 'customer_id' \(the join key of entity customer/,
    );
    userError(
      () => s.store.getHistoricalFeatures(df.drop("event_timestamp"), ["v1:a"]),
      /no timestamp column/,
    );
  } finally {
    s.cleanup();
  }
});

Deno.test("a view whose source lost a column: one line naming view, file and column; a changed view is refused until apply", () => {
  const s = storeFor(7);
  try {
    const path = join(s.dir, "v1.parquet");
    pl.readParquet(path).drop("b").writeParquet(path);
    userError(
      () => s.store.getHistoricalFeatures(entityFrame(s.w.entities), ["v1:a"]),
      /feature view v1: source .*v1\.parquet has no column 'b' \(feature b\)/,
    );
    userError(() => s.store.plan(), /has no column 'b'/);

    const changed = {
      ...s.block,
      feature_views: { ...s.block.feature_views, v2: { ...s.block.feature_views.v2, ttl: "1d" } },
    };
    const store2 = new FeatureStore(buildDefinitions(changed), { directory: s.block.directory });
    userError(
      () => store2.getHistoricalFeatures(entityFrame(s.w.entities), ["v2:a2"]),
      /feature view v2 changed since version 1/,
    );
  } finally {
    s.cleanup();
  }
});
