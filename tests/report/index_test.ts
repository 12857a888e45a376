/**
 * The reports index after a train run (issue 15, part 3): the train stage
 * records its report, and reports/index.html lists it with a link and its
 * headline metrics; reports without a readable record are still listed.
 */
import assert, { equal } from "node:assert/strict";
import { join } from "node:path";
import { ConfigSchema } from "../../src/config/schema.ts";
import { train } from "../../src/training/train.ts";
import { readReportRecords, recordReport } from "../../src/report/catalog.ts";
import { makeRows, toCsv } from "../serve/fixture.ts";

Deno.test("the index after a train run lists its report", async () => {
  const root = Deno.makeTempDirSync({ prefix: "report_index_train_" });
  try {
    const data = join(root, "train.csv");
    Deno.writeTextFileSync(data, toCsv(makeRows(300, 4)));
    const reports = join(root, "reports");
    const result = await train({
      config: ConfigSchema.parse({
        model: { algorithm: "forest", n_estimators: 6, max_depth: 5, n_jobs: 1, random_state: 1 },
      }),
      data,
      target: "churn",
      store: null,
      artifactsDir: join(root, "artifacts"),
      reportsDir: reports,
      verbose: false,
    });
    const html = Deno.readTextFileSync(join(reports, "index.html"));
    assert(html.includes(`href="train_${result.run_id}.html"`), "index misses the train report");
    assert(html.includes("roc_auc"), "the train report's headline metric");
    const index = JSON.parse(Deno.readTextFileSync(join(reports, "index.json")));
    equal(index.reports.length, 1);
    equal(index.reports[0].kind, "train");
    equal(index.reports[0].run_id, result.run_id);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("the index lists a report without a record (or with a broken one) as verdict unknown, and skips other files", () => {
  const dir = Deno.makeTempDirSync({ prefix: "report_index_legacy_" });
  try {
    Deno.writeTextFileSync(join(dir, "drift_2026-03-01.html"), "<html></html>");
    Deno.writeTextFileSync(join(dir, "drift_churn_20260302T090000Z.html"), "<html></html>");
    Deno.writeTextFileSync(join(dir, "drift_churn_20260302T090000Z.json"), "{ not json");
    Deno.writeTextFileSync(join(dir, "notes.html"), "<html></html>");
    Deno.writeTextFileSync(join(dir, "drift_churn_20260303T090000Z.html"), "<html></html>");
    // a record whose report was deleted is not listed
    Deno.writeTextFileSync(join(dir, "drift_gone_20260301T090000Z.json"), "{}");
    recordReport(dir, {
      kind: "drift",
      file: "drift_churn_20260303T090000Z.html",
      created: "2026-03-03T09:00:00.000Z",
      model: "churn",
      verdict: "no dataset drift: 0/3 columns drifted (share 0.000)",
      status: "pass",
      dataset_drift: false,
      drift_share: 0,
      drifted_columns: [],
    });
    const records = readReportRecords(dir);
    assert.deepEqual(records.map((r) => r.file).sort(), [
      "drift_2026-03-01.html",
      "drift_churn_20260302T090000Z.html",
      "drift_churn_20260303T090000Z.html",
    ]);
    equal(records.filter((r) => /verdict unknown/.test(r.verdict)).length, 2);
    const html = Deno.readTextFileSync(join(dir, "index.html"));
    assert(!html.includes("notes.html"));
    assert(html.includes("No column drifted in any run."));
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
