/**
 * The tracking store's tables, as migrations for SQLite and PostgreSQL.
 * Version 1 is the layout stores had before migrations were tracked;
 * version 2 adds a creation sequence (a stable tie-break for runs started in
 * the same millisecond), the writer's host and pid (for people), and the
 * name of the lease its process holds while the run is RUNNING, so a run
 * whose process died can be marked FAILED. Version 3 replaces the one-column
 * key indexes with covering ones (key, run_id, ...): reading one metric or
 * param of every run (the UI's and `runs`' filter and sort) then reads the
 * index alone, in (run, step) order, with no lookup into the table per row.
 */
import { type Component, tableExists } from "../store/migrate.ts";

const V1 = `
CREATE TABLE IF NOT EXISTS experiments (
  experiment_id {{id}},
  name TEXT NOT NULL UNIQUE,
  created BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
  run_id TEXT PRIMARY KEY,
  experiment_id BIGINT NOT NULL REFERENCES experiments(experiment_id),
  run_name TEXT,
  status TEXT NOT NULL CHECK (status IN ('RUNNING','FINISHED','FAILED','KILLED')),
  start_time BIGINT NOT NULL,
  end_time BIGINT,
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
  id {{id}},
  run_id TEXT NOT NULL REFERENCES runs(run_id),
  key TEXT NOT NULL,
  value DOUBLE PRECISION,
  is_nan INTEGER NOT NULL DEFAULT 0,
  step BIGINT NOT NULL DEFAULT 0,
  timestamp BIGINT NOT NULL
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
  rows BIGINT NOT NULL,
  PRIMARY KEY (run_id, name)
);
CREATE TABLE IF NOT EXISTS artifacts (
  run_id TEXT NOT NULL REFERENCES runs(run_id),
  name TEXT NOT NULL,
  path TEXT NOT NULL,
  PRIMARY KEY (run_id, name)
)`;

export const TRACKING_SCHEMA: Component = {
  name: "tracking",
  migrations: [
    { version: 1, description: "experiments, runs, params, metrics, tags, datasets, artifacts", up: V1 },
    {
      version: 2,
      description: "run creation order and writer process",
      up: async (tx, dialect) => {
        for (
          const column of ["seq BIGINT", "host TEXT", "pid BIGINT", "lease TEXT"]
        ) await tx.run(`ALTER TABLE runs ADD COLUMN ${column}`);
        if (dialect === "sqlite") await tx.run("UPDATE runs SET seq = rowid");
        await tx.run("CREATE INDEX IF NOT EXISTS runs_status ON runs(status)");
        await tx.run("CREATE INDEX IF NOT EXISTS runs_order ON runs(start_time, seq)");
        await tx.run("CREATE INDEX IF NOT EXISTS params_key ON params(key)");
        await tx.run("CREATE INDEX IF NOT EXISTS tags_key ON tags(key)");
        await tx.run("CREATE INDEX IF NOT EXISTS metrics_key ON metrics(key)");
      },
    },
    {
      version: 3,
      description: "covering indexes for one key across runs",
      up: async (tx, dialect) => {
        await tx.run(
          "CREATE INDEX IF NOT EXISTS metrics_key_run ON metrics(key, run_id, step, id, value, is_nan)",
        );
        // a param's or tag's value has no length limit, and a PostgreSQL index entry must fit in
        // about 2.7 KB, so there the value stays in the table; SQLite has no such limit
        const value = dialect === "sqlite" ? ", value" : "";
        await tx.run(`CREATE INDEX IF NOT EXISTS params_key_run ON params(key, run_id${value})`);
        await tx.run(`CREATE INDEX IF NOT EXISTS tags_key_run ON tags(key, run_id${value})`);
        // their prefixes: the covering indexes answer every lookup these did
        for (const old of ["metrics_key", "params_key", "tags_key"]) {
          await tx.run(`DROP INDEX IF EXISTS ${old}`);
        }
      },
    },
  ],
  legacyVersion: async (tx, dialect) => (await tableExists(tx, dialect, "runs")) ? 1 : 0,
};
