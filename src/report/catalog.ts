/**
 * The reports index: reports/index.html (and reports/index.json, the same list
 * for programs) lists every train and drift report in the folder, newest
 * first, with its verdict and links, and charts each model's drift history.
 *
 * Each report has a small JSON record beside it (<report>.json: kind, time,
 * model, verdict, and for drift runs the drift share and drifted columns),
 * written atomically by the stage that wrote the report. The index is rebuilt
 * from the files present after every train and drift run, so deleting a
 * report (and its record) removes it from the next index, and a report saved
 * before records existed is still listed (by its file's time, verdict
 * unknown). Two processes rebuilding at once: each re-reads the folder after
 * writing and rebuilds again when it changed meanwhile, so the last index
 * written lists both reports.
 */
import { join, relative } from "node:path";
import { formatNumber } from "../core/format.ts";
import { writeJsonAtomic, writeTextAtomic } from "../core/atomic.ts";
import { escapeHtml, htmlPage } from "./html.ts";
import {
  driftedColumnsChart,
  type DriftHistoryPoint,
  driftShareChart,
  historyMarginLeft,
} from "./history.ts";

export const RECORD_FORMAT = "orchard-report-record";
export const INDEX_HTML = "index.html";
export const INDEX_JSON = "index.json";

/** What the index knows of one report. */
export interface ReportRecord {
  kind: "train" | "drift";
  /** the report's file name, in the same folder as its record */
  file: string;
  /** when the run wrote it (ISO 8601, UTC) */
  created: string;
  /** the model it is about (a registered name, or an artifact folder's name), when known */
  model: string | null;
  run_id?: string | null;
  /** one line for people */
  verdict: string;
  /** pass: nothing to act on; fail: drift or degraded performance; info: a train run, or unknown */
  status: "pass" | "fail" | "info";
  /** other files of the run (relative to the reports folder, or absolute) */
  links?: { label: string; href: string }[];
  // drift runs
  dataset_drift?: boolean;
  drift_share?: number;
  drift_share_threshold?: number;
  drifted_columns?: string[];
  columns_tested?: number;
  // train runs
  task?: string;
  metrics?: Record<string, number | null>;
}

const REPORT_FILE = /^(train|drift)_.+\.html$/;

/** The record's path beside a report: <name>.json for <name>.html. */
export function recordPathFor(reportPath: string): string {
  return reportPath.replace(/\.html$/, "") + ".json";
}

/** A link to a file from the reports folder (relative, as the index page links it). */
export function linkFrom(dir: string, path: string): string {
  return relative(dir, path).split("\\").join("/");
}

/** Writes a report's record beside it (atomically) and rebuilds the folder's index. Returns the index path. */
export function recordReport(dir: string, record: ReportRecord): string {
  writeJsonAtomic(join(dir, recordPathFor(record.file)), { format: RECORD_FORMAT, version: 1, ...record });
  return rebuildReportIndex(dir);
}

/** The headline metrics a train report is listed with (at most three of those present). */
const HEADLINE = [
  "roc_auc",
  "roc_auc_macro",
  "macro_roc_auc",
  "accuracy",
  "macro_f1",
  "f1",
  "rmse",
  "mae",
  "r2",
];

/** What a train run gives the index (the train stage's result has these fields). */
export interface TrainReportInfo {
  run_id: string;
  model_name: string;
  task: string;
  algorithm?: string;
  metrics: Record<string, number>;
  report?: string;
  summary?: string;
}

/** Records a train run's report (reports/train_<run>.html) and rebuilds the index. */
export function recordTrainReport(
  dir: string,
  result: TrainReportInfo,
  now = new Date(),
): string | undefined {
  if (!result.report) return undefined;
  const file = result.report.split(/[\\/]/).pop()!;
  const metrics: Record<string, number | null> = {};
  for (const k of HEADLINE) {
    if (k in result.metrics && Object.keys(metrics).length < 3) {
      const v = result.metrics[k];
      metrics[k] = Number.isFinite(v) ? v : null;
    }
  }
  const shown = Object.entries(metrics).map(([k, v]) => `${k} ${formatNumber(v)}`).join(", ");
  return recordReport(dir, {
    kind: "train",
    file,
    created: now.toISOString(),
    model: result.model_name,
    run_id: result.run_id,
    verdict: `trained ${result.algorithm ? `${result.algorithm} ` : ""}${result.task}${
      shown ? `: ${shown}` : ""
    }`,
    status: "info",
    task: result.task,
    metrics,
    ...(result.summary ? { links: [{ label: "markdown", href: linkFrom(dir, result.summary) }] } : {}),
  });
}

