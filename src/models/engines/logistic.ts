/**
 * Logistic regression, our own: inputs standardized with the training mean and
 * standard deviation, L2 penalty in scikit-learn's form
 * (minimize 0.5 * ||w||^2 + C * sum(log loss), intercept unpenalized), fitted
 * by Newton's method with step halving, so the result is deterministic (no
 * random choices at all). Binary targets fit one model; k > 2 classes fit one
 * versus rest and normalize the probabilities.
 *
 * `explain` gives linear SHAP values in log-odds space (the features taken as
 * independent, the training means as the background): coefficient x (x - mean)
 * per column, on top of the log-odds at the training mean. It computes them
 * from the fitted state directly, the same numbers as `logisticShap` in
 * src/models/shap/linear.ts (tests hold the two equal), which reads this
 * module's type and so cannot be imported here without a cycle.
 */
import { UserError } from "../../core/errors.ts";
import type { Estimator, Matrix } from "../types.ts";

export interface LogisticParams {
  /** inverse regularization strength (default 1) */
  C?: number;
  max_iter?: number;
  /** convergence tolerance on the largest Newton step (default 1e-8) */
  tol?: number;
}

interface LogisticState {
  engine: "logistic";
  version: 1;
  params: Required<LogisticParams>;
  nClasses: number;
  mean: number[];
  scale: number[];
  /** one row per binary model (1 for two classes, k otherwise), standardized space */
  coef: number[][];
  intercept: number[];
  iterations: number[];
}

const sigmoid = (z: number) => z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));

/** Solves A x = b in place for a symmetric positive-definite A (n x n, row-major) by Cholesky. */
function choleskySolve(A: Float64Array, b: Float64Array, n: number): Float64Array {
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * n + j];
      for (let k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
      if (i === j) L[i * n + i] = Math.sqrt(Math.max(s, 1e-12));
      else L[i * n + j] = s / L[j * n + j];
    }
  }
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= L[i * n + k] * y[k];
    y[i] = s / L[i * n + i];
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i];
    for (let k = i + 1; k < n; k++) s -= L[k * n + i] * x[k];
    x[i] = s / L[i * n + i];
  }
  return x;
}

export class LogisticRegression implements Estimator {
  readonly kind = "classifier" as const;
  /** explain attributes the log-odds of the explained class (see explain) */
  readonly explainScale = "log_odds" as const;
  readonly params: Required<LogisticParams>;
  private state?: LogisticState;

  constructor(params: LogisticParams = {}) {
    const C = params.C ?? 1, max_iter = params.max_iter ?? 200, tol = params.tol ?? 1e-8;
    if (!(C > 0)) throw new RangeError(`C must be > 0, got ${C}`);
    if (!(Number.isInteger(max_iter) && max_iter > 0)) {
      throw new RangeError(`max_iter must be a positive integer, got ${max_iter}`);
    }
    this.params = { C, max_iter, tol };
  }

  get nIterations(): number[] {
    return this.state?.iterations ?? [];
  }

