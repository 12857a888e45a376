/**
 * `deno task runs`: list, filter and sort tracked runs; `deno task runs compare
 * <id> <id> ...` puts runs side by side. Run ids may be abbreviated to a unique
 * prefix (the listing shows 8 characters) or given as "latest". `deno task
 * runs diff A B` shows what changed from run A to run B: params, metrics with
 * deltas, the data digests, and the drift share between the two training sets
 * (the comparison deno task ct's report makes).
 */
import { defineTask, main } from "../src/cli/task.ts";
import { runsCommand, type RunsResult, runsSummary } from "../src/tracking/commands.ts";
import type { TrainingSetDrift } from "../src/ct/data.ts";
import { trainingSetDriftText } from "../src/ct/drift_text.ts";
import { trackingLocation } from "../src/config/paths.ts";

export const spec = defineTask({
  name: "runs",
  description: "List tracked runs (newest first), filter them with a small query language, sort,\n" +
    "compare runs side by side, or diff two runs (runs diff A B: the params that changed, every\n" +
    "metric with its B - A delta, each dataset's digest and row count, and the drift share between\n" +
    "the two training sets). Filter example:\n" +
    '  --filter "metrics.roc_auc > 0.8 and (params.max_depth = 10 or params.max_depth = 12)"\n' +
    "Keys: metrics.<name>, params.<name>, tags.<name>, and attributes run_id, run_name, status,\n" +
    "experiment, parent_run_id, start_time, end_time, duration. Operators: = != < <= > >= LIKE\n" +
    "ILIKE IN (...) IS [NOT] NULL, joined with AND, OR, NOT and parentheses.",
  usage: "runs [list] [options] | runs compare <run_id> <run_id> ... | runs diff <run_a> <run_b>",
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
  run: async (ctx): Promise<RunsResult & { training_set_drift?: TrainingSetDrift }> => {
    const r = await runsCommand(trackingLocation(ctx.config), ctx.positionals, ctx.values);
    if (r.command !== "diff") return r;
    // polars (the training sets' reader) loads only for a diff: list and compare need no native addon
    let data: typeof import("../src/ct/data.ts");
    try {
      data = await import("../src/ct/data.ts");
    } catch (e) {
      const note = `the data reader could not load: ${(e as Error).message}`;
      return { ...r, training_set_drift: { measured: false, note } };
    }
    return { ...r, training_set_drift: data.runsTrainingSetDrift(ctx.config, r.runs[0], r.runs[1]) };
  },
  summary: (r) =>
    runsSummary(r) + (r.training_set_drift ? `\n\n${trainingSetDriftText(r.training_set_drift)}` : ""),
});

if (import.meta.main) await main(spec);
