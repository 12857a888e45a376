import assert from "node:assert/strict";
import { parseHTML } from "linkedom";
import {
  confusionChart,
  foldConfusion,
  residualChart,
  rocChart,
  shapDependenceChart,
  shapSummaryChart,
} from "../../src/report/charts.ts";
import {
  formatSI,
  niceTicks,
  Plot,
  renderPlot,
  siFormat,
  textBoxes,
  textWidth,
  truncateText,
} from "../../src/report/plot.ts";

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

Deno.test("siFormat: one SI prefix an axis, decimals that tell ticks apart; formatSI: up to three digits", () => {
  assert.deepEqual([0, 5000, 10000, 15000].map(siFormat([0, 5000, 10000, 15000])), ["0", "5k", "10k", "15k"]);
  assert.deepEqual([1.2e6, 1.4e6].map(siFormat([1.2e6, 1.4e6])), ["1.2M", "1.4M"]);
  assert.deepEqual([-2e7, 0, 2e7].map(siFormat([-2e7, 0, 2e7])), ["\u221220M", "0", "20M"]);
  assert.deepEqual([999, 1234, 12345, 1_234_567, 1e7].map(formatSI), [
    "999",
    "1,234",
    "12.3k",
    "1.23M",
    "10M",
  ]);
});

Deno.test("niceTicks: d3's round steps", () => {
  assert.deepEqual(niceTicks(0, 1e7, 5), [0, 2e6, 4e6, 6e6, 8e6, 1e7]);
  assert.deepEqual(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
});

Deno.test("textWidth and truncateText: DejaVu-sized estimates, cut with an ellipsis", () => {
  // Chromium measures "200,000" at 10 px DejaVu Sans as 41.3 px
  assert.ok(Math.abs(textWidth("200,000") - 41.3) < 2);
  const cut = truncateText("Enterprise customers on the annual plan", 100);
  assert.ok(cut.endsWith("…") && textWidth(cut) <= 100, cut);
  assert.equal(truncateText("short", 100), "short");
});

Deno.test("residualChart: large values get SI ticks and a left margin wide enough for them", () => {
  const svg = residualChart([{ y: 0, pred: 0 }, { y: 1e7, pred: 1.02e7 }]);
  assert.ok(svg.includes(">10M</text>") && !svg.includes("10,000,000"), "SI tick labels");
  const boxes = textBoxes(parseHTML(svg).document.querySelector("svg")!);
  for (const b of boxes) assert.ok(b.left >= 0 && b.right <= 340, `${b.text} inside the SVG`);
});

Deno.test("foldConfusion: the largest classes keep their places, the rest sum into other", () => {
  const m = [[5, 1, 0, 0], [1, 9, 0, 1], [0, 0, 1, 0], [2, 0, 0, 2]];
  const f = foldConfusion(m, ["a", "b", "c", "d"], 3);
  assert.deepEqual(f.labels, ["a", "b", "other"]);
  assert.deepEqual(f.folded, ["c", "d"]);
  assert.deepEqual(f.matrix, [[5, 1, 0], [1, 9, 1], [2, 0, 3]]);
  assert.equal(f.matrix.flat().reduce((a, b) => a + b), m.flat().reduce((a, b) => a + b), "no count lost");
  assert.deepEqual(foldConfusion(m, ["a", "b", "c", "d"], 4).folded, []);
  assert.deepEqual(foldConfusion(m, ["a", "other", "c", "d"], 3).labels, ["a", "other", "(other)"]);
});

Deno.test("confusionChart: past maxClasses it folds and names the folded classes; long names cut with a tooltip", () => {
  const n = 30;
  const labels = Array.from(
    { length: n },
    (_, i) => (i === 0 ? "a class name far too long to show in full" : `c${i}`),
  );
  const m = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 100 - i : 1)));
  const svg = confusionChart(m, labels, { maxClasses: 10 });
  assert.match(svg, /21 classes with the fewest rows folded into "other": c9, c10/);
  assert.match(svg, /<title>a class name far too long to show in full<\/title>/);
  assert.match(svg, /a class name far[^<]*…/);
  const all = confusionChart(m, labels, { maxClasses: 50 });
  assert.ok(!all.includes("folded"));
  assert.equal((all.match(/<rect/g) ?? []).length, n * n);
  // big counts in SI, exact count in the cell's tooltip
  const big = confusionChart([[12_345_678, 1], [2, 3]], ["no", "yes"]);
  assert.ok(big.includes(">12.3M</text>") && big.includes("12,345,678"));
});

Deno.test("renderPlot: a narrow chart gets fewer ticks rather than colliding tick labels", () => {
  const svg = residualChart([{ y: 0, pred: 0 }, { y: 1.23e7, pred: 1.25e7 }], { width: 150, height: 150 });
  const ticks = textBoxes(parseHTML(svg).document.querySelector("svg")!).filter((b) =>
    b.role === "x-axis tick label"
  );
  assert.ok(ticks.length >= 2, ticks.map((t) => t.text).join(" "));
  for (let i = 1; i < ticks.length; i++) assert.ok(ticks[i].left >= ticks[i - 1].right, "apart");
});
