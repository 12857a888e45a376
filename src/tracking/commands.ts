/**
 * The `deno task runs` subcommands: list, filter and sort tracked runs, or
 * compare runs side by side, or diff two runs (params changed, metric deltas,
 * data digests: `runs diff A B`). Run ids may be abbreviated to a unique prefix
 * (the listing shows 8 characters) or given as "latest".
 */
import { UserError } from "../core/errors.ts";
import { type Run, storeExists, TrackingStore } from "./store.ts";
import {
  compareRuns,
  type ComparisonRow,
  comparisonTable,
  HEADLINE_METRICS,
  listingMetrics,
  runsListing,
} from "./format.ts";
import { parseFilter } from "./filter.ts";
import { diffRuns, type RunDiff, runDiffText } from "./diff.ts";

/** Metrics a listing shows first when runs have them: binary, multiclass, regression headlines. */

/** The flags of `runs` (strings as parsed; validated here). */
export interface RunsOptions {
  experiment?: string;
  filter?: string;
  sort?: string;
  limit?: string;
  columns?: string;
}

/** What `runs` returns (its --json output). */
export type RunsResult =
  | {
    command: "list";
    store: string;
    count: number;
    runs: Run[];
    metricColumns: string[];
    paramColumns: string[];
    /** no store at `store` yet (nothing is created to list nothing) */
    missing?: boolean;
  }
  | { command: "compare"; store: string; runs: Run[]; rows: ComparisonRow[] }
  | { command: "diff"; store: string; runs: Run[]; diff: RunDiff };

function keysIn(text: string | undefined, kind: "params" | "metrics"): string[] {
  if (!text) return [];
  const re = new RegExp(`\\b${kind}\\.([A-Za-z0-9_\\-/:.]+)`, "g");
  return [...new Set([...text.matchAll(re)].map((m) => m[1].replace(/\.+$/, "")))];
}

/** Runs `runs [list]`, `runs compare <id> <id> ...` or `runs diff <a> <b>` against the store at `path`. */
export async function runsCommand(
  path: string,
  positionals: string[],
  v: RunsOptions,
): Promise<RunsResult> {
  const [command = "list", ...ids] = positionals;
  if (command !== "list" && command !== "compare" && command !== "diff") {
    throw new UserError(
      `unknown subcommand '${command}' (use: runs [list], runs compare <id> <id> ... or runs diff <a> <b>)`,
    );
  }
  if (command === "diff" && ids.length !== 2) {
    throw new UserError(`runs diff needs two run ids (got ${ids.length})`);
  }
  if (command === "list" && ids.length) throw new UserError(`unexpected argument '${ids[0]}' (see --help)`);
  let limit: number | undefined;
  if (v.limit !== undefined) {
    limit = Number(v.limit);
    if (!Number.isInteger(limit) || limit < 1) {
      throw new UserError(`--limit must be a positive integer (got '${v.limit}')`);
    }
  }
  if (v.filter?.trim()) parseFilter(v.filter); // syntax errors before opening
  if (!storeExists(path)) {
    if (command !== "list") {
      throw new UserError(`no tracking store at ${path} yet (run \`deno task train\` first)`);
    }
    return {
      command: "list",
      store: path,
      count: 0,
      runs: [],
      metricColumns: [],
      paramColumns: [],
      missing: true,
    };
  }
  const store = await TrackingStore.open(path);
  try {
    if (command === "diff") {
      const runs = [await store.getRun(await store.resolveRunId(ids[0]))];
      runs.push(await store.getRun(await store.resolveRunId(ids[1])));
      return { command, store: store.location, runs, diff: diffRuns(runs[0], runs[1]) };
    }
    if (command === "compare") {
      if (ids.length < 2) throw new UserError("runs compare needs at least two run ids");
      const runs: Run[] = [];
      for (const id of ids) runs.push(await store.getRun(await store.resolveRunId(id)));
      return { command, store: store.location, runs, rows: compareRuns(runs) };
    }
    const runs = await store.searchRuns({
      experiment: v.experiment,
      filter: v.filter,
      orderBy: v.sort,
      maxResults: limit,
    });
    const mentioned = `${v.filter ?? ""} ${v.sort ?? ""}`;
    const explicit = v.columns !== undefined
      ? v.columns.split(",").map((s) => s.trim().replace(/^metrics\./, "")).filter(Boolean)
      : undefined;
    const metricColumns = explicit ??
      listingMetrics(runs, 6, [
        ...keysIn(mentioned, "metrics"),
        // a train run's validation metrics, then a tuning trial's cross-validation means
        ...HEADLINE_METRICS,
      ]);
    return {
      command,
      store: store.location,
      count: runs.length,
      runs,
      metricColumns,
      paramColumns: keysIn(mentioned, "params"),
    };
  } finally {
    await store.close();
  }
}

/** The human summary of a RunsResult. */
export function runsSummary(r: RunsResult): string {
  if (r.command === "diff") return runDiffText(r.diff);
  if (r.command === "compare") {
    const differing = r.rows.filter((x) => x.differs).length;
    return `${
      comparisonTable(r.runs, r.rows)
    }\n\n${r.runs.length} runs; ${differing} fields differ (marked *)`;
  }
  if (r.missing) return `runs: no tracking store at ${r.store} yet (deno task train creates it)`;
  if (r.count === 0) return `runs: no runs match (store ${r.store})`;
  return `${runsListing(r.runs, r.metricColumns, r.paramColumns)}\n\n${r.count} run${
    r.count === 1 ? "" : "s"
  }`;
}
