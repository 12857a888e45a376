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

/**
 * Marks a store as copied (store:copy): the copy has its identity and so owns its model folders, and
 * a registration in both would take the same version numbers in the same folders (each removing the
 * other's as its own uncommitted leftover). The source then refuses registrations (copiedTo).
 */
export async function markCopied(db: Sql, to: string, at: string): Promise<void> {
  await db.run(
    "INSERT INTO store_info(key, value) VALUES ('copied_to', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    [JSON.stringify({ to, at })],
  );
}

/** Where and when the store was copied to, or null when it never was. */
export async function copiedTo(db: Sql): Promise<{ to: string; at: string } | null> {
  const row = await db.get<{ value: string }>("SELECT value FROM store_info WHERE key = 'copied_to'");
  return row ? JSON.parse(row.value) : null;
}
