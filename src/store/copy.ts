/**
 * Copies tables row for row from one database to another (SQLite or
 * PostgreSQL, either way), inside one transaction on the destination, so a
 * failed copy leaves the destination as it was. Explicit ids are kept; on
 * PostgreSQL the id sequences are moved past them afterwards.
 */
import type { Row, Sql, SqlDatabase, SqlValue } from "./sql.ts";

export interface TableSpec {
  name: string;
  /** an auto-numbered id column, whose PostgreSQL sequence must follow the copied ids */
  serial?: string;
  /** a stable order to read rows in (parents before children within a table) */
  orderBy: string;
}

/** Rows per INSERT: well under both engines' parameter limits for any of our tables. */
const BATCH = 200;

function toValue(v: unknown): SqlValue {
  if (v === undefined) return null;
  if (typeof v === "boolean") return v ? 1 : 0;
  return v as SqlValue;
}

async function insertRows(tx: Sql, table: string, rows: Row[]): Promise<void> {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]);
  const tuple = `(${columns.map(() => "?").join(", ")})`;
  for (let i = 0; i < rows.length; i += BATCH) {
    const part = rows.slice(i, i + BATCH);
    await tx.run(
      `INSERT INTO ${table} (${columns.join(", ")}) VALUES ${part.map(() => tuple).join(", ")}`,
      part.flatMap((r) => columns.map((c) => toValue(r[c]))),
    );
  }
}

/** Copies every row of `tables` (in order) and returns the row count of each. */
export async function copyTables(
  from: SqlDatabase,
  to: SqlDatabase,
  tables: readonly TableSpec[],
  before?: (tx: Sql) => Promise<void>,
): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  await to.transaction(async (tx) => {
    if (before) await before(tx);
    for (const t of tables) {
      const rows = await from.all<Row>(`SELECT * FROM ${t.name} ORDER BY ${t.orderBy}`);
      await insertRows(tx, t.name, rows);
      counts[t.name] = rows.length;
      if (t.serial && to.dialect === "postgres" && rows.length > 0) {
        await tx.get(
          `SELECT setval(pg_get_serial_sequence('${t.name}', '${t.serial}'), (SELECT MAX(${t.serial}) FROM ${t.name}))`,
        );
      }
    }
  }, { lock: "orchard:copy" });
  return counts;
}

/** Row counts of `tables` (to check a copy). */
export async function countRows(db: Sql, tables: readonly TableSpec[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of tables) {
    out[t.name] = Number((await db.get<Row>(`SELECT COUNT(*) AS n FROM ${t.name}`))!.n);
  }
  return out;
}
