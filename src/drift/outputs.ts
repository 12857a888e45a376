/**
 * What a drift run leaves behind: the summary CSV (one row per column per
 * run, appended), the per-column stats of the current data, and the --json
 * form. All writes are atomic.
 */
import { UserError } from "../core/errors.ts";
import { formatNumber, MISSING } from "../core/format.ts";
import { existsSync } from "node:fs";
import { dirname } from "node:path";
import { writeJsonAtomic, writeTextAtomic } from "../core/atomic.ts";
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
  withLock(path, () => {
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

/** How long a run waits for another's lock, and when a lock is a dead run's (its age). */
const LOCK_WAIT_MS = 10_000;
const STALE_LOCK_MS = 60_000;

/** Runs `fn` holding `<path>.lock` (created exclusively; removed after, and when older than a minute). */
function withLock<T>(path: string, fn: () => T): T {
  const lock = `${path}.lock`;
  const until = Date.now() + LOCK_WAIT_MS;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  Deno.mkdirSync(dirname(path), { recursive: true });
  for (;;) {
    try {
      Deno.openSync(lock, { write: true, createNew: true }).close();
      break;
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    }
    try {
      if (Date.now() - (Deno.statSync(lock).mtime?.getTime() ?? Date.now()) > STALE_LOCK_MS) {
        Deno.removeSync(lock); // left by a run that died
        continue;
      }
    } catch { /* released meanwhile: take it on the next try */ }
    if (Date.now() > until) {
      throw new UserError(
        `${path}: another drift run has held ${lock} for 10 s; remove it if none is running`,
      );
    }
    Atomics.wait(pause, 0, 0, 5);
  }
  try {
    return fn();
  } finally {
    try {
      Deno.removeSync(lock);
    } catch { /* removed as stale by another run */ }
  }
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
