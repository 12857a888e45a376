/**
 * Every algorithm is an engine in one registry, ours included: `model.algorithm`
 * names the engine, and an engine plugin (`registerEngine`, or a module in
 * `model.plugins`) plugs in the same way as the built-in forest, logistic
 * regression and ml-random-forest. An engine declares its name, the task
 * kinds it supports, a zod schema of its own params (`model.engine_params`),
 * how to create and load an estimator, and optionally the preprocessing it
 * wants. Invalid settings become one-line UserErrors naming the key.
 */
import type { z } from "zod";
import { UserError } from "../../core/errors.ts";
import { type ModelParams, ModelSchema } from "../../config/schema.ts";
import { MlRandomForestClassifier } from "./mlrf.ts";
import { loadForest, RandomForestClassifier, RandomForestRegressor } from "./forest/index.ts";
import { LogisticRegression } from "./logistic.ts";
import { GradientBoostingClassifier, GradientBoostingRegressor, loadBoosting } from "./boosting/index.ts";
import {
  type BoostingParams,
  DEFAULTS as BOOSTING_DEFAULTS,
  resolveBoostingParams,
} from "./boosting/params.ts";
import type { Estimator } from "../types.ts";

// what a plugin module needs besides defineEngine (import "@orchard/orchard/engines")
export type { Estimator, Matrix } from "../types.ts";

export type Algorithm = string;
export type EstimatorKind = "classifier" | "regressor";

/** What fitting knows when it creates the estimator: the encoded columns it will see. */
export interface EngineContext {
  /** the names of X's columns (preprocessing's feature names) */
  featureNames: readonly string[];
  /** per column of X: whether it holds a categorical column's ordinal codes */
  categorical: readonly boolean[];
  /** per column of X: the input (source) column it was encoded from */
  sourceColumns: readonly string[];
}

/** What an engine plugin declares. */
export interface EngineDefinition<P = Record<string, unknown>> {
  name: string;
  /** the task kinds it fits */
  kinds: readonly EstimatorKind[];
  /** its own settings, read from model.engine_params (defaults filled in) */
  params?: z.ZodType<P>;
  /** categorical columns as one-hot or ordinal codes (default ordinal) */
  encoding?: "onehot" | "ordinal";
  /** a new, unfitted estimator (`context`: the encoded columns, when fitting on a table) */
  create(settings: P, kind: EstimatorKind, model: ModelParams, context?: EngineContext): Estimator;
  /** the estimator back from its `toBytes()` */
  load(bytes: Uint8Array): Estimator;
  /** the settings a run records as params (default: the parsed `settings`) */
  recorded?(settings: P, kind: EstimatorKind, model: ModelParams): Record<string, unknown>;
  /** checks beyond the schema (combinations), as UserErrors */
  validate?(settings: P, kind: EstimatorKind, model: ModelParams): void;
  /** `deno task tune`'s search space when tune.space is not set: model key -> values to try */
  tuneSpace?: Record<string, (string | number | boolean | null)[]>;
  /** trees it grows, for the progress bar (default: none) */
  progressTotal?(model: ModelParams): number | undefined;
  /** where it came from, for messages (set by loadPlugins) */
  module?: string;
}

/** An engine as it is registered (its params type erased). */
// deno-lint-ignore no-explicit-any
export type Engine = EngineDefinition<any>;

/** Types an engine definition (a plugin module exports `engine = defineEngine({...})`). */
export function defineEngine<P>(def: EngineDefinition<P>): EngineDefinition<P> {
  return def;
}

const ENGINES = new Map<string, Engine>();

/** Adds an engine; a second engine of the same name is refused (unless it is the same one). */
export function registerEngine(engine: Engine): void {
  if (!engine || typeof engine.name !== "string" || !/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(engine.name)) {
    throw new UserError("an engine needs a name of letters, digits, '_', '.', '-'");
  }
  if (typeof engine.create !== "function" || typeof engine.load !== "function") {
    throw new UserError(`engine '${engine.name}': create and load must be functions`);
  }
  if (!Array.isArray(engine.kinds) || engine.kinds.length === 0) {
    throw new UserError(`engine '${engine.name}': kinds must list classifier and/or regressor`);
  }
  const had = ENGINES.get(engine.name);
  if (had && had !== engine && had.create !== engine.create) {
    throw new UserError(
      `engine '${engine.name}' is already registered${had.module ? ` (from ${had.module})` : ""}`,
    );
  }
  ENGINES.set(engine.name, engine);
}

