/**
 * Drift history charts for the reports index (reports/index.html): one model's
 * drift runs over time, as SVG strings (Observable Plot via plot.ts). Each
 * function takes plain points (what the index reads from the reports' JSON
 * records), so a notebook can draw the same charts from reports/index.json.
 */
import { Plot, renderPlot, utcTickFormat } from "./plot.ts";

/** One drift run of a model, as the index records it. */
export interface DriftHistoryPoint {
  /** the run's time (ISO 8601, UTC) */
  at: string;
  drift_share: number;
  dataset_drift: boolean;
  /** the columns that drifted in this run */
  drifted_columns: string[];
  /** the share at or above which the dataset drifts, when known */
  threshold?: number;
}

const COLORS = { drift: "#e15759", ok: "#4e79a7" };

/** Layout both charts of a history share, so their runs line up: the left margin and the time axis. */
export interface HistoryLayout {
  width?: number;
  marginLeft?: number;
}

/** The time axis over every run (padded when there is one run only). */
function timeAxis(points: DriftHistoryPoint[]) {
  const times = points.map((p) => Date.parse(p.at));
  const lo = Math.min(...times), hi = Math.max(...times);
  const pad = hi > lo ? 0 : 12 * 3600 * 1000;
  return {
    label: "run (UTC)",
    type: "utc" as const,
    domain: [new Date(lo - pad), new Date(hi + pad)],
    tickFormat: utcTickFormat([lo - pad, hi + pad]),
    inset: 12,
  };
}

/** The left margin that fits the drifted columns' names (shared by both charts). */
export function historyMarginLeft(points: DriftHistoryPoint[], maxColumns = 30): number {
  const names = topDrifted(points, maxColumns);
  return Math.max(48, Math.min(200, 12 + Math.max(0, ...names.map((c) => c.length)) * 7));
}

function topDrifted(points: DriftHistoryPoint[], maxColumns: number): string[] {
  const counts = new Map<string, number>();
  for (const p of points) for (const c of p.drifted_columns) counts.set(c, (counts.get(c) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, maxColumns)
    .map(([c]) => c);
}

/** Dataset drift share per run (dots coloured by the verdict, a line through them, the threshold dashed). */
export function driftShareChart(
  points: DriftHistoryPoint[],
  layout: HistoryLayout = {},
  height = 220,
): string {
  const data = points.map((p) => ({
    at: new Date(p.at),
    share: p.drift_share,
    verdict: p.dataset_drift ? "dataset drift" : "no dataset drift",
  })).sort((a, b) => a.at.getTime() - b.at.getTime());
  const threshold = points.find((p) => p.threshold !== undefined)?.threshold;
  return renderPlot({
    width: layout.width ?? 640,
    height,
    marginLeft: layout.marginLeft ?? 48,
    marginRight: 24,
    x: timeAxis(points),
    y: { label: "drift share", domain: [0, 1], grid: true },
    color: {
      domain: ["no dataset drift", "dataset drift"],
      range: [COLORS.ok, COLORS.drift],
      legend: true,
    },
    marks: [
      ...(threshold === undefined
        ? []
        : [Plot.ruleY([threshold], { stroke: "#999", strokeDasharray: "4 4" })]),
      Plot.line(data, { x: "at", y: "share", stroke: "#bbb" }),
      Plot.dot(data, { x: "at", y: "share", fill: "verdict", r: 4 }),
    ],
  });
}

/** Which columns drifted in which run: one row per column (most often drifted first), a mark per drifted run. */
export function driftedColumnsChart(
  points: DriftHistoryPoint[],
  layout: HistoryLayout = {},
  maxColumns = 30,
): string {
  const columns = topDrifted(points, maxColumns);
  if (columns.length === 0) return "";
  const shown = new Set(columns);
  const data = points.flatMap((p) =>
    p.drifted_columns.filter((c) => shown.has(c)).map((c) => ({ at: new Date(p.at), column: c }))
  );
  return renderPlot({
    width: layout.width ?? 640,
    height: 50 + columns.length * 20,
    marginLeft: layout.marginLeft ?? historyMarginLeft(points, maxColumns),
    marginRight: 24,
    x: timeAxis(points),
    y: { label: null, domain: columns },
    marks: [
      Plot.dot(data, { x: "at", y: "column", fill: COLORS.drift, symbol: "square", r: 5 }),
    ],
  });
}
