/**
 * The team backend: a PostgreSQL database through the `pg` client's pool.
 *
 * A transaction takes one pooled connection for its whole length; a named
 * lock is `pg_advisory_xact_lock`, held until commit, so writers of the same
 * model queue up and version numbers stay gap-free and unique. BIGINT comes
 * back as a JS number (times in ms and counts fit well inside 2^53).
 *
 * The URI may carry `?schema=NAME` to keep a store in its own schema
 * (created when missing), so one database can hold several stores.
 */
// @ts-types="@types/pg"
import pg from "pg";
import { UserError } from "../core/errors.ts";
import { redactUri } from "../core/uri.ts";
import {
  activeTransaction,
  type Lease,
  numberPlaceholders,
  outsideTransaction,
  type Row,
  splitStatements,
  type Sql,
  type SqlDatabase,
  type SqlValue,
} from "./sql.ts";

const INT8 = 20;
const NUMERIC = 1700;

function typeParser(oid: number, format?: string): (value: string) => unknown {
  if (oid === INT8 || oid === NUMERIC) return (v: string) => Number(v);
  // deno-lint-ignore no-explicit-any
  return (pg.types.getTypeParser as any)(oid, format);
}

function queryable(client: pg.Pool | pg.PoolClient): Sql {
  const all = async <T>(sql: string, args: readonly SqlValue[] = []) =>
    (await client.query(numberPlaceholders(sql), args as unknown[])).rows as T[];
  return {
    all,
    values: async (sql: string, args: readonly SqlValue[] = []) =>
      (await client.query({ text: numberPlaceholders(sql), values: args as unknown[], rowMode: "array" }))
        .rows as unknown[][],
    get: async <T>(sql: string, args: readonly SqlValue[] = []) => (await all<T>(sql, args))[0],
    run: async (sql: string, args: readonly SqlValue[] = []) => ({
      changes: (await client.query(numberPlaceholders(sql), args as unknown[])).rowCount ?? 0,
    }),
  };
}

/** A one-line reason for a failed connection or query (no stack, no password). */
export function pgReason(e: unknown): string {
  const err = e as { code?: string; message?: string };
  const message = (err.message ?? String(e)).split("\n")[0];
  // pg's words when the server asks for a password and neither the URI nor PGPASSWORD gives one
  if (/client password must be a string/.test(message)) {
    return "the server asks for a password and none was given: put it in the URI (user:password@host) or PGPASSWORD";
  }
  return err.code ? `${message} (${err.code})` : message;
}

export class PostgresDatabase implements SqlDatabase {
  readonly dialect = "postgres" as const;
  readonly location: string;
  private readonly direct: Sql;
  private closed = false;

  private constructor(
    uri: string,
    private readonly pool: pg.Pool,
    readonly schema: string | null,
    private readonly clientConfig: pg.ClientConfig,
  ) {
    this.location = redactUri(uri);
    this.direct = queryable(pool);
  }

  /** Connects (and checks the connection) to `uri`, e.g. postgresql://user:pw@host:5432/db. */
  static async open(uri: string): Promise<PostgresDatabase> {
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      throw new UserError(
        `${redactUri(uri)}: not a valid PostgreSQL URI (postgresql://user:password@host:5432/database)`,
      );
    }
    const schema = url.searchParams.get("schema");
    if (schema !== null && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
      throw new UserError(`${redactUri(uri)}: schema '${schema}' must be lowercase letters, digits and _`);
    }
    url.searchParams.delete("schema");
    const clientConfig = {
      connectionString: url.toString(),
      connectionTimeoutMillis: 10_000,
      types: { getTypeParser: typeParser } as pg.CustomTypesConfig,
    };
    const pool = new pg.Pool({ ...clientConfig, max: 4 });
    // an idle client's error (server restart) must not crash the process
    pool.on("error", () => {});
    if (schema) {
      pool.on("connect", (client) => {
        client.query(`SET search_path TO ${schema}`).catch(() => {});
      });
    }
    const db = new PostgresDatabase(uri, pool, schema, clientConfig);
    try {
      if (schema) {
        // the connect hook's SET may not have run yet on this first client
        const client = await pool.connect();
        try {
          // two first openers race on IF NOT EXISTS; the loser's "already exists" is fine
          await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`).catch((e: { code?: string }) => {
            if (e.code !== "23505" && e.code !== "42P06") throw e;
          });
          await client.query(`SET search_path TO ${schema}`);
        } finally {
          client.release();
        }
      } else {
        await pool.query("SELECT 1");
      }
    } catch (e) {
      await pool.end().catch(() => {});
      throw new UserError(`${db.location}: cannot connect to the PostgreSQL store (${pgReason(e)})`);
    }
    return db;
  }

  all<T = Row>(sql: string, args?: readonly SqlValue[]): Promise<T[]> {
    outsideTransaction(this);
    return this.direct.all<T>(sql, args);
  }
  get<T = Row>(sql: string, args?: readonly SqlValue[]): Promise<T | undefined> {
    outsideTransaction(this);
    return this.direct.get<T>(sql, args);
  }
  values(sql: string, args?: readonly SqlValue[]): Promise<unknown[][]> {
    outsideTransaction(this);
    return this.direct.values(sql, args);
  }
  run(sql: string, args?: readonly SqlValue[]): Promise<{ changes: number }> {
    outsideTransaction(this);
    return this.direct.run(sql, args);
  }

  async exec(script: string): Promise<void> {
    await this.transaction(async (tx) => {
      for (const statement of splitStatements(script)) await tx.run(statement);
    });
  }

  async transaction<T>(fn: (tx: Sql) => Promise<T>, opts: { lock?: string } = {}): Promise<T> {
    outsideTransaction(this);
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      if (opts.lock) {
        await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [
          `${this.schema ?? ""}:${opts.lock}`,
        ]);
      }
      const out = await activeTransaction.run(this, () => fn(queryable(client)));
      await client.query("COMMIT");
      return out;
    } catch (e) {
      await client.query("ROLLBACK").catch(() => {});
      throw e;
    } finally {
      client.release();
    }
  }

  /** Ends the pool; closing again is a no-op, as on SQLite (pg's pool.end() throws the second time). */
  /** Lease names are unique per process (pid and a random part), so the key is the server's, not the schema's. */
  private leaseKey(name: string): string {
    return `orchard-lease:${name}`;
  }

  /**
   * A lease is a session advisory lock on a connection of its own, kept open
   * until released: the server drops it when that connection drops, so a
   * killed process's leases end with it, on any host.
   */
  async acquireLease(name: string): Promise<Lease> {
    const client = new pg.Client({ ...this.clientConfig });
    client.on("error", () => {});
    await client.connect();
    await client.query("SELECT pg_advisory_lock(hashtext($1))", [this.leaseKey(name)]);
    // held for the process's life, but it must not keep a finished process running
    (client as unknown as { connection?: { stream?: { unref?: () => void } } }).connection?.stream?.unref?.();
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        await client.end().catch(() => {});
      },
    };
  }

  async isLeaseHeld(name: string): Promise<boolean> {
    // a transaction-level try: taken (so free) or not, it is gone at commit
    return await this.transaction(async (tx) => {
      const row = await tx.get<{ free: boolean }>("SELECT pg_try_advisory_xact_lock(hashtext(?)) AS free", [
        this.leaseKey(name),
      ]);
      return !row!.free;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}
