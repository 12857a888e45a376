/**
 * The notebook runner behind `deno task notebooks`: runs every notebook under
 * notebooks/ headless on the Deno Jupyter kernel (Jupyter's nbconvert), writes
 * the executed copies to reports/notebooks/ (never back into notebooks/), and
 * fails with one line naming the notebook and cell when any cell errors or
 * when a notebook shows no chart.
 *
 * The kernelspec is (re)installed with `deno jupyter --install --force` when it
 * is missing or launches another deno binary than the one running this task.
 */
import { basename, join, resolve } from "node:path";
import { UserError } from "../core/errors.ts";
import { writeTextAtomic } from "../core/atomic.ts";
import {
  cellErrors,
  cellsMissingOutput,
  chartCount,
  describeCellError,
  displayCount,
  listNotebooks,
  readNotebook,
  serializeNotebook,
} from "./nbformat.ts";
import { SHOW_FLUSH_ENV, SHOW_TALLY_ENV } from "./display.ts";

/** The `notebooks` flags as parsed (strings; validated here). */
export interface RunNotebooksOptions {
  /** notebooks to run; default every .ipynb in notebooksDir */
  notebooks?: string[];
  notebooksDir?: string;
  outputDir?: string;
  /** per-cell timeout in seconds */
  timeout?: string;
}

const KERNEL = "deno";
const INSTALL_HINT = "apt-get install -y jupyter-nbconvert jupyter-client";

export interface NotebookResult {
  notebook: string;
  output: string;
  seconds: number;
  cells: number;
  charts: number;
}

/** What `notebooks` returns (its --json output). */
export interface NotebooksResult {
  kernel: { argv0: string; installed: boolean };
  notebooks: NotebookResult[];
  outputDir: string;
  seconds: number;
}

const dec = new TextDecoder();

async function runCapture(
  cmd: string,
  args: string[],
  env?: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const out = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" }).output();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new UserError(`${cmd} not found: Jupyter is not installed (${INSTALL_HINT})`);
    }
    throw e;
  }
}

interface KernelSpecs {
  kernelspecs?: Record<string, { resource_dir?: string; spec?: { argv?: string[] } }>;
}

async function kernelArgv0(): Promise<string | undefined> {
  const r = await runCapture("jupyter", ["kernelspec", "list", "--json"]);
  if (r.code !== 0) {
    throw new UserError(`jupyter kernelspec list failed: ${lastLine(r.stderr)} (${INSTALL_HINT})`);
  }
  let specs: KernelSpecs;
  try {
    specs = JSON.parse(r.stdout);
  } catch {
    throw new UserError("jupyter kernelspec list --json printed something that is not JSON");
  }
  return specs.kernelspecs?.[KERNEL]?.spec?.argv?.[0];
}

/** The binary a path finally points at (deno writes the PATH symlink when it is the same binary). */
function realPath(path: string | undefined): string | undefined {
  if (!path) return undefined;
  try {
    return Deno.realPathSync(path);
  } catch {
    return undefined; // the kernelspec names a binary that is gone
  }
}

/** Makes sure the `deno` kernelspec launches this very deno binary. */
async function ensureKernel(): Promise<{ argv0: string; installed: boolean }> {
  const deno = Deno.execPath();
  const self = realPath(deno) ?? deno;
  const current = await kernelArgv0();
  if (current && realPath(current) === self) return { argv0: current, installed: false };
  const r = await runCapture(deno, ["jupyter", "--install", "--force"]);
  if (r.code !== 0) throw new UserError(`deno jupyter --install failed: ${lastLine(r.stderr)}`);
  const after = await kernelArgv0();
  if (!after || realPath(after) !== self) {
    throw new UserError(
      `the '${KERNEL}' kernelspec launches ${after ?? "nothing"}, not ${deno}: ` +
        "Jupyter reads a different kernel directory than deno installs into",
    );
  }
  console.error(`notebooks: installed the Deno kernelspec (${deno})`);
  return { argv0: after, installed: true };
}

