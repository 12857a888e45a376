/**
 * SHAP values of a linear model in its link (logit) space, features taken as
 * independent with the training means as the background (Lundberg and Lee,
 * 2017, "Linear SHAP"): for z(x) = intercept + sum_j coef_j x_j,
 *
 *   phi_j = coef_j (x_j - mean_j),   base = intercept + sum_j coef_j mean_j = z(mean)
 *
 * so base + sum_j phi_j = z(x) exactly. A missing value (NaN) contributes 0:
 * Orchard's logistic regression reads it as the training mean.
 */
import type { Matrix } from "../types.ts";
import type { LogisticRegression } from "../engines/logistic.ts";
import type { Attribution } from "../engines/forest/explain.ts";

/** A linear score on raw inputs, with the training means of the inputs. */
export interface LinearModel {
  coef: ArrayLike<number>;
  intercept: number;
  /** the training data's column means (the background the attributions are measured from) */
  mean: ArrayLike<number>;
}

/** Linear SHAP values of every row of X: `bias[i] + sum_j contributions[i * cols + j] = z(row i)`. */
export function linearShap(m: LinearModel, X: Matrix): Attribution {
  const { rows, cols, data } = X;
  if (m.coef.length !== cols || m.mean.length !== cols) {
    throw new RangeError(
      `linear shap: ${m.coef.length} coefficients, ${m.mean.length} means, ${cols} columns`,
    );
  }
  let base = m.intercept;
  for (let j = 0; j < cols; j++) base += m.coef[j] * m.mean[j];
  const bias = new Float64Array(rows).fill(base), contributions = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const c = m.coef[j] * (data[i * cols + j] - m.mean[j]);
      contributions[i * cols + j] = Number.isFinite(c) ? c : 0;
    }
  }
  return { bias, contributions };
}

/** The part of the logistic model's saved state these functions read. */
interface LogisticState {
  nClasses: number;
  mean: number[];
  scale: number[];
  coef: number[][];
  intercept: number[];
}

/**
 * The raw-space linear score of one of a fitted logistic regression's binary
 * models: the model stores coefficients for standardized inputs
 * ((x - mean) / scale), and its column means and scales, in its saved state
 * (read here through `toBytes()`, so logistic.ts needs no new accessor).
 * Binary: `classIndex` 1 (default) is the logit of class 1, 0 its negation;
 * k > 2 classes: the one-versus-rest logit of class `classIndex` (before the
 * probabilities are normalized over the classes). `mean` replaces the
 * training means as the background when given.
 */
export function logisticLinearModel(
  model: LogisticRegression,
  classIndex = 1,
  mean?: ArrayLike<number>,
): LinearModel {
  // once per call (a batch of rows), not per row
  const s = JSON.parse(new TextDecoder().decode(model.toBytes())) as LogisticState, k = s.nClasses;
  if (!(Number.isInteger(classIndex) && classIndex >= 0 && classIndex < k)) {
    throw new RangeError(`logistic shap: class ${classIndex} out of range for ${k} classes`);
  }
  const c = k === 2 ? 0 : classIndex, sign = k === 2 && classIndex === 0 ? -1 : 1;
  const w = s.coef[c], p = s.mean.length;
  const coef = new Float64Array(p);
  let intercept = s.intercept[c];
  for (let j = 0; j < p; j++) {
    coef[j] = w[j] / s.scale[j];
    intercept -= coef[j] * s.mean[j];
  }
  for (let j = 0; j < p; j++) coef[j] *= sign;
  return { coef, intercept: sign * intercept, mean: mean ?? s.mean };
}

/**
 * Linear SHAP values of a fitted logistic regression in logit space, for one
 * class (see `logisticLinearModel`): `bias[i] + sum_j contributions[i * cols + j]`
 * = the row's logit. With the training means as background the bias is the
 * model's intercept in standardized space.
 */
export function logisticShap(
  model: LogisticRegression,
  X: Matrix,
  classIndex = 1,
  mean?: ArrayLike<number>,
): Attribution {
  return linearShap(logisticLinearModel(model, classIndex, mean), X);
}
