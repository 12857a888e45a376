/**
 * ml-random-forest (the engine the design names) behind Orchard's Estimator
 * interface, with scikit-learn parameter names mapped onto its options.
 *
 * Differences from the package, on purpose:
 * - `predictProba` counts every tree's vote. The package's `predictProbability`
 *   reduces the votes without an initial value, so the first tree's vote
 *   becomes the starting sum (the label value itself, not a count) and is
 *   never counted; it also rounds to 6 decimals. We take the per-tree votes
 *   (`predictionValues`) and average them ourselves.
 * - The serialized form keeps our own header (class count, params) next to
 *   the package's JSON.
 *
 * Limits of the package: `max_features` picks a feature subset per tree (not
 * per split), there are no importances or class weights, missing values must
 * be imputed first (NaN is rejected here with a clear error), and training is
 * slow (a full rescan per candidate threshold).
 */
import { RandomForestClassifier as MlRfClassifier } from "ml-random-forest";
import { UserError } from "../../core/errors.ts";
import type { Estimator, Matrix } from "../types.ts";

export interface MlRandomForestParams {
  n_estimators?: number;
  /** a fraction of the columns, an int, "sqrt" or "log2" (per tree in this engine) (1.0) */
  max_features?: number | "sqrt" | "log2";
  max_depth?: number | null;
  /** ml-cart's minNumSamples: the fewest rows a node needs to split (3) */
  min_samples_split?: number;
  bootstrap?: boolean;
  max_samples?: number | null;
  random_state?: number;
}

const FORMAT = "orchard-mlrf";
const VERSION = 1;

// The package's classes are untyped enough that we describe only what we use.
interface MlRfModel {
  train(X: number[][], y: number[]): void;
  predictionValues(X: number[][]): { rows: number; columns: number; get(i: number, j: number): number };
  toJSON(): unknown;
}

function resolveMaxFeatures(mf: MlRandomForestParams["max_features"], p: number): number {
  if (mf === undefined) return 1.0;
  if (mf === "sqrt") return Math.max(1, Math.floor(Math.sqrt(p)));
  if (mf === "log2") return Math.max(1, Math.floor(Math.log2(p)));
  if (typeof mf !== "number" || !(mf > 0)) throw new UserError(`model.max_features: ${mf} is invalid`);
  return mf;
}

function toRows(X: Matrix): number[][] {
  const out: number[][] = new Array(X.rows);
  for (let i = 0; i < X.rows; i++) {
    const row = Array.from(X.data.subarray(i * X.cols, (i + 1) * X.cols));
    for (const v of row) {
      if (!Number.isFinite(v)) {
        throw new UserError(
          `ml-random-forest cannot use missing or infinite values (row ${i}); impute them first`,
        );
      }
    }
    out[i] = row;
  }
  return out;
}

export class MlRandomForestClassifier implements Estimator {
  readonly kind = "classifier" as const;
  readonly params: MlRandomForestParams;
  private model: MlRfModel | undefined;
  private nClasses = 0;
  private nFeatures = 0;

  constructor(params: MlRandomForestParams = {}) {
    const p = { ...params };
    const n = p.n_estimators ?? 50;
    if (!Number.isInteger(n) || n < 1) {
      throw new UserError(`model.n_estimators: ${n} is invalid; expected an integer >= 1`);
    }
    if (p.max_depth != null && (!Number.isInteger(p.max_depth) || p.max_depth < 1)) {
      throw new UserError(`model.max_depth: ${p.max_depth} is invalid; expected an integer >= 1 or null`);
    }
    this.params = p;
  }

  // deno-lint-ignore require-await
  async fit(X: Matrix, y: Float64Array): Promise<void> {
    if (y.length !== X.rows) throw new UserError(`ml-random-forest: ${X.rows} rows but ${y.length} targets`);
    let k = 0;
    for (const c of y) {
      if (!Number.isInteger(c) || c < 0) {
        throw new UserError(`ml-random-forest: class targets must be indices 0..k-1`);
      }
      k = Math.max(k, c + 1);
    }
    const p = this.params;
    const options = {
      nEstimators: p.n_estimators ?? 50,
      maxFeatures: resolveMaxFeatures(p.max_features, X.cols),
      replacement: p.bootstrap ?? true,
      useSampleBagging: p.bootstrap ?? true,
      maxSamples: p.max_samples ?? null,
      seed: p.random_state ?? 42,
      noOOB: true,
      treeOptions: {
        maxDepth: p.max_depth ?? Infinity,
        minNumSamples: p.min_samples_split ?? 3,
      },
    };
    const model = new MlRfClassifier(options) as unknown as MlRfModel;
    model.train(toRows(X), Array.from(y));
    this.model = model;
    this.nClasses = k;
    this.nFeatures = X.cols;
  }

  private fitted(X: Matrix): MlRfModel {
    if (!this.model) throw new Error("ml-random-forest: call fit() before predicting");
    if (X.cols !== this.nFeatures) {
      throw new UserError(`predict: got ${X.cols} input columns, the model was fitted on ${this.nFeatures}`);
    }
    return this.model;
  }

  /** The fraction of trees voting for each class, every tree counted. */
  predictProba(X: Matrix): Float64Array {
    const votes = this.fitted(X).predictionValues(toRows(X));
    const K = this.nClasses, T = votes.columns;
    const out = new Float64Array(X.rows * K);
    for (let i = 0; i < X.rows; i++) {
      for (let t = 0; t < T; t++) {
        const c = votes.get(i, t);
        if (c >= 0 && c < K) out[i * K + c] += 1;
      }
      for (let k = 0; k < K; k++) out[i * K + k] /= T;
    }
    return out;
  }

  predict(X: Matrix): Float64Array {
    const proba = this.predictProba(X);
    const K = this.nClasses;
    const out = new Float64Array(X.rows);
    for (let i = 0; i < X.rows; i++) {
      let best = 0;
      for (let k = 1; k < K; k++) if (proba[i * K + k] > proba[i * K + best]) best = k;
      out[i] = best;
    }
    return out;
  }

  featureImportances(): Float64Array | undefined {
    return undefined;
  }

  toBytes(): Uint8Array {
    if (!this.model) throw new Error("ml-random-forest: call fit() before saving");
    return new TextEncoder().encode(JSON.stringify({
      format: FORMAT,
      version: VERSION,
      params: this.params,
      nClasses: this.nClasses,
      nFeatures: this.nFeatures,
      model: this.model.toJSON(),
    }));
  }

  static fromBytes(bytes: Uint8Array): MlRandomForestClassifier {
    let doc: {
      format?: string;
      version?: number;
      params: MlRandomForestParams;
      nClasses: number;
      nFeatures: number;
      model: unknown;
    };
    try {
      doc = JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      throw new UserError("not a readable ml-random-forest model: bad JSON");
    }
    if (doc.format !== FORMAT || doc.version !== VERSION) {
      throw new UserError(
        `not a readable ml-random-forest model: format ${doc.format} version ${doc.version}`,
      );
    }
    const out = new MlRandomForestClassifier(doc.params);
    out.model = MlRfClassifier.load(
      doc.model as Parameters<typeof MlRfClassifier.load>[0],
    ) as unknown as MlRfModel;
    out.nClasses = doc.nClasses;
    out.nFeatures = doc.nFeatures;
    return out;
  }
}
