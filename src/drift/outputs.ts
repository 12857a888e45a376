/**
 * What a drift run leaves behind: the summary CSV (one row per column per
 * run, appended), the per-column stats of the current data, and the --json
 * form. All writes are atomic.
 */
import { formatNumber, MISSING } from "../core/format.ts";
import { existsSync } from "node:fs";
import { withFileLock, writeJsonAtomic, writeTextAtomic } from "../core/atomic.ts";
import type { ColumnDrift, DriftResult } from "./detect.ts";
import type { QualityCheck } from "./quality.ts";
import type { PerformanceResult } from "./performance.ts";

export type { PerformanceResult } from "./performance.ts";

/** `model`: the model the run checked (empty for a run of two tables); last, so older readers stay right */
export const SUMMARY_HEADER = "run_at,column,type,test,statistic,p_value,score,threshold,drifted,model";
/** the header before the model column: such a file gets the column, its rows an empty model */
const HEADER_WITHOUT_MODEL = "run_at,column,type,test,statistic,p_value,score,threshold,drifted";

function csvCell(v: unknown): string {
  if (v === null || v === undefined || (typeof v === "number" && Number.isNaN(v))) return "";
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A test score, p-value or PSI for people: 4 decimals, or 2 significant digits when tiny. */
export function fmtScore(v: number | null, missing = MISSING): string {
  return formatNumber(v, { digits: 4, exponentDigits: 2, fixedIntegers: true, missing });
}

/**
 * Appends one row per column to the summary CSV (header written when the file is new), under a lock
 * file: the file is rewritten whole (atomically), and two drift runs at once would otherwise each
 * write back what they read, losing the other's rows.
 */
export function appendSummaryCsv(path: string, runAt: string, columns: ColumnDrift[], model?: string): void {
  withFileLock(path, "drift run", () => {
    let text = "";
    if (existsSync(path)) {
      text = Deno.readTextFileSync(path);
      if (text.length && !text.endsWith("\n")) text += "\n";
    }
    if (text.trim() === "") text = SUMMARY_HEADER + "\n";
    else if (text.startsWith(HEADER_WITHOUT_MODEL + "\n")) text = withModelColumn(text);
    for (const c of columns) {
      text +=
        [runAt, c.column, c.type, c.test, c.statistic, c.p_value, c.score, c.threshold, c.drifted, model]
          .map(csvCell).join(",") + "\n";
    }
    writeTextAtomic(path, text);
  });
}

/** A summary written before the model column, with it: an empty model on each row. */
function withModelColumn(text: string): string {
  const lines = text.slice(HEADER_WITHOUT_MODEL.length + 1).split("\n").filter((l) => l !== "");
  return [SUMMARY_HEADER, ...lines.map((l) => l + ",")].join("\n") + "\n";
}

export function writeInputStats(path: string, runAt: string, source: string, result: DriftResult): void {
  writeJsonAtomic(path, { run_at: runAt, source, rows: result.current_rows, columns: result.current_stats });
}

export interface DriftJson {
  dataset_drift: boolean;
  drift_share: number;
  columns: Pick<
    ColumnDrift,
    "column" | "type" | "test" | "statistic" | "p_value" | "score" | "threshold" | "drifted" | "psi"
  >[];
  quality: QualityCheck[];
  report: string;
  /** the report's record and the reports index it was listed in */
  index?: string;
  /** the model checked: its URI, label column and task kind */
  model?: { uri: string; name: string; target: string; kind: string };
  performance?: PerformanceResult;
  notes?: string[];
}

const num = (v: number) => (Number.isFinite(v) ? v : null) as number;

/** The --json form. */
export function toJson(
  result: DriftResult,
  report: string,
  performance?: PerformanceResult,
  extra: Pick<DriftJson, "index" | "model"> = {},
): DriftJson {
  return {
    dataset_drift: result.dataset_drift,
    drift_share: result.drift_share,
    columns: result.columns.map((c) => ({
      column: c.column,
      type: c.type,
      test: c.test,
      statistic: num(c.statistic),
      p_value: c.p_value === null ? null : num(c.p_value),
      score: num(c.score),
      threshold: c.threshold,
      drifted: c.drifted,
      psi: num(c.psi),
    })),
    quality: result.quality,
    report,
    ...extra,
    ...(performance ? { performance } : {}),
    ...(result.notes.length ? { notes: result.notes } : {}),
  };
}
