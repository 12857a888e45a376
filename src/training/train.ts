/**
 * The training stage as functions a task or a notebook can call (each step
 * lives in its own module and is re-exported here):
 *
 *   loadTrainingInput (data.ts)       -> the train and validation tables
 *                        (a feature service joined point-in-time with a label
 *                        table, feature_set.ts; the configured feature data with its split column, or
 *                        any file + optional validation file, else a seeded
 *                        stratified split)
 *   resolveTarget     (models/target.ts)    -> task, classes, positive class, encoded labels
 *   fit               (models/model.ts) -> the in-memory Model: fitted preprocessing + engine
 *   model.evaluate    (models/model.ts) -> validation metrics, curves, confusion matrix
 *   crossValidate     (models/evaluate.ts)   -> k-fold metrics on the training rows
 *   train             (here)          -> all of it, tracked as a run, saved as an
 *                        artifact, reported as HTML + Markdown
 *
 * A run belongs to a registered model (opts.modelName; else the example model
 * registry.model_name for the feature data, or the --data file's stem), whose
 * settings (src/registry/settings.ts) give the decision threshold and the
 * experiment the run is filed in. `threshold: auto` fits at 0.5, then takes
 * the F1-optimal threshold on the validation rows (binary models only); the
 * model, its artifact and the run's params carry the chosen value, and the
 * validation metrics are measured at it (so they are optimistic by the
 * choice; cross-validation then runs at the chosen threshold too).
 */
import { join } from "node:path";
import { UserError } from "../core/errors.ts";
import { log as stderrLog, ProgressBar } from "../core/progress.ts";
import { gitInfo, gitTags } from "../tracking/git.ts";
import { newRunId, TrackingStore } from "../tracking/store.ts";
import { trackingLocation } from "../config/paths.ts";
import type { Lineage } from "../models/artifact.ts";
import {
  getEngine,
  ignoredKeyHint,
  ignoredModelKeys,
  loadPlugins,
  validateModelParams,
} from "../models/engines/registry.ts";
import { crossValidate, cvFoldMetrics, cvSummaryMetrics } from "../models/evaluate.ts";
import { resolveTarget } from "../models/target.ts";
import { fit, fittedParams, Model } from "../models/model.ts";
import { f1OptimalThreshold } from "../models/metrics.ts";
import type { TargetInfo } from "../models/target.ts";
import {
  DEFAULT_THRESHOLD,
  modelNameForData,
  modelSettings,
  taskKindOfTarget,
} from "../registry/settings.ts";
import { type Config, ModelNameSchema, type ModelParams } from "../config/schema.ts";
import type { Columns } from "../models/preprocess/index.ts";
import { loadTrainingInput } from "./data.ts";
import { featureSetParams, recordFeatureSet } from "./feature_set.ts";
import { signatureFeatureService, withFeatureService } from "./serving_signature.ts";
import { loadDefinitions } from "../featurestore/definitions.ts";
import type { TrainOptions, TrainResult } from "./types.ts";

// the stage's steps, importable from this module as before the split (tasks and notebooks use it)
export * from "./data.ts";
export * from "./feature_set.ts";
export * from "../models/target.ts";
export * from "../models/fit.ts";
export * from "../models/evaluate.ts";

export type { TrainOptions, TrainResult } from "./types.ts";

