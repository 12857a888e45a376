import assert from "node:assert/strict";
import { metricRows, PRIMARY_METRIC, primaryMetric, verdict } from "../../src/ct/compare.ts";
import { UserError } from "../../src/core/errors.ts";

Deno.test("primaryMetric: by task kind, rmse lower-is-better; a bad name is a user error", () => {
  assert.deepEqual(primaryMetric("binary"), { metric: "roc_auc", greaterIsBetter: true });
  assert.deepEqual(primaryMetric("multiclass"), { metric: "macro_roc_auc", greaterIsBetter: true });
  assert.deepEqual(primaryMetric("regression"), { metric: "rmse", greaterIsBetter: false });
  assert.deepEqual(primaryMetric("binary", "f1"), { metric: "f1", greaterIsBetter: true });
  assert.equal(PRIMARY_METRIC.binary, "roc_auc");
  assert.throws(() => primaryMetric("binary", "no such!"), UserError);
});

Deno.test("verdict: worse on the primary metric is a regression; equal is not; no champion is not", () => {
  const p = primaryMetric("binary");
  const champ = (v: number) => ({ label: "champion v1", metrics: { roc_auc: v } });
  assert.equal(verdict({ roc_auc: 0.8 }, champ(0.81), p).regression, true);
  assert.equal(verdict({ roc_auc: 0.81 }, champ(0.8), p).regression, false);
  assert.equal(verdict({ roc_auc: 0.1 + 0.2 }, champ(0.3), p).regression, false, "within the tolerance");
  assert.equal(verdict({ roc_auc: 0.5 }, null, p).regression, false);
  assert.match(verdict({ roc_auc: 0.5 }, null, p).message, /no champion/);
  // lower is better for rmse
  const r = primaryMetric("regression");
  assert.equal(verdict({ rmse: 2 }, { label: "c", metrics: { rmse: 1 } }, r).regression, true);
  assert.equal(verdict({ rmse: 1 }, { label: "c", metrics: { rmse: 2 } }, r).regression, false);
  assert.throws(() => verdict({ f1: 1 }, null, p), /no value for the primary metric 'roc_auc'/);
});

Deno.test("metricRows: primary first, then gated, deltas candidate - champion, counts without a verdict", () => {
  const rows = metricRows(
    { roc_auc: 0.9, f1: 0.7, accuracy: 0.8, log_loss: 0.3, tp: 10, train_seconds: 1 },
    { roc_auc: 0.85, f1: 0.75, accuracy: 0.8, log_loss: 0.4, tp: 8 },
    primaryMetric("binary"),
    ["f1"],
  );
  assert.deepEqual(rows.map((r) => r.metric), [
    "roc_auc",
    "f1",
    "accuracy",
    "log_loss",
    "tp",
    "train_seconds",
  ]);
  const by = Object.fromEntries(rows.map((r) => [r.metric, r]));
  assert.ok(Math.abs(by.roc_auc.delta! - 0.05) < 1e-12);
  assert.equal(by.roc_auc.change, "better");
  assert.equal(by.f1.change, "worse");
  assert.equal(by.accuracy.change, "equal");
  assert.equal(by.log_loss.change, "better", "a lower loss is better");
  assert.equal(by.tp.change, null);
  assert.equal(by.train_seconds.champion, null);
  // no champion: no deltas
  assert.ok(metricRows({ roc_auc: 0.9 }, null, primaryMetric("binary")).every((r) => r.delta === null));
});
