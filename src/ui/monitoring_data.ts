/**
 * What the monitoring and status pages read from files: the drift summary
 * CSV (one row per column per drift run), the drift reports in reports/ (an
 * index file when the drift stage writes one: reports/index.json; otherwise
 * the file names), and the prediction log's records per model per day
 * (<predictions>/model=<name>/date=<day>/*.ndjson, and the older layout
 * without the model folder). Line counts are cached by file size and mtime,
 * so a page view re-reads only files that grew.
 */
import { join } from "node:path";

export interface DriftRun {
  runAt: string;
  columns: number;
  drifted: number;
  share: number;
  scores: {
    column: string;
    score: number | null;
    drifted: boolean;
    /**
     * how far the score is toward drift, on one scale for every test: 1 at the threshold, above it drift.
     * A distance's score / threshold; a p-value's log p / log threshold (a p-value is drift when small).
     * Capped at MAX_STRENGTH (a p of 1e-200 is not 150 times more drift than its threshold). Null when
     * the summary has no score or threshold.
     */
    strength: number | null;
  }[];
  /** the model the run checked (the summary's model column: "" for two tables; absent in files written before it) */
  model?: string;
}

function csvRow(line: string): string[] {
  const out: string[] = [];
  let cur = "", quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

/** Drift runs from the summary CSV, oldest first. */
/** The tests whose score is a p-value (src/drift/select.ts): drift when the score is at or below the threshold. */
const P_VALUE_TESTS = new Set(["ks", "chisquare", "z"]);
/** The strength a chart shows at most. */
export const MAX_STRENGTH = 10;

/** A score relative to its threshold, 1 at the threshold and above 1 for drift (see DriftRun.scores). */
export function driftStrength(score: number | null, threshold: number, pValue: boolean): number | null {
  if (score === null || !Number.isFinite(threshold) || threshold <= 0) return null;
  if (!pValue) return Math.min(MAX_STRENGTH, score / threshold);
  if (threshold >= 1) return null;
  return Math.min(MAX_STRENGTH, Math.log(Math.max(score, 1e-300)) / Math.log(threshold));
}

export function readDriftRuns(monitoringDir: string): DriftRun[] {
  let text: string;
  try {
    text = Deno.readTextFileSync(join(monitoringDir, "drift_summary.csv"));
  } catch {
    return [];
  }
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  const header = csvRow(lines[0] ?? "");
  const at = (name: string) => header.indexOf(name);
  const [iRun, iCol, iScore, iDrift, iModel, iTest, iThreshold, iP] = [
    at("run_at"),
    at("column"),
    at("score"),
    at("drifted"),
    at("model"),
    at("test"),
    at("threshold"),
    at("p_value"),
  ];
  if (iRun < 0 || iCol < 0) return [];
  const runs = new Map<string, DriftRun>();
  for (const line of lines.slice(1)) {
    const r = csvRow(line);
    const runAt = r[iRun];
    const run = runs.get(runAt) ??
      {
        runAt,
        columns: 0,
        drifted: 0,
        share: 0,
        scores: [],
        ...(iModel >= 0 ? { model: r[iModel] ?? "" } : {}),
      };
    const drifted = r[iDrift] === "true";
    const score = r[iScore] === "" || r[iScore] === undefined ? null : Number(r[iScore]);
    run.columns++;
    if (drifted) run.drifted++;
    const finite = score !== null && Number.isFinite(score) ? score : null;
    // a p-value test writes its p_value (the score is that p): small is drift
    const pValue = (iP >= 0 && r[iP] !== "" && r[iP] !== undefined) || P_VALUE_TESTS.has(r[iTest] ?? "");
    run.scores.push({
      column: r[iCol],
      score: finite,
      drifted,
      strength: driftStrength(finite, iThreshold >= 0 ? Number(r[iThreshold]) : NaN, pValue),
    });
    runs.set(runAt, run);
  }
  const out = [...runs.values()];
  for (const r of out) r.share = r.columns ? r.drifted / r.columns : 0;
  return out.sort((a, b) => (a.runAt < b.runAt ? -1 : 1));
}

export interface ReportEntry {
  file: string;
  /** the drift stage's record of the run (reports/index.json), when there is one */
  driftedColumns?: string[];
  threshold?: number;
  kind: "drift" | "train" | "other";
  /** ISO date or time when known */
  date?: string;
  model?: string;
  drifted?: boolean;
  share?: number;
}

/** Only plain report file names are ever served (no folders, no "..", no hidden files). */
export const REPORT_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.=-]*\.(html|md|json)$/;

