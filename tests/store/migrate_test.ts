import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { backendTest } from "../_support/backends.ts";
import { UserError } from "../../src/core/errors.ts";
import { TrackingStore } from "../../src/tracking/store.ts";
import { ModelRegistry } from "../../src/registry/registry.ts";
import { openDatabase } from "../../src/store/open.ts";
import { migrate } from "../../src/store/migrate.ts";

const isUserError = (re: RegExp) => (e: unknown) => e instanceof UserError && re.test(e.message);

backendTest("a new store is migrated once, even when many openers race to open it", async (b) => {
  const opens = await Promise.all(Array.from({ length: 6 }, () => TrackingStore.open(b.location)));
  try {
    const ids = new Set(opens.map((s) => s.storeId));
    assert.equal(ids.size, 1, "every opener sees the same store identity");
    const rows = await opens[0].db.all<{ component: string; version: number }>(
      "SELECT component, version FROM orchard_schema ORDER BY component",
    );
    assert.deepEqual(rows.map((r) => [r.component, Number(r.version)]), [["store", 1], ["tracking", 3]]);
  } finally {
    for (const s of opens) await s.close();
  }
});

backendTest("a store written by a newer Orchard is refused, not misread", async (b) => {
  await (await TrackingStore.open(b.location)).close();
  const db = await openDatabase(b.location);
  await db.run("UPDATE orchard_schema SET version = 99 WHERE component = 'tracking'");
  await db.close();
  await assert.rejects(
    () => TrackingStore.open(b.location),
    isUserError(/tracking schema is version 99, newer than this Orchard knows \(3\)/),
  );
});

backendTest("migrations are per component: the registry's tables come with the registry", async (b) => {
  const store = await TrackingStore.open(b.location);
  try {
    await ModelRegistry.open(store, { modelsDir: `${b.root}/models` });
    const db = store.db;
    const got = await db.get<{ version: number }>(
      "SELECT version FROM orchard_schema WHERE component = 'registry'",
    );
    assert.equal(Number(got!.version), 2);
    await migrate(db, []); // nothing to do is a no-op
  } finally {
    await store.close();
  }
});

Deno.test("a store made before migrations were tracked (schema v1, user_version 1) opens, upgraded, with its runs and versions", async () => {
  const root = Deno.makeTempDirSync({ prefix: "orchard-legacy-" });
  try {
    const path = `${root}/orchard.db`;
    // the layout Orchard wrote before this change, as it wrote it
    const db = new DatabaseSync(path);
    db.exec(`
      CREATE TABLE experiments (experiment_id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, created INTEGER NOT NULL);
      CREATE TABLE runs (run_id TEXT PRIMARY KEY, experiment_id INTEGER NOT NULL REFERENCES experiments(experiment_id), run_name TEXT,
        status TEXT NOT NULL CHECK (status IN ('RUNNING','FINISHED','FAILED','KILLED')), start_time INTEGER NOT NULL, end_time INTEGER,
        parent_run_id TEXT REFERENCES runs(run_id));
      CREATE TABLE params (run_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (run_id, key));
      CREATE TABLE metrics (id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, key TEXT NOT NULL, value REAL,
        is_nan INTEGER NOT NULL DEFAULT 0, step INTEGER NOT NULL DEFAULT 0, timestamp INTEGER NOT NULL);
      CREATE TABLE tags (run_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (run_id, key));
      CREATE TABLE datasets (run_id TEXT NOT NULL, name TEXT NOT NULL, path TEXT NOT NULL, sha256 TEXT NOT NULL, rows INTEGER NOT NULL, PRIMARY KEY (run_id, name));
      CREATE TABLE artifacts (run_id TEXT NOT NULL, name TEXT NOT NULL, path TEXT NOT NULL, PRIMARY KEY (run_id, name));
      INSERT INTO experiments(name, created) VALUES ('churn', 1);
      INSERT INTO runs VALUES ('aaaa0000000000000000000000000001', 1, 'old', 'FINISHED', 10, 20, NULL);
      INSERT INTO runs VALUES ('aaaa0000000000000000000000000002', 1, 'newer', 'FINISHED', 10, 30, NULL);
      INSERT INTO params VALUES ('aaaa0000000000000000000000000001', 'max_depth', '10');
      INSERT INTO metrics(run_id, key, value, step, timestamp) VALUES ('aaaa0000000000000000000000000001', 'roc_auc', 0.8, 0, 20);
      PRAGMA user_version = 1;
    `);
    db.close();
    const store = await TrackingStore.open(path);
    try {
      const run = await store.getRun("aaaa0000000000000000000000000001");
      assert.equal(run.params.max_depth, "10");
      assert.equal(run.metrics.roc_auc, 0.8);
      // same start time: the later-inserted run counts as newer (seq backfilled from rowid)
      assert.equal(await store.resolveRunId("latest"), "aaaa0000000000000000000000000002");
      const { runId } = await store.startRun({ experiment: "churn" });
      await store.endRun(runId);
      assert.equal((await store.searchRuns({})).length, 3);
    } finally {
      await store.close();
    }
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});
