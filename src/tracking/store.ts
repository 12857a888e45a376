/**
 * The experiment tracking store: one SQLite file (node:sqlite, built into
 * Deno) holding experiments and runs with their params, metric history, tags,
 * dataset digests and artifact paths. The model registry (src/registry/) keeps
 * its tables in the same file.
 *
 * Concurrency: the database runs in WAL mode with a busy timeout, and every
 * multi-statement write is one `BEGIN IMMEDIATE` transaction, so several
 * processes (tuning trials, parallel trains, the registry) can write at once
 * without corrupt rows or lost updates.
 *
 * Times are milliseconds since the epoch. Params are stored as text (strings
 * as written, anything else as JSON), as MLflow does; a param is immutable
 * once logged (re-logging the same value is allowed).
 */
import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import { dirname } from "node:path";
import { UserError } from "../core/errors.ts";
import { type Filter, matchesFilter, parseFilter, parseOrderBy, sortRuns } from "./filter.ts";

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

const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS experiments (
  experiment_id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  created INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
  run_id TEXT PRIMARY KEY,
  experiment_id INTEGER NOT NULL REFERENCES experiments(experiment_id),
  run_name TEXT,
  status TEXT NOT NULL CHECK (status IN ('RUNNING','FINISHED','FAILED','KILLED')),
  start_time INTEGER NOT NULL,
  end_time INTEGER,
  parent_run_id TEXT REFERENCES runs(run_id)
);
CREATE INDEX IF NOT EXISTS runs_experiment ON runs(experiment_id, start_time);
CREATE TABLE IF NOT EXISTS params (
  run_id TEXT NOT NULL REFERENCES runs(run_id),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_id, key)
);
CREATE TABLE IF NOT EXISTS metrics (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id TEXT NOT NULL REFERENCES runs(run_id),
  key TEXT NOT NULL,
  value REAL,
  is_nan INTEGER NOT NULL DEFAULT 0,
  step INTEGER NOT NULL DEFAULT 0,
  timestamp INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS metrics_run ON metrics(run_id, key, step);
CREATE TABLE IF NOT EXISTS tags (
  run_id TEXT NOT NULL REFERENCES runs(run_id),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_id, key)
);
CREATE TABLE IF NOT EXISTS datasets (
  run_id TEXT NOT NULL REFERENCES runs(run_id),
  name TEXT NOT NULL,
  path TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  rows INTEGER NOT NULL,
  PRIMARY KEY (run_id, name)
);
CREATE TABLE IF NOT EXISTS artifacts (
  run_id TEXT NOT NULL REFERENCES runs(run_id),
  name TEXT NOT NULL,
  path TEXT NOT NULL,
  PRIMARY KEY (run_id, name)
);
`;

type Row = Record<string, unknown>;

function isBusy(e: unknown): boolean {
  const msg = e instanceof Error ? e.message : String(e);
  return /database is locked|SQLITE_BUSY|database table is locked/i.test(msg);
}

function sleepSync(ms: number): void {
  // A tiny synchronous pause between retries (the store's API is synchronous).
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Whether a tracking store file exists (reading commands report "no runs" instead of creating one). */
export function storeExists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
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

function checkKey(kind: string, key: string): void {
  if (typeof key !== "string" || key.length === 0 || key.length > 250) {
    throw new UserError(`${kind} key must be a non-empty string of at most 250 characters`);
  }
}

export class TrackingStore {
  readonly db: DatabaseSync;
  private constructor(readonly path: string, db: DatabaseSync) {
    this.db = db;
  }

  /**
   * Opens (creating if needed) the store at `path`, e.g. models/orchard.db.
   * Needs --allow-read and --allow-write on the store's folder.
   */
  static open(path: string, opts: { busyTimeoutMs?: number } = {}): TrackingStore {
    const dir = dirname(path);
    if (path !== ":memory:") {
      try {
        Deno.mkdirSync(dir || ".", { recursive: true });
      } catch (e) {
        throw new UserError(`${path}: cannot create the store's folder (${errorName(e)})`);
      }
    }
    let db: DatabaseSync;
    try {
      db = new DatabaseSync(path);
    } catch (e) {
      throw new UserError(`${path}: cannot open the tracking store (${errorName(e)})`);
    }
    const store = new TrackingStore(path, db);
    try {
      db.exec(`PRAGMA busy_timeout = ${opts.busyTimeoutMs ?? 30000}`);
      store.retry(() => db.exec("PRAGMA journal_mode = WAL"));
      db.exec("PRAGMA synchronous = NORMAL");
      db.exec("PRAGMA foreign_keys = ON");
      const version = (db.prepare("PRAGMA user_version").get() as Row).user_version as number;
      if (version < SCHEMA_VERSION || !store.hasTable("artifacts")) {
        store.transaction(() => {
          db.exec(SCHEMA);
          db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
        });
      }
    } catch (e) {
      db.close();
      if (e instanceof UserError) throw e;
      if (/file is not a database|malformed/i.test(String(e))) {
        throw new UserError(`${path}: not a tracking store (not an SQLite database, or corrupt)`);
      }
      throw e;
    }
    return store;
  }

  private hasTable(name: string): boolean {
    return this.db.prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?").get(name) !==
      undefined;
  }

  /** Retries `fn` while SQLite reports the database busy (beyond busy_timeout). */
  retry<T>(fn: () => T, attempts = 50): T {
    for (let i = 0;; i++) {
      try {
        return fn();
      } catch (e) {
        if (!isBusy(e) || i >= attempts) throw e;
        sleepSync(10 + Math.floor(Math.random() * 40));
      }
    }
  }

  private depth = 0;

  /**
   * Runs `fn` in one BEGIN IMMEDIATE transaction (the write lock is taken up
   * front). Nested calls become savepoints: an inner failure rolls back only
   * the inner part, an outer failure everything.
   */
  transaction<T>(fn: () => T): T {
    if (this.depth > 0) {
      const sp = `sp${this.depth}`;
      this.db.exec(`SAVEPOINT ${sp}`);
      this.depth++;
      try {
        const out = fn();
        this.db.exec(`RELEASE ${sp}`);
        return out;
      } catch (e) {
        this.db.exec(`ROLLBACK TO ${sp}`);
        this.db.exec(`RELEASE ${sp}`);
        throw e;
      } finally {
        this.depth--;
      }
    }
    return this.retry(() => {
      this.db.exec("BEGIN IMMEDIATE");
      this.depth = 1;
      try {
        const out = fn();
        this.db.exec("COMMIT");
        return out;
      } catch (e) {
        try {
          this.db.exec("ROLLBACK");
        } catch { /* already rolled back */ }
        throw e;
      } finally {
        this.depth = 0;
      }
    });
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  // ---------------------------------------------------------------- experiments

  /** The experiment's id, created when absent. */
  experimentId(name: string): number {
    if (!name || typeof name !== "string") throw new UserError("experiment name must be a non-empty string");
    const found = this.db.prepare("SELECT experiment_id FROM experiments WHERE name = ?").get(name) as
      | Row
      | undefined;
    if (found) return found.experiment_id as number;
    return this.transaction(() => {
      this.db.prepare("INSERT OR IGNORE INTO experiments(name, created) VALUES (?, ?)").run(name, Date.now());
      return (this.db.prepare("SELECT experiment_id FROM experiments WHERE name = ?").get(name) as Row)
        .experiment_id as number;
    });
  }

  listExperiments(): { name: string; created: number; runs: number }[] {
    return (this.db.prepare(
      `SELECT e.name, e.created, COUNT(r.run_id) AS runs FROM experiments e
       LEFT JOIN runs r ON r.experiment_id = e.experiment_id GROUP BY e.experiment_id ORDER BY e.name`,
    ).all() as Row[]).map((r) => ({
      name: r.name as string,
      created: r.created as number,
      runs: r.runs as number,
    }));
  }

  // ---------------------------------------------------------------- runs

  startRun(opts: StartRunOptions): { runId: string } {
    const experimentId = this.experimentId(opts.experiment);
    const runId = newRunId();
    this.transaction(() => {
      if (opts.parentRunId) this.requireRun(opts.parentRunId);
      this.db.prepare(
        `INSERT INTO runs(run_id, experiment_id, run_name, status, start_time, parent_run_id)
         VALUES (?, ?, ?, 'RUNNING', ?, ?)`,
      ).run(runId, experimentId, opts.runName ?? null, Date.now(), opts.parentRunId ?? null);
      this.insertTags(runId, opts.tags ?? {});
      if (opts.parentRunId) this.insertTags(runId, { "orchard.parent_run_id": opts.parentRunId });
    });
    return { runId };
  }

  private requireRun(runId: string): Row {
    const row = this.db.prepare("SELECT * FROM runs WHERE run_id = ?").get(runId) as Row | undefined;
    if (!row) throw new UserError(`unknown run '${runId}'`);
    return row;
  }

  /**
   * A full run id from a unique prefix (at least 4 characters) or the word
   * "latest" (the latest finished run of `experiment`, or of any experiment).
   */
  resolveRunId(idOrPrefix: string, experiment?: string, withArtifact?: string): string {
    const text = idOrPrefix.trim();
    if (text === "latest") {
      // withArtifact: only runs that logged that artifact (e.g. "model", so
      // tuning's parent and trial runs are passed over by `register`)
      const row = this.db.prepare(
        `SELECT r.run_id FROM runs r JOIN experiments e ON e.experiment_id = r.experiment_id
         WHERE r.status = 'FINISHED' AND (? IS NULL OR e.name = ?)
           AND (? IS NULL OR EXISTS (SELECT 1 FROM artifacts a WHERE a.run_id = r.run_id AND a.name = ?))
         ORDER BY r.start_time DESC, r.rowid DESC LIMIT 1`,
      ).get(experiment ?? null, experiment ?? null, withArtifact ?? null, withArtifact ?? null) as
        | Row
        | undefined;
      if (!row) {
        throw new UserError(
          `no finished run${experiment ? ` in experiment '${experiment}'` : ""}${
            withArtifact ? ` with a '${withArtifact}' artifact` : ""
          } (run \`deno task train\` first)`,
        );
      }
      return row.run_id as string;
    }
    if (!/^[0-9a-f]{4,32}$/i.test(text)) throw new UserError(`unknown run '${idOrPrefix}'`);
    const rows = this.db.prepare("SELECT run_id FROM runs WHERE run_id LIKE ? LIMIT 2").all(
      `${text.toLowerCase()}%`,
    ) as Row[];
    if (rows.length === 0) throw new UserError(`unknown run '${idOrPrefix}'`);
    if (rows.length > 1) {
      throw new UserError(`run id prefix '${idOrPrefix}' is ambiguous; give more characters`);
    }
    return rows[0].run_id as string;
  }

  logParams(runId: string, params: Record<string, unknown>): void {
    this.transaction(() => {
      this.requireRun(runId);
      const get = this.db.prepare("SELECT value FROM params WHERE run_id = ? AND key = ?");
      const put = this.db.prepare("INSERT INTO params(run_id, key, value) VALUES (?, ?, ?)");
      for (const [key, raw] of Object.entries(params)) {
        checkKey("param", key);
        const value = paramText(raw);
        const old = get.get(runId, key) as Row | undefined;
        if (old) {
          if (old.value !== value) {
            throw new UserError(
              `param '${key}' of run ${runId} is already '${old.value}'; params are immutable (got '${value}')`,
            );
          }
          continue;
        }
        put.run(runId, key, value);
      }
    });
  }

  logMetric(runId: string, key: string, value: number, step = 0): void {
    this.logMetrics(runId, { [key]: value }, step);
  }

  logMetrics(runId: string, metrics: Record<string, number>, step = 0): void {
    if (!Number.isInteger(step)) throw new UserError(`metric step must be an integer (got ${step})`);
    const now = Date.now();
    this.transaction(() => {
      this.requireRun(runId);
      const put = this.db.prepare(
        "INSERT INTO metrics(run_id, key, value, is_nan, step, timestamp) VALUES (?, ?, ?, ?, ?, ?)",
      );
      for (const [key, value] of Object.entries(metrics)) {
        checkKey("metric", key);
        if (typeof value !== "number") {
          throw new UserError(`metric '${key}' must be a number (got ${typeof value})`);
        }
        const nan = Number.isNaN(value);
        put.run(runId, key, nan ? null : value, nan ? 1 : 0, step, now);
      }
    });
  }

  setTags(runId: string, tags: Record<string, string>): void {
    this.transaction(() => {
      this.requireRun(runId);
      this.insertTags(runId, tags);
    });
  }

  private insertTags(runId: string, tags: Record<string, string>): void {
    const put = this.db.prepare(
      "INSERT INTO tags(run_id, key, value) VALUES (?, ?, ?) ON CONFLICT(run_id, key) DO UPDATE SET value = excluded.value",
    );
    for (const [key, value] of Object.entries(tags)) {
      checkKey("tag", key);
      put.run(runId, key, String(value));
    }
  }

  logDataset(runId: string, dataset: DatasetInput): void {
    checkKey("dataset", dataset.name);
    if (!/^[0-9a-f]{64}$/.test(dataset.sha256)) {
      throw new UserError(`dataset '${dataset.name}': sha256 must be 64 lowercase hex characters`);
    }
    if (!Number.isInteger(dataset.rows) || dataset.rows < 0) {
      throw new UserError(`dataset '${dataset.name}': rows must be a non-negative integer`);
    }
    this.transaction(() => {
      this.requireRun(runId);
      this.db.prepare(
        `INSERT INTO datasets(run_id, name, path, sha256, rows) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(run_id, name) DO UPDATE SET path = excluded.path, sha256 = excluded.sha256, rows = excluded.rows`,
      ).run(runId, dataset.name, dataset.path, dataset.sha256, dataset.rows);
    });
  }

  logArtifact(runId: string, name: string, path: string): void {
    checkKey("artifact", name);
    this.transaction(() => {
      this.requireRun(runId);
      this.db.prepare(
        `INSERT INTO artifacts(run_id, name, path) VALUES (?, ?, ?)
         ON CONFLICT(run_id, name) DO UPDATE SET path = excluded.path`,
      ).run(runId, name, path);
    });
  }

  endRun(runId: string, status: Exclude<RunStatus, "RUNNING"> = "FINISHED"): void {
    if (!["FINISHED", "FAILED", "KILLED"].includes(status)) {
      throw new UserError(`run status must be FINISHED, FAILED or KILLED (got '${status}')`);
    }
    this.transaction(() => {
      this.requireRun(runId);
      this.db.prepare("UPDATE runs SET status = ?, end_time = ? WHERE run_id = ?").run(
        status,
        Date.now(),
        runId,
      );
    });
  }

  getRun(runId: string): Run {
    const runs = this.loadRuns("WHERE r.run_id = ?", [runId]);
    if (runs.length === 0) throw new UserError(`unknown run '${runId}'`);
    return runs[0];
  }

  /** Runs matching the options, newest first unless `orderBy` says otherwise. */
  searchRuns(opts: SearchOptions = {}): Run[] {
    let filter: Filter | undefined;
    if (opts.filter && opts.filter.trim() !== "") filter = parseFilter(opts.filter);
    const order = parseOrderBy(opts.orderBy);
    if (opts.maxResults !== undefined && (!Number.isInteger(opts.maxResults) || opts.maxResults < 1)) {
      throw new UserError(`maxResults must be a positive integer (got ${opts.maxResults})`);
    }
    const runs = opts.experiment !== undefined
      ? this.loadRuns("WHERE e.name = ?", [opts.experiment])
      : this.loadRuns("", []);
    const kept = filter ? runs.filter((r) => matchesFilter(filter!, r)) : runs;
    const sorted = sortRuns(kept, order);
    return opts.maxResults ? sorted.slice(0, opts.maxResults) : sorted;
  }

  private loadRuns(where: string, args: SQLInputValue[]): Run[] {
    const rows = this.db.prepare(
      `SELECT r.*, e.name AS experiment FROM runs r JOIN experiments e ON e.experiment_id = r.experiment_id
       ${where} ORDER BY r.start_time DESC, r.rowid DESC`,
    ).all(...args) as Row[];
    if (rows.length === 0) return [];
    const byId = new Map<string, Run>();
    for (const r of rows) {
      byId.set(r.run_id as string, {
        runId: r.run_id as string,
        experiment: r.experiment as string,
        runName: (r.run_name as string | null) ?? null,
        status: r.status as RunStatus,
        startTime: r.start_time as number,
        endTime: (r.end_time as number | null) ?? null,
        parentRunId: (r.parent_run_id as string | null) ?? null,
        params: {},
        metrics: {},
        metricHistory: {},
        tags: {},
        datasets: [],
        artifacts: {},
      });
    }
    // One query per child table (not per run): the run ids ride in a temp table
    // when there are many, or in the same WHERE clause otherwise.
    const scope =
      `run_id IN (SELECT r.run_id FROM runs r JOIN experiments e ON e.experiment_id = r.experiment_id ${where})`;
    for (
      const p of this.db.prepare(`SELECT run_id, key, value FROM params WHERE ${scope}`).all(...args) as Row[]
    ) {
      byId.get(p.run_id as string)!.params[p.key as string] = p.value as string;
    }
    for (
      const t of this.db.prepare(`SELECT run_id, key, value FROM tags WHERE ${scope}`).all(...args) as Row[]
    ) {
      byId.get(t.run_id as string)!.tags[t.key as string] = t.value as string;
    }
    for (
      const d of this.db.prepare(
        `SELECT run_id, name, path, sha256, rows FROM datasets WHERE ${scope} ORDER BY name`,
      ).all(...args) as Row[]
    ) {
      byId.get(d.run_id as string)!.datasets.push({
        name: d.name as string,
        path: d.path as string,
        sha256: d.sha256 as string,
        rows: d.rows as number,
      });
    }
    for (
      const a of this.db.prepare(`SELECT run_id, name, path FROM artifacts WHERE ${scope} ORDER BY name`).all(
        ...args,
      ) as Row[]
    ) {
      byId.get(a.run_id as string)!.artifacts[a.name as string] = a.path as string;
    }
    for (
      const m of this.db.prepare(
        `SELECT run_id, key, value, is_nan, step, timestamp FROM metrics WHERE ${scope} ORDER BY step, id`,
      ).all(...args) as Row[]
    ) {
      const run = byId.get(m.run_id as string)!;
      const value = m.is_nan ? NaN : (m.value as number);
      const key = m.key as string;
      (run.metricHistory[key] ??= []).push({
        value,
        step: m.step as number,
        timestamp: m.timestamp as number,
      });
      run.metrics[key] = value; // ordered by step then insertion: the last one wins
    }
    return [...byId.values()];
  }
}

function errorName(e: unknown): string {
  if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
    return "no permission: the task may write only its own folders, e.g. --allow-write=models";
  }
  if (e instanceof Error) return e.name === "Error" ? e.message.split("\n")[0] : e.name;
  return String(e);
}