/** The whole stage: data -> fit -> evaluate -> artifact -> report, recorded as one run. */
export async function train(opts: TrainOptions): Promise<TrainResult> {
  const { config } = opts;
  const params = config.model;
  await loadPlugins(params.plugins);
  getEngine(params.algorithm); // an unknown engine is refused before the training set is built
  const verbose = opts.verbose ?? true;
  const reportsDir = opts.reportsDir === undefined ? config.paths.reports : opts.reportsDir;
  // Plot, d3 and linkedom take a moment to load: start now, so it overlaps training in the workers
  const reportModule = reportsDir ? import("./report.ts") : undefined;
  reportModule?.catch(() => {}); // a load error surfaces where it is awaited
  const say = (m: string) => verbose && stderrLog(m);
  // where runs go is checked before the training set is built: a bad tracking URI costs no work
  const storePath = opts.store === undefined ? trackingLocation(config) : opts.store;
  const data = await loadTrainingInput(config, opts);
  const target = resolveTarget(
    data.train.columns[data.target],
    data.validation.columns[data.target],
    params,
    data.target,
  );
  validateModelParams(params, target.kind);
  const ignored = ignoredModelKeys(params, target.kind);
  for (const k of ignored) say(ignoredWarning(params, k));
  const exclude = [...data.exclude, data.target];
  // the model this run is for, and its settings: decision threshold and experiment
  const modelName = trainModelName(config, opts);
  const kind = taskKindOfTarget(target);
  const settings = modelSettings(config, modelName, kind);
  const auto = settings.threshold === "auto";
  if (auto && kind !== "binary") {
    throw new UserError(
      `${settings.from.threshold} = auto: it picks a binary decision threshold, but model '${modelName}' is ${
        kind === "multiclass" ? `multiclass (${target.classes!.length} classes)` : "regression"
      }; give a number or leave it out`,
    );
  }
  // auto: fitted at 0.5, then replaced by the threshold chosen on validation
  let threshold = auto ? DEFAULT_THRESHOLD : settings.threshold as number;
  if (kind === "binary" && settings.from.threshold === "default" && params.threshold !== DEFAULT_THRESHOLD) {
    say(
      `model '${modelName}': decision threshold ${DEFAULT_THRESHOLD}; model.threshold ${params.threshold} is the ` +
        `example model '${config.registry.model_name}''s (set registry.models.${modelName}.threshold for this one)`,
    );
  }
  const fitParams = { ...params, threshold };
  const experiment = opts.experiment ?? settings.experiment;

  const store = storePath ? await TrackingStore.open(storePath) : undefined;
  const git = gitInfo();
  const runId = store
    ? (await store.startRun({
      experiment,
      runName: opts.runName,
      parentRunId: opts.parentRunId,
      tags: {
        ...(opts.tags ?? {}),
        ...gitTags(git),
        "orchard.stage": "train",
        "orchard.model_name": modelName,
      },
    })).runId
    : newRunId();
  try {
    if (data.featureSet) {
      // the joined rows and their lineage go with the run; the model's lineage points at them
      const rec = await recordFeatureSet(
        store,
        runId,
        data.featureSet,
        join(config.paths.models, "training_sets"),
      );
      for (const part of [data.train, data.validation]) {
        part.digest = { path: rec.path, sha256: rec.sha256, rows: part.rows };
      }
    }
    const fitted = fittedParams(fitParams, target, data.target);
    if (auto) {
      // the chosen threshold is logged once it is known (params are immutable)
      delete fitted.threshold;
      fitted.threshold_mode = "auto";
    }
    const runParams: Record<string, unknown> = {
      ...fitted,
      ...(params.cv_folds >= 2 ? { cv_folds: params.cv_folds } : {}),
      data: data.train.digest.path,
      ...(data.source === "file+validation" ? { validation_data: data.validation.digest.path } : {}),
      ...(data.source === "split"
        ? { split_seed: config.split.seed, validation_fraction: config.split.validation_fraction }
        : {}),
      // a feature set's lineage: service, view versions, the join's row counts (artifact params.json too)
      ...(data.featureSet ? featureSetParams(data.featureSet.lineage) : {}),
    };
    await store?.logParams(runId, runParams);
    await store?.logDataset(runId, { name: "train", ...data.train.digest });
    await store?.logDataset(runId, { name: "validation", ...data.validation.digest });

    let cv: TrainResult["cv"];
    const crossValidation = async (threshold: number) => {
      const bar = verbose ? new ProgressBar("cross-validation folds", params.cv_folds) : undefined;
      const foldLogs: Promise<void>[] = [];
      const res = await crossValidate(
        data.train.columns,
        target,
        { ...fitParams },
        params.cv_folds,
        config.split.seed,
        {
          exclude,
          threshold,
          onFold: (f, m) => {
            if (store) {
              foldLogs.push(store.logMetrics(runId, cvFoldMetrics(m), f));
            }
            bar?.tick();
          },
        },
      );
      await Promise.all(foldLogs);
      await store?.logMetrics(runId, cvSummaryMetrics(res));
      return { mean: res.mean, std: res.std };
    };
    if (params.cv_folds >= 2 && !auto) cv = await crossValidation(threshold);

    const t0 = performance.now();
    // the in-memory model object (src/models/model.ts); the stage adds tracking, lineage and reports
    // a feature set's rows repeat entities across cut-offs: boosting's early stopping holds out whole entities
    const grouped = params.early_stopping_on === "train" ? data.earlyStopping : undefined;
    let model = await fit(grouped?.fit ?? data.train.columns, {
      ...fitParams,
      target: data.target,
      exclude: data.exclude,
      progress: verbose,
      // early_stopping_on = validation: an engine that stops early (boosting) scores the validation
      // rows each round, as XGBoost's eval_set; otherwise it holds out training rows itself
      ...(params.early_stopping_on === "validation"
        ? { validation: data.validation.columns }
        : grouped
        ? { validation: grouped.holdout }
        : {}),
    });
    const { preprocessor, estimator } = model;
    const trainSeconds = (performance.now() - t0) / 1000;
    const rounds = (estimator as { n_iter_?: number }).n_iter_;
    if (typeof rounds === "number") {
      // the rounds early stopping kept, as MLflow's XGBoost autolog records best_iteration
      runParams.rounds_used = rounds;
      await store?.logParams(runId, { rounds_used: rounds });
    }
    if (auto) {
      threshold = autoThreshold(model, target, data.validation.columns, data.validation.rows);
      model = new Model({ ...model, threshold, params: { ...model.params, threshold } });
      runParams.threshold = threshold;
      await store?.logParams(runId, { threshold });
      if (params.cv_folds >= 2) cv = await crossValidation(threshold);
    }
    if (data.featureSet) {
      // the signature names the service, so /predict can take an entity id (serving_signature.ts)
      const fs = signatureFeatureService(await loadDefinitions(config), data.featureSet.lineage);
      model = new Model({ ...model, signature: withFeatureService(model.signature, fs) });
    }
    if (preprocessor.dropped.length) {
      say(`dropped columns: ${preprocessor.dropped.map((d) => `${d.name} (${d.reason})`).join(", ")}`);
    }
    const evaluation = model.evaluate(data.validation.columns);
    const metrics = { ...evaluation.metrics, train_seconds: trainSeconds };
    await store?.logMetrics(runId, metrics);

    const lineage: Lineage = {
      run_id: store ? runId : null,
      data: { train: data.train.digest, validation: data.validation.digest },
      code_version: git,
    };
    const artifactsDir = opts.artifactsDir ?? join(config.paths.models, "artifacts");
    const artifact = model.save(join(artifactsDir, runId), { lineage, params: runParams, metrics });
    await store?.logArtifact(runId, "model", artifact);

    const result: TrainResult = {
      run_id: runId,
      model_name: modelName,
      experiment,
      ...(kind === "binary"
        ? { threshold, threshold_from: auto ? "auto" : settings.from.threshold, threshold_auto: auto }
        : {}),
      artifact,
      metrics,
      ...(kind === "binary" ? { positive_class: target.positiveClass } : {}),
      classes: target.classes,
      ...(evaluation.perClass ? { per_class: evaluation.perClass } : {}),
      ...(evaluation.absentClasses?.length ? { absent_classes: evaluation.absentClasses } : {}),
      task: target.task,
      algorithm: params.algorithm,
      ...(typeof rounds === "number" ? { rounds_used: rounds } : {}),
      ignored_settings: ignored,
      train_seconds: trainSeconds,
      rows: data.train.rows,
      validation_rows: data.validation.rows,
      features: preprocessor.width,
      input_columns: preprocessor.columns.length,
      dropped: preprocessor.dropped,
      ...(cv ? { cv } : {}),
    };

    if (reportsDir && reportModule) {
      const { reportShap, writeTrainReport } = await reportModule;
      const imp = estimator.featureImportances?.();
      const paths = writeTrainReport(reportsDir, {
        result,
        evaluation,
        params: runParams,
        importances: imp ? preprocessor.columnImportances(imp) : undefined,
        // SHAP of a seeded sample of the validation rows (an engine without it: one line why)
        shap: reportShap(model, data.validation.columns, config.split.seed),
        lineage,
      });
      result.report = paths.html;
      result.summary = paths.markdown;
      await store?.logArtifact(runId, "report", paths.html);
      // its record beside it, and reports/index.html rebuilt (loaded with the report's charts)
      (await import("../report/catalog.ts")).recordTrainReport(reportsDir, result);
    }
    await store?.endRun(runId, "FINISHED");
    return result;
  } catch (e) {
    await store?.endRun(runId, "FAILED").catch(() => {/* keep the original error */});
    throw e;
  } finally {
    await store?.close();
  }
}

