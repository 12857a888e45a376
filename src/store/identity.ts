/**
 * A store's identity: a random id made when the store is created and kept
 * when it is copied (store:copy), so files a store writes outside the
 * database (version folders) can say which store they belong to.
 */
import type { Component } from "./migrate.ts";
import type { Sql } from "./sql.ts";

export const STORE_SCHEMA: Component = {
  name: "store",
  migrations: [{
    version: 1,
    description: "store identity",
    up: async (tx) => {
      await tx.run("CREATE TABLE IF NOT EXISTS store_info (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
      await tx.run("INSERT INTO store_info(key, value) VALUES ('store_id', ?) ON CONFLICT(key) DO NOTHING", [
        crypto.randomUUID(),
      ]);
    },
  }],
};

export async function readStoreId(db: Sql): Promise<string> {
  const row = await db.get<{ value: string }>("SELECT value FROM store_info WHERE key = 'store_id'");
  if (!row) throw new Error("store_info has no store_id (the store's migrations did not run)");
  return row.value;
}
