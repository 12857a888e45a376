/**
 * Jupyter notebook files (nbformat 4) as data: parse with a one-line error,
 * strip outputs for git, find the cells that failed, count the charts an
 * executed notebook shows, and locate the project a notebook runs in.
 */
import { dirname, join, resolve } from "node:path";
import { UserError } from "../core/errors.ts";
import { loadConfig } from "../config/load.ts";
import type { Config } from "../config/schema.ts";

export interface NotebookOutput {
  output_type: string;
  data?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
  text?: string | string[];
  name?: string;
  [k: string]: unknown;
}

export interface NotebookCell {
  cell_type: "code" | "markdown" | "raw";
  id?: string;
  source: string | string[];
  metadata: Record<string, unknown>;
  outputs?: NotebookOutput[];
  execution_count?: number | null;
  [k: string]: unknown;
}

export interface Notebook {
  cells: NotebookCell[];
  metadata: Record<string, unknown>;
  nbformat: number;
  nbformat_minor: number;
}

export function parseNotebook(text: string, path: string): Notebook {
  let nb: unknown;
  try {
    nb = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${path}: not a notebook (invalid JSON: ${(e as Error).message.split("\n")[0]})`);
  }
  const o = nb as Partial<Notebook>;
  if (typeof nb !== "object" || nb === null || !Array.isArray(o.cells) || typeof o.nbformat !== "number") {
    throw new UserError(`${path}: not a notebook (no "cells" list or "nbformat")`);
  }
  if (o.nbformat !== 4) throw new UserError(`${path}: nbformat ${o.nbformat} is not supported (expected 4)`);
  o.cells.forEach((c, i) => {
    if (typeof c !== "object" || c === null || typeof c.cell_type !== "string") {
      throw new UserError(`${path}: cell ${i + 1} is malformed (no cell_type)`);
    }
  });
  const out = { ...o } as Notebook;
  out.metadata ??= {};
  out.nbformat_minor ??= 5;
  return out;
}

/** A notebook file's text, or a one-line UserError. */
export function readNotebookText(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new UserError(`${path}: file not found`);
    throw new UserError(`${path}: cannot read (${(e as Error).message.split("\n")[0]})`);
  }
}

export function readNotebook(path: string): Notebook {
  return parseNotebook(readNotebookText(path), path);
}

/** The .ipynb files directly in `dir`, sorted; a UserError when `dir` cannot be listed. */
export function listNotebooks(dir: string): string[] {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch {
    throw new UserError(`${dir}: no notebooks directory`);
  }
  return entries.filter((e) => e.isFile && e.name.endsWith(".ipynb")).map((e) => join(dir, e.name)).sort();
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (typeof v !== "object" || v === null) return v;
  const o = v as Record<string, unknown>;
  return Object.fromEntries(Object.keys(o).sort().map((k) => [k, sortKeys(o[k])]));
}

/** Jupyter's own layout (sorted keys, one-space indent, trailing newline), so saves from Jupyter diff small. */
export function serializeNotebook(nb: Notebook): string {
  return JSON.stringify(sortKeys(nb), null, 1) + "\n";
}

/** Cell metadata keys that only record a run (timestamps, collapsed/scrolled state). */
const RUN_METADATA = ["execution", "collapsed", "scrolled", "ExecuteTime"];

/** The same notebook without outputs, execution counts or run metadata. */
export function stripNotebook(nb: Notebook): Notebook {
  const cells = nb.cells.map((cell) => {
    const metadata = { ...cell.metadata };
    for (const k of RUN_METADATA) delete metadata[k];
    if (cell.cell_type !== "code") return { ...cell, metadata };
    return { ...cell, metadata, outputs: [], execution_count: null };
  });
  const metadata = { ...nb.metadata };
  // language_info is written by the kernel at run time (its version changes with Deno's)
  delete metadata.language_info;
  return { ...nb, metadata, cells };
}

/** What a committed notebook should not carry; empty when clean. */
export function unstrippedParts(nb: Notebook): string[] {
  const found: string[] = [];
  nb.cells.forEach((cell, i) => {
    if (cell.cell_type !== "code") return;
    if ((cell.outputs?.length ?? 0) > 0) found.push(`cell ${i + 1} has outputs`);
    if (cell.execution_count !== null && cell.execution_count !== undefined) {
      found.push(`cell ${i + 1} has an execution count`);
    }
  });
  return found;
}

function cellSource(cell: NotebookCell): string {
  return Array.isArray(cell.source) ? cell.source.join("") : cell.source;
}

export interface CellError {
  /** 1-based position among all cells */
  cell: number;
  id?: string;
  ename: string;
  evalue: string;
  /** the cell's first source line, to recognise it */
  firstLine: string;
}

// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

/** Every error output of an executed notebook, in cell order. */
export function cellErrors(nb: Notebook): CellError[] {
  const out: CellError[] = [];
  nb.cells.forEach((cell, i) => {
    for (const o of cell.outputs ?? []) {
      if (o.output_type !== "error") continue;
      out.push({
        cell: i + 1,
        id: cell.id,
        ename: String(o.ename ?? "Error").replace(ANSI, ""),
        evalue: String(o.evalue ?? "").replace(ANSI, "").split("\n")[0],
        firstLine: cellSource(cell).split("\n").find((l) => l.trim() !== "")?.trim().slice(0, 80) ?? "",
      });
    }
  });
  return out;
}

/** One line naming the notebook and the cell, for the task's error message. */
export function describeCellError(name: string, e: CellError): string {
  const where = `cell ${e.cell}${e.id ? ` (id ${e.id})` : ""}`;
  const what = e.evalue ? `${e.ename}: ${e.evalue}` : e.ename;
  return `${name} ${where} failed: ${what}${e.firstLine ? ` [at: ${e.firstLine}]` : ""}`;
}

function dataText(v: unknown): string {
  return Array.isArray(v) ? v.join("") : typeof v === "string" ? v : "";
}

/** How many outputs show a chart: an image/svg+xml, or text/html that contains an <svg. */
export function chartCount(nb: Notebook): number {
  let n = 0;
  for (const cell of nb.cells) {
    for (const o of cell.outputs ?? []) {
      const data = o.data ?? {};
      if ("image/svg+xml" in data || /<svg[\s>]/i.test(dataText(data["text/html"]))) n++;
    }
  }
  return n;
}

/** The nearest directory at or above `from` holding deno.json. */
export function findProjectRoot(from: string = Deno.cwd()): string {
  let dir = resolve(from);
  while (true) {
    try {
      if (Deno.statSync(join(dir, "deno.json")).isFile) return dir;
    } catch { /* keep climbing */ }
    const up = dirname(dir);
    if (up === dir) throw new UserError(`no deno.json found at or above ${from}`);
    dir = up;
  }
}

export interface NotebookEnv {
  /** the project root (where deno.json and params.yaml are) */
  root: string;
  /** the project's config, from <root>/params.yaml */
  config: Config;
  /** where this notebook writes its data: <ORCHARD_NOTEBOOK_DIR>/<name>, else <root>/data/notebooks/<name> */
  workDir: string;
  /** the tracking store: the config's (under root) interactively, <workDir>/orchard.db when headless */
  trackingStore: string;
  /** true under `deno task notebooks` (ORCHARD_NOTEBOOK_DIR is set) */
  headless: boolean;
}

/**
 * Where a notebook works. Interactive runs write under data/notebooks/<name>
 * and log runs to the project's tracking store, so they show up next to the
 * pipeline's; `deno task notebooks` sets ORCHARD_NOTEBOOK_DIR to a scratch
 * directory so headless runs leave the project untouched.
 */
export function notebookEnv(name: string, from: string = Deno.cwd()): NotebookEnv {
  const root = findProjectRoot(from);
  let scratch: string | undefined;
  try {
    scratch = Deno.env.get("ORCHARD_NOTEBOOK_DIR") || undefined;
  } catch { /* no --allow-env: interactive defaults */ }
  const config = loadConfig({ path: join(root, "params.yaml") });
  const workDir = scratch ? join(resolve(scratch), name) : join(root, "data", "notebooks", name);
  Deno.mkdirSync(workDir, { recursive: true });
  const trackingStore = scratch ? join(workDir, "orchard.db") : resolve(root, config.tracking.store);
  return { root, config, workDir, trackingStore, headless: scratch !== undefined };
}

/**
 * The config with every data/model/report path moved under `workDir`, and the
 * raw sources read from `workDir/raw`: the pipeline's stage functions
 * (runPrep, runFeatures, train) then run inside a notebook without touching
 * the project's data/, models/ or reports/.
 */
export function workspaceConfig(config: Config, workDir: string): Config {
  const at = (p: string) => join(workDir, p);
  return {
    ...config,
    paths: {
      ...config.paths,
      raw: at("raw"),
      interim: at("interim"),
      processed: at("processed"),
      features: at("features"),
      predictions: at("predictions"),
      monitoring: at("monitoring"),
      models: at("models"),
      reports: at("reports"),
    },
    data: {
      ...config.data,
      sources: {
        customers: { ...config.data.sources.customers, path: at("raw/customers.csv") },
        transactions: { ...config.data.sources.transactions, path: at("raw/transactions.json") },
      },
    },
    tracking: { ...config.tracking, store: join(workDir, "orchard.db") },
    // The workspace has no feature store or label history of its own, so a
    // notebook trains on the workspace's feature table (as of the snapshot);
    // the pipeline's point-in-time training set is `deno task train`'s.
    training_set: { ...config.training_set, feature_service: null },
  };
}

/**
 * Code cells that call `show(` yet have no output: the kernel dropped what
 * they displayed (see `show` in display.ts). 1-based cell positions.
 */
export function cellsMissingOutput(nb: Notebook): number[] {
  const out: number[] = [];
  nb.cells.forEach((cell, i) => {
    if (cell.cell_type === "code" && /\bshow\(/.test(cellSource(cell)) && (cell.outputs?.length ?? 0) === 0) {
      out.push(i + 1);
    }
  });
  return out;
}

/** Number of display_data outputs of an executed notebook (what `show` published and the run kept). */
export function displayCount(nb: Notebook): number {
  let n = 0;
  for (const cell of nb.cells) {
    for (const o of cell.outputs ?? []) if (o.output_type === "display_data") n++;
  }
  return n;
}

/**
 * The notebook's code cells as one TypeScript module (each cell headed by a
 * comment with its position), so `deno check` can type-check a notebook
 * against the current src API without a kernel.
 */
export function notebookModuleSource(nb: Notebook): string {
  const parts: string[] = [];
  nb.cells.forEach((cell, i) => {
    if (cell.cell_type !== "code") return;
    parts.push(`// --- cell ${i + 1}${cell.id ? ` (id ${cell.id})` : ""}\n${cellSource(cell)}\n`);
  });
  return parts.join("\n") + "export {};\n";
}
