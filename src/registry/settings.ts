/**
 * Per-model settings: the promotion gates, the decision threshold and the
 * experiment belong to a registered model, not to the project (issue 12).
 * This module is the one place they are resolved; `train` (threshold,
 * experiment), `register` (experiment of `latest`, gates) and `models
 * promote` (gates) all ask `modelSettings`.
 *
 * For a model `name` of task kind `kind`, each setting is, in order:
 *
 *   1. registry.models.<name>.{gates, threshold, experiment} when given;
 *   2. for the example model (name = registry.model_name): the global keys
 *      registry.gates, model.threshold and tracking.experiment, so the
 *      shipped churn example behaves as it always has;
 *   3. otherwise the defaults of the task kind (DEFAULT_GATES), threshold
 *      0.5, and an experiment named after the model.
 *
 * A model with no settings therefore never inherits the churn example's
 * recall/F1 gates or its 0.35 threshold.
 *
 * Which model a run belongs to: `train --model-name`, else the example model
 * for the feature data, else the `--data` file's stem (modelNameForData). A
 * `--data` run is thus filed in the experiment named after its file, and
 * `register --name <stem>` finds it as `latest`, because `register` looks for
 * `latest` in the experiment of the model it registers into.
 */
import type { Config, MetricThreshold } from "../config/schema.ts";

/** One metric's gate (the same shape as gates.ts's GateSpec; this module stays free of the gate code). */
type GateSpec = MetricThreshold;

/** What a model predicts, as far as its settings care. */
export type TaskKind = "binary" | "multiclass" | "regression";

/** The decision threshold a model without one gets. */
export const DEFAULT_THRESHOLD = 0.5;

/**
 * Gates for a model without its own, by task kind, on metrics the evaluator
 * reports for that kind (src/models/evaluate.ts, metrics.ts). Floors are on
 * scale-free metrics; rmse has no universal ceiling, so it is gated against
 * the champion (no worse), lower being better.
 */
export const DEFAULT_GATES: Readonly<Record<TaskKind, Readonly<Record<string, GateSpec>>>> = {
  binary: {
    roc_auc: { threshold: 0.7, greater_is_better: true },
    f1: { threshold: 0.5, greater_is_better: true },
  },
  multiclass: {
    accuracy: { threshold: 0.5, greater_is_better: true },
    macro_f1: { threshold: 0.5, greater_is_better: true },
  },
  regression: {
    r2: { threshold: 0.5, greater_is_better: true },
    rmse: { min_relative_change: 0, greater_is_better: false },
  },
};

export interface ModelSettings {
  name: string;
  kind: TaskKind;
  gates: Record<string, GateSpec>;
  /** a number in (0, 1), or "auto": the F1-optimal threshold on validation (binary models only) */
  threshold: number | "auto";
  experiment: string;
  /** where each setting came from: a config key, or "default (...)" */
  from: { gates: string; threshold: string; experiment: string };
}

const isExample = (config: Config, name: string) => name === config.registry.model_name;

function own(config: Config, name: string) {
  return Object.hasOwn(config.registry.models, name) ? config.registry.models[name] : undefined;
}

/** The experiment a model's runs are filed under (train) and `register` takes `latest` from. */
export function modelExperiment(config: Config, name: string): string {
  return resolveExperiment(config, name).experiment;
}

function resolveExperiment(config: Config, name: string): { experiment: string; from: string } {
  const mine = own(config, name)?.experiment;
  if (mine !== undefined) return { experiment: mine, from: `registry.models.${name}.experiment` };
  if (isExample(config, name)) return { experiment: config.tracking.experiment, from: "tracking.experiment" };
  return { experiment: name, from: "default (the model's name)" };
}

/** The gates, decision threshold and experiment of model `name`, whose task kind is `kind`. */
export function modelSettings(config: Config, name: string, kind: TaskKind): ModelSettings {
  const mine = own(config, name);
  const example = isExample(config, name);
  const prefix = `registry.models.${name}`;
  const gates = mine?.gates !== undefined
    ? { gates: mine.gates, from: `${prefix}.gates` }
    : example
    ? { gates: config.registry.gates, from: "registry.gates" }
    : { gates: DEFAULT_GATES[kind], from: `default (${kind})` };
  const threshold = mine?.threshold !== undefined
    ? { threshold: mine.threshold, from: `${prefix}.threshold` }
    : example
    ? { threshold: config.model.threshold, from: "model.threshold" }
    : { threshold: DEFAULT_THRESHOLD, from: "default" };
  const experiment = resolveExperiment(config, name);
  return {
    name,
    kind,
    gates: structuredClone(gates.gates) as Record<string, GateSpec>,
    threshold: threshold.threshold,
    experiment: experiment.experiment,
    from: { gates: gates.from, threshold: threshold.from, experiment: experiment.from },
  };
}

/** The task kind of a fitted target: its task and, for classification, its number of classes. */
export function taskKindOfTarget(
  target: { task: "classification" | "regression"; classes?: unknown[] },
): TaskKind {
  if (target.task === "regression") return "regression";
  return (target.classes?.length ?? 2) > 2 ? "multiclass" : "binary";
}

/**
 * The task kind of a run or registered version. Its params hold the task
 * (`task`, logged by the train stage from fittedParams); multiclass models
 * are told apart from binary ones by their macro metrics, which evaluation
 * reports for more than two classes only. A run without a `task` param (one
 * logged by hand) is judged by its metrics alone.
 */
export function taskKindOf(
  run: { params: Record<string, unknown>; metrics: Record<string, number> },
): TaskKind {
  const task = run.params.task;
  const has = (k: string) => typeof run.metrics[k] === "number";
  if (task === "regression" || (task === undefined && has("rmse") && !has("roc_auc") && !has("f1"))) {
    return "regression";
  }
  return has("macro_f1") ? "multiclass" : "binary";
}

/**
 * The model (and so the experiment) a data file's runs belong to: the file's
 * name without its folder and extension, as a valid model name (runs of other
 * characters become "_"; at most 100 characters; "data" when nothing is left).
 */
export function modelNameForData(path: string): string {
  const file = path.split(/[\\/]/).filter(Boolean).at(-1) ?? "";
  const stem = file.replace(/\.[^.]*$/, "");
  const name = stem.replace(/[^A-Za-z0-9_.-]+/g, "_").replace(/^[._-]+|[._-]+$/g, "").slice(0, 100)
    .replace(/[._-]+$/, "");
  return name || "data";
}
