/**
 * The online store: the latest value row per entity of each feature view
 * version, for lookups at serving time. One interface, two backends: embedded
 * SQLite (node:sqlite, the default: a file under the feature store's folder,
 * no server) and Redis (`online_store: redis://host:port`, for a team; in
 * ./redis.ts, which ./open.ts loads only when asked for).
 *
 * A row is stored with its event and created timestamps, and a write never
 * replaces a newer row with an older one (a re-run of an earlier window, or a
 * late file, cannot roll a value back). The lookup path is synchronous SQLite
 * on prepared statements: one record never goes through a DataFrame.
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { dirname } from "node:path";
import { UserError } from "../core/errors.ts";
import { describeFsError } from "../core/fs_errors.ts";

/** One entity's stored values of one view version. */
/** A value read from the online store: present, missing (no row) or expired (older than its view's TTL). */
export type FeatureStatus = "present" | "missing" | "expired";

/** A stored row's status at `now`: missing (none), expired (older than the view's TTL, ms) or present. */
export function rowStatus(row: StoredRow | undefined, ttl: number | null, now: number): FeatureStatus {
  return !row ? "missing" : ttl !== null && now - row.ts > ttl ? "expired" : "present";
}

export interface StoredRow {
  key: string;
  /** event timestamp, epoch ms */
  ts: number;
  /** created timestamp, epoch ms (0 when the view has none) */
  created: number;
  /** the view version's feature values, in its declared order */
  values: unknown[];
}

/** A row whose values are already JSON (materialize encodes a whole view in polars, not row by row). */
export interface EncodedRow {
  key: string;
  ts: number;
  created: number;
  /** the values as a JSON array */
  json: string;
}

export function encodeRow(r: StoredRow): EncodedRow {
  return { key: r.key, ts: r.ts, created: r.created, json: JSON.stringify(r.values) };
}

/** What one materialize run of a view version covered. */
export interface MaterializationRecord {
  view: string;
  version: number;
  start: number;
  end: number;
  rows: number;
  at: string;
}

export interface OnlineStore {
  readonly kind: "sqlite" | "redis";
  /** upserts, keeping whichever row is newer (event timestamp, then created); returns rows written */
  write(table: string, rows: StoredRow[]): Promise<number>;
  /** `write` for rows already encoded */
  writeEncoded(table: string, rows: EncodedRow[]): Promise<number>;
  /** the stored rows of `keys` (undefined where none), in order */
  read(table: string, keys: string[]): Promise<(StoredRow | undefined)[]>;
  /** the latest materialization of a view version (incremental materialize starts after its end) */
  lastMaterialization(view: string, version: number): Promise<MaterializationRecord | undefined>;
  recordMaterialization(record: MaterializationRecord): Promise<void>;
  close(): Promise<void>;
}

/** The table (SQLite) or key prefix (Redis) of a view version. */
export function tableName(view: string, version: number): string {
  return `${view}__v${version}`;
}

/** Rows per INSERT statement in a write (SQLite allows 32,766 parameters; 4 a row). */
const MULTI_ROW = 50;

export class SqliteOnlineStore implements OnlineStore {
  readonly kind = "sqlite" as const;
  private readonly statements = new Map<string, StatementSync>();
  private readonly tables = new Set<string>();

  private constructor(readonly path: string, private readonly db: DatabaseSync) {}

  static open(path: string): SqliteOnlineStore {
    if (path !== ":memory:") {
      try {
        Deno.mkdirSync(dirname(path) || ".", { recursive: true });
      } catch (e) {
        throw new UserError(`online store ${path}: ${describeFsError(e, dirname(path), "write")}`);
      }
    }
    let db: DatabaseSync;
    try {
      db = new DatabaseSync(path);
      db.exec("PRAGMA busy_timeout = 30000");
      db.exec("PRAGMA journal_mode = WAL");
      db.exec("PRAGMA synchronous = NORMAL");
      db.exec(
        "CREATE TABLE IF NOT EXISTS _materializations (view TEXT NOT NULL, version INTEGER NOT NULL, " +
          "start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL, rows INTEGER NOT NULL, at TEXT NOT NULL)",
      );
    } catch (e) {
      if (/not a database|malformed/i.test(String(e))) {
        throw new UserError(`online store ${path}: not an SQLite database, or corrupt`);
      }
      throw new UserError(`online store ${path}: ${describeFsError(e, path, "write")}`);
    }
    return new SqliteOnlineStore(path, db);
  }

