/**
 * Model-evaluation charts as SVG strings (Observable Plot via plot.ts), shared
 * by the HTML training report and notebooks. Each function takes plain data
 * (the shapes src/models/metrics.ts returns) and renders one chart.
 */
import { formatSI, Plot, renderPlot, textWidth, truncateText } from "./plot.ts";

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

/** Classes a confusion matrix shows in full; past this, the largest ones plus "other". */
export const CONFUSION_MAX_CLASSES = 20;

/**
 * A confusion matrix cut to at most `maxClasses` rows and columns: the
 * `maxClasses - 1` classes with the most true rows (ties: the first) keep
 * their places, and the rest are summed into one last class "other" (in rows
 * and in columns), whose members are listed in `folded`.
 */
export function foldConfusion(
  matrix: number[][],
  labels: string[],
  maxClasses = CONFUSION_MAX_CLASSES,
): { matrix: number[][]; labels: string[]; folded: string[] } {
  const n = labels.length;
  if (n <= Math.max(2, maxClasses)) return { matrix, labels, folded: [] };
  const support = matrix.map((row) => row.reduce((a, b) => a + b, 0));
  const keep = labels.map((_, i) => i).sort((a, b) => support[b] - support[a] || a - b)
    .slice(0, Math.max(1, maxClasses - 1)).sort((a, b) => a - b);
  const slot = new Array<number>(n).fill(keep.length);
  keep.forEach((i, k) => (slot[i] = k));
  const out = Array.from({ length: keep.length + 1 }, () => new Array<number>(keep.length + 1).fill(0));
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[slot[i]][slot[j]] += matrix[i]?.[j] ?? 0;
  const folded = labels.filter((_, i) => slot[i] === keep.length);
  let other = "other";
  while (keep.some((i) => labels[i] === other)) other = `(${other})`;
  return { matrix: out, labels: [...keep.map((i) => labels[i]), other], folded };
}

/** The widest a confusion matrix's class name is shown (px); longer ones are cut, full name as tooltip. */
const CLASS_LABEL_WIDTH = 120;

/**
 * Confusion matrix as a labelled heat map (rows: true class, columns: predicted);
 * `threshold` (binary: the positive-class probability cut) goes in the title.
 * Sized from the class count: cells of 16-110 px with counts in SI units
 * (12.3k) at a font that fits the widest count (8-14 px), class names cut
 * past 120 px and turned upright when wider than a column. Past `maxClasses`
 * (default 20) classes, the largest are kept and the rest folded into "other",
 * named in the caption; the colors are scaled to the kept classes' cells
 * (an "other" cell past them is the darkest). Each cell's tooltip has the exact count.
 */
