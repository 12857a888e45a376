import assert from "node:assert/strict";
import { backendTest } from "../_support/backends.ts";
import { openDatabase } from "../../src/store/open.ts";

backendTest(
  "a statement sent to the store itself inside its transaction is refused, not a hang or an escape",
  async (b) => {
    const db = await openDatabase(b.location);
    try {
      await db.exec("CREATE TABLE t (x INTEGER)");
      await assert.rejects(
        () =>
          db.transaction(async (tx) => {
            await tx.run("INSERT INTO t VALUES (1)");
            await db.run("INSERT INTO t VALUES (2)"); // the mistake: db, not tx
          }),
        /inside its own transaction: use the `tx`/,
      );
      await assert.rejects(
        () => db.transaction(() => db.transaction(() => Promise.resolve(1))),
        /inside its own transaction/,
      );
      // the transaction rolled back whole; the store works as before afterwards
      assert.deepEqual(await db.all("SELECT x FROM t"), []);
      await db.transaction((tx) => tx.run("INSERT INTO t VALUES (3)"));
      assert.deepEqual((await db.all<{ x: number }>("SELECT x FROM t")).map((r) => Number(r.x)), [3]);
    } finally {
      await db.close();
    }
  },
);
