/** The monitoring page's reading of data/monitoring/drift_summary.csv, with and without its model column. */
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { join } from "node:path";
import type { ColumnDrift } from "../../src/drift/detect.ts";
import { appendSummaryCsv } from "../../src/drift/outputs.ts";
import { driftStrength, MAX_STRENGTH, readDriftRuns } from "../../src/ui/monitoring_data.ts";
import { monitoringPage } from "../../src/ui/status_pages.ts";
import type { UiContext } from "../../src/ui/context.ts";
import { ConfigSchema } from "../../src/config/schema.ts";

const col = (column: string, drifted: boolean, score: number) =>
  ({
    column,
    type: "numeric",
    test: "ks",
    statistic: 1,
    p_value: score,
    score,
    threshold: 0.05,
    drifted,
  }) as unknown as ColumnDrift;

Deno.test("monitoring: drift runs from the summary name the model each checked; older files read without one", () => {
  const dir = Deno.makeTempDirSync({ prefix: "ui_monitoring_" });
  try {
    const path = join(dir, "drift_summary.csv");
    Deno.writeTextFileSync(
      path,
      "run_at,column,type,test,statistic,p_value,score,threshold,drifted\n" +
        "2026-01-01T00:00:00.000Z,a,numeric,ks,1,0.5,0.5,0.05,false\n",
    );
    equal(readDriftRuns(dir)[0].model, undefined);
    appendSummaryCsv(path, "2026-01-02T00:00:00.000Z", [col("a", true, 0.01), col("b", false, 0.4)], "churn");
    appendSummaryCsv(path, "2026-01-03T00:00:00.000Z", [col("x", false, 0.3)], "pricing");
    const runs = readDriftRuns(dir);
    deepStrictEqual(runs.map((r) => [r.runAt.slice(0, 10), r.model, r.columns, r.drifted]), [
      ["2026-01-01", "", 1, 0], // the older row, its model column now empty
      ["2026-01-02", "churn", 2, 1],
      ["2026-01-03", "pricing", 1, 0],
    ]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("drift strength: one scale for every test, 1 at the threshold; a small p-value is strong drift, a large one none", () => {
  // distances: score / threshold
  equal(driftStrength(0.2, 0.1, false), 2);
  equal(driftStrength(0.05, 0.1, false), 0.5);
  // p-values: log p / log threshold (p = threshold is 1; p = 1 is 0; a tiny p is capped)
  equal(driftStrength(0.05, 0.05, true), 1);
  equal(driftStrength(1, 0.05, true), 0);
  ok(driftStrength(0.5, 0.05, true)! < 0.25);
  equal(driftStrength(5.88e-7, 0.05, true), Math.min(MAX_STRENGTH, Math.log(5.88e-7) / Math.log(0.05)));
  equal(driftStrength(0, 0.05, true), MAX_STRENGTH);
  equal(driftStrength(null, 0.05, true), null);
  // read from the summary: the drifted KS column is the strongest, not the weakest (its p is the smallest)
  const dir = Deno.makeTempDirSync({ prefix: "ui_strength_" });
  try {
    const path = join(dir, "drift_summary.csv");
    appendSummaryCsv(
      path,
      "2026-01-02T00:00:00.000Z",
      [col("bmi", true, 5.88e-7), col("age", false, 0.9997)],
      "diabetes",
    );
    const [run] = readDriftRuns(dir);
    const by = Object.fromEntries(run.scores.map((s) => [s.column, s.strength!]));
    ok(by.bmi > 1 && by.age < 0.01, JSON.stringify(by));
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("monitoring page: the share chart has a line per model, the column chart the last check's model by drift strength", () => {
  const dir = Deno.makeTempDirSync({ prefix: "ui_monitoring_page_" });
  try {
    const path = join(dir, "drift_summary.csv");
    appendSummaryCsv(path, "2026-01-02T23:30:00.000Z", [col("a", true, 0.01), col("b", false, 0.4)], "churn");
    appendSummaryCsv(
      path,
      "2026-01-03T23:32:00.000Z",
      [col("bmi", true, 5.88e-7), col("age", false, 0.9997)],
      "diabetes",
    );
    const ctx = {
      monitoringDir: dir,
      predictionsDir: join(dir, "none"),
      reportsDir: join(dir, "none"),
      config: ConfigSchema.parse({}),
    } as unknown as UiContext;
    const page = String(monitoringPage(ctx));
    // one legend entry per model on the share chart; the column chart is diabetes', bmi in it
    ok(/churn/.test(page) && /diabetes/.test(page));
    ok(page.includes("Drift per column (diabetes): the 2 strongest at the last check"), page.slice(0, 400));
    ok(page.includes("bmi"));
    // times in UTC and 24-hour
    ok(/>(1[3-9]|2[0-3]):\d\d</.test(page), "an afternoon tick in 24-hour time");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