  private prepare(sql: string): StatementSync {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  private ensure(table: string): string {
    const name = `"fv_${table.replaceAll('"', "")}"`;
    if (!this.tables.has(table)) {
      this.db.exec(
        `CREATE TABLE IF NOT EXISTS ${name} (entity_key TEXT PRIMARY KEY, event_ms INTEGER NOT NULL, ` +
          `created_ms INTEGER NOT NULL, vals TEXT NOT NULL) WITHOUT ROWID`,
      );
      this.tables.add(table);
    }
    return name;
  }

  write(table: string, rows: StoredRow[]): Promise<number> {
    return this.writeEncoded(table, rows.map(encodeRow));
  }

  writeEncoded(table: string, rows: EncodedRow[]): Promise<number> {
    const name = this.ensure(table);
    // rows go MULTI_ROW to a statement (a third less time than one each): in order, so a key twice
    // in one statement is still an upsert over its earlier row
    const upsert = (n: number) =>
      this.prepare(
        `INSERT INTO ${name} (entity_key, event_ms, created_ms, vals) VALUES ${
          Array(n).fill("(?, ?, ?, ?)").join(", ")
        } ` +
          `ON CONFLICT(entity_key) DO UPDATE SET event_ms = excluded.event_ms, created_ms = excluded.created_ms, ` +
          `vals = excluded.vals WHERE excluded.event_ms > event_ms OR ` +
          `(excluded.event_ms = event_ms AND excluded.created_ms >= created_ms)`,
      );
    const many = upsert(MULTI_ROW), one = upsert(1);
    let written = 0;
    this.db.exec("BEGIN IMMEDIATE");
    try {
      let i = 0;
      for (; i + MULTI_ROW <= rows.length; i += MULTI_ROW) {
        const args: (string | number)[] = [];
        for (let j = i; j < i + MULTI_ROW; j++) {
          args.push(rows[j].key, rows[j].ts, rows[j].created, rows[j].json);
        }
        written += Number(many.run(...args).changes);
      }
      for (; i < rows.length; i++) {
        written += Number(one.run(rows[i].key, rows[i].ts, rows[i].created, rows[i].json).changes);
      }
      this.db.exec("COMMIT");
    } catch (e) {
      this.db.exec("ROLLBACK");
      throw e;
    }
    return Promise.resolve(written);
  }

  /** The synchronous lookup (the serving hot path); `read` wraps it. */
  readSync(table: string, keys: string[]): (StoredRow | undefined)[] {
    const name = this.ensure(table);
    const get = this.prepare(`SELECT event_ms, created_ms, vals FROM ${name} WHERE entity_key = ?`);
    return keys.map((key) => {
      const r = get.get(key) as { event_ms: number; created_ms: number; vals: string } | undefined;
      return r ? { key, ts: r.event_ms, created: r.created_ms, values: JSON.parse(r.vals) } : undefined;
    });
  }

  read(table: string, keys: string[]): Promise<(StoredRow | undefined)[]> {
    return Promise.resolve(this.readSync(table, keys));
  }

  lastMaterialization(view: string, version: number): Promise<MaterializationRecord | undefined> {
    const r = this.prepare(
      "SELECT view, version, start_ms, end_ms, rows, at FROM _materializations WHERE view = ? AND version = ? " +
        "ORDER BY end_ms DESC LIMIT 1",
    ).get(view, version) as
      | { view: string; version: number; start_ms: number; end_ms: number; rows: number; at: string }
      | undefined;
    return Promise.resolve(
      r
        ? { view: r.view, version: r.version, start: r.start_ms, end: r.end_ms, rows: r.rows, at: r.at }
        : undefined,
    );
  }

  recordMaterialization(m: MaterializationRecord): Promise<void> {
    this.prepare(
      "INSERT INTO _materializations (view, version, start_ms, end_ms, rows, at) VALUES (?, ?, ?, ?, ?, ?)",
    ).run(m.view, m.version, m.start, m.end, m.rows, m.at);
    return Promise.resolve();
  }

  close(): Promise<void> {
    if (this.db.isOpen) this.db.close();
    return Promise.resolve();
  }
}
