/**
 * Rich display for the Deno Jupyter kernel. The kernel shows a cell's last
 * value through `value[Symbol.for("Jupyter.display")]()`, which returns a MIME
 * bundle ({"text/html": ..., "text/plain": ...}). This module turns the things
 * a notebook holds into such bundles:
 *
 * - nodejs-polars DataFrames and Series, and arrays of records -> an HTML table
 *   (the first `maxRows` rows, with the shape) plus a plain-text fallback
 *   (polars' own Jupyter bundle would render every row);
 * - Observable Plot options, or an SVG string rendered by src/report/plot.ts ->
 *   `image/svg+xml` (or `text/html` when Plot wrapped the chart in a figure
 *   with a legend);
 * - anything else -> `text/plain` (and `application/json` for plain data).
 *
 * Pipeline reports and notebooks share the chart functions in src/report/:
 * a notebook cell ends with `chart(rocCurve(...))` where a report inlines
 * the same SVG string. Polars is duck-typed, so importing this module needs
 * no FFI permission.
 */
import type * as PlotNS from "@observablehq/plot";
import { escapeHtml, htmlTable } from "../report/html.ts";
import { renderPlot } from "../report/plot.ts";

export const JUPYTER_DISPLAY: unique symbol = Symbol.for("Jupyter.display") as never;

/** MIME type -> content, as Jupyter's display_data carries it. */
export type MimeBundle = Record<string, unknown>;

export interface Displayable {
  [JUPYTER_DISPLAY](): MimeBundle;
}

export interface DisplayOptions {
  /** tables: how many rows to show (default 20) */
  maxRows?: number;
  /** tables: a caption above the table */
  caption?: string;
}

const DEFAULT_MAX_ROWS = 20;

/** The parts of a nodejs-polars DataFrame this module uses. */
export interface DataFrameLike {
  readonly columns: string[];
  readonly height: number;
  readonly width: number;
  head(n: number): DataFrameLike;
  toRecords(): Record<string, unknown>[];
  toString(): string;
}

/** The parts of a nodejs-polars Series this module uses. */
export interface SeriesLike {
  readonly name: string;
  len(): number;
  toArray(): unknown[];
  head(n: number): SeriesLike;
}

export function isDisplayable(v: unknown): v is Displayable {
  return typeof v === "object" && v !== null &&
    typeof (v as Record<symbol, unknown>)[JUPYTER_DISPLAY] === "function";
}

export function isDataFrame(v: unknown): v is DataFrameLike {
  if (typeof v !== "object" || v === null) return false;
  const o = v as Record<string, unknown>;
  return Array.isArray(o.columns) && typeof o.height === "number" && typeof o.width === "number" &&
    typeof o.head === "function" && typeof o.toRecords === "function";
}

function isSeries(v: unknown): v is SeriesLike {
  if (typeof v !== "object" || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o.name === "string" && typeof o.len === "function" && typeof o.toArray === "function" &&
    typeof o.head === "function" && typeof o.dtype === "object";
}

function isPlainRecord(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** An array of plain objects: shown as a table whose columns are the union of keys. */
function isRecordArray(v: unknown): v is Record<string, unknown>[] {
  return Array.isArray(v) && v.length > 0 && v.every(isPlainRecord);
}

/** Plot options rather than a rendered chart: an object with `marks`. */
function isPlotOptions(v: unknown): v is PlotNS.PlotOptions {
  return isPlainRecord(v) && Array.isArray(v.marks);
}

/** A DOM element (linkedom's or a browser's) that serializes itself. */
function outerHtmlOf(v: unknown): string | undefined {
  if (typeof v !== "object" || v === null) return undefined;
  const html = (v as { outerHTML?: unknown }).outerHTML;
  return typeof html === "string" ? html : undefined;
}

function plainText(v: unknown): string {
  if (typeof v === "string") return v;
  return Deno.inspect(v, { colors: false, depth: 4, iterableLimit: 50, strAbbreviateSize: 500 });
}

function shapeLine(rows: number, cols: number, shown: number): string {
  const fmt = (n: number) => n.toLocaleString("en-US");
  const dims = `${fmt(rows)} row${rows === 1 ? "" : "s"} × ${fmt(cols)} column${cols === 1 ? "" : "s"}`;
  return shown < rows ? `${dims} (first ${fmt(shown)} shown)` : dims;
}

function tableHtml(
  columns: string[],
  records: Record<string, unknown>[],
  totalRows: number,
  opts: DisplayOptions,
): string {
  const rows = records.map((r) => columns.map((c) => cellValue(r[c])));
  const caption = opts.caption ? `<p><strong>${escapeHtml(opts.caption)}</strong></p>\n` : "";
  const shape = `<p style="color:#666;font-size:smaller">${
    escapeHtml(shapeLine(totalRows, columns.length, records.length))
  }</p>`;
  return `<div class="orchard-table">${caption}${htmlTable(columns, rows)}\n${shape}</div>`;
}

/** Values as a table cell shows them: dates as ISO text, nested values as JSON. */
function cellValue(v: unknown): unknown {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? "Invalid Date" : v.toISOString();
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "object" && v !== null) return JSON.stringify(v);
  return v;
}

function textTable(columns: string[], records: Record<string, unknown>[], totalRows: number): string {
  const cells = records.map((r) => columns.map((c) => String(cellValue(r[c]) ?? "")));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i].length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i])).join("  ").trimEnd();
  return [line(columns), ...cells.map(line), shapeLine(totalRows, columns.length, records.length)]
    .join("\n");
}

