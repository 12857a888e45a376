/**
 * The reports index after a train run (issue 15, part 3): the train stage
 * records its report, and reports/index.html lists it with a link and its
 * headline metrics.
 */
import assert, { equal } from "node:assert/strict";
import { join } from "node:path";
import { ConfigSchema } from "../../src/config/schema.ts";
import { train } from "../../src/training/train.ts";
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
