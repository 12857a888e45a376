import assert from "node:assert/strict";
import { residualChart, rocChart } from "../../src/report/charts.ts";
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