/** The names of the registered engines. */
export function engineNames(): string[] {
  return [...ENGINES.keys()].sort();
}

/** The engine called `name`, or a one-line UserError naming what is registered. */
export function getEngine(name: string, context = "model.algorithm"): Engine {
  const engine = ENGINES.get(name);
  if (!engine) {
    throw new UserError(
      `${context} = ${name}: no such engine (registered: ${
        engineNames().join(", ")
      }); a plugin engine needs its module in model.plugins`,
    );
  }
  return engine;
}

/** Imports plugin modules (paths relative to the working directory) and registers their engines. */
export async function loadPlugins(paths: readonly string[], base = Deno.cwd()): Promise<void> {
  for (const path of paths) {
    const url = /^[a-z]+:/i.test(path) ? path : new URL(path, `file://${base.replace(/\/?$/, "/")}`).href;
    let mod: Record<string, unknown>;
    try {
      mod = await import(url);
    } catch (e) {
      throw new UserError(`model.plugins: cannot load ${path} (${(e as Error).message.split("\n")[0]})`);
    }
    const found = [mod.engine, mod.default, ...(Array.isArray(mod.engines) ? mod.engines : [])]
      .filter((x): x is Engine => typeof x === "object" && x !== null && "create" in x);
    if (found.length === 0) {
      throw new UserError(
        `model.plugins: ${path} exports no engine (export const engine = defineEngine({...}))`,
      );
    }
    for (const engine of found) registerEngine({ ...engine, module: path });
  }
}

function settingsOf(engine: Engine, params: ModelParams): unknown {
  if (!engine.params) return params;
  const parsed = engine.params.safeParse(params.engine_params ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = issue.path.length ? `.${issue.path.join(".")}` : "";
    throw new UserError(`model.engine_params${key}: ${issue.message} (engine ${engine.name})`);
  }
  return parsed.data;
}

function checkKind(engine: Engine, kind: EstimatorKind): void {
  if (!engine.kinds.includes(kind)) {
    throw new UserError(
      `model.algorithm = ${engine.name}: fits ${engine.kinds.join(" and ")} targets, not a ${
        kind === "classifier" ? "classification" : "regression"
      } one`,
    );
  }
}

/** The engine settings a run records as params (only the keys the algorithm uses). */
export function engineParams(params: ModelParams, kind: EstimatorKind): Record<string, unknown> {
  const engine = getEngine(params.algorithm);
  const settings = settingsOf(engine, params);
  if (engine.recorded) return engine.recorded(settings, kind, params);
  return engine.params ? { ...(settings as Record<string, unknown>) } : {};
}

/** model.* keys that apply whatever the engine: the task, the threshold, the encoding, the run's folds and seed. */
const RUN_KEYS: ReadonlySet<string> = new Set([
  "algorithm",
  "plugins",
  "engine_params",
  "task",
  "positive_class",
  "threshold",
  "encoding",
  "max_categories",
  "cv_folds",
  "random_state",
  "n_jobs",
]);

/** Keys an engine reads that its recorded params leave out (train reads early_stopping_on for boosting). */
const ALSO_READ: Record<string, readonly string[]> = { boosting: ["early_stopping_on", "monotonic_cst"] };

let modelDefaults: Record<string, unknown> | undefined;

/**
 * The model.* keys set away from their default that the configured built-in
 * engine does not read (`model.n_estimators` on boosting, whose rounds are
 * `max_iter`), in the schema's order: such a setting changes nothing, which a
 * user should hear (XGBoost warns of unused parameters too). A key at its
 * default changes nothing either way and is not named; a plugin engine may read
 * any model.* key, so nothing is named for one.
 */
