/**
 * The experiment tracking store: experiments and runs with their params,
 * metric history, tags, dataset digests and artifact paths, in a SQLite file
 * (default, embedded) or a PostgreSQL database (for a team), behind one
 * async API. The model registry (src/registry/) keeps its tables in the same
 * database.
 *
 * Every multi-statement write is one transaction, so several processes
 * (tuning trials, parallel trains, the registry) can write at once without
 * corrupt rows or lost updates. Each run records the process that started it;
 * when the store opens, RUNNING runs of processes that have ended (on this
 * host) are marked FAILED, so a killed train does not stay RUNNING forever.
 *
 * Times are milliseconds since the epoch. Params are stored as text (strings
 * as written, anything else as JSON), as MLflow does; a param is immutable
 * once logged (re-logging the same value is allowed).
 *
 * A missing metric (one that could not be computed: NaN, or null as logged)
 * is stored as SQL NULL on both backends, never as a NaN float; it reads back
 * as NaN (the number type's "no value"), `IS NULL` matches it in a filter, it
 * is null in JSON and prints as the missing symbol (core/format.ts MISSING).
 */
import { UserError } from "../core/errors.ts";
import { isPermissionError, PermissionError } from "../core/fs_errors.ts";
import {
  isPostgresUri,
  type Lease,
  type Row,
  type Sql,
  type SqlDatabase,
  type SqlValue,
} from "../store/sql.ts";
import { openDatabase } from "../store/open.ts";
import { type Component, migrate } from "../store/migrate.ts";
import { readStoreId, STORE_SCHEMA } from "../store/identity.ts";
import { TRACKING_SCHEMA } from "./schema.ts";
import {
  type Filter,
  type FilterableRun,
  filterKeys,
  type Key,
  matchesFilter,
  parseFilter,
  parseOrderBy,
  sortRuns,
} from "./filter.ts";

export type RunStatus = "RUNNING" | "FINISHED" | "FAILED" | "KILLED";

export interface StartRunOptions {
  experiment: string;
  runName?: string;
  parentRunId?: string;
  tags?: Record<string, string>;
}

export interface DatasetInput {
  /** e.g. "train", "validation" */
  name: string;
  path: string;
  sha256: string;
  rows: number;
}

export interface MetricPoint {
  value: number;
  step: number;
  timestamp: number;
}

export interface Run {
  runId: string;
  experiment: string;
  runName: string | null;
  status: RunStatus;
  startTime: number;
  endTime: number | null;
  parentRunId: string | null;
  params: Record<string, string>;
  /** the latest value of each metric (highest step; ties: last logged) */
  metrics: Record<string, number>;
  metricHistory: Record<string, MetricPoint[]>;
  tags: Record<string, string>;
  datasets: DatasetInput[];
  /** artifact name -> path */
  artifacts: Record<string, string>;
}

export interface SearchOptions {
  experiment?: string;
  /** e.g. `metrics.roc_auc > 0.8 and params.max_depth = 10` (see filter.ts) */
  filter?: string;
  /** e.g. "metrics.roc_auc desc" or ["metrics.f1 desc", "attributes.start_time"] */
  orderBy?: string | string[];
  maxResults?: number;
}

/** Tag set on a run that was found RUNNING after its process ended. */
export const FAILURE_TAG = "orchard.failure";

/**
 * Whether a store exists at `location` (reading commands report "no runs"
 * instead of creating one). A PostgreSQL URI always counts: the server says.
 */
export function storeExists(location: string): boolean {
  if (isPostgresUri(location)) return true;
  try {
    return Deno.statSync(location).isFile;
  } catch (e) {
    // not allowed to look is not "no store": say so, naming it
    if (isPermissionError(e)) {
      throw new PermissionError(`no permission to read ${location} (the tracking store)`, location);
    }
    return false;
  }
}

export function newRunId(): string {
  return crypto.randomUUID().replaceAll("-", "");
}

function paramText(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === undefined) return "null";
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  return JSON.stringify(value) ?? String(value);
}

