import assert from "node:assert/strict";
import {
  calibrationChart,
  confusionChart,
  importanceChart,
  prChart,
  rocChart,
} from "../../src/report/charts.ts";
import {
  renderTrainHtml,
  renderTrainMarkdown,
  reportShap,
  SHAP_REPORT_ROWS,
} from "../../src/training/report.ts";
import { fit, type ShapSummary, tableColumns } from "../../src/models/model.ts";
import { churnRows } from "../models/_data.ts";

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

Deno.test("Markdown summary: a class or column named like HTML or holding a pipe opens no tag and splits no cell", () => {
  const classes = ["<a>", "x|y"];
  const md = renderTrainMarkdown({
    ...input,
    result: {
      ...input.result,
      classes,
      positive_class: "<a>",
      dropped: [{ name: "id|<b>", reason: "ID-like" }],
    },
  });
  // HTML is not read inside code spans; outside them no tag may open
  assert.ok(!/<a>|<b>/.test(md.replace(/`[^`]*`/g, "")), md);
  assert.match(md, /\| \*\*&lt;a&gt;\*\* \|/);
  assert.match(md, /\| \| &lt;a&gt; \| x\\\|y \|/);
  assert.match(md, /Dropped columns: `id\\\|<b>`/);
});

Deno.test("SHAP section: summary and dependence charts, and mean |SHAP| beside the impurity importance", async () => {
  const rows = churnRows(400, 2);
  const model = await fit(rows.slice(0, 300), {
    target: "churned",
    algorithm: "forest",
    n_estimators: 15,
    n_jobs: 1,
  });
  const validation = tableColumns(rows.slice(300));
  const shap = reportShap(model, validation, 7);
  assert.ok("summary" in shap);
  assert.equal(shap.summary.rows, 100);
  assert.deepEqual(reportShap(model, validation, 7), shap, "seeded: the same rows, the same values");
  const imp = model.preprocessor.columnImportances(model.estimator.featureImportances!()!);
  const html = renderTrainHtml({ ...input, importances: imp, shap });
  assert.match(html, /<h2>Explanations \(SHAP\)<\/h2>/);
  assert.match(html, /SHAP summary/);
  // a beeswarm dot per row and column, and a dependence chart for each of the top 4 columns
  const summary = html.slice(html.indexOf("SHAP summary"), html.indexOf("SHAP dependence"));
  assert.ok((summary.match(/<circle/g) ?? []).length >= 100 * 5, "dots per row per column");
  assert.equal((html.match(/SHAP dependence: /g) ?? []).length, 4);
  assert.match(html, /SHAP dependence: tenure/);
  assert.match(html, /mean \|SHAP\| \(probability\)<\/th><th>impurity importance<\/th>/);
  assert.match(html, /<td>1<\/td><td>tenure<\/td>/, "tenure ranks first");
  assert.match(html, /Exact SHAP values of 100 of the 100 validation rows/);
  assert.match(
    renderTrainMarkdown({ ...input, shap }),
    /Top columns by mean \|SHAP\| \(probability, 100 rows\): `tenure`/,
  );
});

Deno.test("SHAP section: an engine without SHAP values gets one line; a large model explains fewer rows", async () => {
  const rows = churnRows(200, 3);
  const mlrf = await fit(rows, { target: "churned", algorithm: "ml-random-forest", n_estimators: 5 });
  const omitted = reportShap(mlrf, tableColumns(rows), 1);
  assert.deepEqual(omitted, { omitted: "the ml-random-forest engine does not compute SHAP values" });
  const html = renderTrainHtml({ ...input, shap: omitted });
  assert.match(html, /No SHAP charts: the ml-random-forest engine does not compute SHAP values\./);
  assert.ok(!html.includes("SHAP summary"));
  assert.match(
    renderTrainMarkdown({ ...input, shap: omitted }),
    /No SHAP values: the ml-random-forest engine/,
  );
  // the sample shrinks with the model's size (TreeSHAP visits every node per row), never under 50 rows
  const asked: number[] = [];
  const fake = (bytes: number) => ({
    explainable: true,
    engine: "forest",
    estimator: { toBytes: () => new Uint8Array(bytes) } as unknown as typeof mlrf.estimator,
    shapSummary: (_t: unknown, o: { sample?: number } = {}) => {
      asked.push(o.sample!);
      return {
        scale: "probability",
        rows: o.sample!,
        of: 5000,
        base_value: 0,
        output: "P(yes)",
        features: [],
      } as ShapSummary;
    },
  });
  reportShap(fake(1000), {}, 0);
  const big = reportShap(fake(2_000_000), {}, 0);
  reportShap(fake(200_000_000), {}, 0);
  assert.deepEqual(asked, [SHAP_REPORT_ROWS, 200, 50]);
  assert.ok("note" in big && /200 rows rather than 500/.test(big.note!), JSON.stringify(big));
});