function dataFrameBundle(df: DataFrameLike, opts: DisplayOptions): MimeBundle {
  const maxRows = Math.max(0, opts.maxRows ?? DEFAULT_MAX_ROWS);
  const records = df.head(Math.min(maxRows, df.height)).toRecords();
  return {
    "text/html": tableHtml(df.columns, records, df.height, opts),
    "text/plain": textTable(df.columns, records, df.height),
  };
}

function recordsBundle(rows: Record<string, unknown>[], opts: DisplayOptions): MimeBundle {
  const maxRows = Math.max(0, opts.maxRows ?? DEFAULT_MAX_ROWS);
  const columns: string[] = [];
  const seen = new Set<string>();
  for (const r of rows) {
    for (const k of Object.keys(r)) {
      if (!seen.has(k)) {
        seen.add(k);
        columns.push(k);
      }
    }
  }
  const shown = rows.slice(0, maxRows);
  return {
    "text/html": tableHtml(columns, shown, rows.length, opts),
    "text/plain": textTable(columns, shown, rows.length),
    "application/json": rows,
  };
}

/** The bundle for rendered chart markup: a bare <svg> is an image, a <figure> (legend) is HTML. */
export function svgBundle(markup: string): MimeBundle {
  const trimmed = markup.trim();
  if (/^<svg[\s>]/i.test(trimmed)) {
    const svg = /\sxmlns=/.test(trimmed.slice(0, trimmed.indexOf(">")))
      ? trimmed
      : trimmed.replace(/^<svg/i, '<svg xmlns="http://www.w3.org/2000/svg"');
    return { "image/svg+xml": svg, "text/plain": "[chart]" };
  }
  return { "text/html": trimmed, "text/plain": "[chart]" };
}

function looksLikeChartMarkup(s: string): boolean {
  const t = s.trimStart();
  return /^<svg[\s>]/i.test(t) || (/^<figure[\s>]/i.test(t) && t.includes("<svg"));
}

/**
 * The MIME bundle for any value. Pure: rendering a Plot happens here, but
 * nothing is displayed; `display` wraps the result for the kernel.
 */
export function mimeBundle(value: unknown, opts: DisplayOptions = {}): MimeBundle {
  // before isDisplayable: nodejs-polars' own bundle renders every row of the frame
  if (isDataFrame(value)) return dataFrameBundle(value, opts);
  if (isSeries(value)) {
    const maxRows = Math.max(0, opts.maxRows ?? DEFAULT_MAX_ROWS);
    const name = value.name || "value";
    const total = value.len();
    const records = value.head(Math.min(maxRows, total)).toArray().map((v) => ({ [name]: v }));
    return {
      "text/html": tableHtml([name], records, total, opts),
      "text/plain": textTable([name], records, total),
    };
  }
  if (isDisplayable(value)) return value[JUPYTER_DISPLAY]();
  if (typeof value === "string" && looksLikeChartMarkup(value)) return svgBundle(value);
  if (isPlotOptions(value)) return svgBundle(renderPlot(value));
  const outer = outerHtmlOf(value);
  if (outer !== undefined) return looksLikeChartMarkup(outer) ? svgBundle(outer) : { "text/html": outer };
  if (isRecordArray(value)) return recordsBundle(value, opts);
  if (isPlainRecord(value) || Array.isArray(value)) {
    const bundle: MimeBundle = { "text/plain": plainText(value) };
    try {
      bundle["application/json"] = JSON.parse(JSON.stringify(value));
    } catch { /* not JSON-able (cycles, bigint): plain text only */ }
    return bundle;
  }
  return { "text/plain": plainText(value) };
}

function displayable(bundle: () => MimeBundle): Displayable {
  return { [JUPYTER_DISPLAY]: bundle };
}