export function confusionChart(
  matrix: number[][],
  labels: string[],
  size: ChartSize & { threshold?: number; maxClasses?: number } = {},
): string {
  const { threshold, maxClasses, ...dims } = size;
  const fold = foldConfusion(matrix, labels.map(String), maxClasses);
  const names = fold.labels;
  const n = names.length;
  const cells = fold.matrix.flatMap((row, i) =>
    row.map((v, j) => ({ actual: names[i], predicted: names[j], n: v }))
  );
  const other = fold.folded.length ? names[n - 1] : undefined;
  const max = Math.max(
    1,
    ...cells.filter((c) => c.actual !== other && c.predicted !== other).map((c) => c.n),
  );
  const shownCount = (v: number) => formatSI(v);
  const widest = (font: number) => Math.max(...cells.map((c) => textWidth(shownCount(c.n), font)));
  // cells from the class count, then the largest font the widest count fits, then cells that fit it
  const plotWidth = dims.width ? Math.max(60, dims.width - 140) : 320;
  const cell0 = Math.max(16, Math.min(110, Math.floor(plotWidth / n)));
  let font = Math.min(14, Math.max(8, Math.floor(cell0 * 0.45)));
  while (font > 8 && widest(font) > cell0 - 6) font--;
  const cell = Math.max(cell0, Math.ceil(widest(font) + 6), Math.ceil(font * 1.3 + 4));
  // margins from the longest (cut) class name: ticks (9 px), then the axis title (about 16 px)
  const shown = names.map((l) => truncateText(l, CLASS_LABEL_WIDTH));
  const longest = Math.max(...shown.map((l) => textWidth(l)));
  const upright = longest > cell - 4;
  const marginLeft = Math.ceil(longest + 9 + 18);
  const marginBottom = Math.ceil((upright ? longest : 12) + 9 + 18);
  const folded = fold.folded.length
    ? `${fold.folded.length} classes with the fewest rows folded into "${names[n - 1]}": ${
      fold.folded.join(", ")
    }`
    : undefined;
  return renderPlot({
    width: dims.width ?? marginLeft + n * cell + 12,
    height: dims.height ?? 12 + n * cell + marginBottom,
    marginLeft,
    marginBottom,
    marginTop: 12,
    marginRight: 12,
    title: threshold === undefined ? "Confusion matrix" : `Confusion matrix (threshold ${threshold})`,
    ...(folded ? { caption: folded } : {}),
    x: { label: "Predicted", domain: names, tickRotate: upright ? -90 : 0 },
    y: { label: "Actual", domain: names },
    color: { scheme: "blues", domain: [0, max], clamp: true },
    marks: [
      Plot.cell(cells, {
        x: "predicted",
        y: "actual",
        fill: "n",
        inset: 0.5,
        title: (d: { actual: string; predicted: string; n: number }) =>
          `actual ${d.actual}, predicted ${d.predicted}: ${d.n.toLocaleString("en-US")}`,
      }),
      Plot.text(cells, {
        x: "predicted",
        y: "actual",
        text: (d: { n: number }) => shownCount(d.n),
        fill: (d: { n: number }) => (d.n > max / 2 ? "white" : "black"),
        fontSize: font,
      }),
    ],
  }, { maxLabelWidth: CLASS_LABEL_WIDTH });
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

/** The smallest and largest truth or prediction of the points (Infinity, -Infinity when there are none). */
export function pointsExtent(points: Iterable<{ y: number; pred: number }>): [number, number] {
  // a loop, not Math.min(...points): spreading a large array overflows the call stack
  let lo = Infinity, hi = -Infinity;
  for (const p of points) {
    lo = Math.min(lo, p.y, p.pred);
    hi = Math.max(hi, p.y, p.pred);
  }
  return [lo, hi];
}

/** The dashed identity line y = x from lo to hi, under a predicted-vs-actual chart's points. */
export function identityLine(lo: number, hi: number) {
  return Plot.line([{ x: lo, y: lo }, { x: hi, y: hi }], {
    x: "x",
    y: "y",
    stroke: "#bbb",
    strokeDasharray: "4 4",
  });
}

/** Regression: predicted against actual values with the identity line. */
export function residualChart(points: { y: number; pred: number }[], size: ChartSize = {}): string {
  const [lo, hi] = pointsExtent(points);
  return renderPlot({
    ...SIZE,
    ...size,
    title: "Predicted vs actual",
    x: { label: "Actual" },
    y: { label: "Predicted", grid: true },
    marks: [
      identityLine(lo, hi),
      Plot.dot(points, { x: "y", y: "pred", r: 2, fill: "#1f77b4", fillOpacity: 0.5 }),
    ],
  });
}

/** One input column's SHAP values over some rows (the shape `Model.shapSummary` returns per column). */
export interface ShapColumn {
  name: string;
  kind: "numeric" | "categorical" | "boolean" | "datetime";
  /** per row: the column's value (number, Date or text; null when missing) */
  values: readonly (number | string | Date | null)[];
  /** per row: its SHAP value */
  shap: readonly number[];
  /** mean |SHAP value| */
  importance: number;
}

/** SHAP's colors: low feature values blue, high ones red; gray where a value has no order. */
const SHAP_LOW = "#1e88e5", SHAP_HIGH = "#ff0d57", SHAP_NONE = "#aaa";

const TRUE_TEXT = /^(true|yes|y|t|1)$/i, FALSE_TEXT = /^(false|no|n|f|0)$/i;

/** A value's position for coloring: numbers, dates (ms) and booleans (0/1); null for categories and missing values. */
function orderable(col: ShapColumn, v: number | string | Date | null): number | null {
  if (v instanceof Date) return v.getTime();
  if (typeof v === "number") return v;
  if (col.kind === "boolean" && typeof v === "string") {
    return TRUE_TEXT.test(v.trim()) ? 1 : FALSE_TEXT.test(v.trim()) ? 0 : null;
  }
  return null;
}

/** Each value's rank among the column's values, 0 (lowest) to 1; null where a value has no order. */
function valueRanks(col: ShapColumn): (number | null)[] {
  const num = col.values.map((v) => orderable(col, v));
  const order = num.map((_, i) => i).filter((i) => num[i] !== null).sort((a, b) => num[a]! - num[b]!);
  const out = new Array<number | null>(num.length).fill(null);
  // ties share their mean rank, so equal values get one color
  for (let s = 0; s < order.length;) {
    let e = s;
    while (e + 1 < order.length && num[order[e + 1]] === num[order[s]]) e++;
    const r = order.length > 1 ? (s + e) / 2 / (order.length - 1) : 0.5;
    for (let k = s; k <= e; k++) out[order[k]] = r;
    s = e + 1;
  }
  return out;
}

/**
 * Vertical offsets for one beeswarm row, as SHAP's summary plot spreads them:
 * dots binned by x, each bin's dots stacked alternately above and below the
 * line, so a row is as wide as its densest bin. Offsets are within +-0.4.
 */
function swarmOffsets(x: readonly number[], lo: number, hi: number): number[] {
  const bins = 100, span = hi - lo || 1;
  const order = x.map((_, i) => i).sort((a, b) => x[a] - x[b] || a - b);
  const count = new Map<number, number>(), out = new Array<number>(x.length).fill(0);
  let most = 1;
  for (const i of order) {
    const b = Math.min(bins - 1, Math.floor(((x[i] - lo) / span) * bins));
    const k = count.get(b) ?? 0;
    count.set(b, k + 1);
    out[i] = (k % 2 === 0 ? 1 : -1) * Math.ceil(k / 2);
    most = Math.max(most, Math.ceil(k / 2) + 1);
  }
  return out.map((o) => (0.4 * o) / most);
}

/**
 * SHAP summary (beeswarm) of the `top` columns by mean |SHAP|: one row per
 * column, one dot per explained row at its SHAP value, colored by the
 * column's value (blue low to red high by rank, false before true; gray for
 * categories and missing values). `output` names what the values add up to (e.g. "P(yes)").
 */
export function shapSummaryChart(
  columns: readonly ShapColumn[],
  opts: { top?: number; output?: string; title?: string } & ChartSize = {},
): string {
  const top = [...columns].sort((a, b) => b.importance - a.importance).slice(0, opts.top ?? 10);
  let lo = 0, hi = 0;
  for (const c of top) for (const s of c.shap) (lo = Math.min(lo, s), hi = Math.max(hi, s));
  const dots: { x: number; y: number; rank: number | null; column: string }[] = [];
  top.forEach((c, j) => {
    const ranks = valueRanks(c), dy = swarmOffsets(c.shap, lo, hi);
    c.shap.forEach((x, i) => dots.push({ x, y: j + dy[i], rank: ranks[i], column: c.name }));
  });
  const ordered = dots.filter((d) => d.rank !== null), plain = dots.filter((d) => d.rank === null);
  return renderPlot({
    width: opts.width ?? 700,
    height: opts.height ?? Math.max(140, 34 * top.length + 70),
    title: opts.title ?? "SHAP summary",
    subtitle: "a dot per row; color: the column's value, blue low to red high (gray: a category or missing)",
    marginLeft: 160,
    x: { label: `SHAP value (contribution to ${opts.output ?? "the output"})`, grid: true },
    y: {
      label: null,
      domain: [top.length - 0.5, -0.5],
      ticks: top.map((_, j) => j),
      tickFormat: (j: number) => top[j]?.name ?? "",
      tickSize: 0,
    },
    color: { type: "linear", domain: [0, 1], range: [SHAP_LOW, SHAP_HIGH] },
    marks: [
      Plot.ruleX([0], { stroke: "#999" }),
      Plot.dot(plain, { x: "x", y: "y", r: 1.8, fill: SHAP_NONE, fillOpacity: 0.7 }),
      Plot.dot(ordered, { x: "x", y: "y", r: 1.8, fill: "rank", fillOpacity: 0.8 }),
    ],
  });
}

/**
 * SHAP dependence of one column: its value (x) against its SHAP value (y),
 * one dot per row. Numbers and dates on a continuous axis; categories as a
 * box per level (missing values as their own level), levels by their mean
 * SHAP value.
 */
export function shapDependenceChart(
  col: ShapColumn,
  opts: { output?: string; title?: string } & ChartSize = {},
): string {
  const base = {
    width: opts.width ?? SIZE.width,
    height: opts.height ?? SIZE.height,
    title: opts.title ?? `SHAP dependence: ${col.name}`,
    y: { label: `SHAP value of ${col.name}`, grid: true },
  };
  if (col.kind === "numeric" || col.kind === "datetime") {
    const pts = col.values.flatMap((v, i) => (v === null ? [] : [{ v, s: col.shap[i] }]));
    return renderPlot({
      ...base,
      x: { label: col.name, ...(col.kind === "datetime" ? { type: "utc" as const } : {}) },
      marks: [
        Plot.ruleY([0], { stroke: "#999" }),
        Plot.dot(pts, { x: "v", y: "s", r: 2, fill: SHAP_LOW, fillOpacity: 0.5 }),
      ],
    });
  }
  const pts = col.values.map((v, i) => ({ v: v === null ? "(missing)" : String(v), s: col.shap[i] }));
  const sums = new Map<string, { s: number; n: number }>();
  for (const p of pts) {
    const m = sums.get(p.v) ?? { s: 0, n: 0 };
    m.s += p.s;
    m.n++;
    sums.set(p.v, m);
  }
  const levels = [...sums].sort((a, b) => a[1].s / a[1].n - b[1].s / b[1].n).map(([k]) => k);
  return renderPlot({
    ...base,
    x: { label: col.name, domain: levels },
    marks: [
      Plot.ruleY([0], { stroke: "#999" }),
      Plot.boxY(pts, { x: "v", y: "s", fill: SHAP_LOW, fillOpacity: 0.25, stroke: SHAP_LOW }),
    ],
  });
}
