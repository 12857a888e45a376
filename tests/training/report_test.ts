import assert from "node:assert/strict";
import {
  calibrationChart,
  confusionChart,
  importanceChart,
  prChart,
  rocChart,
} from "../../src/report/charts.ts";
import { renderTrainHtml, renderTrainMarkdown } from "../../src/training/report.ts";

Deno.test("charts render SVG with their data", () => {
  const roc = rocChart({ fpr: [0, 0.5, 1], tpr: [0, 0.8, 1] }, 0.9);
  assert.match(roc, /<svg/);
  assert.match(roc, /AUC 0\.900/);
  assert.match(prChart({ precision: [1, 0.5], recall: [0.5, 1] }, { ap: 0.75 }), /AP 0\.750/);
  const cm = confusionChart([[5, 1], [2, 7]], ["no", "yes"]);
  for (const n of ["5", "1", "2", "7"]) assert.ok(cm.includes(`>${n}</text>`), `cell ${n}`);
  assert.match(calibrationChart([{ predicted: 0.2, observed: 0.1, count: 5 }]), /<svg|<figure/);
  const imp = importanceChart([{ name: "tenure", importance: 0.6 }, { name: "plan", importance: 0.4 }], {
    top: 1,
  });
  assert.ok(imp.includes("tenure") && !imp.includes(">plan<"));
});

const input = {
  result: {
    run_id: "abc123",
    artifact: "models/artifacts/abc123",
    metrics: { roc_auc: 0.91, accuracy: 0.8, f1: 0.6, tp: 3, fn: 1, fp: 1, tn: 5 },
    positive_class: "yes",
    classes: ["no", "yes"],
    task: "classification" as const,
    algorithm: "forest",
    train_seconds: 0.5,
    rows: 30,
    validation_rows: 10,
    features: 4,
    input_columns: 3,
    dropped: [{ name: "id", reason: "ID-like" }],
  },
  evaluation: {
    metrics: {},
    confusion: [[5, 1], [1, 3]],
    roc: { fpr: [0, 0.2, 1], tpr: [0, 0.75, 1] },
    pr: { precision: [1, 0.75], recall: [0.5, 0.75] },
    calibration: [{ predicted: 0.3, observed: 0.25, count: 4 }],
  },
  params: { n_estimators: 100, max_depth: null, threshold: 0.35, "<b>": "x&y" },
  importances: [{ name: "tenure", importance: 1 }],
  lineage: {
    run_id: "abc123",
    data: { train: { path: "t.csv", sha256: "f".repeat(64), rows: 30 } },
    code_version: { commit: "deadbeef", dirty: true },
  },
};

Deno.test("HTML report is self-contained with every chart and escaped values", () => {
  const html = renderTrainHtml(input);
  assert.ok(html.startsWith("<!doctype html>"));
  assert.equal((html.match(/<svg/g) ?? []).length >= 5, true, "ROC, PR, confusion, calibration, importance");
  assert.ok(!/<script|<link|src="http/.test(html), "nothing loaded from the network");
  assert.ok(html.includes("&lt;b&gt;") && html.includes("x&amp;y"));
  assert.ok(html.includes("deadbeef (dirty)"));
  assert.equal((html.match(/Feature importance/g) ?? []).length, 1, "one importance heading");
  assert.match(html, /Confusion matrix \(threshold 0\.35\)/);
  assert.match(html, /<td>max_depth<\/td><td[^>]*>null<\/td>/);
});

Deno.test("Markdown summary has the metrics table and confusion matrix", () => {
  const md = renderTrainMarkdown(input);
  assert.match(md, /\| roc_auc \| 0\.9100 \|/);
  assert.match(md, /\| \*\*yes\*\* \| 1 \| 3 \|/);
  assert.match(md, /Dropped columns: `id`/);
});
