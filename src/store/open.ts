/** Opens a store's database from where the config says it lives: a SQLite path or a postgresql:// URI. */
import { isPostgresUri, type SqlDatabase } from "./sql.ts";
import { SqliteDatabase } from "./sqlite.ts";

export async function openDatabase(location: string): Promise<SqlDatabase> {
  if (isPostgresUri(location)) {
    // loaded only for PostgreSQL: the client reads PG* variables when it loads
    const { PostgresDatabase } = await import("./postgres.ts");
    return await PostgresDatabase.open(location);
  }
  return SqliteDatabase.open(location);
}