/** The host's name for the run record, when the task may read it (--allow-sys=hostname). */
function hostName(): string | null {
  try {
    return Deno.hostname();
  } catch {
    return null;
  }
}

function checkKey(kind: string, key: string): void {
  if (typeof key !== "string" || key.length === 0 || key.length > 250) {
    throw new UserError(`${kind} key must be a non-empty string of at most 250 characters`);
  }
}

/** This process's lease on one store, and the runs it started there that have not ended. */
interface ProcessLease {
  name: string;
  /** resolves once the lease is held */
  held: Promise<Lease>;
  running: Set<string>;
}

/**
 * This process's lease on each store it has runs RUNNING in, by location:
 * taken by the first startRun, released when its last run ends (so lease files
 * do not pile up), and dropped by the OS if the process ends first, however it
 * ends. A run records the lease's name; a RUNNING run whose lease nobody holds
 * lost its process.
 */
const PROCESS_LEASES = new Map<string, ProcessLease>();

/** A run row's attributes, with empty params, metrics and tags to fill in (the UI's runs table reads runs so too). */
export function runAttributes(r: Row): FilterableRun & { status: RunStatus } {
  return {
    runId: r.run_id as string,
    experiment: r.experiment as string,
    runName: (r.run_name as string | null) ?? null,
    status: r.status as RunStatus,
    startTime: Number(r.start_time),
    endTime: r.end_time == null ? null : Number(r.end_time),
    parentRunId: (r.parent_run_id as string | null) ?? null,
    params: {},
    metrics: {},
    tags: {},
  };
}

/**
 * The query for one key's rows, one row per (run, step): `from` is the FROM
 * clause and filter up to a trailing WHERE or AND (e.g. "metrics t WHERE"),
 * the key is its last argument. Two columns, run id and value (a NaN metric
 * as NULL), read from the covering index (schema v3) in its order, so a
 * run's latest metric row is its last and the database sorts nothing
 * (PostgreSQL: an index-only scan once the table is vacuumed). One key per
 * query: PostgreSQL 15 reads `key IN (...)` with a sort. A param or tag has
 * one row per run and needs no order.
 */
export function keyedRowsSql(kind: "params" | "tags" | "metrics", from: string): string {
  return kind === "metrics"
    ? `SELECT t.run_id, CASE WHEN t.is_nan = 1 THEN NULL ELSE t.value END FROM ${from} t.key = ? ORDER BY t.key, t.run_id, t.step, t.id`
    : `SELECT t.run_id, t.value FROM ${from} t.key = ?`;
}

/**
 * Puts one key's rows read with keyedRowsSql (as arrays: Sql.values) into
 * their runs: a param or tag as its text, a metric as its latest value
 * (highest step, then last logged: the last row, as the query orders them),
 * NULL as NaN (missing). The store's search and the UI's runs table both
 * fill runs so.
 */
export function fillKeyedRows(
  byId: Map<string, FilterableRun>,
  kind: "params" | "tags" | "metrics",
  key: string,
  rows: unknown[][],
): void {
  if (kind !== "metrics") {
    for (const [runId, value] of rows) {
      const run = byId.get(runId as string);
      if (run) run[kind][key] = value as string;
    }
    return;
  }
  for (const [runId, value] of rows) {
    const run = byId.get(runId as string);
    if (run) run.metrics[key] = value === null || value === undefined ? NaN : Number(value);
  }
}

/** A stored metric's value: NULL (or a row flagged is_nan) is missing, NaN in memory. */
function metricValue(row: Row): number {
  return row.value === null || row.value === undefined || Number(row.is_nan) === 1 ? NaN : Number(row.value);
}

/** Ids per `IN (...)` list: well under SQLite's and PostgreSQL's parameter limits. */
const ID_CHUNK = 500;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** One multi-row INSERT per 200 rows: one round trip instead of one per row. */
async function insertMany(tx: Sql, head: string, rows: SqlValue[][], tail = ""): Promise<void> {
  for (let i = 0; i < rows.length; i += 200) {
    const part = rows.slice(i, i + 200);
    const tuple = `(${placeholders(part[0].length)})`;
    await tx.run(`${head} ${part.map(() => tuple).join(", ")} ${tail}`, part.flat());
  }
}

