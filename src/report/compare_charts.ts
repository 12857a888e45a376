/**
 * Charts that put two models side by side or on one set of axes (a candidate
 * against the champion, src/ct): ROC curves overlaid, predicted-vs-actual
 * overlaid, per-class scores as grouped bars, and `sideBySide`, which places
 * finished charts (e.g. two confusion matrices from charts.ts) in one SVG
 * under their titles. Every chart keeps its title and legend inside its SVG,
 * so a rasterised PNG (png.ts) shows them.
 */
import { identityLine, pointsExtent } from "./charts.ts";
import { escapeHtml } from "./html.ts";
import { Plot, renderPlot, textWidth } from "./plot.ts";
import { svgOnly } from "./png.ts";

/** One model's series; `color` defaults by position (candidate first). */
export interface Series<T> {
  name: string;
  data: T;
  color?: string;
}

/** Candidate blue, champion orange (Tableau 10, as the single-model charts use). */
export const SERIES_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"];

const colorOf = (s: { color?: string }, i: number) => s.color ?? SERIES_COLORS[i % SERIES_COLORS.length];

/** A legend drawn as marks in the frame's corner (Plot's own legend is HTML outside the SVG). */
function legendMarks(names: string[], colors: string[], at: { x: number; y: number; dy: number }) {
  const rows = names.map((name, i) => ({ name, color: colors[i], x: at.x, y: at.y - i * at.dy }));
  return [
    Plot.dot(rows, { x: "x", y: "y", fill: "color", r: 4, dx: -8 }),
    Plot.text(rows, { x: "x", y: "y", text: "name", textAnchor: "start", fontSize: 11 }),
  ];
}

/** ROC curves of several models on one chart, each named with its AUC in the legend. */
export function rocOverlayChart(
  series: Series<{ fpr: number[]; tpr: number[]; auc?: number }>[],
  size: { width?: number; height?: number } = {},
): string {
  const colors = series.map(colorOf);
  const names = series.map((s) =>
    s.data.auc === undefined || !Number.isFinite(s.data.auc)
      ? s.name
      : `${s.name} (AUC ${s.data.auc.toFixed(3)})`
  );
  return renderPlot({
    width: size.width ?? 420,
    height: size.height ?? 360,
    x: { label: "False positive rate", domain: [0, 1] },
    y: { label: "True positive rate", domain: [0, 1], grid: true },
    marks: [
      Plot.line([{ x: 0, y: 0 }, { x: 1, y: 1 }], { x: "x", y: "y", stroke: "#bbb", strokeDasharray: "4 4" }),
      ...series.map((s, i) =>
        Plot.line(s.data.fpr.map((x, j) => ({ fpr: x, tpr: s.data.tpr[j] })), {
          x: "fpr",
          y: "tpr",
          stroke: colors[i],
          strokeWidth: 2,
        })
      ),
      ...legendMarks(names, colors, { x: 0.42, y: 0.2, dy: 0.07 }),
    ],
  });
}

/** Regression: predicted against actual of several models, with the identity line. */
export function predictedActualOverlayChart(
  series: Series<{ y: number; pred: number }[]>[],
  size: { width?: number; height?: number } = {},
): string {
  let [lo, hi] = pointsExtent(series.flatMap((s) => s.data));
  if (!(hi > lo)) (lo = Number.isFinite(lo) ? lo - 1 : 0, hi = lo + 2);
  const colors = series.map(colorOf);
  const pad = (hi - lo) * 0.02;
  return renderPlot({
    width: size.width ?? 420,
    height: size.height ?? 360,
    x: { label: "Actual", domain: [lo - pad, hi + pad] },
    y: { label: "Predicted", domain: [lo - pad, hi + pad], grid: true },
    marks: [
      identityLine(lo, hi),
      ...series.map((s, i) =>
        Plot.dot(s.data, { x: "y", y: "pred", r: 2, fill: colors[i], fillOpacity: 0.45 })
      ),
      ...legendMarks(series.map((s) => s.name), colors, {
        x: lo + (hi - lo) * 0.45,
        y: lo + (hi - lo) * 0.12,
        dy: (hi - lo) * 0.07,
      }),
    ],
  });
}

/** Regression: residual (predicted - actual) distributions of several models as overlaid histograms. */
export function residualOverlayChart(
  series: Series<{ y: number; pred: number }[]>[],
  size: { width?: number; height?: number } = {},
): string {
  const colors = series.map(colorOf);
  const rows = series.flatMap((s, i) =>
    s.data.map((p) => ({ model: s.name, color: colors[i], r: p.pred - p.y }))
  );
  return renderPlot({
    width: size.width ?? 420,
    height: size.height ?? 300,
    x: { label: "Residual (predicted - actual)" },
    y: { label: "Rows", grid: true },
    color: { domain: series.map((s) => s.name), range: colors },
    marks: [
      Plot.rectY(
        rows,
        // y2, not y: overlaid, not stacked
        Plot.binX<Plot.RectYOptions>({ y2: "count" }, { x: "r", fill: "model", fillOpacity: 0.45 }),
      ),
      Plot.ruleY([0]),
      Plot.ruleX([0], { stroke: "#555", strokeDasharray: "3 3" }),
    ],
  });
}