  /** Standardized copy of X (missing values read as the mean, i.e. 0). */
  private standardize(X: Matrix, mean: ArrayLike<number>, scale: ArrayLike<number>): Float64Array {
    const { rows, cols, data } = X;
    const Z = new Float64Array(rows * cols);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        const v = (data[i * cols + j] - mean[j]) / scale[j];
        Z[i * cols + j] = Number.isFinite(v) ? v : 0;
      }
    }
    return Z;
  }

  fit(X: Matrix, y: Float64Array): Promise<void> {
    const { rows, cols, data } = X;
    if (y.length !== rows) throw new RangeError(`fit: ${rows} rows but ${y.length} labels`);
    let k = 0;
    for (const v of y) k = Math.max(k, v + 1);
    k = Math.max(k, 2);
    const mean = new Array<number>(cols).fill(0), scale = new Array<number>(cols).fill(0);
    const cnt = new Array<number>(cols).fill(0);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        const v = data[i * cols + j];
        if (Number.isFinite(v)) {
          mean[j] += v;
          cnt[j]++;
        }
      }
    }
    for (let j = 0; j < cols; j++) mean[j] = cnt[j] ? mean[j] / cnt[j] : 0;
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        const v = data[i * cols + j];
        if (Number.isFinite(v)) scale[j] += (v - mean[j]) ** 2;
      }
    }
    for (let j = 0; j < cols; j++) {
      const sd = cnt[j] ? Math.sqrt(scale[j] / cnt[j]) : 0;
      scale[j] = sd > 1e-12 ? sd : 1;
    }
    const Z = this.standardize(X, mean, scale);
    const models = k === 2 ? [1] : Array.from({ length: k }, (_, c) => c);
    const coef: number[][] = [], intercept: number[] = [], iterations: number[] = [];
    for (const cls of models) {
      const t = new Float64Array(rows);
      for (let i = 0; i < rows; i++) t[i] = y[i] === cls ? 1 : 0;
      const { w, iters } = this.newton(Z, rows, cols, t);
      coef.push(Array.from(w.subarray(0, cols)));
      intercept.push(w[cols]);
      iterations.push(iters);
    }
    this.state = {
      engine: "logistic",
      version: 1,
      params: this.params,
      nClasses: k,
      mean,
      scale,
      coef,
      intercept,
      iterations,
    };
    return Promise.resolve();
  }

  private objective(Z: Float64Array, rows: number, cols: number, t: Float64Array, w: Float64Array): number {
    let loss = 0;
    for (let i = 0; i < rows; i++) {
      let z = w[cols];
      for (let j = 0; j < cols; j++) z += Z[i * cols + j] * w[j];
      // log(1 + e^z) - t z, computed stably
      loss += (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z))) - t[i] * z;
    }
    let reg = 0;
    for (let j = 0; j < cols; j++) reg += w[j] * w[j];
    return 0.5 * reg + this.params.C * loss;
  }

  private newton(
    Z: Float64Array,
    rows: number,
    cols: number,
    t: Float64Array,
  ): { w: Float64Array; iters: number } {
    const n = cols + 1, C = this.params.C;
    let w = new Float64Array(n);
    let obj = this.objective(Z, rows, cols, t, w);
    const H = new Float64Array(n * n), g = new Float64Array(n), xi = new Float64Array(n);
    let iters = 0;
    for (; iters < this.params.max_iter; iters++) {
      H.fill(0);
      g.fill(0);
      for (let i = 0; i < rows; i++) {
        let z = w[cols];
        for (let j = 0; j < cols; j++) {
          xi[j] = Z[i * cols + j];
          z += xi[j] * w[j];
        }
        xi[cols] = 1;
        const p = sigmoid(z), r = C * (p - t[i]), s = C * p * (1 - p);
        for (let a = 0; a < n; a++) {
          const xa = xi[a];
          if (xa === 0) continue;
          g[a] += r * xa;
          const sa = s * xa;
          for (let b = 0; b <= a; b++) H[a * n + b] += sa * xi[b];
        }
      }
      for (let a = 0; a < n; a++) for (let b = 0; b < a; b++) H[b * n + a] = H[a * n + b];
      for (let j = 0; j < cols; j++) {
        g[j] += w[j];
        H[j * n + j] += 1;
      }
      H[cols * n + cols] += 1e-10;
      const d = choleskySolve(H, g, n);
      let step = 1, next = w, nextObj = obj;
      for (let h = 0; h < 30; h++) {
        next = w.map((v, j) => v - step * d[j]);
        nextObj = this.objective(Z, rows, cols, t, next);
        if (nextObj <= obj + 1e-12 * Math.abs(obj)) break;
        step /= 2;
      }
      let maxStep = 0;
      for (let j = 0; j < n; j++) maxStep = Math.max(maxStep, Math.abs(step * d[j]));
      w = next;
      const improved = obj - nextObj;
      obj = nextObj;
      if (maxStep < this.params.tol || improved <= 1e-14 * Math.max(1, Math.abs(obj))) {
        iters++;
        break;
      }
    }
    return { w, iters };
  }

  private get fitted(): LogisticState {
    if (!this.state) throw new Error("LogisticRegression: call fit before predicting");
    return this.state;
  }

  predictProba(X: Matrix): Float64Array {
    const s = this.fitted, k = s.nClasses, { rows, cols, data } = X;
    if (cols !== s.mean.length) {
      throw new RangeError(`predict: expected ${s.mean.length} columns, got ${cols}`);
    }
    const out = new Float64Array(rows * k);
    const m = s.coef.length;
    const zs = new Float64Array(m);
    for (let i = 0; i < rows; i++) {
      for (let c = 0; c < m; c++) {
        let z = s.intercept[c];
        const w = s.coef[c];
        for (let j = 0; j < cols; j++) {
          const v = (data[i * cols + j] - s.mean[j]) / s.scale[j];
          if (Number.isFinite(v)) z += v * w[j];
        }
        zs[c] = sigmoid(z);
      }
      if (k === 2) {
        out[i * 2] = 1 - zs[0];
        out[i * 2 + 1] = zs[0];
      } else {
        let sum = 0;
        for (let c = 0; c < k; c++) sum += zs[c];
        for (let c = 0; c < k; c++) out[i * k + c] = sum > 0 ? zs[c] / sum : 1 / k;
      }
    }
    return out;
  }

  predict(X: Matrix): Float64Array {
    const k = this.fitted.nClasses, P = this.predictProba(X), out = new Float64Array(X.rows);
    for (let i = 0; i < X.rows; i++) {
      let best = 0;
      for (let c = 1; c < k; c++) if (P[i * k + c] > P[i * k + best]) best = c;
      out[i] = best;
    }
    return out;
  }

  /**
   * Linear SHAP values in log-odds space, per row and column:
   * `bias[i] + sum_j contributions[i * cols + j]` = row i's log-odds of class
   * `classes[i]` (default: its predicted class). Binary: class 1's log-odds,
   * class 0's is its negation; k > 2 classes: the one-versus-rest model's
   * log-odds of the class (before the probabilities are normalized over the
   * classes). Contribution j is coef_j (x_j - mean_j) in raw units (a missing
   * value, read as the mean, contributes 0); the bias is the log-odds at the
   * training mean. A model saved without its training means cannot be
   * explained (a UserError saying to fit it again).
   */
  explain(X: Matrix, classes?: ArrayLike<number>): { bias: Float64Array; contributions: Float64Array } {
    const s = this.fitted, k = s.nClasses, { rows, cols, data } = X;
    const p = s.coef[0]?.length ?? 0;
    if (!Array.isArray(s.mean) || s.mean.length !== p || !Array.isArray(s.scale) || s.scale.length !== p) {
      throw new UserError(
        "explain: this logistic model was saved without its training means; fit it again to explain it",
      );
    }
    if (cols !== p) throw new UserError(`explain: got ${cols} input columns, the model was fitted on ${p}`);
    if (classes !== undefined && classes.length !== rows) {
      throw new Error(`explain: ${classes.length} classes for ${rows} rows`);
    }
    const which = classes ?? this.predict(X);
    const bias = new Float64Array(rows), contributions = new Float64Array(rows * cols);
    for (let i = 0; i < rows; i++) {
      const c = which[i];
      if (!(Number.isInteger(c) && c >= 0 && c < k)) {
        throw new Error(`explain: class ${c} out of range for row ${i}`);
      }
      // binary: one model for class 1, class 0's log-odds is its negation
      const m = k === 2 ? 0 : c, sign = k === 2 && c === 0 ? -1 : 1, w = s.coef[m];
      bias[i] = sign * s.intercept[m];
      for (let j = 0; j < cols; j++) {
        const v = (data[i * cols + j] - s.mean[j]) / s.scale[j];
        contributions[i * cols + j] = Number.isFinite(v) ? sign * w[j] * v : 0;
      }
    }
    return { bias, contributions };
  }

  /** Mean absolute standardized coefficient per column, normalized to sum to 1. */
  featureImportances(): Float64Array {
    const s = this.fitted, imp = new Float64Array(s.mean.length);
    for (const w of s.coef) for (let j = 0; j < w.length; j++) imp[j] += Math.abs(w[j]);
    const total = imp.reduce((a, b) => a + b, 0);
    if (total > 0) { for (let j = 0; j < imp.length; j++) imp[j] /= total; }
    return imp;
  }

  /** Coefficients in standardized space, one row per binary model. */
  get coefficients(): { coef: number[][]; intercept: number[] } {
    return { coef: this.fitted.coef, intercept: this.fitted.intercept };
  }

  toBytes(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify(this.fitted));
  }

  static fromBytes(bytes: Uint8Array): LogisticRegression {
    const state = JSON.parse(new TextDecoder().decode(bytes)) as LogisticState;
    if (state?.engine !== "logistic" || state.version !== 1) throw new Error("not a logistic model (v1)");
    const m = new LogisticRegression(state.params);
    m.state = state;
    return m;
  }
}