function placeholders(n: number): string {
  return Array.from({ length: n }, () => "?").join(", ");
}

export interface OpenOptions {
  /** more components to migrate with the store's own (the registry's tables) */
  components?: readonly Component[];
  /** leave RUNNING runs of ended processes alone (default: mark them FAILED) */
  keepStaleRuns?: boolean;
}

export class TrackingStore {
  private constructor(
    /** the database: `location` is its path or (password-free) URI */
    readonly db: SqlDatabase,
    /** the store's identity (kept by store:copy) */
    readonly storeId: string,
  ) {}

  /** A file path or a postgresql:// URI (password hidden). */
  get location(): string {
    return this.db.location;
  }

  /**
   * Opens (creating and migrating if needed) the store at `location`: a
   * SQLite file such as models/orchard.db, or postgresql://user:pw@host/db.
   */
  static async open(location: string, opts: OpenOptions = {}): Promise<TrackingStore> {
    const db = await openDatabase(location);
    try {
      await migrate(db, [STORE_SCHEMA, TRACKING_SCHEMA, ...(opts.components ?? [])]);
      const store = new TrackingStore(db, await readStoreId(db));
      if (!opts.keepStaleRuns) await store.failEndedRuns();
      return store;
    } catch (e) {
      await db.close().catch(() => {});
      throw e;
    }
  }

  /** Migrates more components' tables (e.g. the registry's) in this store. */
  migrate(components: readonly Component[]): Promise<void> {
    return migrate(this.db, components);
  }

  /** Runs `fn` in one transaction (see SqlDatabase.transaction). */
  transaction<T>(fn: (tx: Sql) => Promise<T>, opts: { lock?: string } = {}): Promise<T> {
    return this.db.transaction(fn, opts);
  }

