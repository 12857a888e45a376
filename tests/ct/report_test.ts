import assert from "node:assert/strict";
import { primaryMetric } from "../../src/ct/compare.ts";
import { renderCtReport } from "../../src/ct/report.ts";
import type { CtResult } from "../../src/ct/types.ts";

function result(over: Partial<CtResult> = {}): CtResult {
  return {
    model_name: "churn",
    kind: "binary",
    pipeline: "skipped (--no-pipeline)",
    candidate: { run_id: "a".repeat(32), metrics: { roc_auc: 0.8 }, validation_rows: 50 },
    champion: {
      version: 3,
      run_id: "b".repeat(32),
      uri: "models:/churn/3",
      metrics: { roc_auc: 0.82 },
      registered_metrics: { roc_auc: 0.81 },
      same_validation: false,
    },
    metrics: [{
      metric: "roc_auc",
      candidate: 0.8,
      champion: 0.82,
      delta: -0.02,
      greaterIsBetter: true,
      change: "worse",
    }],
    verdict: {
      primary: primaryMetric("binary"),
      candidate: 0.8,
      champion: 0.82,
      regression: true,
      message: "roc_auc 0.8000 vs champion v3 0.8200: worse (higher is better)",
    },
    gates: {
      passed: false,
      baselineVersion: 3,
      checks: [{
        metric: "roc_auc",
        kind: "min_absolute_change",
        passed: false,
        candidate: 0.8,
        baseline: 0.82,
        required: 0.82,
        message: "roc_auc 0.8 not >= 0.82 | with a pipe",
      }],
      reasons: ["roc_auc 0.8 not >= 0.82 | with a pipe"],
    },
    gates_from: "registry.gates",
    registered: null,
    params: [{ key: "max_depth", a: "4", b: null }],
    unchanged_params: 7,
    datasets: [{
      name: "train",
      a: { path: "x", sha256: "1".repeat(64), rows: 10 },
      b: { path: "y", sha256: "2".repeat(64), rows: 12 },
      same: false,
    }],
    drift: { measured: false, note: "the champion's training data x is gone" },
    report: "reports/ct/a/report.md",
    charts: [{ file: "roc.png", title: "ROC curves" }],
    ...over,
  };
}

Deno.test("renderCtReport: verdict, tables with deltas, escaped cells, params and data diffs, charts", () => {
  const md = renderCtReport(result());
  assert.match(md, /^## Continuous training: `churn` candidate aaaaaaaa vs champion v3/);
  assert.match(md, /\*\*Gates failed\*\* \(1\): not registered\./);
  assert.match(md, /\*\*Regression\*\*: the candidate is worse than champion v3/);
  assert.match(md, /not the rows the champion was validated on/);
  assert.match(md, /\| \*\*roc_auc\*\* \(primary\) \| 0\.8000 \| 0\.8200 \| -0\.0200 \| ▼ worse \|/);
  assert.match(md, /with a pipe/);
  assert.ok(md.includes("\\| with a pipe"), "a pipe inside a cell is escaped");
  assert.match(md, /\| max_depth \| 4 \| - \|/);
  assert.match(md, /1 changed, 7 the same\./);
  assert.match(md, /\| train \| 111111111111 \(10 rows\) \| 222222222222 \(12 rows\) \| changed \|/);
  assert.match(md, /not measured \(the champion's training data x is gone\)/);
  assert.match(md, /!\[ROC curves\]\(roc\.png\)/);
});

Deno.test("renderCtReport: registered as @challenger; no champion; registration refused", () => {
  const ok = renderCtReport(result({
    gates: { passed: true, baselineVersion: null, checks: [], reasons: [] },
    registered: { version: 4, aliases: ["challenger"], uri: "models:/churn@challenger" },
    champion: null,
    champion_note: "model 'churn' has no @champion",
  }));
  assert.match(ok, /registered as version 4, `@challenger`/);
  assert.match(
    ok,
    /\*\*No champion\*\*: the candidate is compared with nothing \(model 'churn' has no @champion\)/,
  );
  assert.match(ok, /No gates are configured/);
  const refused = renderCtReport(result({
    gates: { passed: true, baselineVersion: 3, checks: [], reasons: [] },
    registration_note: "input columns changed",
  }));
  assert.match(refused, /\*\*Gates passed\*\*, but not registered: input columns changed\./);
});
