import assert from "node:assert/strict";
import { confusionChart } from "../../src/report/charts.ts";
import {
  perClassChart,
  predictedActualOverlayChart,
  residualOverlayChart,
  rocOverlayChart,
  SERIES_COLORS,
  sideBySide,
} from "../../src/report/compare_charts.ts";

const roc = (auc: number) => ({ fpr: [0, 0.2, 1], tpr: [0, 0.7, 1], auc });

Deno.test("rocOverlayChart: one curve per model plus the diagonal, legend with each AUC, inside the svg", () => {
  const svg = rocOverlayChart([{ name: "candidate", data: roc(0.812) }, {
    name: "champion v1",
    data: roc(0.7),
  }]);
  assert.match(svg, /^<svg/, "no figure wrapper: the legend is in the svg");
  assert.ok(svg.includes(`stroke="${SERIES_COLORS[0]}"`) && svg.includes(`stroke="${SERIES_COLORS[1]}"`));
  assert.match(svg, /candidate \(AUC 0\.812\)/);
  assert.match(svg, /champion v1 \(AUC 0\.700\)/);
});

Deno.test("sideBySide: charts placed left to right under their titles, a heading and key above", () => {
  const a = confusionChart([[5, 1], [2, 4]], ["no", "yes"]);
  const b = confusionChart([[4, 2], [3, 3]], ["no", "yes"]);
  const svg = sideBySide([{ title: "candidate", chart: a }, { title: "champion", chart: b }], {
    heading: "Confusion <matrices>",
    key: { names: ["candidate", "champion"] },
  });
  const inner = [...svg.matchAll(/<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]*? x="(\d+)"/g)].map((m) =>
    +m[1]
  );
  assert.equal(inner.length, 2);
  assert.ok(inner[1] > inner[0]);
  assert.match(svg, /Confusion &lt;matrices&gt;/);
  assert.ok(svg.indexOf(">candidate</text>") < svg.indexOf(">champion</text>"));
  const width = Number(/^<svg[^>]* width="(\d+(?:\.\d+)?)"/.exec(svg)![1]);
  assert.ok(width > inner[1], "the outer svg holds the second chart");
});

Deno.test("regression and per-class overlays: a dot per point per model, bars per class per model", () => {
  const pts = [{ y: 1, pred: 1.2 }, { y: 2, pred: 1.9 }, { y: 3, pred: 3.4 }];
  const pa = predictedActualOverlayChart([{ name: "a", data: pts }, { name: "b", data: pts.slice(0, 2) }]);
  // 5 points + 2 legend dots
  assert.equal((pa.match(/<circle/g) ?? []).length, 7);
  const res = residualOverlayChart([{ name: "a", data: pts }, { name: "b", data: pts }]);
  assert.match(res, /Residual/);
  const pc = perClassChart([
    { name: "a", data: [{ class: "x", value: 0.5 }, { class: "y", value: 0.7 }] },
    { name: "b", data: [{ class: "x", value: 0.6 }, { class: "y", value: NaN }] },
  ], { label: "F1" });
  assert.equal((pc.match(/<rect/g) ?? []).length, 3, "a NaN score draws no bar");
});
