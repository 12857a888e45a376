/**
 * The drift report: one self-contained HTML page (inline CSS and SVG, no
 * scripts, opens offline). A verdict, the summary table sorted by score (most
 * drifted first), the quality checks, then one Observable Plot chart per column
 * comparing reference and current shares. Charts are drawn from the aggregated
 * bins in DriftResult only (at most ~30 bins or 20 categories a column), so the
 * page size does not grow with the row count.
 */
import type { ColumnChart, DriftResult } from "./detect.ts";
import { fmtScore } from "./outputs.ts";
import { escapeHtml, htmlPage, htmlTable } from "../report/html.ts";
import { Plot, renderPlot } from "../report/plot.ts";

export interface DriftReportMeta {
  title?: string;
  reference: string;
  current: string;
  runAt: string;
  /** the model checked: its URI, label column and task kind */
  model?: { uri: string; name: string; target: string; kind: string };
  /** performance drift: what was measured (or why not), one line per metric */
  performance?: { note?: string; lines: string[] };
}

const COLORS = { reference: "#4e79a7", current: "#e15759" };

/** One chart comparing reference and current shares for a column. */
export function driftChart(chart: ColumnChart, width = 340, height = 200): string {
  if (chart.type === "numeric" && chart.bins.every((b) => b.x0 !== undefined)) {
    const data = chart.bins.flatMap((b) => [
      { x1: b.x0!, x2: b.x1!, share: b.reference, set: "reference" },
      { x1: b.x0!, x2: b.x1!, share: b.current, set: "current" },
    ]);
    return renderPlot({
      width,
      height,
      marginLeft: 45,
      x: { label: chart.column },
      y: { label: "share", grid: true },
      color: { domain: ["reference", "current"], range: [COLORS.reference, COLORS.current], legend: true },
      marks: [
        // y1/y2 rather than y: the two sets overlap from zero instead of stacking
        Plot.rectY(data, {
          x1: "x1",
          x2: "x2",
          y1: 0,
          y2: "share",
          fill: "set",
          fillOpacity: 0.45,
          inset: 0,
        }),
        Plot.ruleY([0]),
      ],
    });
  }
  const data = chart.bins.flatMap((b) => [
    { label: b.label, share: b.reference, set: "reference" },
    { label: b.label, share: b.current, set: "current" },
  ]);
  // one row of two bars per category: category names on the left, colours in the legend
  const longest = Math.max(...chart.bins.map((b) => b.label.length), 4);
  return renderPlot({
    width,
    height: Math.max(height, 50 + chart.bins.length * 24),
    marginLeft: Math.min(160, 12 + longest * 7),
    x: { label: "share", grid: true },
    y: { axis: null, domain: ["reference", "current"] },
    fy: { label: null, axis: "left", domain: chart.bins.map((b) => b.label) },
    color: { domain: ["reference", "current"], range: [COLORS.reference, COLORS.current], legend: true },
    marks: [Plot.barX(data, { y: "set", x: "share", fy: "label", fill: "set" }), Plot.ruleX([0])],
  });
}

const fmt = (v: number | null) => fmtScore(v, "");

export function renderDriftReport(result: DriftResult, meta: DriftReportMeta): string {
  const title = meta.title ?? `Drift report ${meta.runAt.slice(0, 10)}`;
  const verdict = result.dataset_drift
    ? `<p class="fail">Dataset drift: ${result.drifted_columns.length} of ${result.columns.length} columns drifted (share ${
      result.drift_share.toFixed(3)
    } &ge; ${result.drift_share_threshold}).</p>`
    : `<p class="pass">No dataset drift: ${result.drifted_columns.length} of ${result.columns.length} columns drifted (share ${
      result.drift_share.toFixed(3)
    } &lt; ${result.drift_share_threshold}).</p>`;
  const summary = htmlTable(
    ["column", "type", "test", "statistic", "p-value", "score", "threshold", "drifted", "PSI"],
    result.columns.map((c) => [
      c.role === "prediction" ? `${c.column} (prediction)` : c.column,
      c.type,
      c.test,
      fmt(c.statistic),
      fmt(c.p_value),
      fmt(c.score),
      c.threshold,
      c.drifted ? "DRIFT" : "ok",
      fmt(c.psi),
    ]),
    (row) => (row[7] === "DRIFT" ? "fail" : ""),
  );
  const quality = htmlTable(
    ["check", "status", "detail"],
    result.quality.map((q) => [q.check, q.status.toUpperCase(), q.detail]),
    (row) => (row[1] === "FAIL" ? "fail" : "pass"),
  );
  const perf = meta.performance && (meta.performance.lines.length || meta.performance.note)
    ? `<h2>Model performance</h2>${
      meta.performance.note ? `<p class="muted">${escapeHtml(meta.performance.note)}</p>` : ""
    }${
      meta.performance.lines.length
        ? `<ul>${meta.performance.lines.map((l) => `<li>${escapeHtml(l)}</li>`).join("")}</ul>`
        : ""
    }`
    : "";
  const modelLine = meta.model
    ? `<p class="muted">model: ${escapeHtml(meta.model.uri)} (${escapeHtml(meta.model.kind)}, label ${
      escapeHtml(meta.model.target)
    })</p>\n`
    : "";
  const notes = result.notes.length
    ? `<h2>Notes</h2><ul>${result.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join("")}</ul>`
    : "";
  const byColumn = new Map(result.columns.map((c) => [c.column, c]));
  const charts = result.charts.map((ch) => {
    const c = byColumn.get(ch.column);
    const head = c
      ? `${escapeHtml(ch.column)} <span class="${c.drifted ? "fail" : "muted"}">${c.test} ${fmt(c.score)}${
        c.drifted ? " DRIFT" : ""
      }</span>`
      : escapeHtml(ch.column);
    return `<figure><h3>${head}</h3>${driftChart(ch)}</figure>`;
  }).join("\n");
  const body = `<h1>${escapeHtml(title)}</h1>
<p class="muted">reference: ${escapeHtml(meta.reference)} (${result.reference_rows} rows) &middot; current: ${
    escapeHtml(meta.current)
  } (${result.current_rows} rows) &middot; run at ${escapeHtml(meta.runAt)}</p>
${modelLine}${verdict}
<h2>Columns, most drifted first</h2>
${summary}
<p class="muted">score: the p-value for ks, chisquare and z (drift when &le; threshold), the distance for wasserstein
(normed by the reference std), jensenshannon and psi (drift when &ge; threshold). PSI uses reference-quantile bins
with 0.0001 for empty bins.</p>
<h2>Data quality</h2>
${quality}
${perf}${notes}
<h2>Distributions (reference vs current shares)</h2>
<div class="grid">
${charts}
</div>`;
  return htmlPage(title, body);
}
