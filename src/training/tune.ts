/**
 * Hyperparameter search: a grid (every combination) or a seeded random sample
 * of the combinations of `tune.space` (model key -> candidate values), each
 * scored by k-fold cross-validation on the training rows. The search is one
 * parent run in the tracking store; every trial is a child run whose headline
 * metrics are what the search ranks by: `cv_mean_<metric>` and
 * `cv_std_<metric>` of every metric over the folds, with the folds themselves
 * as step history under `cv_fold_<metric>` (step = fold), never under the
 * plain metric name. Its params are typed (a null stays null). The parent
 * carries the best trial's params and cv_ metrics (and `best_trial`,
 * tag orchard.best_run_id); its `trial_cv_mean_<metric>` history (step =
 * trial) is the search's progress.
 *
 * On a multiclass target a one-class metric name (roc_auc, pr_auc, f1,
 * precision, recall) means its macro average (macro_roc_auc, ...), said once.
 */
import { UserError, UserErrors } from "../core/errors.ts";
import { log as stderrLog, ProgressBar } from "../core/progress.ts";
import { describeExpected, schemaAt, typedValue } from "../config/load.ts";
import { type Config, type ModelParams, ModelSchema } from "../config/schema.ts";
import { Rng } from "../core/random.ts";
import { gitTags } from "../tracking/git.ts";
import { TrackingStore } from "../tracking/store.ts";
import { trackingLocation } from "../config/paths.ts";
import { DEFAULT_THRESHOLD, modelSettings, taskKindOfTarget } from "../registry/settings.ts";
import { trainModelName } from "./train.ts";
import {
  engineParams,
  getEngine,
  ignoredKeyHint,
  loadPlugins,
  modelKeysRead,
  validateModelParams,
} from "../models/engines/registry.ts";
import {
  crossValidate,
  cvFoldMetrics,
  cvSummaryMetrics,
  type DataOptions,
  loadTrainingData,
  resolveTarget,
} from "./train.ts";

export type Space = Record<string, (string | number | boolean | null)[]>;
export type Candidate = Record<string, string | number | boolean | null>;

/** Metrics where lower is better; every other metric is maximized. */
const LOWER_IS_BETTER = new Set(["log_loss", "brier", "rmse", "mae"]);

function greaterIsBetter(metric: string): boolean {
  return !LOWER_IS_BETTER.has(metric);
}

/** Every combination, in a fixed order (keys sorted, values as listed). */
export function gridCandidates(space: Space): Candidate[] {
  const keys = Object.keys(space).sort();
  let out: Candidate[] = [{}];
  for (const k of keys) {
    if (!Array.isArray(space[k]) || space[k].length === 0) {
      throw new UserError(`tune.space.${k}: needs at least one value`);
    }
    out = out.flatMap((c) => space[k].map((v) => ({ ...c, [k]: v })));
  }
  return out;
}

/** `n` distinct combinations drawn with a seed (all of them when the grid is smaller). */
export function randomCandidates(space: Space, n: number, seed: number): Candidate[] {
  const all = gridCandidates(space);
  const rng = new Rng(seed);
  for (let i = all.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [all[i], all[j]] = [all[j], all[i]];
  }
  return all.slice(0, Math.min(n, all.length));
}

/** The model params of one candidate, validated by the config schema. */
export function candidateParams(base: ModelParams, candidate: Candidate): ModelParams {
  const known = new Set(Object.keys(ModelSchema.shape));
  for (const k of Object.keys(candidate)) {
    if (!known.has(k)) throw new UserError(`tune.space.${k}: not a model parameter`);
  }
  // text in the space is typed like a --set value: "None" -> null for keys that take null
  const typed = Object.fromEntries(
    Object.entries(candidate).map(([k, v]) => [k, typeof v === "string" ? typedValue(["model", k], v) : v]),
  );
  const parsed = ModelSchema.safeParse({ ...base, ...typed });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = issue.path.join(".");
    const node = issue.code === "invalid_type" || issue.code === "invalid_union"
      ? schemaAt(["model", ...issue.path.map(String)])
      : undefined;
    const expected = node ? `expected ${describeExpected(node)}` : issue.message.toLowerCase();
    throw new UserError(`tune.space.${key} = ${JSON.stringify(candidate[key])}: ${expected}`);
  }
  return parsed.data;
}

