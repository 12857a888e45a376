/**
 * Model-evaluation charts as SVG strings (Observable Plot via plot.ts), shared
 * by the HTML training report and notebooks. Each function takes plain data
 * (the shapes src/models/metrics.ts returns) and renders one chart.
 */
import { Plot, renderPlot } from "./plot.ts";

export interface ChartSize {
  width?: number;
  height?: number;
}

const SIZE = { width: 340, height: 300 };

/** ROC curve with the chance diagonal; `auc` goes in the title when given. */
export function rocChart(roc: { fpr: number[]; tpr: number[] }, auc?: number, size: ChartSize = {}): string {
  const pts = roc.fpr.map((x, i) => ({ fpr: x, tpr: roc.tpr[i] }));
  return renderPlot({
    ...SIZE,
    ...size,
    title: auc === undefined ? "ROC curve" : `ROC curve (AUC ${auc.toFixed(3)})`,
    x: { label: "False positive rate", domain: [0, 1] },
    y: { label: "True positive rate", domain: [0, 1], grid: true },
    marks: [
      Plot.line([{ x: 0, y: 0 }, { x: 1, y: 1 }], { x: "x", y: "y", stroke: "#bbb", strokeDasharray: "4 4" }),
      Plot.line(pts, { x: "fpr", y: "tpr", stroke: "#1f77b4", strokeWidth: 2 }),
    ],
  });
}

/** Precision-recall curve (recall on x) with the positive share as the baseline. */
export function prChart(
  pr: { precision: number[]; recall: number[] },
  opts: { ap?: number; baseline?: number } & ChartSize = {},
): string {
  const pts = [
    { recall: 0, precision: pr.precision[0] ?? 1 },
    ...pr.recall.map((r, i) => ({ recall: r, precision: pr.precision[i] })),
  ];
  return renderPlot({
    width: opts.width ?? SIZE.width,
    height: opts.height ?? SIZE.height,
    title: opts.ap === undefined ? "Precision-recall" : `Precision-recall (AP ${opts.ap.toFixed(3)})`,
    x: { label: "Recall", domain: [0, 1] },
    y: { label: "Precision", domain: [0, 1], grid: true },
    marks: [
      ...(opts.baseline === undefined
        ? []
        : [Plot.ruleY([opts.baseline], { stroke: "#bbb", strokeDasharray: "4 4" })]),
      Plot.line(pts, {
        x: "recall",
        y: "precision",
        stroke: "#d62728",
        strokeWidth: 2,
        curve: "step-before",
      }),
    ],
  });
}

/**
 * Confusion matrix as a labelled heat map (rows: true class, columns: predicted);
 * `threshold` (binary: the positive-class probability cut) goes in the title.
 */
export function confusionChart(
  matrix: number[][],
  labels: string[],
  size: ChartSize & { threshold?: number } = {},
): string {
  const { threshold, ...dims } = size;
  const cells = matrix.flatMap((row, i) =>
    row.map((n, j) => ({ actual: labels[i], predicted: labels[j], n }))
  );
  const max = Math.max(1, ...cells.map((c) => c.n));
  return renderPlot({
    ...SIZE,
    ...dims,
    title: threshold === undefined ? "Confusion matrix" : `Confusion matrix (threshold ${threshold})`,
    // room for the longest class name (about 7 px a character at the default font)
    marginLeft: Math.min(220, Math.max(80, 20 + 7 * Math.max(0, ...labels.map((l) => l.length)))),
    x: { label: "Predicted", domain: labels },
    y: { label: "Actual", domain: labels },
    color: { scheme: "blues", domain: [0, max] },
    marks: [
      Plot.cell(cells, { x: "predicted", y: "actual", fill: "n", inset: 0.5 }),
      Plot.text(cells, {
        x: "predicted",
        y: "actual",
        text: (d: { n: number }) => String(d.n),
        fill: (d: { n: number }) => (d.n > max / 2 ? "white" : "black"),
        fontSize: 14,
      }),
    ],
  });
}

/** Reliability diagram: mean predicted probability against observed positive share per bin. */
export function calibrationChart(
  bins: { predicted: number; observed: number; count: number }[],
  size: ChartSize = {},
): string {
  return renderPlot({
    ...SIZE,
    ...size,
    title: "Calibration",
    x: { label: "Mean predicted probability", domain: [0, 1] },
    y: { label: "Observed positive share", domain: [0, 1], grid: true },
    r: { range: [2, 9] },
    marks: [
      Plot.line([{ x: 0, y: 0 }, { x: 1, y: 1 }], { x: "x", y: "y", stroke: "#bbb", strokeDasharray: "4 4" }),
      Plot.line(bins, { x: "predicted", y: "observed", stroke: "#2ca02c" }),
      Plot.dot(bins, { x: "predicted", y: "observed", r: "count", fill: "#2ca02c", tip: true }),
    ],
  });
}

/** Horizontal bars of the `top` most important features. */
export function importanceChart(
  items: { name: string; importance: number }[],
  opts: { top?: number; title?: string } & ChartSize = {},
): string {
  const top = [...items].sort((a, b) => b.importance - a.importance).slice(0, opts.top ?? 20);
  return renderPlot({
    width: opts.width ?? 700,
    height: opts.height ?? Math.max(120, 22 * top.length + 50),
    title: opts.title ?? "Feature importance",
    marginLeft: 160,
    x: { label: "Importance", grid: true },
    y: { label: null, domain: top.map((d) => d.name) },
    marks: [
      Plot.barX(top, { x: "importance", y: "name", fill: "#9467bd" }),
      Plot.ruleX([0]),
    ],
  });
}

/** Regression: predicted against actual values with the identity line. */
export function residualChart(points: { y: number; pred: number }[], size: ChartSize = {}): string {
  // a loop, not Math.min(...points): spreading a large array overflows the call stack
  let lo = Infinity, hi = -Infinity;
  for (const p of points) {
    lo = Math.min(lo, p.y, p.pred);
    hi = Math.max(hi, p.y, p.pred);
  }
  return renderPlot({
    ...SIZE,
    ...size,
    title: "Predicted vs actual",
    x: { label: "Actual" },
    y: { label: "Predicted", grid: true },
    marks: [
      Plot.line([{ x: lo, y: lo }, { x: hi, y: hi }], {
        x: "x",
        y: "y",
        stroke: "#bbb",
        strokeDasharray: "4 4",
      }),
      Plot.dot(points, { x: "y", y: "pred", r: 2, fill: "#1f77b4", fillOpacity: 0.5 }),
    ],
  });
}