export function ignoredModelKeys(params: ModelParams, kind: EstimatorKind): string[] {
  modelDefaults ??= ModelSchema.parse({}) as Record<string, unknown>;
  const reads = modelKeysRead(params, kind);
  const given = params as Record<string, unknown>;
  return Object.keys(ModelSchema.shape).filter((k) =>
    !reads(k) && k in given && JSON.stringify(given[k]) !== JSON.stringify(modelDefaults![k])
  );
}

/** Whether the configured engine reads a model.* key (a plugin engine may read any). */
export function modelKeysRead(params: ModelParams, kind: EstimatorKind): (key: string) => boolean {
  const engine = getEngine(params.algorithm);
  if (engine.module) return () => true;
  const read = new Set([...Object.keys(engineParams(params, kind)), ...(ALSO_READ[engine.name] ?? [])]);
  return (k) => RUN_KEYS.has(k) || read.has(k);
}

/** What a user reaching for another engine's key means, per engine. */
const COUNTERPART: Record<string, Record<string, string>> = {
  boosting: { n_estimators: "its rounds are model.max_iter" },
  forest: { max_iter: "its trees are model.n_estimators" },
  "ml-random-forest": { max_iter: "its trees are model.n_estimators" },
};

/** Where to look instead of an ignored key (ignoredModelKeys), for its message's parentheses. */
export function ignoredKeyHint(algorithm: string, key: string): string {
  const instead = COUNTERPART[algorithm]?.[key];
  return `${instead ? instead + "; " : ""}docs/guides/engines.md`;
}

/** Checks what the schema cannot: the engine exists, fits the task, and its settings are valid. */
export function validateModelParams(params: ModelParams, kind: EstimatorKind): void {
  const engine = getEngine(params.algorithm);
  // the engine's own checks first: they say best why a task does not fit it
  engine.validate?.(settingsOf(engine, params), kind, params);
  checkKind(engine, kind);
}

/** How the configured engine wants categorical columns. */
export function engineEncoding(params: ModelParams): "onehot" | "ordinal" {
  return getEngine(params.algorithm).encoding ?? "ordinal";
}

/** Trees the configured engine grows, for a progress bar (undefined: no bar). */
export function progressTotal(params: ModelParams): number | undefined {
  return getEngine(params.algorithm).progressTotal?.(params);
}

/** A new, unfitted estimator for the configured algorithm. */
export function createEstimator(
  params: ModelParams,
  kind: EstimatorKind,
  context?: EngineContext,
): Estimator {
  validateModelParams(params, kind);
  const engine = getEngine(params.algorithm);
  try {
    return engine.create(settingsOf(engine, params), kind, params, context);
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`model (${engine.name}): ${(e as Error).message}`);
  }
}

/** Reads back a serialized estimator (`Estimator.toBytes`) of the named engine. */
export function loadEstimator(engine: string, bytes: Uint8Array): Estimator {
  return getEngine(engine, "the artifact's engine").load(bytes);
}

/** The built-in engines' settings a run records (only the keys the algorithm uses). */
function builtinParams(params: ModelParams, kind: EstimatorKind): Record<string, unknown> {
  if (params.algorithm === "logistic") return { C: params.C, max_iter: params.max_iter ?? 200 };
  if (params.algorithm === "ml-random-forest") {
    return {
      n_estimators: params.n_estimators,
      max_depth: params.max_depth,
      min_samples_split: params.min_samples_split,
      max_features: params.max_features,
      bootstrap: params.bootstrap,
      max_samples: params.max_samples,
      random_state: params.random_state,
    };
  }
  const out: Record<string, unknown> = {
    n_estimators: params.n_estimators,
    max_depth: params.max_depth,
    min_samples_split: params.min_samples_split,
    min_samples_leaf: params.min_samples_leaf ?? 1,
    max_features: params.max_features,
    bootstrap: params.bootstrap,
    max_samples: params.max_samples,
    criterion: params.criterion ?? (kind === "classifier" ? "gini" : "squared_error"),
    random_state: params.random_state,
  };
  if (kind === "classifier") out.class_weight = params.class_weight;
  return out;
}

function check(cond: boolean, message: string): void {
  if (!cond) throw new UserError(message);
}

