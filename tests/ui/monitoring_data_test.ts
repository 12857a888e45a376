/** The monitoring page's reading of data/monitoring/drift_summary.csv, with and without its model column. */
import { deepStrictEqual, equal } from "node:assert/strict";
import { join } from "node:path";
import type { ColumnDrift } from "../../src/drift/detect.ts";
import { appendSummaryCsv } from "../../src/drift/outputs.ts";
import { readDriftRuns } from "../../src/ui/monitoring_data.ts";

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
