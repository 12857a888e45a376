/**
 * materialize encodes a whole view's values as JSON in polars (not row by row
 * in JavaScript): the values read back must be exactly what JSON.stringify of
 * each row would have stored, for every feature type and the awkward values
 * (NaN and infinities become null, as JSON.stringify writes them; -0, extreme
 * floats, int64 beyond 2^53; strings with quotes, backslashes, control
 * characters and non-BMP text; nulls everywhere). Also: the latest row per
 * entity wins over many rows and entities, written in key order.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import fc from "fast-check";
import pl from "nodejs-polars";
import { SqliteOnlineStore } from "../../src/featurestore/online.ts";
import { oneViewStore } from "./_world.ts";

const FLOATS = [
  1.5,
  -0,
  0,
  1e300,
  -1e-300,
  5e-324,
  1.7976931348623157e308,
  1e21,
  1e-7,
  0.1 + 0.2,
  NaN,
  Infinity,
  -Infinity,
];
const INTS = [0n, -1n, 9007199254740993n, -9223372036854775808n, 9223372036854775807n];
const STRINGS = ['a"b', "back\\slash", "line\nbreak\ttab", "\u0001\u001f", "é😀", "", "{}", "null"];

type Row = {
  id: string;
  ts: number;
  f: number | null;
  i: bigint | null;
  b: boolean | null;
  s: string | null;
};

function storeWith(rows: Row[]) {
  const dir = Deno.makeTempDirSync({ prefix: "orchard-fs-mat-" });
  pl.DataFrame({
    customer_id: rows.map((r) => r.id),
    ts: rows.map((r) => r.ts),
    f: rows.map((r) => r.f),
    // as text: nodejs-polars reads a negative bigint as UInt64 (null)
    i: rows.map((r) => r.i === null ? null : String(r.i)),
    b: rows.map((r) => r.b),
    s: rows.map((r) => r.s),
  }).withColumns(
    pl.col("ts").cast(pl.Int64).cast(pl.Datetime("ms")),
    pl.col("f").cast(pl.Float64),
    pl.col("i").cast(pl.Int64),
  ).writeParquet(join(dir, "v.parquet"));
  const store = oneViewStore(dir, {
    source: join(dir, "v.parquet"),
    features: { f: "float64", i: "int64", b: "bool", s: "string" },
  });
  store.apply();
  return { store, cleanup: () => Deno.removeSync(dir, { recursive: true }) };
}

const value = <T>(pool: T[]) => fc.option(fc.constantFrom(...pool), { nil: null, freq: 5 });

Deno.test("property: materialized values read back as JSON.stringify of the latest row would store them (any batch size)", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.record({
          id: fc.integer({ min: 0, max: 40 }).map((n) => `C-${n}`),
          ts: fc.integer({ min: 0, max: 1000 }),
          f: fc.oneof(value(FLOATS), fc.double()),
          i: value(INTS),
          b: value([true, false]),
          s: fc.oneof(value(STRINGS), fc.string({ unit: "binary" })),
        }),
        { minLength: 1, maxLength: 120 },
      ),
      fc.constantFrom(1, 7, 50_000),
      async (rows, batchRows) => {
        // one row per (entity, event time): without a created timestamp a tie has no winner
        const seen = new Set<string>();
        rows = rows.filter((r) => !seen.has(`${r.id}|${r.ts}`) && seen.add(`${r.id}|${r.ts}`));
        const s = storeWith(rows);
        try {
          const [m] = await s.store.materialize({ start: 0, end: 1000, batchRows });
          const latest = new Map<string, Row>();
          for (const r of rows) if (!latest.has(r.id) || latest.get(r.id)!.ts < r.ts) latest.set(r.id, r);
          assert.equal(m.entities, latest.size);
          const ids = [...latest.keys()];
          const got = await s.store.getOnlineFeatures({ customer_id: ids }, ["v:f", "v:i", "v:b", "v:s"], {
            now: 1000,
          });
          got.rows.forEach((row, k) => {
            const r = latest.get(ids[k])!;
            const want = JSON.parse(
              JSON.stringify([r.f, r.i === null ? null : Number(r.i), r.b, r.s]),
            );
            assert.deepEqual([row.values.f, row.values.i, row.values.b, row.values.s], want, ids[k]);
          });
        } finally {
          await s.store.close();
          s.cleanup();
        }
      },
    ),
    { numRuns: 25, seed: 31 },
  );
});

Deno.test("property: an SQLite write of many rows (several to a statement) = upserting them one by one", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.record({
          k: fc.integer({ min: 0, max: 30 }),
          ts: fc.integer({ min: 0, max: 5 }),
          c: fc.integer({ min: 0, max: 2 }),
        }),
        { minLength: 0, maxLength: 260, size: "max" },
      ),
      async (spec) => {
        const store = SqliteOnlineStore.open(":memory:");
        try {
          const rows = spec.map((r, i) => ({ key: `K-${r.k}`, ts: r.ts, created: r.c, json: `[${i}]` }));
          // the reference: one row at a time, a newer or equal (event, created) row replaces the stored one
          const want = new Map<string, { ts: number; created: number; json: string }>();
          let changes = 0;
          for (const r of rows) {
            const cur = want.get(r.key);
            if (!cur || r.ts > cur.ts || (r.ts === cur.ts && r.created >= cur.created)) {
              want.set(r.key, r);
              changes++;
            }
          }
          assert.equal(await store.writeEncoded("t__v1", rows), changes);
          const keys = Array.from({ length: 31 }, (_, k) => `K-${k}`);
          const got = await store.read("t__v1", keys);
          keys.forEach((k, i) => {
            const w = want.get(k);
            assert.deepEqual(
              got[i],
              w ? { key: k, ts: w.ts, created: w.created, values: JSON.parse(w.json) } : undefined,
            );
          });
        } finally {
          await store.close();
        }
      },
    ),
    { numRuns: 40, seed: 5 },
  );
});

Deno.test("late rows: an incremental run selects by event time and misses them; running their window again brings them", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "orchard-fs-late-" });
  try {
    const t = (hh: string) => `2024-03-01T${hh}:00:00Z`;
    const write = (rows: { k: string; ts: string; created: string; v: number }[]) =>
      pl.DataFrame(rows).writeParquet(join(dir, "v.parquet"));
    write([{ k: "a", ts: t("08"), created: t("08"), v: 1 }]);
    const store = oneViewStore(dir, {
      source: join(dir, "v.parquet"),
      key: "k",
      created: "created",
      features: { v: "int64" },
    });
    store.apply();
    try {
      await store.materialize({ start: "2024-03-01", end: t("12") });
      // at 13:00 a correction of the 08:00 row and a late 11:00 event arrive
      write([
        { k: "a", ts: t("08"), created: t("08"), v: 1 },
        { k: "a", ts: t("08"), created: t("13"), v: 2 },
        { k: "a", ts: t("11"), created: t("13"), v: 3 },
      ]);
      const online = async () =>
        (await store.getOnlineFeatures({ k: ["a"] }, ["v:v"], { now: Date.parse(t("14")) })).rows[0].values.v;
      await store.materialize({ incremental: true, end: t("14") });
      assert.equal(await online(), 1, "as documented: the incremental run's window starts after 12:00");
      await store.materialize({ start: "2024-03-01", end: t("12") });
      assert.equal(await online(), 3);
    } finally {
      await store.close();
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
