/**
 * Rows of a view that tie on (key, event time, created time): the later row of the source wins, in the
 * point-in-time join (both match strategies) and in materialize alike, so a training set is the same
 * every time it is built and serving sees the values training saw.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import pl from "nodejs-polars";
import { oneViewStore } from "./_world.ts";

const N = 300;

function tiedStore(created: boolean) {
  const dir = Deno.makeTempDirSync({ prefix: "orchard-fs-ties-" });
  const ids = Array.from({ length: N }, (_, i) => `C${i}`);
  // each entity: an older row, then two rows at the same instant (and created time): 1 first, 2 after
  pl.DataFrame({
    customer_id: [...ids, ...ids, ...ids],
    ts: [...ids.map(() => 100), ...ids.map(() => 500), ...ids.map(() => 500)],
    created: [...ids.map(() => 100), ...ids.map(() => 600), ...ids.map(() => 600)],
    f: [...ids.map(() => 0), ...ids.map(() => 1), ...ids.map(() => 2)],
  }).withColumns(pl.col("ts").cast(pl.Int64), pl.col("created").cast(pl.Int64), pl.col("f").cast(pl.Int64))
    .writeParquet(join(dir, "v.parquet"));
  const store = oneViewStore(dir, {
    source: join(dir, "v.parquet"),
    ...(created ? { created: "created" } : {}),
    features: { f: "int64" },
  });
  store.apply();
  return { store, ids, cleanup: () => Deno.removeSync(dir, { recursive: true }) };
}

for (const created of [false, true]) {
  Deno.test(`ties on the event time${created ? " and the created time" : ""}: the later source row wins, every time, offline and online`, async () => {
    const s = tiedStore(created);
    try {
      const spine = pl.DataFrame({ customer_id: s.ids, at: s.ids.map(() => 700) })
        .withColumns(pl.col("at").cast(pl.Int64));
      for (let run = 0; run < 5; run++) {
        const { frame } = s.store.getHistoricalFeatures(spine, ["v:f"], { timestampColumn: "at" });
        const values = frame.getColumn("f").toArray().map(Number);
        assert.deepEqual(
          [...new Set(values)],
          [2],
          `run ${run}: ${values.filter((v) => v !== 2).length} rows not 2`,
        );
      }
      await s.store.materialize({ start: 0, end: 1000 });
      const online = await s.store.getOnlineFeatures({ customer_id: s.ids }, ["v:f"], { now: 1000 });
      assert.deepEqual([...new Set(online.rows.map((r) => Number(r.values.f)))], [2]);
    } finally {
      await s.store.close();
      s.cleanup();
    }
  });
}
