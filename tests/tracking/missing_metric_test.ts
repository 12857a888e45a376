/**
 * A missing metric is null (issue 15, part 6): a metric that could not be
 * computed (NaN, or null as logged) is stored as SQL NULL on both backends,
 * matched by `IS NULL` and never by a comparison, null in JSON, and printed as
 * the one missing symbol (core/format.ts MISSING) in the runs table and
 * comparison.
 */
import assert from "node:assert/strict";
import { MISSING } from "../../src/core/format.ts";
import { TrackingStore } from "../../src/tracking/store.ts";
import { runsCommand, runsSummary } from "../../src/tracking/commands.ts";
import { metricsFromJson, metricsJson } from "../../src/registry/db.ts";
import type { Row } from "../../src/store/sql.ts";
import { backendTest } from "../_support/backends.ts";
import { join } from "node:path";
import { churnRows, toCsv } from "../models/_data.ts";
import { ConfigSchema } from "../../src/config/schema.ts";
import { train } from "../../src/training/train.ts";
import { spec as trainTask } from "../../tasks/train.ts";

backendTest(
  "a missing metric is NULL in the store, matched by IS NULL, null in JSON, one symbol in tables",
  async (b) => {
    let missing: string, present: string;
    {
      await using store = await TrackingStore.open(b.location);
      missing = (await store.startRun({ experiment: "e", runName: "missing" })).runId;
      present = (await store.startRun({ experiment: "e", runName: "present" })).runId;
      await store.logMetrics(missing, { roc_auc: NaN, pr_auc: null, f1: 0.5 });
      await store.logMetrics(present, { roc_auc: 0.9, pr_auc: 0.8, f1: 0.6 });
      await store.endRun(missing);
      await store.endRun(present);
      // stored as SQL NULL (not a NaN float, which PostgreSQL would keep as 'NaN')
      const rows = await store.db.all<Row>(
        "SELECT key FROM metrics WHERE run_id = ? AND value IS NULL ORDER BY key",
        [missing],
      );
      assert.deepEqual(rows.map((r) => r.key), ["pr_auc", "roc_auc"]);
      const run = await store.getRun(missing);
      assert.ok(Number.isNaN(run.metrics.roc_auc) && Number.isNaN(run.metrics.pr_auc));
      assert.match(JSON.stringify(run.metrics), /"roc_auc":null,"pr_auc":null/);
      const ids = async (filter: string) => (await store.searchRuns({ filter })).map((r) => r.runName);
      assert.deepEqual(await ids("metrics.roc_auc IS NULL"), ["missing"]);
      assert.deepEqual(await ids("metrics.pr_auc IS NULL"), ["missing"]);
      assert.deepEqual(await ids("metrics.roc_auc IS NOT NULL"), ["present"]);
      assert.deepEqual(await ids("metrics.f1 IS NULL"), []);
      assert.deepEqual(await ids("metrics.roc_auc < 2 or metrics.roc_auc >= 2"), ["present"]);
      assert.deepEqual(await ids("metrics.no_such_metric IS NULL"), ["present", "missing"]);
      // sorted last either way
      const sorted = await store.searchRuns({ orderBy: "metrics.roc_auc asc" });
      assert.deepEqual(sorted.map((r) => r.runName), ["present", "missing"]);
    }
    const listed = await runsCommand(b.location, [], { columns: "roc_auc,pr_auc,f1" });
    const table = runsSummary(listed);
    const line = table.split("\n").find((l) => l.startsWith(missing.slice(0, 8)))!;
    assert.match(line, new RegExp(`\\s${MISSING}\\s+${MISSING}\\s+0\\.5000$`));
    assert.ok(!table.includes("NaN"), table);
    assert.match(JSON.stringify(listed), /"roc_auc":null/);
    const compared = await runsCommand(b.location, ["compare", missing, present], {});
    const text = runsSummary(compared);
    assert.ok(!text.includes("NaN"), text);
    assert.match(text, new RegExp(`metrics\\.roc_auc\\s+${MISSING}\\s+0\\.9000`));
  },
);

Deno.test('the registry keeps a missing metric as JSON null, not the string "NaN"', () => {
  const text = metricsJson({ roc_auc: NaN, f1: 0.5 });
  assert.equal(text, '{"roc_auc":null,"f1":0.5}');
  assert.ok(Number.isNaN(metricsFromJson(text).roc_auc));
  assert.ok(Number.isNaN(metricsFromJson('{"roc_auc":"NaN"}').roc_auc), "as older versions wrote it");
});

backendTest(
  "a train whose validation rows hold no positive: roc_auc missing in the summary, report, store and JSON",
  async (b) => {
    const config = ConfigSchema.parse({
      paths: {
        models: join(b.root, "models"),
        reports: join(b.root, "reports"),
        features: join(b.root, "f"),
      },
      tracking: { store: b.location, experiment: "e" },
      model: { algorithm: "forest", n_estimators: 5, n_jobs: 1 },
    });
    const data = join(b.root, "churn.csv"), validation = join(b.root, "val.csv");
    Deno.writeTextFileSync(data, toCsv(churnRows(200, 3)));
    Deno.writeTextFileSync(validation, toCsv(churnRows(120, 4).filter((r) => r.churned === "no")));
    const r = await train({ config, data, validation, target: "churned", verbose: false });
    assert.ok(Number.isNaN(r.metrics.roc_auc) && Number.isNaN(r.metrics.pr_auc));
    const summary = trainTask.summary!(r);
    assert.match(summary, new RegExp(`roc_auc ${MISSING}  pr_auc ${MISSING}  accuracy`));
    assert.ok(!summary.includes("NaN") && !summary.includes("n/a"), summary);
    assert.match(JSON.stringify(trainTask.json!(r)), /"roc_auc":null,"pr_auc":null/);
    assert.match(Deno.readTextFileSync(r.summary!), new RegExp(`\\| roc_auc \\| ${MISSING} \\|`));
    assert.match(Deno.readTextFileSync(r.report!), new RegExp(`<td>roc_auc</td><td>${MISSING}</td>`));
    const found = await runsCommand(b.location, [], { filter: "metrics.roc_auc IS NULL" });
    assert.deepEqual(found.runs.map((x) => x.runId), [r.run_id]);
  },
);
