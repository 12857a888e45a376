/**
 * Schema migrations, per component ("store", "tracking", "registry"), on
 * either backend. Each component's applied version lives in `orchard_schema`;
 * pending migrations run in order inside one locked transaction, so two
 * processes opening a new store at once migrate it once. A store written by
 * a newer Orchard (a version above the newest known here) is refused rather
 * than misread.
 */
import { UserError } from "../core/errors.ts";
import type { Dialect, Sql, SqlDatabase } from "./sql.ts";

export interface Migration {
  version: number;
  description: string;
  /** DDL (with the tokens of `ddl`), or code for changes that need data */
  up: string | ((tx: Sql, dialect: Dialect) => Promise<void>);
}

export interface Component {
  name: string;
  migrations: readonly Migration[];
  /**
   * For stores made before migrations were tracked: the version their
   * tables already have (0 when none), read inside the migration lock.
   */
  legacyVersion?: (tx: Sql, dialect: Dialect) => Promise<number>;
}

/** Spells the few types that differ: `{{id}}` is an auto-numbered primary key. */
export function ddl(script: string, dialect: Dialect): string {
  return script.replaceAll(
    "{{id}}",
    dialect === "sqlite" ? "INTEGER PRIMARY KEY AUTOINCREMENT" : "BIGSERIAL PRIMARY KEY",
  );
}

async function runScript(tx: Sql, script: string): Promise<void> {
  for (const statement of script.split(";").map((s) => s.trim()).filter(Boolean)) await tx.run(statement);
}

async function appliedVersions(db: Sql): Promise<Map<string, number> | undefined> {
  try {
    const rows = await db.all<{ component: string; version: number }>(
      "SELECT component, version FROM orchard_schema",
    );
    return new Map(rows.map((r) => [r.component, Number(r.version)]));
  } catch {
    return undefined; // no orchard_schema table yet
  }
}

function newest(c: Component): number {
  return c.migrations.reduce((m, x) => Math.max(m, x.version), 0);
}

/** Brings every component up to its newest migration (a no-op read when current). */
export async function migrate(db: SqlDatabase, components: readonly Component[]): Promise<void> {
  const check = (applied: Map<string, number>) => {
    for (const c of components) {
      const at = applied.get(c.name) ?? 0;
      if (at > newest(c)) {
        throw new UserError(
          `${db.location}: its ${c.name} schema is version ${at}, newer than this Orchard knows (${
            newest(c)
          }); upgrade Orchard to use this store`,
        );
      }
    }
    return components.every((c) => (applied.get(c.name) ?? 0) >= newest(c));
  };
  const seen = await appliedVersions(db);
  if (seen && check(seen)) return;
  await db.transaction(async (tx) => {
    await tx.run(
      "CREATE TABLE IF NOT EXISTS orchard_schema (component TEXT PRIMARY KEY, version INTEGER NOT NULL, updated BIGINT NOT NULL)",
    );
    const applied = (await appliedVersions(tx))!;
    if (check(applied)) return; // another process migrated it meanwhile
    for (const c of components) {
      let at = applied.get(c.name);
      if (at === undefined) at = c.legacyVersion ? await c.legacyVersion(tx, db.dialect) : 0;
      for (const m of [...c.migrations].sort((a, b) => a.version - b.version)) {
        if (m.version <= at) continue;
        if (typeof m.up === "string") await runScript(tx, ddl(m.up, db.dialect));
        else await m.up(tx, db.dialect);
        at = m.version;
      }
      await tx.run(
        `INSERT INTO orchard_schema(component, version, updated) VALUES (?, ?, ?)
         ON CONFLICT(component) DO UPDATE SET version = excluded.version, updated = excluded.updated`,
        [c.name, at, Date.now()],
      );
    }
  }, { lock: "orchard:migrate" });
}

/** Whether a table exists (for legacyVersion checks). */
export async function tableExists(tx: Sql, dialect: Dialect, table: string): Promise<boolean> {
  const row = dialect === "sqlite"
    ? await tx.get("SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = ?", [table])
    : await tx.get(
      "SELECT 1 AS found FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?",
      [table],
    );
  return row !== undefined;
}
