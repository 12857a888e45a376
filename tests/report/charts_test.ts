import assert from "node:assert/strict";
import { residualChart, rocChart, shapDependenceChart, shapSummaryChart } from "../../src/report/charts.ts";
import { Plot, renderPlot } from "../../src/report/plot.ts";

Deno.test("renderPlot: Plot options to an SVG string without a browser", () => {
  const svg = renderPlot({ marks: [Plot.dot([{ x: 1, y: 2 }, { x: 3, y: 4 }], { x: "x", y: "y" })] });
  assert.match(svg, /^<svg/);
  assert.equal((svg.match(/<circle/g) ?? []).length, 2);
});

Deno.test("residualChart: one dot per point, and the identity line", () => {
  const svg = residualChart([{ y: 1, pred: 1.5 }, { y: 2, pred: 1.8 }, { y: 3, pred: 3.3 }]);
  assert.equal((svg.match(/<circle/g) ?? []).length, 3);
  assert.match(svg, /stroke-dasharray="4 4"/);
  assert.match(svg, /Predicted vs actual/);
});

Deno.test("rocChart: the AUC in the title, sized as asked", () => {
  const svg = rocChart({ fpr: [0, 1], tpr: [0, 1] }, 0.5, { width: 300, height: 200 });
  assert.match(svg, /AUC 0\.500/);
  assert.match(svg, /width="300"/);
});

const shapCols = [
  {
    name: "tenure",
    kind: "numeric" as const,
    values: [1, 5, 9, null],
    shap: [0.3, 0.1, -0.2, 0],
    importance: 0.15,
  },
  {
    name: "plan",
    kind: "categorical" as const,
    values: ["a", "b", "a", null],
    shap: [0.1, -0.1, 0.1, 0],
    importance: 0.075,
  },
  {
    name: "autopay",
    kind: "boolean" as const,
    values: ["true", "false", "true", "false"],
    shap: [0, 0, 0, 0],
    importance: 0,
  },
];

Deno.test("shapSummaryChart: a row per top column, a dot per value; ordered values colored, categories gray", () => {
  const svg = shapSummaryChart(shapCols, { top: 2, output: "P(yes)" });
  assert.match(svg, /SHAP summary/);
  assert.match(svg, /contribution to P\(yes\)/);
  assert.equal((svg.match(/<circle/g) ?? []).length, 8, "2 columns x 4 rows");
  assert.ok(svg.includes(">tenure<") && svg.includes(">plan<") && !svg.includes(">autopay<"));
  // the gray dots (plan's values, tenure's missing one) are one mark
  assert.equal((svg.match(/fill="#aaa"/g) ?? []).length, 1, "one gray mark");
  const all = shapSummaryChart(shapCols);
  assert.ok(all.includes(">autopay<"), "booleans are ordered (false before true)");
});

Deno.test("shapDependenceChart: value against SHAP value; numbers as dots, categories as boxes", () => {
  const num = shapDependenceChart(shapCols[0]);
  assert.match(num, /SHAP dependence: tenure/);
  assert.equal((num.match(/<circle/g) ?? []).length, 3, "the missing value is left out");
  const cat = shapDependenceChart(shapCols[1]);
  assert.match(cat, /\(missing\)/);
  assert.match(cat, /SHAP value of plan/);
});
