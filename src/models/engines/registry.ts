/**
 * The algorithms behind one interface: `model.algorithm` in params picks the
 * engine, `model.*` holds its settings in scikit-learn's names. Invalid
 * settings become one-line UserErrors naming the key.
 */
import { UserError } from "../../core/errors.ts";
import type { ModelParams } from "../../config/schema.ts";
import { MlRandomForestClassifier } from "./mlrf.ts";
import { loadForest, RandomForestClassifier, RandomForestRegressor } from "./forest/index.ts";
import { LogisticRegression } from "./logistic.ts";
import type { Estimator } from "../types.ts";

export type Algorithm = ModelParams["algorithm"];
export type EstimatorKind = "classifier" | "regressor";

/** The engine settings a run records as params (only the keys the algorithm uses). */
export function engineParams(params: ModelParams, kind: EstimatorKind): Record<string, unknown> {
  if (params.algorithm === "logistic") return { C: params.C, max_iter: params.max_iter };
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
    min_samples_leaf: params.min_samples_leaf,
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

/** Checks what the schema cannot: combinations and the algorithm/task fit. */
export function validateModelParams(params: ModelParams, kind: EstimatorKind): void {
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

/** A new, unfitted estimator for the configured algorithm. */
export function createEstimator(params: ModelParams, kind: EstimatorKind): Estimator {
  validateModelParams(params, kind);
  try {
    switch (params.algorithm) {
      case "logistic":
        return new LogisticRegression({ C: params.C, max_iter: params.max_iter });
      case "forest": {
        const p = {
          ...engineParams(params, kind),
          ...(params.n_jobs === null ? {} : { n_jobs: params.n_jobs }),
        };
        return kind === "classifier"
          ? new RandomForestClassifier(p as ConstructorParameters<typeof RandomForestClassifier>[0])
          : new RandomForestRegressor(p as ConstructorParameters<typeof RandomForestRegressor>[0]);
      }
      case "ml-random-forest":
        return new MlRandomForestClassifier({
          n_estimators: params.n_estimators,
          max_features: params.max_features ?? 1.0,
          max_depth: params.max_depth,
          min_samples_split: params.min_samples_split,
          bootstrap: params.bootstrap,
          max_samples: params.max_samples,
          random_state: params.random_state,
        });
    }
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`model: ${(e as Error).message}`);
  }
}

/** Reads back a serialized estimator (`Estimator.toBytes`) of the named engine. */
export function loadEstimator(engine: string, bytes: Uint8Array): Estimator {
  switch (engine) {
    case "logistic":
      return LogisticRegression.fromBytes(bytes);
    case "forest":
      return loadForest(bytes);
    case "ml-random-forest":
      return MlRandomForestClassifier.fromBytes(bytes);
    default:
      throw new Error(`unknown model engine '${engine}'`);
  }
}
