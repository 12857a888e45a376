/**
 * `deno task train`: fit, evaluate, track and save a model.
 *
 *   deno task train                                  # data/features/customer_features.parquet
 *   deno task train --data FILE --target COL [--validation FILE] [--set model.learning_rate=0.05] [--json]
 *
 * A --data run is for the model named after the file (or --model-name), whose
 * settings give its decision threshold and experiment (src/registry/settings.ts).
 */
import { defineTask, main } from "../src/cli/task.ts";
import { formatNumber, MISSING } from "../src/core/format.ts";
import { writeTextAtomic } from "../src/core/atomic.ts";
import { train, type TrainResult } from "../src/training/train.ts";

const fmt = (v: number | undefined): string => formatNumber(v, { fixedIntegers: true });

/** A binary model's threshold is shown when it is not the usual 0.5 (or was chosen by auto). */
const shownThreshold = (r: TrainResult): boolean =>
  r.threshold !== undefined && (r.threshold !== 0.5 || r.threshold_auto === true);

export const spec = defineTask({
  name: "train",
  description:
    "Train a model on the configured feature data (or any CSV/Parquet/JSON with --data), evaluate it on the " +
    "validation rows, record the run in the tracking store, save the model artifact under models/artifacts/<run>/ " +
    "and write reports/train_<run>.html and .md.",
  usage:
    "train [--data FILE --target COL [--validation FILE] | --feature-service NAME] [--set model.KEY=VALUE ...] [--json]",
  options: {
    data: {
      type: "string",
      description: "train on this file instead of the feature data",
      valueName: "file",
    },
    target: {
      type: "string",
      description: "the column to predict (default: data.target)",
      valueName: "column",
    },
    validation: {
      type: "string",
      description: "a separate validation file (default: seeded stratified split of --data)",
      valueName: "file",
    },
    "feature-service": {
      type: "string",
      description: "train on this feature service joined point-in-time with training_set.labels " +
        "(default: training_set.feature_service, when --data is not given)",
      valueName: "name",
    },
    experiment: {
      type: "string",
      description:
        "experiment name (default: the model's: registry.models.<name>.experiment; tracking.experiment for " +
        "registry.model_name; else the model's name, so a --data run goes under the file's name)",
      valueName: "name",
    },
    "model-name": {
      type: "string",
      description: "the registered model the run is for, whose settings (threshold, experiment) apply " +
        "(default: registry.model_name; with --data, the file's stem, sanitized)",
      valueName: "model",
    },
    "run-name": { type: "string", description: "a name for the run", valueName: "name" },
    "no-report": { type: "boolean", description: "skip the HTML/Markdown report" },
    "run-file": {
      type: "string",
      description: "also write the run id to this file (the pipeline registers exactly that run)",
      valueName: "file",
    },
  },
  // deno.json keeps --allow-write=models,reports (the pipeline's run file is under models/):
  // a --run-file or a paths.models/paths.reports elsewhere is refused here, before the run is
  // started or logged, instead of failing after it was written.
  writes: (ctx) => [
    ctx.values["run-file"] && { path: ctx.values["run-file"], source: "--run-file" },
    { path: ctx.config.paths.models, dir: true, source: "paths.models" },
    !ctx.values["no-report"] && { path: ctx.config.paths.reports, dir: true, source: "paths.reports" },
  ],
  async run(ctx) {
    const v = ctx.values;
    const result = await train({
      config: ctx.config,
      data: v.data,
      target: v.target,
      validation: v.validation,
      featureService: v["feature-service"],
      experiment: v.experiment,
      modelName: v["model-name"],
      runName: v["run-name"],
      reportsDir: v["no-report"] ? null : undefined,
    });
    if (v["run-file"]) writeTextAtomic(v["run-file"], result.run_id);
    return result;
  },
  json: (result) => ({
    run_id: result.run_id,
    artifact: result.artifact,
    metrics: result.metrics,
    positive_class: result.positive_class,
    ...(result.per_class ? { per_class: result.per_class } : {}),
    ...(result.absent_classes ? { absent_classes: result.absent_classes } : {}),
    train_seconds: result.train_seconds,
    rows: result.rows,
    features: result.features,
    ...(result.rounds_used !== undefined ? { rounds_used: result.rounds_used } : {}),
    ...(result.ignored_settings?.length ? { ignored_settings: result.ignored_settings } : {}),
    ...(shownThreshold(result) ? { threshold: result.threshold } : {}),
    ...(result.report ? { report: result.report } : {}),
  }),
  summary(res) {
    const m = res.metrics;
    const multiclass = res.task === "classification" && (res.classes?.length ?? 0) > 2;
    const line = (keys: string[]) => keys.map((k) => `${k} ${fmt(m[k])}`).join("  ");
    const head = res.task === "regression" ? line(["rmse", "mae", "r2"]) : multiclass
      ? line([
        "accuracy",
        "macro_roc_auc",
        "weighted_roc_auc",
        "macro_pr_auc",
        "macro_f1",
        "weighted_f1",
        "log_loss",
      ])
      : line(["roc_auc", "pr_auc", "accuracy", "f1", "recall", "precision", "log_loss"]);
    const absent = res.absent_classes ?? [];
    const cvKey = res.task === "regression" ? "rmse" : multiclass ? "macro_roc_auc" : "roc_auc";
    return [
      `run ${res.run_id} (experiment ${res.experiment}, model ${res.model_name}): ` +
      `${res.algorithm} ${res.task} on ${res.rows} rows, ${res.features} features` +
      (res.task === "classification"
        ? multiclass
          ? ` (${res.classes!.length} classes)`
          : ` (positive class ${JSON.stringify(res.positive_class)})`
        : ""),
      ...(shownThreshold(res)
        ? [
          `decision threshold ${formatNumber(res.threshold, { style: "significant", digits: 4 })} (${
            res.threshold_auto ? "auto: F1-optimal on validation" : res.threshold_from
          })`,
        ]
        : []),
      `validation (${res.validation_rows} rows): ${head}`,
      ...(multiclass && absent.length
        ? [
          `note: ${absent.length} of ${res.classes!.length} classes ${
            absent.length === 1 ? "has" : "have"
          } no validation rows (${absent.slice(0, 5).map((c) => JSON.stringify(c)).join(", ")}${
            absent.length > 5 ? ", ..." : ""
          }): left out of the macro AUC averages, per-class AUC ${MISSING}`,
        ]
        : []),
      ...(res.cv
        ? [`cross-validation: ${cvKey} ${fmt(res.cv.mean[cvKey])} ± ${fmt(res.cv.std[cvKey])}`]
        : []),
      `fit ${res.train_seconds.toFixed(2)} s` +
      (res.rounds_used !== undefined ? ` (${res.rounds_used} boosting rounds kept)` : ""),
      `artifact: ${res.artifact}`,
      ...(res.report ? [`report: ${res.report}`] : []),
    ].join("\n");
  },
});

if (import.meta.main) await main(spec);
