/**
 * `deno task ct`: the continuous-training job in one command (src/ct/run.ts):
 * pipeline (cached stages skip), train the candidate, score it and the
 * @champion on the same validation rows, apply the registry's gates, register
 * the candidate as @challenger when they pass, and write
 * reports/ct/<run>/report.md with PNG charts beside it for a PR comment.
 * Exit 0 when the job ran, whatever the gates decided; 1 with
 * --fail-on-regression when the candidate is worse than the champion on the
 * primary metric; 2 on bad input.
 */
import { defineTask, main } from "../src/cli/task.ts";
import { formatNumber } from "../src/core/format.ts";
import { type CtResult, runCt } from "../src/ct/run.ts";
import { spec as train } from "./train.ts";

export function ctSummary(r: CtResult): string {
  const fmt = (v: number | null) => formatNumber(v, { digits: 4 });
  const lines = [
    `ct: candidate run ${r.candidate.run_id} (${r.model_name}, ${r.kind}) vs ${
      r.champion ? `champion v${r.champion.version}` : `no champion (${r.champion_note})`
    }`,
    `  ${r.verdict.message}`,
    `  gates ${r.gates.passed ? "passed" : "FAILED"} (${r.gates_from})${
      r.gates.reasons.length ? ": " + r.gates.reasons.join("; ") : ""
    }`,
    r.registered
      ? `  registered ${r.model_name} version ${r.registered.version} as @challenger`
      : `  not registered${r.registration_note ? `: ${r.registration_note}` : ""}`,
    `  params changed ${r.params.length}; training-set drift ${
      r.drift.measured ? `share ${fmt(r.drift.share)}` : `not measured (${r.drift.note})`
    }`,
    `  pipeline: ${r.pipeline}`,
    `report: ${r.report}`,
  ];
  return lines.join("\n");
}

export const spec = defineTask({
  name: "ct",
  description:
    "Continuous training: run the pipeline's data stages (deno task pipeline:features; cached stages skip), " +
    "train a candidate, score it and the current @champion on the candidate's validation rows, apply the " +
    "model's registry gates (champion's scores as the baseline) and register the candidate as @challenger " +
    "when they pass. Writes reports/ct/<run>/report.md (for a pull-request comment), report.json and PNG " +
    "charts. A regression is a candidate worse than the champion on the primary metric (binary roc_auc, " +
    "multiclass macro_roc_auc, regression rmse). Exit 0 when the job ran, whatever the gates decided.",
  usage: "ct [--data FILE --target COL [--validation FILE]] [--fail-on-regression] [--json]",
  options: {
    // the candidate's data options are train's own
    data: { ...train.options!.data, description: "train the candidate on this file (skips the pipeline)" },
    target: train.options!.target,
    validation: train.options!.validation,
    "feature-service": train.options!["feature-service"],
    "model-name": {
      type: "string",
      description: "the registered model (default: registry.model_name; with --data, the file's stem)",
      valueName: "model",
    },
    "no-pipeline": { type: "boolean", description: "do not run deno task pipeline:features first" },
    "primary-metric": {
      type: "string",
      description: "the metric that decides a regression (default by task kind, see above)",
      valueName: "metric",
    },
    "fail-on-regression": {
      type: "boolean",
      description: "exit 1 when the candidate is worse than the champion on the primary metric",
    },
    "allow-schema-change": {
      type: "boolean",
      description: "register a candidate whose input columns differ from the latest version's",
    },
  },
  writes: (ctx) => [
    { path: ctx.config.paths.models, dir: true, source: "paths.models" },
    { path: ctx.config.paths.reports, dir: true, source: "paths.reports" },
  ],
  run(ctx) {
    const v = ctx.values;
    return runCt({
      config: ctx.config,
      data: v.data,
      target: v.target,
      validation: v.validation,
      featureService: v["feature-service"],
      modelName: v["model-name"],
      pipeline: !v["no-pipeline"],
      primaryMetric: v["primary-metric"],
      allowSchemaChange: Boolean(v["allow-schema-change"]),
    });
  },
  summary: ctSummary,
  // the report is written and the summary printed; then exit 1
  failure: (r, ctx) =>
    ctx.values["fail-on-regression"] && r.verdict.regression
      ? `regression: ${r.verdict.message} (--fail-on-regression)`
      : undefined,
});

if (import.meta.main) await main(spec);