/** Wraps a value so the kernel shows it richly when it ends a cell. */
export function display(value: unknown, opts: DisplayOptions = {}): Displayable {
  return displayable(() => mimeBundle(value, opts));
}

/** A table from a DataFrame, a Series or an array of records. */
export function table(
  data: DataFrameLike | SeriesLike | Record<string, unknown>[],
  opts: DisplayOptions = {},
): Displayable {
  if (Array.isArray(data) && data.length === 0) {
    return displayable(() => ({ "text/html": "<p><em>(no rows)</em></p>", "text/plain": "(no rows)" }));
  }
  return display(data, opts);
}

/** A chart from Plot options or from an SVG/figure string a src/report chart function returned. */
export function chart(plot: PlotNS.PlotOptions | string): Displayable {
  const markup = typeof plot === "string" ? plot : renderPlot(plot);
  return displayable(() => svgBundle(markup));
}

/** Raw HTML (trusted: it comes from the notebook's own code). */
export function html(markup: string): Displayable {
  return displayable(() => ({ "text/html": markup, "text/plain": markup.replace(/<[^>]*>/g, "") }));
}

/** Markdown text, e.g. a narrative line computed from the data. */
export function markdown(text: string): Displayable {
  return displayable(() => ({ "text/markdown": text, "text/plain": text }));
}

/**
 * Several charts or tables side by side in one output (a CSS grid), each
 * rendered through `mimeBundle`.
 */
export function grid(items: unknown[], opts: { columns?: number } = {}): Displayable {
  return displayable(() => {
    const cols = Math.max(1, opts.columns ?? Math.min(items.length, 2));
    const cells = items.map((item) => {
      const b = mimeBundle(item);
      const inner = typeof b["image/svg+xml"] === "string"
        ? b["image/svg+xml"]
        : typeof b["text/html"] === "string"
        ? b["text/html"]
        : `<pre>${escapeHtml(String(b["text/plain"] ?? ""))}</pre>`;
      return `<div>${inner}</div>`;
    });
    return {
      "text/html": `<div style="display:grid;grid-template-columns:repeat(${cols},minmax(0,1fr));gap:12px">${
        cells.join("")
      }</div>`,
      "text/plain": `[${items.length} items]`,
    };
  });
}

interface JupyterNamespace {
  display(obj: unknown, options?: { raw?: boolean; update?: boolean; display_id?: string }): Promise<void>;
}

/** Deno's kernel API, present only inside `deno jupyter`. */
function jupyterApi(): JupyterNamespace | undefined {
  try {
    // outside the kernel the getter throws ("only available in `deno jupyter`")
    const j = (Deno as unknown as { jupyter?: JupyterNamespace }).jupyter;
    return j && typeof j.display === "function" ? j : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Shows values now, in the middle of a cell. Inside the kernel each becomes
 * its own output; outside (a script, a test) their plain text is printed.
 * Prefer `await show(x)` to ending a cell with `x` in notebooks that run
 * headless: the kernel can publish a cell's last value after the cell is
 * reported idle, and nbconvert then loses it.
 */
export async function show(...values: unknown[]): Promise<void> {
  const api = jupyterApi();
  for (const v of values) {
    const bundle = mimeBundle(v);
    if (api) await api.display(bundle, { raw: true });
    else console.log(String(bundle["text/plain"] ?? ""));
  }
  if (!api) return;
  // Headless runs count what was shown, so `deno task notebooks` can tell a
  // dropped output from a cell that showed nothing, and run the notebook again.
  const tally = envValue(SHOW_TALLY_ENV);
  if (tally && values.length) {
    Deno.writeTextFileSync(tally, "shown\n".repeat(values.length), { append: true });
  }
  // Deno's kernel (2.9) queues display messages and can report the cell idle
  // before they leave; a headless nbconvert run stops listening at idle and
  // drops them. A short pause lets the queue drain first.
  await new Promise((resolve) => setTimeout(resolve, showFlushMs()));
}

/** How long `show` waits for the kernel to publish its outputs (ORCHARD_SHOW_FLUSH_MS overrides). */
export const SHOW_FLUSH_MS = 40;
/** The file `show` appends one line to per value shown in the kernel (set by `deno task notebooks`). */
export const SHOW_TALLY_ENV = "ORCHARD_SHOW_TALLY";
export const SHOW_FLUSH_ENV = "ORCHARD_SHOW_FLUSH_MS";

function envValue(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined; // no env permission: the defaults
  }
}

export function showFlushMs(): number {
  const v = Number(envValue(SHOW_FLUSH_ENV));
  return Number.isFinite(v) && v >= 0 && envValue(SHOW_FLUSH_ENV) !== undefined ? v : SHOW_FLUSH_MS;
}
