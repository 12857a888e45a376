/**
 * `deno task runs`: list, filter and sort tracked runs; `deno task runs compare
 * <id> <id> ...` puts runs side by side. Run ids may be abbreviated to a unique
 * prefix (the listing shows 8 characters) or given as "latest".
 */
import { main } from "../src/cli/task.ts";
import { UserError } from "../src/cli/errors.ts";
import { type Run, TrackingStore } from "../src/tracking/store.ts";
import {
  compareRuns,
  type ComparisonRow,
  comparisonTable,
  listingMetrics,
  runsListing,
} from "../src/tracking/format.ts";
import { parseFilter } from "../src/tracking/filter.ts";

type Result =
  | {
    command: "list";
    store: string;
    count: number;
    runs: Run[];
    metricColumns: string[];
    paramColumns: string[];
  }
  | { command: "compare"; store: string; runs: Run[]; rows: ComparisonRow[] };

function storeExists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

function keysIn(text: string | undefined, kind: "params" | "metrics"): string[] {
  if (!text) return [];
  const re = new RegExp(`\\b${kind}\\.([A-Za-z0-9_\\-/:.]+)`, "g");
  return [...new Set([...text.matchAll(re)].map((m) => m[1].replace(/\.+$/, "")))];
}

await main<Result>({
  name: "runs",
  description: "List tracked runs (newest first), filter them with a small query language, sort,\n" +
    "or compare runs side by side. Filter example:\n" +
    '  --filter "metrics.roc_auc > 0.8 and (params.max_depth = 10 or params.max_depth = 12)"\n' +
    "Keys: metrics.<name>, params.<name>, tags.<name>, and attributes run_id, run_name, status,\n" +
    "experiment, parent_run_id, start_time, end_time, duration. Operators: = != < <= > >= LIKE\n" +
    "ILIKE IN (...) IS [NOT] NULL, joined with AND, OR, NOT and parentheses.",
  usage: "runs [list] [options] | runs compare <run_id> <run_id> ...",
  positionals: true,
  options: {
    experiment: { type: "string", description: "only this experiment", valueName: "name" },
    filter: { type: "string", description: "a filter expression (see above)", valueName: "expr" },
    sort: {
      type: "string",
      description: "sort key and direction, e.g. 'metrics.roc_auc desc' (comma-separated for several)",
      valueName: "key [asc|desc]",
    },
    limit: { type: "string", description: "show at most N runs", valueName: "N" },
    columns: {
      type: "string",
      description: "metrics to show, comma-separated (default: those in the filter/sort, then the commonest)",
      valueName: "m1,m2",
    },
  },
  run(ctx): Result {
    const config = ctx.config();
    const path = config.tracking.store;
    const [command = "list", ...ids] = ctx.positionals;
    const v = ctx.values;
    if (command !== "list" && command !== "compare") {
      throw new UserError(`unknown subcommand '${command}' (use: runs [list] or runs compare <id> <id> ...)`);
    }
    if (command === "list" && ids.length) throw new UserError(`unexpected argument '${ids[0]}' (see --help)`);
    let limit: number | undefined;
    if (v.limit !== undefined) {
      limit = Number(v.limit);
      if (!Number.isInteger(limit) || limit < 1) {
        throw new UserError(`--limit must be a positive integer (got '${v.limit}')`);
      }
    }
    if (typeof v.filter === "string" && v.filter.trim()) parseFilter(v.filter); // syntax errors before opening
    if (!storeExists(path)) {
      if (command === "compare") {
        throw new UserError(`no tracking store at ${path} yet (run \`deno task train\` first)`);
      }
      return { command: "list", store: path, count: 0, runs: [], metricColumns: [], paramColumns: [] };
    }
    const store = TrackingStore.open(path);
    try {
      if (command === "compare") {
        if (ids.length < 2) throw new UserError("runs compare needs at least two run ids");
        const runs = ids.map((id) => store.getRun(store.resolveRunId(id)));
        return { command, store: path, runs, rows: compareRuns(runs) };
      }
      const runs = store.searchRuns({
        experiment: v.experiment as string | undefined,
        filter: v.filter as string | undefined,
        orderBy: v.sort as string | undefined,
        maxResults: limit,
      });
      const mentioned = `${v.filter ?? ""} ${v.sort ?? ""}`;
      const explicit = typeof v.columns === "string"
        ? v.columns.split(",").map((s) => s.trim().replace(/^metrics\./, "")).filter(Boolean)
        : undefined;
      const metricColumns = explicit ??
        listingMetrics(runs, 6, [
          ...keysIn(mentioned, "metrics"),
          "roc_auc",
          "f1",
          "recall",
          "accuracy",
          "rmse",
        ]);
      return {
        command,
        store: path,
        count: runs.length,
        runs,
        metricColumns,
        paramColumns: keysIn(mentioned, "params"),
      };
    } finally {
      store.close();
    }
  },
  summary(r) {
    if (r.command === "compare") {
      const differing = r.rows.filter((x) => x.differs).length;
      return `${
        comparisonTable(r.runs, r.rows)
      }\n\n${r.runs.length} runs; ${differing} fields differ (marked *)`;
    }
    if (r.count === 0) return `runs: no runs match (store ${r.store})`;
    return `${runsListing(r.runs, r.metricColumns, r.paramColumns)}\n\n${r.count} run${
      r.count === 1 ? "" : "s"
    }`;
  },
});
