/**
 * The registry's tables in the tracking store's SQLite file, and the JSON
 * column codecs shared by its reads and writes.
 */
import type { DatabaseSync } from "node:sqlite";
import type { TrackingStore } from "../tracking/store.ts";
import type { GateRecord, Stage } from "./types.ts";

export type Row = Record<string, unknown>;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS registered_models (
  name TEXT PRIMARY KEY,
  created INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS model_versions (
  name TEXT NOT NULL REFERENCES registered_models(name),
  version INTEGER NOT NULL CHECK (version >= 1),
  run_id TEXT NOT NULL,
  source TEXT NOT NULL,
  path TEXT NOT NULL,
  sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
  files TEXT NOT NULL,
  stage TEXT NOT NULL DEFAULT 'None' CHECK (stage IN ('None','Staging','Production','Archived')),
  status TEXT NOT NULL DEFAULT 'candidate' CHECK (status IN ('candidate','promoted')),
  metrics TEXT NOT NULL,
  params TEXT NOT NULL,
  created INTEGER NOT NULL,
  PRIMARY KEY (name, version)
);
CREATE UNIQUE INDEX IF NOT EXISTS model_versions_one_production ON model_versions(name) WHERE stage = 'Production';
CREATE TABLE IF NOT EXISTS model_aliases (
  name TEXT NOT NULL,
  alias TEXT NOT NULL,
  version INTEGER NOT NULL,
  updated INTEGER NOT NULL,
  PRIMARY KEY (name, alias),
  FOREIGN KEY (name, version) REFERENCES model_versions(name, version)
);
CREATE TABLE IF NOT EXISTS gate_results (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  target TEXT NOT NULL,
  passed INTEGER NOT NULL,
  forced INTEGER NOT NULL DEFAULT 0,
  reason TEXT,
  baseline_version INTEGER,
  reasons TEXT NOT NULL,
  checks TEXT NOT NULL,
  time INTEGER NOT NULL,
  FOREIGN KEY (name, version) REFERENCES model_versions(name, version)
);
CREATE TABLE IF NOT EXISTS model_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  version INTEGER,
  action TEXT NOT NULL,
  target TEXT,
  previous_version INTEGER,
  reason TEXT,
  time INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS model_events_target ON model_events(name, target, id);
`;

export function parseJson<T>(text: unknown, fallback: T): T {
  if (typeof text !== "string") return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

/** Metrics as JSON keep NaN and infinities (JSON.stringify would turn them into null). */
export function metricsJson(metrics: Record<string, number>): string {
  return JSON.stringify(
    Object.fromEntries(Object.entries(metrics).map(([k, v]) => [k, Number.isFinite(v) ? v : String(v)])),
  );
}
export function metricsFromJson(text: unknown): Record<string, number> {
  const raw = parseJson<Record<string, number | string>>(text, {});
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, typeof v === "number" ? v : Number(v)]));
}

/** Creates the registry tables unless all of them are there already. */
export function ensureSchema(store: TrackingStore): void {
  const present = store.db.prepare(
    "SELECT count(*) AS n FROM sqlite_master WHERE type='table' AND name IN ('registered_models','model_versions','model_aliases','gate_results','model_events')",
  ).get() as Row;
  if ((present.n as number) < 5) store.transaction(() => store.db.exec(SCHEMA));
}

export function gateRecordFromRow(r: Row): GateRecord {
  return {
    target: r.target as string,
    passed: r.passed === 1,
    forced: r.forced === 1,
    reason: (r.reason as string | null) ?? null,
    baselineVersion: (r.baseline_version as number | null) ?? null,
    reasons: parseJson(r.reasons, []),
    checks: parseJson(r.checks, []),
    time: r.time as number,
  };
}

/** The version an alias points to, or undefined. */
export function aliasVersion(db: DatabaseSync, name: string, alias: string): number | undefined {
  const row = db.prepare("SELECT version FROM model_aliases WHERE name = ? AND alias = ?").get(name, alias) as
    | Row
    | undefined;
  return row?.version as number | undefined;
}

/** The newest version in a stage, or undefined. */
export function stageVersion(db: DatabaseSync, name: string, stage: Stage): number | undefined {
  const row = db.prepare(
    "SELECT version FROM model_versions WHERE name = ? AND stage = ? ORDER BY version DESC LIMIT 1",
  ).get(name, stage) as Row | undefined;
  return row?.version as number | undefined;
}

/** Appends to model_events, the history `rollback` reads. */
export function recordEvent(
  db: DatabaseSync,
  name: string,
  version: number | null,
  action: string,
  target: string | null,
  previous: number | null,
  reason: string | null,
  time: number,
): void {
  db.prepare(
    "INSERT INTO model_events(name, version, action, target, previous_version, reason, time) VALUES (?, ?, ?, ?, ?, ?, ?)",
  ).run(name, version, action, target, previous, reason, time);
}
