/**
 * Tuning records what it ranks by (issue 15, part 5): a trial's headline
 * metrics are cv_mean_<metric> and cv_std_<metric>, its folds are step history
 * under cv_fold_<metric> (not the plain metric name, whose latest value was
 * the last fold); the parent run carries the best trial's metrics and params;
 * params are typed (a "None" in the space is null, never the string "None").
 */
import { join } from "node:path";
import { assert, assertEquals } from "../models/_assert.ts";
import { churnRows, toCsv } from "../models/_data.ts";
import { ConfigSchema } from "../../src/config/schema.ts";
import { UserError } from "../../src/core/errors.ts";
import { tune } from "../../src/training/tune.ts";
import { TrackingStore } from "../../src/tracking/store.ts";
import { runsCommand } from "../../src/tracking/commands.ts";
import { spec as tuneTask } from "../../tasks/tune.ts";

function setup(tuneConfig: Record<string, unknown>, data: (dir: string) => string) {
  const dir = Deno.makeTempDirSync({ prefix: "orchard-tune-" });
  const config = ConfigSchema.parse({
    paths: { models: join(dir, "models"), reports: join(dir, "reports"), features: join(dir, "features") },
    tracking: { store: join(dir, "models", "orchard.db"), experiment: "test" },
    model: { algorithm: "forest", n_estimators: 10, n_jobs: 1 },
    tune: tuneConfig,
  });
  return { dir, config, csv: data(dir) };
}

function churnCsv(dir: string): string {
  const csv = join(dir, "churn.csv");
  Deno.writeTextFileSync(csv, toCsv(churnRows(240, 3)));
  return csv;
}

Deno.test("tune: trials show cv_mean_/cv_std_, folds as cv_fold_ history; the parent has the best trial's metrics and params", async () => {
  const { dir, config, csv } = setup({
    strategy: "grid",
    cv_folds: 3,
    metric: "roc_auc",
    space: { max_depth: [1, "None"], min_samples_leaf: [1] },
  }, churnCsv);
  try {
    const r = await tune({ config, data: csv, target: "churned", verbose: false });
    const store = await TrackingStore.open(config.tracking.store);
    const parent = await store.getRun(r.parent_run_id!);
    const children = (await store.searchRuns({ experiment: "test" })).filter((x) =>
      x.parentRunId === parent.runId
    );
    await store.close();
    assertEquals(children.length, 2);
    for (const child of children) {
      const trial = r.trials.find((t) => t.run_id === child.runId)!;
      // the headline metric is the mean the tuner ranked by, not the last fold
      assertEquals(child.metrics.cv_mean_roc_auc, trial.score);
      assertEquals(child.metrics.cv_std_roc_auc, trial.std);
      assertEquals(child.metricHistory.cv_mean_roc_auc.map((p) => p.step), [0]);
      assertEquals("roc_auc" in child.metrics, false, "no fold score under the plain name");
      assertEquals(child.metricHistory.cv_fold_roc_auc.map((p) => p.step), [0, 1, 2]);
      const folds = child.metricHistory.cv_fold_roc_auc.map((p) => p.value);
      assert.ok(Math.abs(folds.reduce((a, b) => a + b, 0) / 3 - trial.score) < 1e-12);
    }
    // params typed: "None" in the space is null in the result, the runs and the train command
    const unlimited = r.trials.find((t) => t.params.max_depth === null);
    assert.ok(unlimited, JSON.stringify(r.trials.map((t) => t.params)));
    const unlimitedRun = children.find((c) => c.runId === unlimited.run_id)!;
    assertEquals(unlimitedRun.params.max_depth, "null");
    assert.ok(!Object.values(unlimitedRun.params).includes("None"));
    // the parent: the best trial's params under their own names, and its cv metrics
    const best = children.find((c) => c.runId === r.best.run_id)!;
    assertEquals(parent.params.max_depth, best.params.max_depth);
    assertEquals(parent.params.min_samples_leaf, "1");
    assertEquals(parent.params.best_trial, String(r.best.trial));
    assertEquals(parent.tags["orchard.best_run_id"], best.runId);
    for (const [k, v] of Object.entries(best.metrics)) {
      if (k.startsWith("cv_fold_")) continue;
      assertEquals(parent.metrics[k], v, k);
    }
    assertEquals(parent.metrics.cv_mean_roc_auc, r.best.score);
    assertEquals(parent.metricHistory.trial_cv_mean_roc_auc.map((p) => p.step), [0, 1]);
    // runs shows the CV mean as the trials' and the parent's column, not a fold
    const listed = await runsCommand(config.tracking.store, [], {});
    assert.ok(listed.command === "list");
    assert.ok(listed.metricColumns.includes("cv_mean_roc_auc"), listed.metricColumns.join(","));
    assert.ok(!listed.metricColumns.some((k) => k.startsWith("cv_fold_") || k.startsWith("trial_")));
    const summary = tuneTask.summary!({ ...r, train_command: "x" });
    assert.ok(!summary.includes('"None"'), summary);
    assert.match(summary, /"max_depth":null/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("tune on a multiclass target: roc_auc means macro_roc_auc, said once", async () => {
  const { dir, config, csv } = setup({
    strategy: "grid",
    cv_folds: 2,
    metric: "roc_auc",
    space: { max_depth: [2, 6] },
  }, (d) => {
    const csv = join(d, "tiers.csv");
    const rows = churnRows(240, 5).map((r) => {
      const t = r.tenure as number;
      return { ...r, churned: t < 15 ? "new" : t < 40 ? "mid" : "loyal" };
    });
    Deno.writeTextFileSync(csv, toCsv(rows));
    return csv;
  });
  try {
    const r = await tune({ config, data: csv, target: "churned", verbose: false });
    assertEquals(r.metric, "macro_roc_auc");
    assert.ok(r.trials.every((t) => Number.isFinite(t.score) && t.score === t.metrics.macro_roc_auc));
    const store = await TrackingStore.open(config.tracking.store);
    const parent = await store.getRun(r.parent_run_id!);
    await store.close();
    assertEquals(parent.params.metric, "macro_roc_auc");
    assertEquals(parent.metrics.cv_mean_macro_roc_auc, r.best.score);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("tune: a space key the engine does not read is refused, naming it: every trial would be the same", async () => {
  const { dir, config, csv } = setup(
    { strategy: "grid", cv_folds: 2, space: { learning_rate: [0.05, 0.1] } },
    churnCsv,
  );
  try {
    // the forest has no learning rate: two identical trials, ranked as if they differed
    const err = await tune({ config, data: csv, target: "churned", verbose: false }).then(
      () => null,
      (e) => e,
    );
    assert.ok(err instanceof UserError, String(err));
    assertEquals(
      err.message,
      "tune.space.learning_rate: not read by forest, so every trial would be the same (docs/guides/engines.md)",
    );
    // with the engine in the space, a key one of the engines reads is a real dimension
    const both = setup({
      strategy: "grid",
      cv_folds: 2,
      space: { algorithm: ["forest", "boosting"], learning_rate: [0.05, 0.1] },
    }, churnCsv);
    try {
      const r = await tune({ config: both.config, data: both.csv, target: "churned", verbose: false });
      assertEquals(r.trials.length, 4);
    } finally {
      Deno.removeSync(both.dir, { recursive: true });
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
