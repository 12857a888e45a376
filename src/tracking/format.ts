/**
 * Plain-text views of runs for the CLI: an aligned table, a runs listing and a
 * side-by-side comparison. Pure functions (the tasks print them).
 */
import { formatNumber, MISSING } from "../core/format.ts";
import type { Run } from "./store.ts";

/** Left-aligned text columns separated by two spaces; numbers right-aligned. */
export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const isNumber = (c: string) => /^-?[\d.]+(e[-+]?\d+)?$/.test(c);
  const numeric = headers.map((_, i) =>
    rows.some((r) => isNumber(r[i] ?? "")) &&
    rows.every((r) => isNumber(r[i] ?? "") || r[i] === undefined || r[i] === "" || r[i] === MISSING)
  );
  const line = (cells: string[]) =>
    cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ").trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/** A metric or param value in a listing (the shared formatter, 4 decimals). */
export function fmtNumber(v: number | null | undefined, digits = 4): string {
  return formatNumber(v, { digits });
}

export function fmtTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "-";
  return new Date(ms).toISOString().replace("T", " ").slice(0, 19);
}

function fmtDuration(run: Pick<Run, "startTime" | "endTime">): string {
  if (run.endTime === null) return "-";
  const s = (run.endTime - run.startTime) / 1000;
  return s < 60 ? `${s.toFixed(1)}s` : `${Math.floor(s / 60)}m${Math.round(s % 60)}s`;
}

/** The metric keys worth showing in a listing: those in `prefer` first, then the commonest. */
/** The metrics a listing shows first when present: each kind's headline, then a tuning trial's CV means. */
const HEADLINE = ["roc_auc", "macro_roc_auc", "f1", "macro_f1", "recall", "accuracy", "rmse", "r2"];
export const HEADLINE_METRICS: readonly string[] = HEADLINE.flatMap((k) => [k, `cv_mean_${k}`]);

export function listingMetrics(runs: Run[], max = 6, prefer: string[] = []): string[] {
  const counts = new Map<string, number>();
  for (const r of runs) for (const k of Object.keys(r.metrics)) counts.set(k, (counts.get(k) ?? 0) + 1);
  const chosen = [...new Set(prefer)].filter((k) => counts.has(k));
  // per-fold and per-trial step histories are not headline metrics
  const rest = [...counts.entries()].filter(([k]) => !chosen.includes(k) && !/^(cv_fold_|trial_)/.test(k))
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([k]) => k);
  return [...chosen, ...rest].slice(0, Math.max(max, chosen.length));
}

export function runsListing(runs: Run[], metricKeys: string[], paramKeys: string[] = []): string {
  const headers = [
    "run_id",
    "experiment",
    "name",
    "status",
    "started",
    "duration",
    ...paramKeys,
    ...metricKeys,
  ];
  const rows = runs.map((r) => [
    r.runId.slice(0, 8),
    r.experiment,
    r.runName ?? "",
    r.status,
    fmtTime(r.startTime),
    fmtDuration(r),
    ...paramKeys.map((k) => r.params[k] ?? "-"),
    ...metricKeys.map((k) => fmtNumber(r.metrics[k])),
  ]);
  return formatTable(headers, rows);
}

export interface ComparisonRow {
  /** "attributes.status", "params.max_depth", "metrics.roc_auc", "tags.git.commit", "datasets.train" */
  field: string;
  values: (string | number | null)[];
  differs: boolean;
}

/** Runs side by side: one row per attribute, param, metric, tag and dataset. */
export function compareRuns(runs: Run[]): ComparisonRow[] {
  const rows: ComparisonRow[] = [];
  const add = (field: string, values: (string | number | null)[]) => {
    const texts = values.map((v) => (typeof v === "number" && Number.isNaN(v) ? "NaN" : JSON.stringify(v)));
    rows.push({ field, values, differs: new Set(texts).size > 1 });
  };
  const union = (pick: (r: Run) => Record<string, unknown>) =>
    [...new Set(runs.flatMap((r) => Object.keys(pick(r))))].sort();
  add("attributes.experiment", runs.map((r) => r.experiment));
  add("attributes.run_name", runs.map((r) => r.runName));
  add("attributes.status", runs.map((r) => r.status));
  add("attributes.start_time", runs.map((r) => fmtTime(r.startTime)));
  add("attributes.duration", runs.map((r) => fmtDuration(r)));
  add("attributes.parent_run_id", runs.map((r) => r.parentRunId));
  for (const k of union((r) => r.params)) add(`params.${k}`, runs.map((r) => r.params[k] ?? null));
  for (const k of union((r) => r.metrics)) add(`metrics.${k}`, runs.map((r) => r.metrics[k] ?? null));
  for (const k of union((r) => r.tags)) add(`tags.${k}`, runs.map((r) => r.tags[k] ?? null));
  const datasets = [...new Set(runs.flatMap((r) => r.datasets.map((d) => d.name)))].sort();
  for (const name of datasets) {
    add(
      `datasets.${name}`,
      runs.map((r) => {
        const d = r.datasets.find((x) => x.name === name);
        return d ? `${d.sha256.slice(0, 12)} (${d.rows} rows)` : null;
      }),
    );
  }
  for (const k of union((r) => r.artifacts)) add(`artifacts.${k}`, runs.map((r) => r.artifacts[k] ?? null));
  return rows;
}

export function comparisonTable(runs: Run[], rows: ComparisonRow[]): string {
  const headers = ["", "field", ...runs.map((r) => r.runId.slice(0, 8))];
  const cell = (v: string | number | null) =>
    v === null ? "-" : typeof v === "number" ? fmtNumber(v) : v.length > 40 ? v.slice(0, 37) + "..." : v;
  return formatTable(headers, rows.map((r) => [r.differs ? "*" : "", r.field, ...r.values.map(cell)]));
}