/** Reports in `reportsDir`, newest first: from reports/index.json when present, else the folder. */
export function listReports(reportsDir: string, kind?: ReportEntry["kind"]): ReportEntry[] {
  const fromIndex = readIndex(reportsDir);
  let out: ReportEntry[];
  if (fromIndex) out = fromIndex;
  else {
    out = [];
    try {
      for (const e of Deno.readDirSync(reportsDir)) {
        if (!e.isFile || !REPORT_NAME.test(e.name) || !e.name.endsWith(".html") || e.name === "index.html") {
          continue;
        }
        const k = e.name.startsWith("drift_") ? "drift" : e.name.startsWith("train_") ? "train" : "other";
        const date = /(\d{4}-\d{2}-\d{2}(?:T[\d:.-]+Z?)?)/.exec(e.name)?.[1];
        out.push({ file: e.name, kind: k, date });
      }
    } catch {
      return [];
    }
  }
  const list = kind ? out.filter((r) => r.kind === kind) : out;
  return list.sort((
    a,
    b,
  ) => ((b.date ?? "") < (a.date ?? "")
    ? -1
    : (b.date ?? "") > (a.date ?? "")
    ? 1
    : a.file < b.file
    ? 1
    : -1)
  );
}

/** reports/index.json, read tolerantly: an array (or {reports: [...]}) of entries naming a file. */
function readIndex(reportsDir: string): ReportEntry[] | undefined {
  let json: unknown;
  try {
    json = JSON.parse(Deno.readTextFileSync(join(reportsDir, "index.json")));
  } catch {
    return undefined;
  }
  const list = Array.isArray(json) ? json : (json as { reports?: unknown })?.reports;
  if (!Array.isArray(list)) return undefined;
  const out: ReportEntry[] = [];
  for (const x of list as Record<string, unknown>[]) {
    const raw = String(x.file ?? x.path ?? x.href ?? "");
    const file = raw.split("/").pop() ?? "";
    if (!REPORT_NAME.test(file)) continue;
    const kindText = String(
      x.kind ?? x.type ??
        (file.startsWith("drift_") ? "drift" : file.startsWith("train_") ? "train" : "other"),
    );
    const kind = kindText === "drift" || kindText === "train" ? kindText : "other";
    const date = x.run_at ?? x.date ?? x.time ?? x.created;
    const share = x.drift_share ?? x.share;
    out.push({
      file,
      kind,
      date: date === undefined ? undefined : String(date),
      model: x.model === undefined || x.model === null ? undefined : String(x.model),
      drifted: typeof x.drifted === "boolean"
        ? x.drifted
        : typeof x.dataset_drift === "boolean"
        ? x.dataset_drift
        : undefined,
      share: typeof share === "number" ? share : undefined,
      driftedColumns: Array.isArray(x.drifted_columns) ? x.drifted_columns.map(String) : undefined,
      threshold: typeof x.drift_share_threshold === "number" ? x.drift_share_threshold : undefined,
    });
  }
  return out;
}

const lineCache = new Map<string, { size: number; mtime: number; lines: number }>();

function countLines(path: string): number {
  const st = Deno.statSync(path);
  const mtime = st.mtime?.getTime() ?? 0;
  const hit = lineCache.get(path);
  if (hit && hit.size === st.size && hit.mtime === mtime) return hit.lines;
  const bytes = Deno.readFileSync(path);
  let n = 0;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 10) n++;
  if (bytes.length && bytes[bytes.length - 1] !== 10) n++;
  lineCache.set(path, { size: st.size, mtime, lines: n });
  return n;
}

function dirs(path: string): string[] {
  try {
    return [...Deno.readDirSync(path)].filter((e) => e.isDirectory).map((e) => e.name);
  } catch {
    return [];
  }
}

/** Prediction-log records per model per day (model "" for the older layout without model folders). */
export function predictionTraffic(predictionsDir: string): { model: string; day: string; records: number }[] {
  const out: { model: string; day: string; records: number }[] = [];
  const countDay = (model: string, dir: string, day: string) => {
    let n = 0;
    try {
      for (const f of Deno.readDirSync(dir)) {
        if (f.isFile && f.name.endsWith(".ndjson")) n += countLines(join(dir, f.name));
      }
    } catch {
      return;
    }
    out.push({ model, day, records: n });
  };
  for (const d of dirs(predictionsDir)) {
    const m = /^model=(.+)$/.exec(d);
    if (m) {
      for (const day of dirs(join(predictionsDir, d))) {
        const dm = /^date=(\d{4}-\d{2}-\d{2})$/.exec(day);
        if (dm) countDay(m[1], join(predictionsDir, d, day), dm[1]);
      }
    } else {
      const dm = /^date=(\d{4}-\d{2}-\d{2})$/.exec(d);
      if (dm) countDay("", join(predictionsDir, d), dm[1]);
    }
  }
  return out.sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : a.model < b.model ? -1 : 1));
}