export interface TuneOptions extends DataOptions {
  config: Config;
  /** tracking store file; default config.tracking.store; null: do not track */
  store?: string | null;
  experiment?: string;
  verbose?: boolean;
}

export interface Trial {
  trial: number;
  run_id: string | null;
  /** the candidate's values as the model takes them (typed: "None" in the space is null here) */
  params: Candidate;
  /** cv mean and std of the metric searched */
  score: number;
  std: number;
  /** cv mean and std of every metric */
  metrics: Record<string, number>;
  stds: Record<string, number>;
}

export interface TuneResult {
  parent_run_id: string | null;
  metric: string;
  strategy: "grid" | "random";
  folds: number;
  best: Trial;
  trials: Trial[];
}

const CLASSIFICATION_METRICS = [
  "roc_auc",
  "pr_auc",
  "accuracy",
  "precision",
  "recall",
  "f1",
  "log_loss",
  "brier",
];
const MULTICLASS_METRICS = [
  "accuracy",
  "macro_roc_auc",
  "weighted_roc_auc",
  "macro_pr_auc",
  "weighted_pr_auc",
  "macro_f1",
  "weighted_f1",
  "macro_precision",
  "weighted_precision",
  "macro_recall",
  "weighted_recall",
  "log_loss",
  "brier",
];
const REGRESSION_METRICS = ["rmse", "mae", "r2"];

/**
 * The metric a search ranks by: tune.metric, checked against the target's
 * metrics; on a multiclass target a one-class name (roc_auc, f1, ...) is its
 * macro average.
 */
export function tuneMetric(
  metric: string,
  task: "classification" | "regression",
  multiclass: boolean,
): string {
  if (multiclass && ["roc_auc", "pr_auc", "f1", "precision", "recall"].includes(metric)) {
    return `macro_${metric}`;
  }
  const allowed = task === "regression"
    ? REGRESSION_METRICS
    : multiclass
    ? MULTICLASS_METRICS
    : CLASSIFICATION_METRICS;
  if (!allowed.includes(metric)) {
    const kind = task === "regression" ? "regression" : multiclass ? "multiclass" : "binary classification";
    throw new UserError(
      `tune.metric = ${metric}: not a ${kind} metric (use ${allowed.join(", ")}; e.g. ${allowed[0]})`,
    );
  }
  return metric;
}

/** A trial's candidate with its values as the model params took them (typed: "None" -> null). */
function typedCandidate(params: ModelParams, candidate: Candidate): Candidate {
  const typed = params as unknown as Record<string, Candidate[string]>;
  return Object.fromEntries(Object.keys(candidate).map((k) => [k, typed[k] ?? null]));
}

/** What a trial run logs as params: the engine's params (typed), the searched keys, the folds. */
function trialParams(
  params: ModelParams,
  candidate: Candidate,
  kind: Parameters<typeof engineParams>[1],
  folds: number,
) {
  return {
    algorithm: params.algorithm,
    ...engineParams(params, kind),
    ...typedCandidate(params, candidate),
    cv_folds: folds,
  };
}

