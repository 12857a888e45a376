/**
 * Tracking schema version 3: covering indexes for reading one key across
 * runs (the runs table's filter and sort). A store left at version 2 with
 * data is migrated on open, on both backends, and keeps every row.
 */
import assert from "node:assert/strict";
import { backendTest } from "../_support/backends.ts";
import { TrackingStore } from "../../src/tracking/store.ts";
import { TRACKING_SCHEMA } from "../../src/tracking/schema.ts";
import { STORE_SCHEMA } from "../../src/store/identity.ts";
import { openDatabase } from "../../src/store/open.ts";
import { migrate } from "../../src/store/migrate.ts";
import type { Sql } from "../../src/store/sql.ts";

const COVERING = ["metrics_key_run", "params_key_run", "tags_key_run"];

async function indexNames(db: Sql, kind: "sqlite" | "postgres"): Promise<string[]> {
  const rows = kind === "sqlite"
    ? await db.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'index'")
    : await db.all<{ name: string }>(
      "SELECT indexname AS name FROM pg_indexes WHERE schemaname = current_schema()",
    );
  return rows.map((r) => r.name).sort();
}

backendTest(
  "a version 2 tracking store is migrated to version 3 (covering key indexes) with its data",
  async (b) => {
    // the store as Orchard left it before version 3: migrations 1 and 2 only
    const db = await openDatabase(b.location);
    await migrate(db, [STORE_SCHEMA, {
      ...TRACKING_SCHEMA,
      migrations: TRACKING_SCHEMA.migrations.slice(0, 2),
    }]);
    await db.close();
    {
      const old = await openDatabase(b.location);
      const v = await old.get<{ version: number }>(
        "SELECT version FROM orchard_schema WHERE component = 'tracking'",
      );
      assert.equal(Number(v!.version), 2);
      assert.deepEqual((await indexNames(old, b.kind)).filter((n) => COVERING.includes(n)), []);
      await old.close();
    }
    // data written at version 2 through the store's own SQL (TrackingStore.open would migrate first)
    const v2 = await openDatabase(b.location);
    await v2.run("INSERT INTO experiments(name, created) VALUES ('churn', 1)");
    const exp =
      (await v2.get<{ id: number }>("SELECT experiment_id AS id FROM experiments WHERE name = 'churn'"))!.id;
    for (const [i, id] of ["r1", "r2"].entries()) {
      const runId = id.padEnd(32, "0");
      await v2.run(
        "INSERT INTO runs(run_id, experiment_id, run_name, status, start_time, end_time, seq) VALUES (?, ?, ?, 'FINISHED', ?, ?, ?)",
        [runId, exp, id, 10 + i, 20 + i, i + 1],
      );
      await v2.run("INSERT INTO params(run_id, key, value) VALUES (?, 'depth', ?)", [runId, String(3 + i)]);
      await v2.run("INSERT INTO tags(run_id, key, value) VALUES (?, 'team', 'ml')", [runId]);
      for (const [step, value] of [[1, i === 0 ? 0.7 : 0.8], [0, 0.5]]) {
        await v2.run(
          "INSERT INTO metrics(run_id, key, value, is_nan, step, timestamp) VALUES (?, 'auc', ?, 0, ?, 1)",
          [runId, value, step],
        );
      }
    }
    await v2.close();

    const store = await TrackingStore.open(b.location);
    try {
      const v = await store.db.get<{ version: number }>(
        "SELECT version FROM orchard_schema WHERE component = 'tracking'",
      );
      assert.equal(Number(v!.version), 3);
      const names = await indexNames(store.db, b.kind);
      for (const i of COVERING) assert.ok(names.includes(i), `${i} in ${names.join(", ")}`);
      const runs = await store.searchRuns({ filter: "params.depth = '4' and tags.team = 'ml'" });
      assert.equal(runs.length, 1);
      assert.equal(runs[0].runName, "r2");
      assert.equal(runs[0].metrics.auc, 0.8, "the latest step's value");
      const sorted = await store.searchRuns({ orderBy: "metrics.auc asc" });
      assert.deepEqual(sorted.map((r) => r.runName), ["r1", "r2"]);
      assert.equal((await store.getRun("r1".padEnd(32, "0"))).metricHistory.auc.length, 2);
    } finally {
      await store.close();
    }
  },
);

backendTest("reading one metric across runs uses the covering index (no table lookups)", async (b) => {
  const store = await TrackingStore.open(b.location);
  try {
    const sql =
      "SELECT t.run_id, t.key, t.value, t.is_nan FROM metrics t WHERE t.key IN (?) ORDER BY t.key, t.run_id, t.step, t.id";
    const plan = await store.db.all<Record<string, unknown>>(`EXPLAIN QUERY PLAN ${sql}`, ["auc"]);
    const text = plan.map((r) => String(r.detail)).join("\n");
    assert.match(text, /USING COVERING INDEX metrics_key_run/);
    assert.doesNotMatch(text, /TEMP B-TREE/, "ordered by the index: no sort");
  } finally {
    await store.close();
  }
}, { only: "sqlite" });
