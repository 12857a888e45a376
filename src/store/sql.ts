/**
 * One small SQL interface over the two backends a store can live in:
 * embedded SQLite (node:sqlite, the default) and PostgreSQL (the `pg` client)
 * for a team. Statements are written once with `?` placeholders; the
 * PostgreSQL side numbers them ($1, $2, ...). Column types are spelled so both
 * engines read them the same (BIGINT times, DOUBLE PRECISION values).
 */

import { AsyncLocalStorage } from "node:async_hooks";

export type Row = Record<string, unknown>;
export type SqlValue = string | number | bigint | null | Uint8Array;
export type Dialect = "sqlite" | "postgres";

/** Something statements run against: the database, or an open transaction. */
export interface Sql {
  all<T = Row>(sql: string, args?: readonly SqlValue[]): Promise<T[]>;
  get<T = Row>(sql: string, args?: readonly SqlValue[]): Promise<T | undefined>;
  /**
   * Rows as arrays of values in the SELECT's column order: for reads of
   * many thousands of rows (no object per row to build, about half the cost).
   */
  values(sql: string, args?: readonly SqlValue[]): Promise<unknown[][]>;
  /** Runs a write; `changes` is the number of rows it touched. */
  run(sql: string, args?: readonly SqlValue[]): Promise<{ changes: number }>;
}

export interface TransactionOptions {
  /**
   * A lock name held until commit, so writers of the same thing queue up
   * (a PostgreSQL advisory lock; SQLite's BEGIN IMMEDIATE already locks the
   * whole file).
   */
  lock?: string;
}

/** A lock a live process holds (see SqlDatabase.acquireLease). */
export interface Lease {
  release(): Promise<void>;
}

export interface SqlDatabase extends Sql {
  readonly dialect: Dialect;
  /** where it lives, for messages: a file path, or the URI without its password */
  readonly location: string;
  /**
   * Runs `fn` in one transaction: all of its writes commit together or none
   * do. Use the `tx` it is given (not the database) inside.
   */
  transaction<T>(fn: (tx: Sql) => Promise<T>, opts?: TransactionOptions): Promise<T>;
  /**
   * Takes a named lock held for as long as this process holds it: the OS
   * (SQLite: a file lock) or the server (PostgreSQL: a session's advisory
   * lock) releases it when the process dies, even by kill -9.
   */
  acquireLease(name: string): Promise<Lease>;
  /** Whether some live process holds the lease `name` (a false answer means its holder is gone). */
  isLeaseHeld(name: string): Promise<boolean>;
  /** Runs a script of `;`-separated DDL statements (no parameters). */
  exec(script: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Which database's transaction the current async call chain is inside: a
 * statement sent to the database itself (not to the `tx` it was given) from
 * there would wait for the transaction forever (SQLite) or escape it
 * (PostgreSQL), so both backends refuse it with a clear error.
 */
export const activeTransaction = new AsyncLocalStorage<object>();

export function outsideTransaction(db: object): void {
  if (activeTransaction.getStore() === db) {
    throw new Error("a statement on the store inside its own transaction: use the `tx` transaction() gives");
  }
}

/** `?` placeholders as $1, $2, ... (question marks inside quotes are left alone). */
export function numberPlaceholders(sql: string): string {
  let n = 0;
  let quote: string | null = null;
  let out = "";
  for (const ch of sql) {
    if (quote) {
      if (ch === quote) quote = null;
      out += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      out += ch;
    } else if (ch === "?") out += `$${++n}`;
    else out += ch;
  }
  return out;
}

/** Splits a DDL script into statements (no statement here holds a `;` in a string). */
export function splitStatements(script: string): string[] {
  return script.split(";").map((s) => s.trim()).filter((s) => s.length > 0);
}

/** Whether a location names a PostgreSQL server rather than a SQLite file. */
export function isPostgresUri(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location.trim());
}

/**
 * The variables the PostgreSQL client reads when it loads (libpq's PG*
 * settings, and USER/HOME for defaults): a process that may open a
 * PostgreSQL store needs them in --allow-env (deno.json lists them too).
 */
export const POSTGRES_ENV = [
  "USER",
  "HOME",
  "PGUSER",
  "PGPASSWORD",
  "PGHOST",
  "PGPORT",
  "PGDATABASE",
  "PGOPTIONS",
  "PGAPPNAME",
  "PGAPPLICATION_NAME",
  "PGFALLBACK_APPLICATION_NAME",
  "PGCLIENT_ENCODING",
  "PGBINARY",
  "PGREPLICATION",
  "PGSTATEMENT_TIMEOUT",
  "PGLOCK_TIMEOUT",
  "PGQUERY_TIMEOUT",
  "PGIDLE_IN_TRANSACTION_SESSION_TIMEOUT",
  "PGSSLMODE",
  "PGCONNECT_TIMEOUT",
  "PGPASSFILE",
  "NODE_PG_FORCE_NATIVE",
];
