/**
 * The embedded backend: one SQLite file through node:sqlite (built into Deno).
 *
 * The file runs in WAL mode with a busy timeout, and every transaction is
 * `BEGIN IMMEDIATE` (the write lock is taken up front), so several processes
 * can write at once without corrupt rows or lost updates. Inside one process
 * the connection is shared, so transactions (and statements outside them)
 * queue on a promise chain: an `await` inside a transaction never lets
 * another caller's statement into it.
 */
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import { dirname, resolve } from "node:path";
import { UserError } from "../core/errors.ts";
import { describeFsError } from "../core/fs_errors.ts";
import type { Lease, Row, Sql, SqlDatabase, SqlValue } from "./sql.ts";
import { activeTransaction, outsideTransaction, splitStatements } from "./sql.ts";

function isBusy(e: unknown): boolean {
  const msg = e instanceof Error ? e.message : String(e);
  return /database is locked|SQLITE_BUSY|database table is locked/i.test(msg);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How long a 0-byte store file may be a store being created by another process. */
const EMPTY_STORE_GRACE_MS = 10_000;

export interface SqliteOptions {
  busyTimeoutMs?: number;
}

/**
 * One connection per file per process, shared by every SqliteDatabase opened
 * on it: two connections in one thread would deadlock, since one's busy
 * wait blocks the thread the other needs to finish its transaction.
 */
interface SharedConnection {
  db: DatabaseSync;
  statements: Map<string, StatementSync>;
  queue: Promise<unknown>;
  refs: number;
}
const connections = new Map<string, SharedConnection>();

export class SqliteDatabase implements SqlDatabase {
  readonly dialect = "sqlite" as const;
  private readonly direct: Sql;
  private closed = false;

  private constructor(readonly location: string, private readonly shared: SharedConnection) {
    const prepare = (sql: string): StatementSync => {
      let statement = shared.statements.get(sql);
      if (!statement) {
        // prepared once per text: the store runs the same few statements over and over
        if (shared.statements.size >= 256) shared.statements.clear();
        statement = shared.db.prepare(sql);
        shared.statements.set(sql, statement);
      }
      return statement;
    };
    const all = <T>(sql: string, args: readonly SqlValue[] = []) =>
      Promise.resolve(prepare(sql).all(...(args as SQLInputValue[])) as T[]);
    const values = (sql: string, args: readonly SqlValue[] = []) => {
      const statement = prepare(sql);
      // the statement is shared and cached: arrays for this call only (it runs synchronously)
      statement.setReturnArrays(true);
      try {
        return Promise.resolve(statement.all(...(args as SQLInputValue[])) as unknown as unknown[][]);
      } finally {
        statement.setReturnArrays(false);
      }
    };
    this.direct = {
      all,
      values,
      get: async <T>(sql: string, args: readonly SqlValue[] = []) =>
        (await all<T>(sql, args))[0] as T | undefined,
      run: (sql: string, args: readonly SqlValue[] = []) =>
        Promise.resolve({ changes: Number(prepare(sql).run(...(args as SQLInputValue[])).changes) }),
    };
  }

  /** The node:sqlite connection (shared with other handles on the same file). */
  get db(): DatabaseSync {
    return this.shared.db;
  }

  /**
   * Opens (creating if needed) the SQLite file at `path`. A 0-byte file is
   * refused: SQLite would read it as an empty store and hide a lost one.
   */
  static open(path: string, opts: SqliteOptions = {}): SqliteDatabase {
    if (path !== ":memory:") {
      let info: Deno.FileInfo | undefined;
      try {
        info = Deno.statSync(path);
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw new UserError(describeFsError(e, path, "read"));
      }
      // a file another process created a moment ago is empty until its first write: only an
      // empty file that has stayed empty is a lost store
      const settled = info?.mtime ? Date.now() - info.mtime.getTime() > EMPTY_STORE_GRACE_MS : true;
      if (info?.size === 0 && settled) {
        throw new UserError(
          `${path}: the store file is empty (0 bytes), so its runs and versions are not in it; restore it from a backup, or remove it to start a new store`,
        );
      }
      try {
        Deno.mkdirSync(dirname(path) || ".", { recursive: true });
      } catch (e) {
        throw new UserError(
          `${path}: cannot create the store's folder (${describeFsError(e, dirname(path), "write")})`,
        );
      }
    }
    const key = path === ":memory:" ? `:memory:${Math.random()}` : resolve(path);
    const existing = connections.get(key);
    if (existing) {
      existing.refs++;
      return new SqliteDatabase(path, existing);
    }
    let db: DatabaseSync;
    try {
      db = new DatabaseSync(path);
    } catch (e) {
      throw new UserError(`${path}: cannot open the store (${describeFsError(e, path, "write")})`);
    }
    try {
      db.exec(`PRAGMA busy_timeout = ${opts.busyTimeoutMs ?? 30000}`);
      retrySync(() => db.exec("PRAGMA journal_mode = WAL"));
      db.exec("PRAGMA synchronous = NORMAL");
      db.exec("PRAGMA foreign_keys = ON");
      db.prepare("SELECT count(*) FROM sqlite_master").get();
    } catch (e) {
      db.close();
      if (/file is not a database|malformed|not a database/i.test(String(e))) {
        throw new UserError(`${path}: not a store (not an SQLite database, or corrupt)`);
      }
      throw e;
    }
    const shared: SharedConnection = { db, statements: new Map(), queue: Promise.resolve(), refs: 1 };
    connections.set(key, shared);
    return new SqliteDatabase(path, shared);
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error(`${this.location}: the store is closed`));
    try {
      outsideTransaction(this.shared);
    } catch (e) {
      return Promise.reject(e);
    }
    const next = this.shared.queue.then(fn, fn);
    this.shared.queue = next.catch(() => undefined);
    return next;
  }

  all<T = Row>(sql: string, args?: readonly SqlValue[]): Promise<T[]> {
    return this.serial(() => this.direct.all<T>(sql, args));
  }
  get<T = Row>(sql: string, args?: readonly SqlValue[]): Promise<T | undefined> {
    return this.serial(() => this.direct.get<T>(sql, args));
  }
  values(sql: string, args?: readonly SqlValue[]): Promise<unknown[][]> {
    return this.serial(() => this.direct.values(sql, args));
  }
  run(sql: string, args?: readonly SqlValue[]): Promise<{ changes: number }> {
    return this.serial(() => this.direct.run(sql, args));
  }

  exec(script: string): Promise<void> {
    return this.serial(() => {
      for (const statement of splitStatements(script)) this.db.exec(statement);
      return Promise.resolve();
    });
  }

  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
    return this.serial(async () => {
      // BEGIN IMMEDIATE waits busy_timeout for the lock; retry beyond that
      for (let attempt = 0;; attempt++) {
        try {
          this.db.exec("BEGIN IMMEDIATE");
          break;
        } catch (e) {
          if (!isBusy(e) || attempt >= 50) throw e;
          await sleep(10 + Math.floor(Math.random() * 40));
        }
      }
      try {
        const out = await activeTransaction.run(this.shared, () => fn(this.direct));
        this.db.exec("COMMIT");
        return out;
      } catch (e) {
        try {
          this.db.exec("ROLLBACK");
        } catch { /* already rolled back */ }
        throw e;
      }
    });
  }

  /** Lease files live beside the database: `<db>.leases/<name>.lock`. */
  private leasePath(name: string): string {
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new Error(`lease name '${name}' must be a plain file name`);
    return `${this.location}.leases/${name}.lock`;
  }

  /**
   * A lease is an exclusive SQLite lock on a small file of its own, held by a
   * connection kept open in an EXCLUSIVE transaction; the OS drops the lock
   * when the process ends, however it ends.
   */
  acquireLease(name: string): Promise<Lease> {
    const path = this.leasePath(name);
    Deno.mkdirSync(dirname(path), { recursive: true });
    this.removeAbandonedLeases(dirname(path));
    const lock = new DatabaseSync(path);
    // a checker's probe may hold the file for an instant: wait it out
    lock.exec("PRAGMA busy_timeout = 5000");
    lock.exec("BEGIN EXCLUSIVE");
    return Promise.resolve({
      release: () => {
        if (lock.isOpen) {
          try {
            lock.exec("ROLLBACK");
          } finally {
            lock.close();
          }
          try {
            Deno.removeSync(path);
          } catch { /* already gone */ }
        }
        return Promise.resolve();
      },
    });
  }

  /**
   * Removes lease files nobody holds that are older than ORPHAN_LEASE_MS: left by
   * processes that ended while holding them. A fresh file may be a holder between
   * creating it and locking it, so only old ones are probed.
   */
  private removeAbandonedLeases(dir: string): void {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(dir)];
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isFile || !e.name.endsWith(".lock")) continue;
      try {
        const age = Date.now() - (Deno.statSync(`${dir}/${e.name}`).mtime?.getTime() ?? Date.now());
        if (age > ORPHAN_LEASE_MS) void this.isLeaseHeld(e.name.slice(0, -".lock".length));
      } catch { /* gone meanwhile */ }
    }
  }

  isLeaseHeld(name: string): Promise<boolean> {
    const path = this.leasePath(name);
    try {
      Deno.statSync(path);
    } catch {
      return Promise.resolve(false); // released (or never taken here)
    }
    let probe: DatabaseSync | undefined;
    try {
      probe = new DatabaseSync(path);
      probe.exec("PRAGMA busy_timeout = 0");
      probe.exec("BEGIN IMMEDIATE");
      probe.exec("ROLLBACK");
    } catch {
      // busy, or the file changing under the probe: not surely free, so the run is left RUNNING
      return Promise.resolve(true);
    } finally {
      try {
        probe?.close();
      } catch { /* closed */ }
    }
    // nobody holds it: its holder ended without releasing; tidy the file (and a killed holder's journal) away
    for (const file of [path, `${path}-journal`]) {
      try {
        Deno.removeSync(file);
      } catch { /* someone else did, or there was none */ }
    }
    return Promise.resolve(false);
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    const done = this.serial(() => {
      if (--this.shared.refs === 0) {
        for (const [key, c] of connections) if (c === this.shared) connections.delete(key);
        if (this.shared.db.isOpen) this.shared.db.close();
      }
      return Promise.resolve();
    });
    this.closed = true;
    return done;
  }
}

/** A lease file unheld for this long is a dead process's (a live acquirer locks its file at once). */
const ORPHAN_LEASE_MS = 10 * 60 * 1000;

function retrySync(fn: () => void): void {
  for (let i = 0;; i++) {
    try {
      return fn();
    } catch (e) {
      if (!isBusy(e) || i >= 50) throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10 + Math.floor(Math.random() * 40));
    }
  }
}