function lastLine(text: string): string {
  // deno-lint-ignore no-control-regex
  const lines = text.replace(/\x1b\[[0-9;]*m/g, "").split("\n").map((l) => l.trim()).filter(Boolean);
  const err = lines.findLast((l) => /Error|error:|Exception/.test(l));
  return (err ?? lines.at(-1) ?? "no output").slice(0, 300);
}

function notebooksIn(dir: string): string[] {
  const paths = listNotebooks(dir);
  if (paths.length === 0) throw new UserError(`${dir}: no .ipynb files`);
  return paths;
}

/** One nbconvert run of a notebook into outputDir; returns the executed notebook and its wall time. */
async function nbconvert(
  path: string,
  outputDir: string,
  scratch: string,
  timeoutSeconds: number,
  flushMs: number,
) {
  const name = basename(path);
  // show() appends a line here per value it displays; compared with the outputs the run kept
  const tally = join(scratch, "shown.tally");
  Deno.mkdirSync(scratch, { recursive: true });
  Deno.writeTextFileSync(tally, "");
  const t0 = performance.now();
  const r = await runCapture("jupyter", [
    "nbconvert",
    "--to",
    "notebook",
    "--execute",
    // keep going so the executed notebook is written; errors are read from it below
    "--allow-errors",
    `--ExecutePreprocessor.kernel_name=${KERNEL}`,
    `--ExecutePreprocessor.timeout=${timeoutSeconds}`,
    "--output-dir",
    outputDir,
    "--output",
    name,
    path,
  ], {
    ORCHARD_NOTEBOOK_DIR: scratch,
    NO_COLOR: "1",
    [SHOW_TALLY_ENV]: tally,
    [SHOW_FLUSH_ENV]: String(flushMs),
  });
  const seconds = (performance.now() - t0) / 1000;
  if (r.code !== 0) throw new UserError(`${name}: nbconvert failed: ${lastLine(r.stderr)}`, 1);
  const output = join(outputDir, name);
  const shown = Deno.readTextFileSync(tally).split("\n").filter(Boolean).length;
  return { nb: readNotebook(output), output, seconds, shown };
}

/**
 * show()'s pause (ms) on each run of a notebook: the Deno kernel can report a
 * cell idle before its display messages leave, and nbconvert then drops them.
 * A dropped output is detected exactly (show() tallies what it displayed) and
 * the notebook runs again with a longer pause, so a loaded CI machine costs
 * time, not a red build.
 */
const FLUSH_SCHEDULE_MS = [40, 250, 1000];

async function executeOne(
  path: string,
  outputDir: string,
  scratch: string,
  timeoutSeconds: number,
): Promise<NotebookResult> {
  const name = basename(path);
  for (let attempt = 0;; attempt++) {
    const flushMs = FLUSH_SCHEDULE_MS[attempt];
    const run = await nbconvert(path, outputDir, scratch, timeoutSeconds, flushMs);
    const errors = cellErrors(run.nb);
    if (errors.length > 0) {
      const more = errors.length > 1 ? ` (+${errors.length - 1} more failing cells; see ${run.output})` : "";
      throw new UserError(describeCellError(name, errors[0]) + more, 1);
    }
    const missing = cellsMissingOutput(run.nb);
    const kept = displayCount(run.nb);
    if (missing.length === 0 && kept >= run.shown) return finish(name, run);
    const what = `${run.shown - kept} of ${run.shown} shown outputs` +
      (missing.length ? ` (cells ${missing.join(", ")} have none)` : "");
    if (attempt + 1 >= FLUSH_SCHEDULE_MS.length) {
      throw new UserError(
        `${name}: the kernel dropped ${what}, even with a ${flushMs} ms pause (see ${run.output})`,
        1,
      );
    }
    console.error(
      `notebooks: ${name}: the kernel dropped ${what}; running it again with a ${
        FLUSH_SCHEDULE_MS[attempt + 1]
      } ms pause`,
    );
  }
}

function finish(
  name: string,
  run: { nb: ReturnType<typeof readNotebook>; output: string; seconds: number },
): NotebookResult {
  const { nb, output, seconds } = run;
  const charts = chartCount(nb);
  if (charts === 0) {
    throw new UserError(`${name}: shows no chart (no image/svg+xml or <svg> output; see ${output})`, 1);
  }
  // the executed copy is a report: written in Jupyter's layout like the source
  writeTextAtomic(output, serializeNotebook(nb));
  const cells = nb.cells.filter((c) => c.cell_type === "code").length;
  console.error(`notebooks: ${name} ok in ${seconds.toFixed(1)} s (${cells} code cells, ${charts} charts)`);
  return { notebook: name, output, seconds, cells, charts };
}

/** Executes the given notebooks (default: every one in nbDir) and checks each ran cleanly with a chart. */
export async function runNotebooks(opts: RunNotebooksOptions): Promise<NotebooksResult> {
  const t0 = performance.now();
  const nbDir = resolve(opts.notebooksDir ?? "notebooks");
  const outputDir = resolve(opts.outputDir ?? "reports/notebooks");
  if (outputDir === nbDir) {
    throw new UserError(
      `--output-dir ${outputDir}: would overwrite the notebooks; choose another directory`,
    );
  }
  if (Deno.permissions.querySync({ name: "write", path: outputDir }).state !== "granted") {
    throw new UserError(`--output-dir ${outputDir}: this task may only write under reports/`);
  }
  const timeout = Number(opts.timeout ?? 300);
  if (!Number.isInteger(timeout) || timeout <= 0) {
    throw new UserError(`--timeout ${opts.timeout}: expected a positive whole number of seconds`);
  }
  const given = opts.notebooks ?? [];
  const paths = given.length > 0 ? given.map((p) => resolve(p)) : notebooksIn(nbDir);
  for (const p of paths) {
    if (!p.endsWith(".ipynb")) throw new UserError(`${p}: not a .ipynb notebook`);
    readNotebook(p); // exists and parses, before any kernel starts
  }
  const kernel = await ensureKernel();
  Deno.mkdirSync(outputDir, { recursive: true });
  const scratch = join(outputDir, ".work");
  const results: NotebookResult[] = [];
  try {
    for (const p of paths) results.push(await executeOne(p, outputDir, scratch, timeout));
  } finally {
    try {
      Deno.removeSync(scratch, { recursive: true });
    } catch { /* nothing was written */ }
  }
  return { kernel, notebooks: results, outputDir, seconds: (performance.now() - t0) / 1000 };
}

/** The human summary of a NotebooksResult. */
export const notebooksSummary = (r: NotebooksResult): string =>
  [
    ...r.notebooks.map((n) =>
      `  ${n.notebook.padEnd(44)} ${n.seconds.toFixed(1).padStart(6)} s  ${n.charts} charts`
    ),
    `notebooks: ${r.notebooks.length} ran without errors in ${r.seconds.toFixed(1)} s -> ${r.outputDir}`,
  ].join("\n");
