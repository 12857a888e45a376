/**
 * The training stage as functions a task or a notebook can call (each step
 * lives in its own module and is re-exported here):
 *
 *   loadTrainingData  (data.ts)       -> the train and validation tables
 *                        (configured feature data with its split column, or
 *                        any file + optional validation file, else a seeded
 *                        stratified split)
 *   resolveTarget     (models/target.ts)    -> task, classes, positive class, encoded labels
 *   fit               (models/model.ts) -> the in-memory Model: fitted preprocessing + engine
 *   model.evaluate    (models/model.ts) -> validation metrics, curves, confusion matrix
 *   crossValidate     (models/evaluate.ts)   -> k-fold metrics on the training rows
 *   train             (here)          -> all of it, tracked as a run, saved as an
 *                        artifact, reported as HTML + Markdown
 */
import { join } from "node:path";
import { log as stderrLog, ProgressBar } from "../core/progress.ts";
import { gitInfo, gitTags } from "../tracking/git.ts";
import { newRunId, TrackingStore } from "../tracking/store.ts";
import { trackingLocation } from "../config/paths.ts";
import type { Lineage } from "../models/artifact.ts";
import { validateModelParams } from "../models/engines/registry.ts";
import { crossValidate, cvSummaryMetrics } from "../models/evaluate.ts";
import { resolveTarget } from "../models/target.ts";
import { fit, fittedParams } from "../models/model.ts";
import { loadTrainingData } from "./data.ts";
import type { TrainOptions, TrainResult } from "./types.ts";

// the stage's steps, importable from this module as before the split (tasks and notebooks use it)
export * from "./data.ts";
export * from "../models/target.ts";
export * from "../models/fit.ts";
export * from "../models/evaluate.ts";

export type { TrainOptions, TrainResult } from "./types.ts";

/** The whole stage: data -> fit -> evaluate -> artifact -> report, recorded as one run. */
export async function train(opts: TrainOptions): Promise<TrainResult> {
  const { config } = opts;
  const params = config.model;
  const verbose = opts.verbose ?? true;
  const reportsDir = opts.reportsDir === undefined ? config.paths.reports : opts.reportsDir;
  // Plot, d3 and linkedom take a moment to load: start now, so it overlaps training in the workers
  const reportModule = reportsDir ? import("./report.ts") : undefined;
  reportModule?.catch(() => {}); // a load error surfaces where it is awaited
  const say = (m: string) => verbose && stderrLog(m);
  const data = loadTrainingData(config, opts);
  const target = resolveTarget(
    data.train.columns[data.target],
    data.validation.columns[data.target],
    params,
    data.target,
  );
  validateModelParams(params, target.kind);
  const exclude = [...data.exclude, data.target];

  const storePath = opts.store === undefined ? trackingLocation(config) : opts.store;
  const store = storePath ? await TrackingStore.open(storePath) : undefined;
  const git = gitInfo();
  const runId = store
    ? (await store.startRun({
      experiment: opts.experiment ?? config.tracking.experiment,
      runName: opts.runName,
      parentRunId: opts.parentRunId,
      tags: {
        ...(opts.tags ?? {}),
        ...gitTags(git),
        "orchard.stage": "train",
      },
    })).runId
    : newRunId();
  try {
    const runParams: Record<string, unknown> = {
      ...fittedParams(params, target, data.target),
      ...(params.cv_folds >= 2 ? { cv_folds: params.cv_folds } : {}),
      data: data.train.digest.path,
      ...(data.source === "file+validation" ? { validation_data: data.validation.digest.path } : {}),
      ...(data.source === "split"
        ? { split_seed: config.split.seed, validation_fraction: config.split.validation_fraction }
        : {}),
    };
    await store?.logParams(runId, runParams);
    await store?.logDataset(runId, { name: "train", ...data.train.digest });
    await store?.logDataset(runId, { name: "validation", ...data.validation.digest });

    let cv: TrainResult["cv"];
    if (params.cv_folds >= 2) {
      const bar = verbose ? new ProgressBar("cross-validation folds", params.cv_folds) : undefined;
      const foldLogs: Promise<void>[] = [];
      const res = await crossValidate(
        data.train.columns,
        target,
        { ...params },
        params.cv_folds,
        config.split.seed,
        {
          exclude,
          threshold: params.threshold,
          onFold: (f, m) => {
            if (store) {
              foldLogs.push(store.logMetrics(
                runId,
                Object.fromEntries(Object.entries(m).map(([k, v]) => [`cv_fold_${k}`, v])),
                f,
              ));
            }
            bar?.tick();
          },
        },
      );
      await Promise.all(foldLogs);
      cv = { mean: res.mean, std: res.std };
      await store?.logMetrics(runId, cvSummaryMetrics(res));
    }

    const t0 = performance.now();
    // the in-memory model object (src/models/model.ts); the stage adds tracking, lineage and reports
    const model = await fit(data.train.columns, {
      ...params,
      target: data.target,
      exclude: data.exclude,
      progress: verbose,
    });
    const { preprocessor, estimator } = model;
    const trainSeconds = (performance.now() - t0) / 1000;
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
      artifact,
      metrics,
      positive_class: target.positiveClass,
      classes: target.classes,
      task: target.task,
      algorithm: params.algorithm,
      train_seconds: trainSeconds,
      rows: data.train.rows,
      validation_rows: data.validation.rows,
      features: preprocessor.width,
      input_columns: preprocessor.columns.length,
      dropped: preprocessor.dropped,
      ...(cv ? { cv } : {}),
    };

    if (reportsDir && reportModule) {
      const { writeTrainReport } = await reportModule;
      const imp = estimator.featureImportances?.();
      const paths = writeTrainReport(reportsDir, {
        result,
        evaluation,
        params: runParams,
        importances: imp ? preprocessor.columnImportances(imp) : undefined,
        lineage,
      });
      result.report = paths.html;
      result.summary = paths.markdown;
      await store?.logArtifact(runId, "report", paths.html);
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