/** The built-in engines' checks of what the schema cannot: combinations and the task fit. */
function validateBuiltin(params: ModelParams, kind: EstimatorKind): void {
  if (params.algorithm === "logistic") {
    check(
      kind === "classifier",
      "model.algorithm = logistic: logistic regression needs a classification target",
    );
    return;
  }
  const crit = params.criterion;
  if (crit && kind === "classifier") {
    check(
      crit !== "squared_error",
      "model.criterion = squared_error: is for regression; use gini or entropy",
    );
  }
  if (crit && kind === "regressor") {
    check(crit === "squared_error", `model.criterion = ${crit}: is for classification; use squared_error`);
  }
  if (typeof params.max_features === "number" && !Number.isInteger(params.max_features)) {
    check(
      params.max_features <= 1,
      `model.max_features = ${params.max_features}: a fraction must be in (0, 1]`,
    );
  }
  if (params.max_samples !== null && !Number.isInteger(params.max_samples)) {
    check(params.max_samples <= 1, `model.max_samples = ${params.max_samples}: a fraction must be in (0, 1]`);
  }
  check(
    params.max_samples === null || params.bootstrap,
    "model.max_samples: only applies with model.bootstrap = true",
  );
  if (params.algorithm === "ml-random-forest") {
    check(
      kind === "classifier",
      "model.algorithm = ml-random-forest: supported for classification only here",
    );
    check(
      params.class_weight === null,
      "model.class_weight: not supported by ml-random-forest (use model.algorithm=forest)",
    );
  }
}

// ---------------------------------------------------------------- the built-in engines

registerEngine({
  name: "forest",
  kinds: ["classifier", "regressor"],
  recorded: (_s, kind, model) => builtinParams(model, kind),
  validate: (_s, kind, model) => validateBuiltin(model, kind),
  progressTotal: (model) => model.n_estimators,
  tuneSpace: { max_depth: [8, 12, null], n_estimators: [50, 100] },
  create(_s, kind, model) {
    const p = { ...builtinParams(model, kind), ...(model.n_jobs === null ? {} : { n_jobs: model.n_jobs }) };
    return kind === "classifier"
      ? new RandomForestClassifier(p as ConstructorParameters<typeof RandomForestClassifier>[0])
      : new RandomForestRegressor(p as ConstructorParameters<typeof RandomForestRegressor>[0]);
  },
  load: loadForest,
});

registerEngine({
  name: "logistic",
  kinds: ["classifier"],
  encoding: "onehot",
  recorded: (_s, kind, model) => builtinParams(model, kind),
  validate: (_s, kind, model) => validateBuiltin(model, kind),
  create: (_s, _kind, model) => new LogisticRegression({ C: model.C, max_iter: model.max_iter ?? 200 }),
  load: (bytes) => LogisticRegression.fromBytes(bytes),
});

registerEngine({
  name: "ml-random-forest",
  kinds: ["classifier", "regressor"],
  recorded: (_s, kind, model) => builtinParams(model, kind),
  validate: (_s, kind, model) => validateBuiltin(model, kind),
  progressTotal: (model) => model.n_estimators,
  create: (_s, _kind, model) =>
    new MlRandomForestClassifier({
      n_estimators: model.n_estimators,
      max_features: model.max_features ?? 1.0,
      max_depth: model.max_depth,
      min_samples_split: model.min_samples_split,
      bootstrap: model.bootstrap,
      max_samples: model.max_samples,
      random_state: model.random_state,
    }),
  load: (bytes) => MlRandomForestClassifier.fromBytes(bytes),
});

// ---------------------------------------------------------------- gradient boosting

/**
 * The boosting engine's params from the model.* keys. `monotonic_cst` names
 * input columns; with a context (fitting on a table) it becomes one entry
 * per encoded column: a numeric or boolean column's value, 0 for its missing
 * indicator. Keys the engine does not know are left out (the schema has them
 * for the other engines).
 */