  /** Closes the store. A run left RUNNING keeps its lease until it is ended or this process ends. */
  close(): Promise<void> {
    return this.db.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * Marks FAILED (tag orchard.failure = "process ended") every RUNNING run
   * whose process no longer holds its lease: it was killed, or ended without
   * ending the run. Returns their ids.
   */
  async failEndedRuns(): Promise<string[]> {
    const rows = await this.db.all<Row>(
      "SELECT run_id, lease FROM runs WHERE status = 'RUNNING' AND lease IS NOT NULL",
    );
    const mine = PROCESS_LEASES.get(this.db.location)?.name;
    const held = new Map<string, boolean>();
    const ended: string[] = [];
    for (const r of rows) {
      const name = r.lease as string;
      if (name === mine) continue;
      if (!held.has(name)) held.set(name, await this.db.isLeaseHeld(name));
      if (!held.get(name)) ended.push(r.run_id as string);
    }
    if (ended.length === 0) return [];
    await this.transaction(async (tx) => {
      for (const runId of ended) {
        const changed = await tx.run(
          "UPDATE runs SET status = 'FAILED', end_time = ? WHERE run_id = ? AND status = 'RUNNING'",
          [Date.now(), runId],
        );
        if (changed.changes) await this.insertTags(tx, runId, { [FAILURE_TAG]: "process ended" });
      }
    });
    return ended;
  }

  /** This process's lease on this store, counting `runId` among its runs (taken by its first run). */
  private async processLease(runId: string): Promise<string> {
    const location = this.db.location;
    let lease = PROCESS_LEASES.get(location);
    if (!lease) {
      const name = `p${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
      const held = this.db.acquireLease(name);
      lease = { name, held, running: new Set() };
      PROCESS_LEASES.set(location, lease);
      held.catch(() => PROCESS_LEASES.get(location) === lease && PROCESS_LEASES.delete(location));
    }
    lease.running.add(runId);
    try {
      await lease.held;
    } catch (e) {
      lease.running.delete(runId);
      throw e;
    }
    return lease.name;
  }

  /** `runId` no longer needs the lease; the last run's end releases it (and removes its file). */
  private async leaveLease(runId: string): Promise<void> {
    const location = this.db.location;
    const lease = PROCESS_LEASES.get(location);
    if (!lease?.running.delete(runId) || lease.running.size > 0) return;
    PROCESS_LEASES.delete(location); // the next startRun takes a new one
    await (await lease.held).release();
  }

  // ---------------------------------------------------------------- experiments

  /** The experiment's id, created when absent. */
  async experimentId(name: string, tx: Sql = this.db): Promise<number> {
    if (!name || typeof name !== "string") throw new UserError("experiment name must be a non-empty string");
    const select = "SELECT experiment_id FROM experiments WHERE name = ?";
    const found = await tx.get<Row>(select, [name]);
    if (found) return Number(found.experiment_id);
    await tx.run("INSERT INTO experiments(name, created) VALUES (?, ?) ON CONFLICT(name) DO NOTHING", [
      name,
      Date.now(),
    ]);
    return Number((await tx.get<Row>(select, [name]))!.experiment_id);
  }

  async listExperiments(): Promise<{ name: string; created: number; runs: number }[]> {
    return (await this.db.all<Row>(
      `SELECT e.name, e.created, COUNT(r.run_id) AS runs FROM experiments e
       LEFT JOIN runs r ON r.experiment_id = e.experiment_id GROUP BY e.experiment_id, e.name, e.created ORDER BY e.name`,
    )).map((r) => ({ name: r.name as string, created: Number(r.created), runs: Number(r.runs) }));
  }

  // ---------------------------------------------------------------- runs

  async startRun(opts: StartRunOptions): Promise<{ runId: string }> {
    const runId = newRunId();
    // the lease first: a run is never RUNNING in the store without a live holder
    const lease = await this.processLease(runId);
    try {
      await this.insertRun(runId, lease, opts);
    } catch (e) {
      await this.leaveLease(runId);
      throw e;
    }
    return { runId };
  }

  private async insertRun(runId: string, leaseName: string, opts: StartRunOptions): Promise<void> {
    await this.transaction(async (tx) => {
      const experimentId = await this.experimentId(opts.experiment, tx);
      if (opts.parentRunId) await this.requireRun(tx, opts.parentRunId);
      await tx.run(
        `INSERT INTO runs(run_id, experiment_id, run_name, status, start_time, parent_run_id, seq, host, pid, lease)
         VALUES (?, ?, ?, 'RUNNING', ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM runs), ?, ?, ?)`,
        [
          runId,
          experimentId,
          opts.runName ?? null,
          Date.now(),
          opts.parentRunId ?? null,
          hostName(),
          Deno.pid,
          leaseName,
        ],
      );
      await this.insertTags(tx, runId, opts.tags ?? {});
      if (opts.parentRunId) await this.insertTags(tx, runId, { "orchard.parent_run_id": opts.parentRunId });
    });
  }

  private async requireRun(tx: Sql, runId: string): Promise<Row> {
    const row = await tx.get<Row>("SELECT * FROM runs WHERE run_id = ?", [runId]);
    if (!row) throw new UserError(`unknown run '${runId}'`);
    return row;
  }

  /**
   * A full run id from a unique prefix (at least 4 characters) or the word
   * "latest" (the latest finished run of `experiment`, or of any experiment).
   */
  async resolveRunId(idOrPrefix: string, experiment?: string, withArtifact?: string): Promise<string> {
    const text = idOrPrefix.trim();
    if (text === "latest") {
      // withArtifact: only runs that logged that artifact (e.g. "model", so
      // tuning's parent and trial runs are passed over by `register`)
      const where = ["r.status = 'FINISHED'"];
      const args: SqlValue[] = [];
      if (experiment !== undefined) {
        where.push("e.name = ?");
        args.push(experiment);
      }
      if (withArtifact !== undefined) {
        where.push("EXISTS (SELECT 1 FROM artifacts a WHERE a.run_id = r.run_id AND a.name = ?)");
        args.push(withArtifact);
      }
      const row = await this.db.get<Row>(
        `SELECT r.run_id FROM runs r JOIN experiments e ON e.experiment_id = r.experiment_id
         WHERE ${where.join(" AND ")} ORDER BY r.start_time DESC, r.seq DESC LIMIT 1`,
        args,
      );
      if (!row) {
        throw new UserError(
          `no finished run${experiment ? ` in experiment '${experiment}'` : ""}${
            withArtifact ? ` with a '${withArtifact}' artifact` : ""
          } (run \`deno task train\` first)`,
        );
      }
      return row.run_id as string;
    }
    if (/^[0-9a-f]{1,3}$/i.test(text)) {
      throw new UserError(
        `run id prefix '${idOrPrefix}' is too short: give at least 4 characters of the run id`,
      );
    }
    if (!/^[0-9a-f]{4,32}$/i.test(text)) throw new UserError(`unknown run '${idOrPrefix}'`);
    const rows = await this.db.all<Row>("SELECT run_id FROM runs WHERE run_id LIKE ? LIMIT 2", [
      `${text.toLowerCase()}%`,
    ]);
    if (rows.length === 0) throw new UserError(`unknown run '${idOrPrefix}'`);
    if (rows.length > 1) {
      throw new UserError(`run id prefix '${idOrPrefix}' is ambiguous; give more characters`);
    }
    return rows[0].run_id as string;
  }

  async logParams(runId: string, params: Record<string, unknown>): Promise<void> {
    const entries = Object.entries(params).map(([key, raw]) => {
      checkKey("param", key);
      return [key, paramText(raw)] as const;
    });
    await this.transaction(async (tx) => {
      await this.requireRun(tx, runId);
      const old = new Map(
        (await tx.all<Row>("SELECT key, value FROM params WHERE run_id = ?", [runId])).map((r) => [
          r.key as string,
          r.value as string,
        ]),
      );
      const fresh: [string, string][] = [];
      for (const [key, value] of entries) {
        const was = old.get(key);
        if (was === undefined) fresh.push([key, value]);
        else if (was !== value) {
          throw new UserError(
            `param '${key}' of run ${runId} is already '${was}'; params are immutable (got '${value}')`,
          );
        }
      }
      await insertMany(
        tx,
        "INSERT INTO params(run_id, key, value) VALUES",
        fresh.map(([k, v]) => [runId, k, v]),
      );
    });
  }

  logMetric(runId: string, key: string, value: number | null, step = 0): Promise<void> {
    return this.logMetrics(runId, { [key]: value }, step);
  }

  /** Logs metrics at `step`; NaN or null is a missing metric (stored as NULL). */
  async logMetrics(runId: string, metrics: Record<string, number | null>, step = 0): Promise<void> {
    if (!Number.isInteger(step)) throw new UserError(`metric step must be an integer (got ${step})`);
    for (const [key, value] of Object.entries(metrics)) {
      checkKey("metric", key);
      if (typeof value !== "number" && value !== null) {
        throw new UserError(`metric '${key}' must be a number or null (got ${typeof value})`);
      }
    }
    const now = Date.now();
    await this.transaction(async (tx) => {
      await this.requireRun(tx, runId);
      await insertMany(
        tx,
        "INSERT INTO metrics(run_id, key, value, is_nan, step, timestamp) VALUES",
        Object.entries(metrics).map(([key, value]) => {
          // is_nan marks the row missing too (stores before NULL meant missing read it)
          const missing = value === null || Number.isNaN(value);
          return [runId, key, missing ? null : value, missing ? 1 : 0, step, now];
        }),
      );
    });
  }

  async setTags(runId: string, tags: Record<string, string>): Promise<void> {
    await this.transaction(async (tx) => {
      await this.requireRun(tx, runId);
      await this.insertTags(tx, runId, tags);
    });
  }

  private async insertTags(tx: Sql, runId: string, tags: Record<string, string>): Promise<void> {
    const rows = Object.entries(tags).map(([key, value]): SqlValue[] => {
      checkKey("tag", key);
      return [runId, key, String(value)];
    });
    // one statement; a key given twice keeps its last value, as a map would
    const last = [...new Map(rows.map((r) => [r[1], r])).values()];
    await insertMany(
      tx,
      "INSERT INTO tags(run_id, key, value) VALUES",
      last,
      "ON CONFLICT(run_id, key) DO UPDATE SET value = excluded.value",
    );
  }

  async logDataset(runId: string, dataset: DatasetInput): Promise<void> {
    checkKey("dataset", dataset.name);
    if (!/^[0-9a-f]{64}$/.test(dataset.sha256)) {
      throw new UserError(`dataset '${dataset.name}': sha256 must be 64 lowercase hex characters`);
    }
    if (!Number.isInteger(dataset.rows) || dataset.rows < 0) {
      throw new UserError(`dataset '${dataset.name}': rows must be a non-negative integer`);
    }
    await this.transaction(async (tx) => {
      await this.requireRun(tx, runId);
      await tx.run(
        `INSERT INTO datasets(run_id, name, path, sha256, rows) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(run_id, name) DO UPDATE SET path = excluded.path, sha256 = excluded.sha256, rows = excluded.rows`,
        [runId, dataset.name, dataset.path, dataset.sha256, dataset.rows],
      );
    });
  }

  async logArtifact(runId: string, name: string, path: string): Promise<void> {
    checkKey("artifact", name);
    await this.transaction(async (tx) => {
      await this.requireRun(tx, runId);
      await tx.run(
        `INSERT INTO artifacts(run_id, name, path) VALUES (?, ?, ?)
         ON CONFLICT(run_id, name) DO UPDATE SET path = excluded.path`,
        [runId, name, path],
      );
    });
  }

  async endRun(runId: string, status: Exclude<RunStatus, "RUNNING"> = "FINISHED"): Promise<void> {
    if (!["FINISHED", "FAILED", "KILLED"].includes(status)) {
      throw new UserError(`run status must be FINISHED, FAILED or KILLED (got '${status}')`);
    }
    await this.transaction(async (tx) => {
      await this.requireRun(tx, runId);
      await tx.run("UPDATE runs SET status = ?, end_time = ?, lease = NULL WHERE run_id = ?", [
        status,
        Date.now(),
        runId,
      ]);
    });
    await this.leaveLease(runId);
  }

  async getRun(runId: string): Promise<Run> {
    const runs = await this.loadRuns([runId]);
    if (runs.length === 0) throw new UserError(`unknown run '${runId}'`);
    return runs[0];
  }

  /**
   * Runs matching the options, newest first unless `orderBy` says otherwise.
   * Two passes keep it fast over many runs: the filter and sort read only
   * the run rows and the keys they name; then only the runs returned are
   * loaded whole.
   */
  async searchRuns(opts: SearchOptions = {}): Promise<Run[]> {
    let filter: Filter | undefined;
    if (opts.filter && opts.filter.trim() !== "") filter = parseFilter(opts.filter);
    const order = parseOrderBy(opts.orderBy);
    if (opts.maxResults !== undefined && (!Number.isInteger(opts.maxResults) || opts.maxResults < 1)) {
      throw new UserError(`maxResults must be a positive integer (got ${opts.maxResults})`);
    }
    const where = opts.experiment !== undefined ? "WHERE e.name = ?" : "";
    const args: SqlValue[] = opts.experiment !== undefined ? [opts.experiment] : [];
    const candidates = await this.runRows(where, args);
    if (candidates.length === 0) return [];
    const keys = [...(filter ? filterKeys(filter) : []), ...order.map((o) => o.key)];
    await this.loadKeyed(candidates, where, args, keys);
    const kept = filter ? candidates.filter((r) => matchesFilter(filter!, r)) : candidates;
    const sorted = sortRuns(kept, order);
    const page = opts.maxResults ? sorted.slice(0, opts.maxResults) : sorted;
    const full = new Map((await this.loadRuns(page.map((r) => r.runId))).map((r) => [r.runId, r]));
    return page.map((r) => full.get(r.runId)!);
  }

  private async runRows(where: string, args: SqlValue[]): Promise<FilterableRun[]> {
    const rows = await this.db.all<Row>(
      `SELECT r.run_id, r.run_name, r.status, r.start_time, r.end_time, r.parent_run_id, e.name AS experiment
       FROM runs r JOIN experiments e ON e.experiment_id = r.experiment_id
       ${where} ORDER BY r.start_time DESC, r.seq DESC`,
      args,
    );
    return rows.map(runAttributes);
  }

  /** Fills in just the named params, tags and (latest) metrics of `runs`. */
  private async loadKeyed(
    runs: FilterableRun[],
    where: string,
    args: SqlValue[],
    keys: Key[],
  ): Promise<void> {
    const byId = new Map(runs.map((r) => [r.runId, r]));
    // rows of the runs in scope: all runs need no join; an experiment joins to it
    const scoped = (table: string) =>
      where
        ? `${table} t JOIN runs r ON r.run_id = t.run_id JOIN experiments e ON e.experiment_id = r.experiment_id ${where} AND`
        : `${table} t WHERE`;
    for (const kind of ["params", "tags", "metrics"] as const) {
      const names = [...new Set(keys.filter((k) => k.kind === kind).map((k) => k.name))];
      if (names.length === 0) continue;
      for (const name of names) {
        fillKeyedRows(
          byId,
          kind,
          name,
          await this.db.values(keyedRowsSql(kind, scoped(kind)), [...args, name]),
        );
      }
    }
  }

  /** Whole runs by id (in newest-first order), one query per child table per chunk of ids. */
  private async loadRuns(ids: string[]): Promise<Run[]> {
    const out: Run[] = [];
    for (const part of chunks(ids, ID_CHUNK)) out.push(...await this.loadRunChunk(part));
    return out;
  }

  private async loadRunChunk(ids: string[]): Promise<Run[]> {
    if (ids.length === 0) return [];
    const inList = `run_id IN (${placeholders(ids.length)})`;
    const rows = await this.db.all<Row>(
      `SELECT r.*, e.name AS experiment FROM runs r JOIN experiments e ON e.experiment_id = r.experiment_id
       WHERE r.${inList} ORDER BY r.start_time DESC, r.seq DESC`,
      ids,
    );
    const byId = new Map<string, Run>();
    for (const r of rows) {
      byId.set(r.run_id as string, {
        ...runAttributes(r),
        metricHistory: {},
        datasets: [],
        artifacts: {},
      });
    }
    for (const p of await this.db.all<Row>(`SELECT run_id, key, value FROM params WHERE ${inList}`, ids)) {
      byId.get(p.run_id as string)!.params[p.key as string] = p.value as string;
    }
    for (const t of await this.db.all<Row>(`SELECT run_id, key, value FROM tags WHERE ${inList}`, ids)) {
      byId.get(t.run_id as string)!.tags[t.key as string] = t.value as string;
    }
    for (
      const d of await this.db.all<Row>(
        `SELECT run_id, name, path, sha256, rows FROM datasets WHERE ${inList} ORDER BY name`,
        ids,
      )
    ) {
      byId.get(d.run_id as string)!.datasets.push({
        name: d.name as string,
        path: d.path as string,
        sha256: d.sha256 as string,
        rows: Number(d.rows),
      });
    }
    for (
      const a of await this.db.all<Row>(
        `SELECT run_id, name, path FROM artifacts WHERE ${inList} ORDER BY name`,
        ids,
      )
    ) {
      byId.get(a.run_id as string)!.artifacts[a.name as string] = a.path as string;
    }
    for (
      const m of await this.db.all<Row>(
        `SELECT run_id, key, value, is_nan, step, timestamp FROM metrics WHERE ${inList} ORDER BY step, id`,
        ids,
      )
    ) {
      const run = byId.get(m.run_id as string)!;
      const value = metricValue(m);
      const key = m.key as string;
      (run.metricHistory[key] ??= []).push({ value, step: Number(m.step), timestamp: Number(m.timestamp) });
      run.metrics[key] = value; // ordered by step then insertion: the last one wins
    }
    return [...byId.values()];
  }
}
