import assert from "node:assert/strict";
import { comparisonCharts, writeComparisonCharts } from "../../src/ct/charts.ts";
import type { Evaluation } from "../../src/models/evaluate.ts";

const binary = (): Evaluation => ({
  metrics: { roc_auc: 0.8 },
  confusion: [[5, 1], [2, 4]],
  roc: { fpr: [0, 0.3, 1], tpr: [0, 0.8, 1] },
});

Deno.test("comparisonCharts by kind: binary confusion + ROC, multiclass confusion + per-class, regression residuals", () => {
  const b = comparisonCharts("binary", [
    { name: "candidate", evaluation: binary(), classes: ["no", "yes"], threshold: 0.5, auc: 0.8 },
    { name: "champion v1", evaluation: binary(), classes: ["no", "yes"], auc: 0.7 },
  ]);
  assert.deepEqual(b.map((c) => c.file), ["confusion.png", "roc.png"]);
  assert.match(b[0].svg, /candidate \(threshold 0\.5\)/);
  assert.match(b[1].svg, /champion v1 \(AUC 0\.700\)/);

  const per = (f: number) => [
    { class: "a", precision: f, recall: f, f1: f, support: 3, roc_auc: f, pr_auc: f },
    { class: "b", precision: f, recall: f, f1: f, support: 3, roc_auc: f, pr_auc: f },
    { class: "c", precision: f, recall: f, f1: f, support: 3, roc_auc: f, pr_auc: f },
  ];
  const m = comparisonCharts("multiclass", [
    {
      name: "candidate",
      evaluation: { metrics: {}, confusion: [[3, 0, 0], [0, 3, 0], [0, 0, 3]], perClass: per(0.9) },
      classes: ["a", "b", "c"],
    },
    {
      name: "champion v2",
      evaluation: { metrics: {}, confusion: [[2, 1, 0], [0, 3, 0], [1, 0, 2]], perClass: per(0.6) },
      classes: ["a", "b", "c"],
    },
  ]);
  assert.deepEqual(m.map((c) => c.file), ["confusion.png", "per_class.png"]);
  assert.match(m[1].svg, /ROC AUC per class/);

  const pts = [{ y: 1, pred: 1.1 }, { y: 2, pred: 2.5 }];
  const r = comparisonCharts("regression", [{
    name: "candidate",
    evaluation: { metrics: {}, residuals: pts },
  }]);
  assert.deepEqual(r.map((c) => c.file), ["residuals.png"]);
});

Deno.test("writeComparisonCharts: PNG files in the folder", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    const files = await writeComparisonCharts(dir, "binary", [{
      name: "candidate",
      evaluation: binary(),
      classes: ["no", "yes"],
    }]);
    assert.deepEqual(files.map((f) => f.file), ["confusion.png", "roc.png"]);
    for (const f of files) {
      assert.deepEqual([...Deno.readFileSync(`${dir}/${f.file}`).subarray(1, 4)], [0x50, 0x4e, 0x47]);
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