function boostingParams(model: ModelParams, kind: EstimatorKind, context?: EngineContext): BoostingParams {
  const p: Record<string, unknown> = {
    learning_rate: model.learning_rate,
    max_iter: model.max_iter,
    max_leaf_nodes: model.max_leaf_nodes,
    max_depth: model.max_depth,
    min_samples_leaf: model.min_samples_leaf ?? 20,
    l2_regularization: model.l2_regularization,
    min_gain_to_split: model.min_gain_to_split,
    subsample: model.subsample,
    colsample: model.colsample,
    random_state: model.random_state,
    max_bins: model.max_bins,
    early_stopping: model.early_stopping,
    validation_fraction: model.validation_fraction,
    n_iter_no_change: model.n_iter_no_change,
    scoring: model.scoring,
    cat_smooth: model.cat_smooth,
    cat_l2: model.cat_l2,
    max_cat_threshold: model.max_cat_threshold,
    min_data_per_group: model.min_data_per_group,
    ...(model.n_jobs === null ? {} : { n_jobs: model.n_jobs }),
    ...(kind === "classifier"
      ? { class_weight: model.class_weight, scale_pos_weight: model.scale_pos_weight }
      : {}),
  };
  if (context && Object.keys(model.monotonic_cst).length > 0) {
    p.monotonic_cst = monotoneVector(model.monotonic_cst, context);
  }
  return Object.fromEntries(Object.entries(p).filter(([k]) => k in BOOSTING_DEFAULTS)) as BoostingParams;
}

function monotoneVector(byColumn: Record<string, number>, context: EngineContext): number[] {
  const sources = new Set(context.sourceColumns);
  for (const [name, c] of Object.entries(byColumn)) {
    if (!sources.has(name)) {
      throw new UserError(
        `model.monotonic_cst.${name}: no such input column (inputs: ${[...sources].join(", ")})`,
      );
    }
    const at = context.featureNames.indexOf(name);
    if (c !== 0 && (at < 0 || context.categorical[at])) {
      throw new UserError(
        `model.monotonic_cst.${name}: only a numeric or boolean column can be monotone (${name} is not)`,
      );
    }
  }
  // a column's own feature carries its name; its missing indicator (name.missing) stays free
  return context.featureNames.map((f, j) => context.sourceColumns[j] === f ? byColumn[f] ?? 0 : 0);
}

registerEngine({
  name: "boosting",
  kinds: ["classifier", "regressor"],
  recorded: (_s, kind, model) => {
    const resolved: Record<string, unknown> = { ...resolveBoostingParams(kind, boostingParams(model, kind)) };
    // worker count never changes the model; the constraints are recorded by column name
    delete resolved.n_jobs;
    delete resolved.monotonic_cst;
    if (kind === "regressor") {
      delete resolved.class_weight;
      delete resolved.scale_pos_weight;
    }
    return {
      ...resolved,
      ...(Object.keys(model.monotonic_cst).length ? { monotonic_cst: model.monotonic_cst } : {}),
    };
  },
  validate(_s, kind, model) {
    if (kind === "regressor") {
      check(
        model.class_weight === null,
        "model.class_weight: is for classification, not a regression target",
      );
      check(model.scale_pos_weight === 1, "model.scale_pos_weight: is for binary classification");
    }
    check(
      model.class_weight === null || model.scale_pos_weight === 1,
      "model.class_weight and model.scale_pos_weight: set one of them, not both",
    );
    if (model.scoring === "roc_auc" || model.scoring === "accuracy") {
      check(kind === "classifier", `model.scoring = ${model.scoring}: is for classification; use loss or r2`);
    }
    if (model.scoring === "r2") check(kind === "regressor", "model.scoring = r2: is for regression");
    check(
      model.early_stopping_on === "train" || model.early_stopping !== false,
      "model.early_stopping_on = validation: needs model.early_stopping true or auto",
    );
    resolveBoostingParams(kind, boostingParams(model, kind));
  },
  progressTotal: (model) => model.max_iter ?? 1000,
  tuneSpace: { learning_rate: [0.05, 0.1], max_leaf_nodes: [8, 31], min_samples_leaf: [20, 50] },
  create(_s, kind, model, context) {
    const p = boostingParams(model, kind, context);
    return kind === "classifier" ? new GradientBoostingClassifier(p) : new GradientBoostingRegressor(p);
  },
  load: loadBoosting,
});
