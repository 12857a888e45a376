/**
 * The service's SQLite reader: it reads what the online store wrote, a row
 * written meanwhile is seen once the snapshot span has passed, a view never
 * materialized reads as missing until it is, and a missing file is an error.
 */
import { deepStrictEqual, equal, ok, throws } from "node:assert/strict";
import { SqliteOnlineStore, tableName } from "../../src/featurestore/online.ts";
import { SqliteSnapshotReader } from "../../src/serve/snapshot_reader.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("snapshot reader: reads the store's rows; later writes are seen after the span; new views too", async () => {
  const dir = await Deno.makeTempDir({ prefix: "orchard-snapshot-" });
  const path = `${dir}/online.db`;
  const store = SqliteOnlineStore.open(path);
  const t = tableName("usage", 1), later = tableName("late", 1);
  try {
    await store.write(t, [{ key: "a", ts: 10, created: 0, values: [1, "x"] }]);
    const reader = SqliteSnapshotReader.open(path, 40);
    try {
      deepStrictEqual(reader.readSync(t, ["a", "b"]), [
        { key: "a", ts: 10, created: 0, values: [1, "x"] },
        undefined,
      ]);
      deepStrictEqual(reader.readSync(later, ["a"]), [undefined], "a view never materialized is missing");
      await store.write(t, [{ key: "b", ts: 20, created: 0, values: [2, "y"] }]);
      await store.write(later, [{ key: "a", ts: 5, created: 0, values: [true] }]);
      // within the span the snapshot may still be the old one; after it, the new rows are there
      await sleep(60);
      deepStrictEqual(reader.readSync(t, ["b"])[0]?.values, [2, "y"]);
      deepStrictEqual(reader.readSync(later, ["a"])[0]?.values, [true]);
      // an idle reader lets go of its snapshot: the writer's checkpoint can reset the WAL
      await sleep(100);
      equal(await store.write(t, [{ key: "c", ts: 1, created: 0, values: [3, "z"] }]), 1);
      ok((await reader.read(t, ["c"]))[0]);
    } finally {
      await reader.close();
    }
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("snapshot reader: a store file that does not exist is an error naming it", () => {
  throws(() => SqliteSnapshotReader.open("/nonexistent/online.db"), /online\.db not found/);
});
