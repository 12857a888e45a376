/**
 * `deno task predict --explain` as a process with the task's deno.json
 * permissions: the shap_* columns in the output file, the scale in the
 * summary, and a bad --explain-top as one line naming the flag, exit 2.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { exists, runTask, tempProject } from "../permissions/_project.ts";

Deno.test("predict --explain --explain-top 2: shap columns per record (boosting, the default engine: log-odds); bad flags exit 2 with one line", async () => {
  const p = tempProject();
  try {
    const trained = await runTask(p.dir, "train", [
      "--data",
      "train.csv",
      "--target",
      "churned",
      "--no-report",
      "--json",
    ]);
    assert.equal(trained.code, 0, trained.stderr);
    const artifact = JSON.parse(trained.stdout).artifact as string;
    const base = ["--model", artifact, "--input", "score.csv", "--output", "data/explained.csv"];
    const r = await runTask(p.dir, "predict", [...base, "--explain", "--explain-top", "2"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /explained: top 2 SHAP contributions per record \(log_odds scale\)/);
    const [header, first] = Deno.readTextFileSync(join(p.dir, "data/explained.csv")).split("\n");
    const cols = header.split(",");
    assert.deepEqual(cols.filter((c) => c.startsWith("shap_")), [
      "shap_base_value",
      "shap_top1_column",
      "shap_top1_value",
      "shap_top1_contribution",
      "shap_top2_column",
      "shap_top2_value",
      "shap_top2_contribution",
    ]);
    const cells = first.split(",");
    assert.ok(cols.includes(cells[cols.indexOf("shap_top1_column")]), "the top column is an input column");
    for (
      const [args, flag] of [[["--explain", "--explain-top", "many"], "--explain-top many"], [
        ["--explain-top", "2"],
        "--explain-top applies with --explain",
      ]] as const
    ) {
      const bad = await runTask(p.dir, "predict", [...base.slice(0, 5), "data/bad.csv", ...args]);
      assert.equal(bad.code, 2, bad.stderr);
      const lines = bad.stderr.split("\n").filter((l) => l.trim() !== "");
      assert.equal(lines.length, 1, bad.stderr);
      assert.ok(lines[0].startsWith("predict: ") && lines[0].includes(flag), lines[0]);
      assert.ok(!exists(join(p.dir, "data/bad.csv")));
    }
  } finally {
    p.cleanup();
  }
});