/** Multiclass: one score per class (e.g. F1 or one-vs-rest ROC AUC) of several models as grouped bars. */
export function perClassChart(
  series: Series<{ class: string; value: number }[]>[],
  opts: { label: string; width?: number; height?: number },
): string {
  const colors = series.map(colorOf);
  const rows = series.flatMap((s) =>
    s.data.filter((d) => Number.isFinite(d.value)).map((d) => ({ ...d, model: s.name }))
  );
  const classes = [...new Set(series.flatMap((s) => s.data.map((d) => d.class)))];
  return renderPlot({
    width: opts.width ?? Math.max(420, 60 * classes.length + 120),
    height: opts.height ?? 320,
    marginBottom: 50,
    fx: { label: "Class", domain: classes },
    x: { axis: null, domain: series.map((s) => s.name) },
    y: { label: opts.label, domain: [0, 1], grid: true },
    color: { domain: series.map((s) => s.name), range: colors },
    marks: [
      Plot.barY(rows, { fx: "class", x: "model", y: "value", fill: "model" }),
      Plot.ruleY([0]),
    ],
  });
}

/** A title line and a color key of the named series, as the top of a PNG-ready chart. */
export function keyLine(names: string[], colors: string[] = names.map((_, i) => SERIES_COLORS[i])): string {
  let x = 0;
  const parts: string[] = [];
  names.forEach((n, i) => {
    parts.push(`<rect x="${x}" y="-9" width="10" height="10" fill="${colors[i]}"/>`);
    parts.push(`<text x="${x + 14}" y="0" font-size="11">${escapeHtml(n)}</text>`);
    x += 14 + textWidth(n, 11) + 16;
  });
  return parts.join("");
}

function sizeOf(svg: string): { width: number; height: number } {
  const head = svg.slice(0, svg.indexOf(">"));
  const num = (k: string) => Number(new RegExp(`\\s${k}="([\\d.]+)"`).exec(head)?.[1]);
  const box = /viewBox="[\d.-]+ [\d.-]+ ([\d.]+) ([\d.]+)"/.exec(head);
  return { width: num("width") || Number(box?.[1]) || 340, height: num("height") || Number(box?.[2]) || 300 };
}

/** An <svg> element placed at (x, y) in an outer SVG, at its own size. */
function placeSvg(svg: string, x: number, y: number, width: number, height: number): string {
  const end = svg.indexOf(">");
  const open = svg.slice(0, end).replace(/\s(width|height|x|y)="[^"]*"/g, "");
  return `${open} x="${x}" y="${y}" width="${width}" height="${height}"${svg.slice(end)}`;
}

/**
 * Finished charts side by side in one SVG, each under its title, with an
 * optional heading and color key (`key`) above them all.
 */
export function sideBySide(
  panels: { title: string; chart: string }[],
  opts: { heading?: string; key?: { names: string[]; colors?: string[] }; gap?: number } = {},
): string {
  const gap = opts.gap ?? 24;
  const svgs = panels.map((p) => ({ title: p.title, svg: svgOnly(p.chart) }));
  const sizes = svgs.map((s) => sizeOf(s.svg));
  let top = 8;
  const head: string[] = [];
  if (opts.heading) {
    top += 16;
    head.push(`<text x="8" y="${top}" font-size="15" font-weight="bold">${escapeHtml(opts.heading)}</text>`);
    top += 8;
  }
  if (opts.key) {
    top += 14;
    head.push(`<g transform="translate(8,${top})">${keyLine(opts.key.names, opts.key.colors)}</g>`);
    top += 6;
  }
  const titleHeight = 22;
  let x = 8;
  const body: string[] = [];
  svgs.forEach((s, i) => {
    const { width, height } = sizes[i];
    body.push(
      `<text x="${x}" y="${top + 15}" font-size="13" font-weight="bold">${escapeHtml(s.title)}</text>`,
      placeSvg(s.svg, x, top + titleHeight, width, height),
    );
    x += width + gap;
  });
  const width = Math.max(x - gap + 8, 200);
  const height = top + titleHeight + Math.max(...sizes.map((s) => s.height), 0) + 8;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" fill="currentColor"><rect width="100%" height="100%" fill="white"/>${
    head.join("")
  }${body.join("")}</svg>`;
}
