/**
 * Names and index records of a drift run's outputs. Each run's report and
 * input stats are named by the model and the run's UTC time
 * (reports/drift_<model>_<YYYYMMDDTHHMMSSZ>.html,
 * <monitoring>/input_stats_<model>_<time>.json), with _2, _3 ... added when a
 * run of the same second already wrote that name, so no run replaces
 * another's files. A run without a model drops the model part.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { DriftResult } from "./detect.ts";
import type { PerformanceResult } from "./performance.ts";
import type { ReportRecord } from "../report/catalog.ts";

/** 2026-03-02T09:00:00.123Z -> 20260302T090000Z */
export function compactStamp(now: Date): string {
  return now.toISOString().replace(/\.\d+Z$/, "Z").replace(/[-:]/g, "");
}

/** A model name as a file-name part: letters, digits, '_', '.', '-' (anything else becomes '_'). */
const safe = (name: string) => name.replace(/[^A-Za-z0-9_.-]/g, "_");

/** The input stats file name of a run's stem (drift_x -> input_stats_x.json). */
export function statsFileOf(stem: string): string {
  return `input_stats_${stem.slice("drift_".length)}.json`;
}

/** The run's unique stem: drift_<model>_<time>, or with _2, _3 ... when that name is taken. */
export function runStem(
  reportDir: string,
  monitoringDir: string,
  model: string | undefined,
  now: Date,
): string {
  const base = `drift_${model ? `${safe(model)}_` : ""}${compactStamp(now)}`;
  const taken = (stem: string) =>
    existsSync(join(reportDir, `${stem}.html`)) || existsSync(join(reportDir, `${stem}.json`)) ||
    existsSync(join(monitoringDir, statsFileOf(stem)));
  let stem = base;
  for (let n = 2; taken(stem); n++) stem = `${base}_${n}`;
  return stem;
}

/** The reports index's record of a drift run. */
export function driftRecord(
  result: DriftResult,
  performance: PerformanceResult | undefined,
  meta: { file: string; created: string; model: string | null; links: ReportRecord["links"] },
): ReportRecord {
  const n = result.drifted_columns.length, total = result.columns.length;
  const share = result.drift_share.toFixed(3);
  const degraded = performance?.metrics
    ? Object.entries(performance.metrics).filter(([, m]) => m.degraded).map(([k]) => k)
    : [];
  const perf = performance === undefined
    ? ""
    : performance.status === "skipped"
    ? "; performance not measured"
    : degraded.length
    ? `; performance DEGRADED (${degraded.join(", ")})`
    : "; performance ok";
  return {
    kind: "drift",
    file: meta.file,
    created: meta.created,
    model: meta.model,
    verdict:
      `${result.dataset_drift ? "DATASET DRIFT" : "no dataset drift"}: ${n}/${total} columns drifted ` +
      `(share ${share})${perf}`,
    status: result.dataset_drift || degraded.length ? "fail" : "pass",
    links: meta.links,
    dataset_drift: result.dataset_drift,
    drift_share: result.drift_share,
    drift_share_threshold: result.drift_share_threshold,
    drifted_columns: result.drifted_columns,
    columns_tested: total,
  };
}
