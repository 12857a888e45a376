import assert from "node:assert/strict";
import { UserError } from "../../src/core/errors.ts";
import { runsCommand, runsSummary } from "../../src/tracking/commands.ts";
import { diffRuns, fmtDelta, runDiffText } from "../../src/tracking/diff.ts";
import { TrackingStore } from "../../src/tracking/store.ts";
import { backendTest } from "../_support/backends.ts";

const run = (
  runId: string,
  params: Record<string, string>,
  metrics: Record<string, number>,
  sha: string,
) => ({
  runId,
  params,
  metrics,
  datasets: [{ name: "train", path: "d.csv", sha256: sha, rows: 10 }],
});

Deno.test("diffRuns: changed params only, every metric with b - a, datasets same or changed", () => {
  const d = diffRuns(
    run(
      "a",
      { max_depth: "4", seed: "1", only_a: "x" },
      { roc_auc: 0.8, f1: 0.6, cv_fold_roc_auc: 0.7 },
      "aa",
    ),
    run("b", { max_depth: "6", seed: "1" }, { roc_auc: 0.85, rmse: NaN }, "bb"),
  );
  assert.deepEqual(d.params, [{ key: "max_depth", a: "4", b: "6" }, { key: "only_a", a: "x", b: null }]);
  assert.equal(d.unchangedParams, 1);
  const by = Object.fromEntries(d.metrics.map((m) => [m.key, m]));
  assert.ok(!("cv_fold_roc_auc" in by), "per-fold series are left out");
  assert.ok(Math.abs(by.roc_auc.delta! - 0.05) < 1e-12);
  assert.equal(by.f1.b, null);
  assert.equal(by.f1.delta, null);
  assert.equal(by.rmse.b, null, "NaN is missing");
  assert.equal(d.datasets[0].same, false);
  assert.equal(diffRuns(run("a", {}, {}, "s"), run("b", {}, {}, "s")).datasets[0].same, true);
  assert.equal(fmtDelta(0.05), "+0.0500");
  assert.equal(fmtDelta(-0.5), "-0.5000");
  assert.equal(fmtDelta(null), "-");
  const text = runDiffText(d);
  assert.match(text, /max_depth\s+4\s+6/);
  assert.match(text, /roc_auc\s+0\.8000\s+0\.8500\s+\+0\.0500/);
  assert.match(text, /train\s+aa \(10 rows\)\s+bb \(10 rows\)\s+changed/);
});

backendTest("runs diff A B: from the store, by prefix; two ids or a one-line error", async (b) => {
  const ids: string[] = [];
  {
    await using store = await TrackingStore.open(b.location);
    for (const [i, auc] of [0.7, 0.9].entries()) {
      const { runId } = await store.startRun({ experiment: "churn" });
      await store.logParams(runId, { max_depth: 4 + i, seed: 1 });
      await store.logMetrics(runId, { roc_auc: auc });
      await store.logDataset(runId, {
        name: "train",
        path: "t.csv",
        sha256: `${i}`.repeat(64),
        rows: 100 + i,
      });
      await store.endRun(runId, "FINISHED");
      ids.push(runId);
    }
  }
  const r = await runsCommand(b.location, ["diff", ids[0].slice(0, 8), ids[1]], {});
  assert.ok(r.command === "diff");
  assert.deepEqual(r.runs.map((x) => x.runId), ids);
  assert.deepEqual(r.diff.params, [{ key: "max_depth", a: "4", b: "5" }]);
  assert.ok(Math.abs(r.diff.metrics.find((m) => m.key === "roc_auc")!.delta! - 0.2) < 1e-12);
  assert.equal(r.diff.datasets[0].b!.rows, 101);
  assert.match(runsSummary(r), /^runs diff /);
  await assert.rejects(runsCommand(b.location, ["diff", ids[0]], {}), (e) => e instanceof UserError);
});