function listing(dir: string): string[] {
  try {
    return [...Deno.readDirSync(dir)].filter((e) => e.isFile).map((e) => e.name).sort();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
}

function readRecord(dir: string, file: string): ReportRecord {
  const fallback = (): ReportRecord => {
    let created: string;
    try {
      created = (Deno.statSync(join(dir, file)).mtime ?? new Date(0)).toISOString();
    } catch {
      created = new Date(0).toISOString();
    }
    return {
      kind: file.startsWith("train_") ? "train" : "drift",
      file,
      created,
      model: null,
      verdict: "verdict unknown (no record beside the report)",
      status: "info",
    };
  };
  let raw: unknown;
  try {
    raw = JSON.parse(Deno.readTextFileSync(join(dir, recordPathFor(file))));
  } catch {
    return fallback();
  }
  const r = raw as Partial<ReportRecord> & { format?: string };
  if (
    r === null || typeof r !== "object" || r.format !== RECORD_FORMAT || r.file !== file ||
    typeof r.created !== "string" || Number.isNaN(Date.parse(r.created)) || typeof r.verdict !== "string"
  ) return fallback();
  const { format: _, version: __, ...record } = r as ReportRecord & { format: string; version: number };
  return record;
}

/** Every report in the folder with its record, newest first. */
export function readReportRecords(dir: string): ReportRecord[] {
  return listing(dir).filter((n) => REPORT_FILE.test(n)).map((n) => readRecord(dir, n))
    .sort((a, b) => Date.parse(b.created) - Date.parse(a.created) || b.file.localeCompare(a.file));
}

/** A model's drift runs as history points, oldest first. */
export function driftHistory(records: ReportRecord[]): Map<string, DriftHistoryPoint[]> {
  const out = new Map<string, DriftHistoryPoint[]>();
  for (const r of records) {
    if (r.kind !== "drift" || typeof r.drift_share !== "number") continue;
    const key = r.model ?? "(no model)";
    const list = out.get(key) ?? [];
    list.push({
      at: r.created,
      drift_share: r.drift_share,
      dataset_drift: r.dataset_drift === true,
      drifted_columns: r.drifted_columns ?? [],
      ...(typeof r.drift_share_threshold === "number" ? { threshold: r.drift_share_threshold } : {}),
    });
    out.set(key, list);
  }
  for (const list of out.values()) list.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  return out;
}

const INDEX_CSS = `<style>
table.reports td,table.reports th{text-align:left;vertical-align:top}
table.reports td.when{white-space:nowrap;font-variant-numeric:tabular-nums}
table.reports td.links{white-space:nowrap}
</style>`;

/** The index page: each model's drift history (charts), then every report, newest first. */
export function renderReportIndex(records: ReportRecord[], generated: string): string {
  const rows = records.map((r) => {
    const links = [
      `<a href="${escapeHtml(r.file)}" title="${escapeHtml(r.file)}">report</a>`,
      ...(r.links ?? []).map((l) => `<a href="${escapeHtml(l.href)}">${escapeHtml(l.label)}</a>`),
    ].join(" &middot; ");
    const cls = r.status === "fail" ? "fail" : r.status === "pass" ? "pass" : "";
    return `<tr><td class="when">${escapeHtml(r.created.replace("T", " ").replace(/\.\d+Z$/, "Z"))}</td>` +
      `<td>${r.kind}</td><td>${escapeHtml(r.model ?? "")}</td>` +
      `<td${cls ? ` class="${cls}"` : ""}>${escapeHtml(r.verdict)}</td><td class="links">${links}</td></tr>`;
  }).join("\n");
  const table = records.length
    ? `<table class="reports"><thead><tr><th>run at (UTC)</th><th>kind</th><th>model</th><th>verdict</th>` +
      `<th>links</th></tr></thead><tbody>\n${rows}\n</tbody></table>`
    : `<p class="muted">No reports yet: deno task train and deno task drift write them here.</p>`;
  const history = [...driftHistory(records)].sort(([a], [b]) => a.localeCompare(b)).map(([model, points]) => {
    const drifted = points.filter((p) => p.dataset_drift).length;
    const layout = { marginLeft: historyMarginLeft(points) }; // both charts' runs line up
    const columns = driftedColumnsChart(points, layout);
    return `<h3>${escapeHtml(model)}</h3>
<p class="muted">${points.length} drift run${
      points.length === 1 ? "" : "s"
    }, ${drifted} with dataset drift</p>
<figure><h4>Dataset drift share per run</h4>${driftShareChart(points, layout)}</figure>
${
      columns
        ? `<figure><h4>Columns that drifted, per run</h4>${columns}</figure>`
        : `<p class="muted">No column drifted in any run.</p>`
    }`;
  }).join("\n");
  const body = `${INDEX_CSS}
<h1>Reports</h1>
<p class="muted">${records.length} report${records.length === 1 ? "" : "s"}; rebuilt ${
    escapeHtml(generated)
  } after every train and drift run. The same list for programs: <a href="${INDEX_JSON}">${INDEX_JSON}</a>.</p>
${history ? `<h2>Drift history</h2>\n${history}\n` : ""}<h2>Every report, newest first</h2>
${table}`;
  return htmlPage("Reports", body);
}

/**
 * Rebuilds index.html and index.json from the reports and records in `dir`
 * (each written atomically). Returns the index.html path.
 */
export function rebuildReportIndex(dir: string, now = () => new Date()): string {
  const htmlPath = join(dir, INDEX_HTML);
  let before = "";
  for (let attempt = 0; attempt < 5; attempt++) {
    before = listing(dir).filter((n) => REPORT_FILE.test(n) || /^(train|drift)_.+\.json$/.test(n)).join("\n");
    const records = readReportRecords(dir);
    const generated = now().toISOString();
    writeJsonAtomic(join(dir, INDEX_JSON), { generated, reports: records });
    writeTextAtomic(htmlPath, renderReportIndex(records, generated));
    const after = listing(dir).filter((n) => REPORT_FILE.test(n) || /^(train|drift)_.+\.json$/.test(n))
      .join("\n");
    // another run added (or removed) a report while this index was written: read the folder again
    if (after === before) break;
  }
  return htmlPath;
}
