/** Sql.values: rows as arrays in column order, typed as `all` types them, on both backends, in and out of a transaction. */
import assert from "node:assert/strict";
import { backendTest } from "../_support/backends.ts";
import { openDatabase } from "../../src/store/open.ts";

backendTest("values() returns rows as arrays in the SELECT's column order", async (b) => {
  const db = await openDatabase(b.location);
  try {
    await db.exec("CREATE TABLE v (id BIGINT, name TEXT, x DOUBLE PRECISION)");
    await db.run("INSERT INTO v VALUES (?, ?, ?), (?, ?, ?)", [1, "a", 0.5, 2, "b", null]);
    const sql = "SELECT name, id, x FROM v ORDER BY id";
    assert.deepEqual(await db.values(sql), [["a", 1, 0.5], ["b", 2, null]]);
    const inTx = await db.transaction((tx) => tx.values("SELECT id FROM v WHERE name = ?", ["b"]));
    assert.deepEqual(inTx, [[2]]);
    // the cached statement gives objects again to `all`
    assert.deepEqual((await db.all(sql)).map((r) => ({ ...r })), [{ name: "a", id: 1, x: 0.5 }, {
      name: "b",
      id: 2,
      x: null,
    }]);
  } finally {
    await db.close();
  }
});