export async function tune(opts: TuneOptions): Promise<TuneResult> {
  const { config } = opts;
  await loadPlugins(config.model.plugins);
  const t = config.tune;
  const space = t.space ?? getEngine(config.model.algorithm).tuneSpace;
  if (!space) {
    throw new UserError(
      `tune.space: the ${config.model.algorithm} engine has no default search space; set tune.space`,
    );
  }
  const candidates = t.strategy === "grid"
    ? gridCandidates(space)
    : randomCandidates(space, t.n_trials, config.model.random_state);
  if (candidates.length === 0) throw new UserError("tune.space: no candidates");
  const paramsList = candidates.map((c) => candidateParams(config.model, c));

  const data = loadTrainingData(config, opts);
  const target = resolveTarget(
    data.train.columns[data.target],
    data.validation.columns[data.target],
    config.model,
    data.target,
  );
  for (const p of paramsList) validateModelParams(p, target.kind);
  // a space key no trial's engine reads makes trials that differ only in name (with algorithm in the
  // space, a forest key is read by the forest trials)
  const readers = paramsList.map((p) => modelKeysRead(p, target.kind));
  const idle = Object.keys(space).filter((k) => readers.every((reads) => !reads(k)));
  if (idle.length) {
    throw new UserErrors(
      idle.map((k) =>
        `tune.space.${k}: not read by ${config.model.algorithm}, so every trial would be the same (${
          ignoredKeyHint(config.model.algorithm, k)
        })`
      ),
    );
  }
  const multiclass = target.task === "classification" && target.classes!.length > 2;
  const metric = tuneMetric(t.metric, target.task, multiclass);
  if (metric !== t.metric && (opts.verbose ?? true)) {
    stderrLog(
      `tune.metric = ${t.metric} on a ${
        target.classes!.length
      }-class target: ranking by ${metric} (one-vs-rest, macro average)`,
    );
  }
  const exclude = [...data.exclude, data.target];

  const storePath = opts.store === undefined ? trackingLocation(config) : opts.store;
  const store = storePath ? await TrackingStore.open(storePath) : undefined;
  // tuning is for the same model a train of this data would be: its experiment and decision threshold
  const settings = modelSettings(config, trainModelName(config, opts), taskKindOfTarget(target));
  const experiment = opts.experiment ?? settings.experiment;
  const threshold = typeof settings.threshold === "number" ? settings.threshold : DEFAULT_THRESHOLD;
  const tags = gitTags();
  const parent = store
    ? (await store.startRun({
      experiment,
      runName: `tune-${t.strategy}`,
      tags: { ...tags, "orchard.stage": "tune" },
    })).runId
    : null;
  const bar = (opts.verbose ?? true) ? new ProgressBar("tuning trials", candidates.length) : undefined;
  const better = greaterIsBetter(metric);
  const trials: Trial[] = [];
  try {
    if (parent) {
      await store!.logParams(parent, {
        strategy: t.strategy,
        n_trials: candidates.length,
        cv_folds: t.cv_folds,
        metric,
        space,
        data: data.train.digest.path,
      });
      await store!.logDataset(parent, { name: "train", ...data.train.digest });
    }
    for (let i = 0; i < candidates.length; i++) {
      const params = paramsList[i];
      const child = parent
        ? (await store!.startRun({
          experiment,
          runName: `trial-${i}`,
          parentRunId: parent,
          tags: { ...tags, "orchard.stage": "tune-trial" },
        })).runId
        : null;
      try {
        if (child) await store!.logParams(child, trialParams(params, candidates[i], target.kind, t.cv_folds));
        const foldLogs: Promise<void>[] = [];
        const cv = await crossValidate(data.train.columns, target, params, t.cv_folds, config.split.seed, {
          exclude,
          threshold,
          onFold: (f, m) => {
            if (child) foldLogs.push(store!.logMetrics(child, cvFoldMetrics(m), f));
          },
        });
        await Promise.all(foldLogs);
        const trial: Trial = {
          trial: i,
          run_id: child,
          params: typedCandidate(params, candidates[i]),
          score: cv.mean[metric],
          std: cv.std[metric],
          metrics: cv.mean,
          stds: cv.std,
        };
        trials.push(trial);
        if (child) {
          await store!.logMetrics(child, cvSummaryMetrics(cv));
          await store!.endRun(child, "FINISHED");
        }
        if (parent) await store!.logMetric(parent, `trial_cv_mean_${metric}`, trial.score, i);
      } catch (e) {
        if (child) await store!.endRun(child, "FAILED").catch(() => {});
        throw e;
      }
      bar?.tick();
    }
    const scored = trials.filter((x) => !Number.isNaN(x.score));
    if (scored.length === 0) throw new UserError(`tune: no trial produced a ${metric} score`);
    // best score; ties go to the earlier trial
    const best = scored.reduce((a, b) => ((better ? b.score > a.score : b.score < a.score) ? b : a));
    if (parent) {
      // the best trial's params and cross-validation metrics, under the trial's own names
      await store!.logParams(parent, {
        ...trialParams(paramsList[best.trial], candidates[best.trial], target.kind, t.cv_folds),
        best_trial: best.trial,
      });
      await store!.logMetrics(parent, cvSummaryMetrics({ mean: best.metrics, std: best.stds }));
      await store!.setTags(parent, { "orchard.best_run_id": best.run_id ?? "" });
      await store!.endRun(parent, "FINISHED");
    }
    return { parent_run_id: parent, metric, strategy: t.strategy, folds: t.cv_folds, best, trials };
  } catch (e) {
    if (parent) {
      await store!.endRun(parent, "FAILED").catch(() => {/* keep the original error */});
    }
    throw e;
  } finally {
    await store?.close();
  }
}