/**
 * The model a run is for: the one given, else the example model
 * (registry.model_name) for the configured feature data, else the one named
 * after the --data file (src/registry/settings.ts).
 */
export function trainModelName(config: Config, opts: { modelName?: string; data?: string }): string {
  if (opts.modelName !== undefined) {
    if (!ModelNameSchema.safeParse(opts.modelName).success) {
      throw new UserError(
        `invalid model name '${opts.modelName}': use letters, digits, '_', '.', '-' (not starting with '.' or '-')`,
      );
    }
    return opts.modelName;
  }
  return opts.data === undefined ? config.registry.model_name : modelNameForData(opts.data);
}

/** `threshold: auto`: the F1-optimal threshold of the fitted binary model on the validation rows. */
function autoThreshold(model: Model, target: TargetInfo, validation: Columns, rows: number): number {
  const X = model.transform(validation);
  const P = model.estimator.predictProba!(X);
  const k = model.classes!.length;
  const pos = model.classes!.findIndex((c) => c === model.positiveClass);
  const score = new Float64Array(rows), truth = new Uint8Array(rows);
  for (let i = 0; i < rows; i++) {
    score[i] = P[i * k + pos];
    truth[i] = String(target.classes![target.yValidation[i]]) === String(model.positiveClass) ? 1 : 0;
  }
  const best = f1OptimalThreshold(truth, score);
  if (best === null) {
    throw new UserError(
      `threshold auto: the validation rows hold no row of the positive class ${
        JSON.stringify(model.positiveClass)
      }, so there is no F1 to optimize; give a number`,
    );
  }
  return best.threshold;
}

/** One line on a model setting the engine does not read (ignoredModelKeys). */
function ignoredWarning(params: ModelParams, key: string): string {
  const value = JSON.stringify((params as Record<string, unknown>)[key]);
  return `warning: model.${key} = ${value} is not read by ${params.algorithm}, ignored (${
    ignoredKeyHint(params.algorithm, key)
  })`;
}
