/**
 * The registry's tables in the tracking store's database (SQLite or
 * PostgreSQL), as migrations, and the JSON column codecs shared by its reads
 * and writes.
 */
import type { Row, Sql } from "../store/sql.ts";
import { type Component, tableExists } from "../store/migrate.ts";
import type { GateRecord, Stage } from "./types.ts";

export type { Row };

const V1 = `
CREATE TABLE IF NOT EXISTS registered_models (
  name TEXT PRIMARY KEY,
  created BIGINT NOT NULL
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
  created BIGINT NOT NULL,
  PRIMARY KEY (name, version)
);
CREATE UNIQUE INDEX IF NOT EXISTS model_versions_one_production ON model_versions(name) WHERE stage = 'Production';
CREATE TABLE IF NOT EXISTS model_aliases (
  name TEXT NOT NULL,
  alias TEXT NOT NULL,
  version INTEGER NOT NULL,
  updated BIGINT NOT NULL,
  PRIMARY KEY (name, alias),
  FOREIGN KEY (name, version) REFERENCES model_versions(name, version)
);
CREATE TABLE IF NOT EXISTS gate_results (
  id {{id}},
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  target TEXT NOT NULL,
  passed INTEGER NOT NULL,
  forced INTEGER NOT NULL DEFAULT 0,
  reason TEXT,
  baseline_version INTEGER,
  reasons TEXT NOT NULL,
  checks TEXT NOT NULL,
  time BIGINT NOT NULL,
  FOREIGN KEY (name, version) REFERENCES model_versions(name, version)
);
CREATE TABLE IF NOT EXISTS model_events (
  id {{id}},
  name TEXT NOT NULL,
  version INTEGER,
  action TEXT NOT NULL,
  target TEXT,
  previous_version INTEGER,
  reason TEXT,
  time BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS model_events_target ON model_events(name, target, id)
`;

export const REGISTRY_SCHEMA: Component = {
  name: "registry",
  migrations: [
    { version: 1, description: "models, versions, aliases, gate results, events", up: V1 },
    // who made each event (NULL for events recorded before: shown as unknown)
    { version: 2, description: "event actor", up: "ALTER TABLE model_events ADD COLUMN actor TEXT" },
  ],
  legacyVersion: async (tx, dialect) => (await tableExists(tx, dialect, "model_versions")) ? 1 : 0,
};

export function parseJson<T>(text: unknown, fallback: T): T {
  if (typeof text !== "string") return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

/** Metrics as JSON keep NaN and infinities (JSON.stringify would turn them into null). */
/** Metrics as JSON: a missing one (NaN) is null; infinities as text ("Infinity"). */
export function metricsJson(metrics: Record<string, number>): string {
  return JSON.stringify(
    Object.fromEntries(
      Object.entries(metrics).map((
        [k, v],
      ) => [k, Number.isNaN(v) ? null : Number.isFinite(v) ? v : String(v)]),
    ),
  );
}
/** The metrics back: null (and the "NaN" older versions wrote) is missing, NaN in memory. */
export function metricsFromJson(text: unknown): Record<string, number> {
  const raw = parseJson<Record<string, number | string | null>>(text, {});
  return Object.fromEntries(
    Object.entries(raw).map(([k, v]) => [k, typeof v === "number" ? v : v === null ? NaN : Number(v)]),
  );
}

export function gateRecordFromRow(r: Row): GateRecord {
  return {
    target: r.target as string,
    passed: Number(r.passed) === 1,
    forced: Number(r.forced) === 1,
    reason: (r.reason as string | null) ?? null,
    baselineVersion: r.baseline_version == null ? null : Number(r.baseline_version),
    reasons: parseJson(r.reasons, []),
    checks: parseJson(r.checks, []),
    time: Number(r.time),
  };
}

/** The version an alias points to, or undefined. */
export async function aliasVersion(db: Sql, name: string, alias: string): Promise<number | undefined> {
  const row = await db.get<Row>("SELECT version FROM model_aliases WHERE name = ? AND alias = ?", [
    name,
    alias,
  ]);
  return row === undefined ? undefined : Number(row.version);
}

/** The newest version in a stage, or undefined. */
export async function stageVersion(db: Sql, name: string, stage: Stage): Promise<number | undefined> {
  const row = await db.get<Row>(
    "SELECT version FROM model_versions WHERE name = ? AND stage = ? ORDER BY version DESC LIMIT 1",
    [name, stage],
  );
  return row === undefined ? undefined : Number(row.version);
}

/** Appends to model_events, the history `rollback` reads and the UI's timeline shows. */
export async function recordEvent(
  db: Sql,
  name: string,
  version: number | null,
  action: string,
  target: string | null,
  previous: number | null,
  reason: string | null,
  time: number,
  actor: string | null,
): Promise<void> {
  await db.run(
    "INSERT INTO model_events(name, version, action, target, previous_version, reason, time, actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    [name, version, action, target, previous, reason, time, actor],
  );
}
