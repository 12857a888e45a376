/** Opens a store's database from where the config says it lives: a SQLite path or a postgresql:// URI. */
import { isPostgresUri, type SqlDatabase } from "./sql.ts";
import { SqliteDatabase } from "./sqlite.ts";
import { PostgresDatabase } from "./postgres.ts";

// deno-lint-ignore require-await
export async function openDatabase(location: string): Promise<SqlDatabase> {
  if (isPostgresUri(location)) return PostgresDatabase.open(location);
  return SqliteDatabase.open(location);
}
