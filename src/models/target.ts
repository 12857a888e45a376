/** The training target: classification or regression, classes, positive class, encoded labels. */
import { UserError } from "../core/errors.ts";
import type { ModelParams } from "../config/schema.ts";
import type { Label } from "./artifact.ts";
import type { EstimatorKind } from "./engines/registry.ts";
import { isMissing, toNumber } from "./preprocess/index.ts";

export interface TargetInfo {
  task: "classification" | "regression";
  kind: EstimatorKind;
  classes?: Label[];
  positiveClass?: Label;
  positiveIndex?: number;
  yTrain: Float64Array;
  yValidation: Float64Array;
}

function labelOf(v: unknown): Label {
  if (typeof v === "string") return v.trim();
  if (typeof v === "number" || typeof v === "boolean") return v;
  if (typeof v === "bigint") return Number(v);
  return String(v);
}

function compareLabels(a: Label, b: Label): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "boolean" && typeof b === "boolean") return Number(a) - Number(b);
  const sa = String(a), sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/** Decides classification or regression and encodes the labels (class indices or numbers). */
export function resolveTarget(
  trainValues: ArrayLike<unknown>,
  validValues: ArrayLike<unknown>,
  params: Pick<ModelParams, "task" | "positive_class">,
  name = "target",
): TargetInfo {
  const present: unknown[] = [];
  for (let i = 0; i < trainValues.length; i++) if (!isMissing(trainValues[i])) present.push(trainValues[i]);
  if (present.length !== trainValues.length) throw new UserError(`target '${name}' has missing values`);
  let task = params.task;
  if (task === "auto") {
    const numeric = present.every((v) => typeof v === "number" || typeof v === "bigint");
    const distinct = new Set(present.map(String)).size;
    task = numeric && (distinct > 20 || !present.every((v) => Number.isInteger(Number(v))))
      ? "regression"
      : "classification";
  }
  if (task === "regression") {
    const enc = (vals: ArrayLike<unknown>, which: string) => {
      const y = new Float64Array(vals.length);
      for (let i = 0; i < vals.length; i++) {
        y[i] = typeof vals[i] === "boolean" ? NaN : toNumber(vals[i]);
        if (!Number.isFinite(y[i])) {
          throw new UserError(
            `target '${name}' is not numeric (${which} row ${i + 1}: ${JSON.stringify(vals[i])}); ` +
              `regression needs numbers (or set model.task=classification)`,
          );
        }
      }
      return y;
    };
    return {
      task,
      kind: "regressor",
      yTrain: enc(trainValues, "training"),
      yValidation: enc(validValues, "validation"),
    };
  }
  const counts = new Map<string, { label: Label; n: number }>();
  for (const v of present) {
    const label = labelOf(v);
    const key = String(label);
    const c = counts.get(key);
    if (c) c.n++;
    else counts.set(key, { label, n: 1 });
  }
  if (counts.size < 2) {
    throw new UserError(
      `target '${name}' has a single class (${
        JSON.stringify([...counts.values()][0]?.label)
      }) in the training data; need at least two`,
    );
  }
  const classes = [...counts.values()].map((c) => c.label).sort(compareLabels);
  const index = new Map(classes.map((c, i) => [String(c), i]));
  let positiveIndex: number;
  if (params.positive_class !== undefined) {
    positiveIndex = index.get(String(params.positive_class)) ?? -1;
    if (positiveIndex < 0) {
      throw new UserError(
        `model.positive_class = ${
          JSON.stringify(params.positive_class)
        }: not a class of '${name}' (classes: ${classes.map(String).join(", ")})`,
      );
    }
  } else {
    // the minority class; a tie goes to the later class in sorted order (1 over 0, "yes" over "no")
    positiveIndex = 0;
    for (let i = 1; i < classes.length; i++) {
      if (counts.get(String(classes[i]))!.n <= counts.get(String(classes[positiveIndex]))!.n) {
        positiveIndex = i;
      }
    }
  }
  const enc = (vals: ArrayLike<unknown>, which: string) => {
    const y = new Float64Array(vals.length);
    for (let i = 0; i < vals.length; i++) {
      const c = index.get(String(labelOf(vals[i])));
      if (c === undefined) {
        throw new UserError(
          `target '${name}': ${which} row ${i + 1} has class ${
            JSON.stringify(vals[i])
          }, not seen in training`,
        );
      }
      y[i] = c;
    }
    return y;
  };
  return {
    task,
    kind: "classifier",
    classes,
    positiveClass: classes[positiveIndex],
    positiveIndex,
    yTrain: enc(trainValues, "training"),
    yValidation: enc(validValues, "validation"),
  };
}

/**
 * Encodes labelled rows with classes fixed in training (a fitted model's), for
 * evaluation on new data: a class not seen in training is a UserError naming the row.
 */
export function encodeTarget(
  values: ArrayLike<unknown>,
  spec: { task: "classification" | "regression"; classes?: Label[]; positiveClass?: Label },
  name = "target",
): TargetInfo {
  if (spec.task === "regression") {
    const y = new Float64Array(values.length);
    for (let i = 0; i < values.length; i++) {
      y[i] = typeof values[i] === "boolean" ? NaN : toNumber(values[i]);
      if (!Number.isFinite(y[i])) {
        throw new UserError(`target '${name}' row ${i + 1}: ${JSON.stringify(values[i])} is not a number`);
      }
    }
    return { task: "regression", kind: "regressor", yTrain: new Float64Array(), yValidation: y };
  }
  const classes = spec.classes ?? [];
  const index = new Map(classes.map((c, i) => [String(c), i]));
  const y = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    if (isMissing(values[i])) throw new UserError(`target '${name}' row ${i + 1} is missing`);
    const c = index.get(String(labelOf(values[i])));
    if (c === undefined) {
      throw new UserError(
        `target '${name}' row ${i + 1} has class ${JSON.stringify(values[i])}, not one the model knows ` +
          `(${classes.map(String).join(", ")})`,
      );
    }
    y[i] = c;
  }
  const positiveIndex = Math.max(0, classes.findIndex((c) => c === spec.positiveClass));
  return {
    task: "classification",
    kind: "classifier",
    classes,
    positiveClass: classes[positiveIndex],
    positiveIndex,
    yTrain: new Float64Array(),
    yValidation: y,
  };
}
