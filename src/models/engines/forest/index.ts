/**
 * Orchard's random forest engine: `RandomForestClassifier` and
 * `RandomForestRegressor` with scikit-learn's parameter names and meanings,
 * trained on pre-binned features in parallel Web Workers, predicting on trees
 * flattened into typed arrays. See docs/guides/engines.md.
 *
 *   const rf = new RandomForestClassifier({ n_estimators: 100, random_state: 0 });
 *   await rf.fit(X, y);             // y: class indices 0..k-1
 *   const proba = rf.predictProba(X); // rows x k, row-major
 *   const bytes = rf.toBytes();       // RandomForestClassifier.fromBytes(bytes)
 */
import { UserError } from "../../../core/errors.ts";
import { r2 } from "../../metrics.ts";
import type { Estimator, ExplainScale, Matrix } from "../../types.ts";
import { binMatrix } from "./binning.ts";
import { inBagCounts, type TrainData, type Tree } from "./builder.ts";
import { type FlatForest, flatten, leafOf, predictMean, predictRowInto } from "./flat.ts";
import {
  buildSettings,
  type ForestParams,
  type ResolvedParams,
  resolveJobs,
  resolveParams,
} from "./params.ts";
import { decodeForest, encodeForest, type ForestState } from "./serialize.ts";
import type { Attribution } from "./explain.ts";
import { shapForest } from "./shap.ts";
import { growTrees, spawnWorkers, type TreeProgress } from "./train.ts";

export type { ClassWeight, ForestParams, MaxFeatures, ResolvedParams } from "./params.ts";
export { type PermutationImportance, permutationImportance, type Scorer } from "./importance.ts";
export { accuracyScorer, r2Scorer, rocAucScorer } from "./importance.ts";
export { FORMAT_VERSION } from "./serialize.ts";
export type { Attribution } from "./explain.ts";

export interface FitOptions {
  /** per-row weights (multiplied with bootstrap counts and class weights) */
  sampleWeight?: Float64Array;
  /** called after each tree is grown, e.g. to drive a progress bar */
  onProgress?: TreeProgress;
}

/** Summary figures of a fitted forest. */
export interface ForestStats {
  trees: number;
  nodes: number;
  leaves: number;
  maxDepth: number;
  meanDepth: number;
}

abstract class BaseForest implements Estimator {
  abstract readonly kind: "classifier" | "regressor";
  /** the parameters as given, with defaults filled in */
  readonly params: ResolvedParams;
  protected forest: FlatForest | undefined;
  protected importances: Float64Array | undefined;
  protected _oobScore: number | undefined;
  protected _nClasses = 0;
  protected depths: number[] = [];

  constructor(kind: "classifier" | "regressor", params: ForestParams = {}) {
    this.params = resolveParams(kind, params);
  }

  /** Number of input columns the model was fitted on. */
  get nFeatures(): number {
    return this.fitted().nFeatures;
  }

  /** The out-of-bag score (accuracy, or R² for a regressor) when fitted with `oob_score: true`. */
  get oobScore(): number | undefined {
    return this._oobScore;
  }

  get isFitted(): boolean {
    return this.forest !== undefined;
  }

  protected fitted(): FlatForest {
    if (!this.forest) throw new Error("random forest: call fit() before predicting");
    return this.forest;
  }

  protected checkX(X: Matrix, what: string): void {
    const ff = this.fitted();
    if (X.cols !== ff.nFeatures) {
      throw new UserError(`${what}: got ${X.cols} input columns, the model was fitted on ${ff.nFeatures}`);
    }
  }

  /** The fitted forest, after checking that one row has as many values as the model was fitted on. */
  protected fittedForRow(x: ArrayLike<number>): FlatForest {
    const ff = this.fitted();
    if (x.length !== ff.nFeatures) {
      throw new UserError(`predict: got ${x.length} input columns, the model was fitted on ${ff.nFeatures}`);
    }
    return ff;
  }

  protected async fitForest(X: Matrix, y: Float64Array, opts: FitOptions = {}): Promise<void> {
    if (X.rows < 1 || X.cols < 1) throw new UserError("random forest: no training rows or columns");
    if (y.length !== X.rows) throw new UserError(`random forest: ${X.rows} rows but ${y.length} targets`);
    const sw = opts.sampleWeight;
    if (sw && (sw.length !== X.rows || sw.some((w) => !(w >= 0) || !Number.isFinite(w)))) {
      throw new UserError("random forest: sample weights must be one finite number >= 0 per row");
    }
    const p = this.params;
    const classif = this.kind === "classifier";
    const settings = buildSettings(p, X.rows, X.cols);
    const nJobs = resolveJobs(p.n_jobs, p.n_estimators);
    const workers = spawnWorkers(nJobs, p.n_estimators);
    let trees: Tree[];
    try {
      trees = await this.prepareAndGrow(X, y, opts, settings, nJobs, workers);
    } catch (e) {
      for (const w of workers) w.terminate();
      throw e;
    }
    this.depths = trees.map((t) => t.depth);
    this.forest = flatten(trees, classif ? this._nClasses : 1, X.cols);
    this.importances = meanImportances(trees, X.cols);
    this._oobScore = p.oob_score ? this.computeOob(X, y, trees.length, settings) : undefined;
  }

  private prepareAndGrow(
    X: Matrix,
    y: Float64Array,
    opts: FitOptions,
    settings: ReturnType<typeof buildSettings>,
    nJobs: number,
    workers: Worker[],
  ): Promise<Tree[]> {
    const p = this.params;
    const classif = this.kind === "classifier";
    const sw = opts.sampleWeight;
    const binned = binMatrix(X, p.max_bins);
    const data: TrainData = { ...binned, nClasses: 0 };
    let weight = sw ? Float64Array.from(sw) : undefined;
    if (classif) {
      let k = 0;
      for (let i = 0; i < y.length; i++) {
        const c = y[i];
        if (!Number.isInteger(c) || c < 0 || c > 65535) {
          throw new UserError(`random forest: class targets must be indices 0..k-1, row ${i} has ${c}`);
        }
        if (c + 1 > k) k = c + 1;
      }
      this._nClasses = k;
      data.nClasses = k;
      data.yClass = Int32Array.from(y);
      const cw = classWeights(p, data.yClass, k);
      if (cw) {
        weight ??= new Float64Array(X.rows).fill(1);
        for (let i = 0; i < X.rows; i++) weight[i] *= cw[data.yClass[i]];
      }
    } else {
      for (let i = 0; i < y.length; i++) {
        if (!Number.isFinite(y[i])) {
          throw new UserError(`random forest: regression target at row ${i} is ${y[i]}`);
        }
      }
      data.yValue = Float64Array.from(y);
    }
    data.weight = weight;
    return growTrees(data, settings, p.n_estimators, nJobs, opts.onProgress, workers);
  }

  private computeOob(X: Matrix, y: Float64Array, nTrees: number, settings: ReturnType<typeof buildSettings>) {
    const ff = this.fitted();
    const n = X.rows, W = ff.width;
    const sum = new Float64Array(n * W);
    const cnt = new Int32Array(n);
    for (let t = 0; t < nTrees; t++) {
      const inBag = inBagCounts(settings, n, t);
      for (let i = 0; i < n; i++) {
        if (inBag[i] > 0) continue;
        const leaf = leafOf(ff, ff.roots[t], X.data, i * X.cols);
        for (let k = 0; k < W; k++) sum[i * W + k] += ff.values[leaf * W + k];
        cnt[i]++;
      }
    }
    if (this.kind === "classifier") {
      let ok = 0, m = 0;
      for (let i = 0; i < n; i++) {
        if (cnt[i] === 0) continue;
        m++;
        if (argmax(sum, i * W, W) === y[i]) ok++;
      }
      return m > 0 ? ok / m : undefined;
    }
    const pred: number[] = [], truth: number[] = [];
    for (let i = 0; i < n; i++) {
      if (cnt[i] === 0) continue;
      pred.push(sum[i] / cnt[i]);
      truth.push(y[i]);
    }
    return pred.length > 1 ? r2(truth, pred) : undefined;
  }

  abstract fit(X: Matrix, y: Float64Array, opts?: FitOptions): Promise<void>;
  abstract predict(X: Matrix): Float64Array;

  /** Impurity-based importances (mean decrease in impurity), one per column, summing to 1. */
  featureImportances(): Float64Array | undefined {
    return this.importances ? Float64Array.from(this.importances) : undefined;
  }

  /** explain's scale: a classifier's class probability (the forest averages them), a regressor's value. */
  get explainScale(): ExplainScale {
    return this.kind === "classifier" ? "probability" : "value";
  }

  /**
   * Per-row SHAP values, exact path-dependent TreeSHAP (see shap.ts):
   * `bias[i] + sum_f contributions[i * nFeatures + f]` equals row i's prediction
   * (regressor) or its probability of class `classes[i]` (classifier; default:
   * each row's predicted class). `bias` is the forest's expected output over
   * the training weight that reached its leaves. Forests saved before leaf
   * weights were kept load and predict, and refuse (a UserError) only this.
   */
  explain(X: Matrix, classes?: ArrayLike<number>): Attribution {
    this.checkX(X, "explain");
    if (classes !== undefined && classes.length !== X.rows) {
      throw new Error(`explain: ${classes.length} classes for ${X.rows} rows`);
    }
    return shapForest(this.fitted(), X.data, X.rows, classes);
  }

  /** Node counts and depths. */
  stats(): ForestStats {
    const ff = this.fitted();
    let leaves = 0;
    for (let i = 0; i < ff.feature.length; i++) if (ff.feature[i] < 0) leaves++;
    const d = this.depths;
    return {
      trees: ff.roots.length,
      nodes: ff.feature.length,
      leaves,
      maxDepth: d.length ? Math.max(...d) : 0,
      meanDepth: d.length ? d.reduce((a, b) => a + b, 0) / d.length : 0,
    };
  }

  toBytes(): Uint8Array {
    return encodeForest({
      kind: this.kind,
      params: this.params,
      nClasses: this._nClasses,
      oobScore: this._oobScore,
      forest: this.fitted(),
      importances: this.importances ?? new Float64Array(0),
    });
  }

  /** Takes the fitted state decoded from `toBytes()` (used by `fromBytes` and `loadForest`). */
  restore(s: ForestState): this {
    this.forest = s.forest;
    this.importances = s.importances;
    this._oobScore = s.oobScore;
    this._nClasses = s.nClasses;
    this.depths = [];
    return this;
  }
}

export class RandomForestClassifier extends BaseForest {
  readonly kind = "classifier" as const;

  constructor(params: ForestParams = {}) {
    super("classifier", params);
  }

  /** Number of classes (the largest class index seen in fit, plus one). */
  get nClasses(): number {
    this.fitted();
    return this._nClasses;
  }

  /** Fits on X with class indices y (0..k-1). */
  fit(X: Matrix, y: Float64Array, opts: FitOptions = {}): Promise<void> {
    return this.fitForest(X, y, opts);
  }

  /** Mean over trees of each tree's leaf class distribution: rows x nClasses, row-major. */
  predictProba(X: Matrix): Float64Array {
    this.checkX(X, "predict_proba");
    return predictMean(this.fitted(), X.data, X.rows);
  }

  /** Class probabilities of one row (the serving path); writes into `out` when given. */
  predictProbaRow(x: ArrayLike<number>, out: Float64Array = new Float64Array(this.nClasses)): Float64Array {
    return predictRowInto(this.fittedForRow(x), x, out);
  }

  /** The most probable class index per row (the first one on a tie). */
  predict(X: Matrix): Float64Array {
    const proba = this.predictProba(X);
    const K = this._nClasses;
    const out = new Float64Array(X.rows);
    for (let i = 0; i < X.rows; i++) out[i] = argmax(proba, i * K, K);
    return out;
  }

  static fromBytes(bytes: Uint8Array): RandomForestClassifier {
    const s = decodeForest(bytes);
    if (s.kind !== "classifier") throw new UserError("this forest model is a regressor, not a classifier");
    return new RandomForestClassifier(s.params).restore(s);
  }
}

/** predictRow's one-value buffer: read back at once, so every call can share it (a typed array costs 0.5-0.8 µs to allocate in Deno) */
const ROW_VALUE = new Float64Array(1);

export class RandomForestRegressor extends BaseForest {
  readonly kind = "regressor" as const;

  constructor(params: ForestParams = {}) {
    super("regressor", params);
  }

  fit(X: Matrix, y: Float64Array, opts: FitOptions = {}): Promise<void> {
    return this.fitForest(X, y, opts);
  }

  /** Mean over trees of each tree's leaf mean. */
  predict(X: Matrix): Float64Array {
    this.checkX(X, "predict");
    return predictMean(this.fitted(), X.data, X.rows);
  }

  predictRow(x: ArrayLike<number>): number {
    return predictRowInto(this.fittedForRow(x), x, ROW_VALUE)[0];
  }

  static fromBytes(bytes: Uint8Array): RandomForestRegressor {
    const s = decodeForest(bytes);
    if (s.kind !== "regressor") throw new UserError("this forest model is a classifier, not a regressor");
    return new RandomForestRegressor(s.params).restore(s);
  }
}

/** Reads either kind of forest back from `toBytes()`. */
export function loadForest(bytes: Uint8Array): RandomForestClassifier | RandomForestRegressor {
  const s = decodeForest(bytes);
  return s.kind === "classifier"
    ? new RandomForestClassifier(s.params).restore(s)
    : new RandomForestRegressor(s.params).restore(s);
}

function argmax(a: Float64Array, o: number, k: number): number {
  let best = 0;
  for (let j = 1; j < k; j++) if (a[o + j] > a[o + best]) best = j;
  return best;
}

/** Per-class weights from `class_weight` ("balanced": n / (k * count_k)), or undefined. */
function classWeights(
  p: ResolvedParams,
  y: Int32Array,
  k: number,
): Float64Array | undefined {
  const cw = p.class_weight;
  if (cw === null || cw === "balanced_subsample") return undefined;
  const out = new Float64Array(k).fill(1);
  if (cw === "balanced") {
    const cnt = new Float64Array(k);
    for (let i = 0; i < y.length; i++) cnt[y[i]] += 1;
    let present = 0, total = 0;
    for (let j = 0; j < k; j++) {
      if (cnt[j] > 0) present++;
      total += cnt[j];
    }
    for (let j = 0; j < k; j++) out[j] = cnt[j] > 0 ? total / (present * cnt[j]) : 0;
    return out;
  }
  if (Array.isArray(cw)) {
    for (let j = 0; j < Math.min(k, cw.length); j++) out[j] = cw[j];
    return out;
  }
  for (const [key, v] of Object.entries(cw)) {
    const j = Number(key);
    if (!Number.isInteger(j) || j < 0) {
      throw new UserError(`model.class_weight: "${key}" is not a class index`);
    }
    if (j < k) out[j] = v;
  }
  return out;
}

/** scikit-learn's forest importances: each tree's normalised, averaged over trees that split, normalised. */
function meanImportances(trees: Tree[], p: number): Float64Array {
  const out = new Float64Array(p);
  let used = 0;
  for (const t of trees) {
    if (t.nNodes <= 1) continue;
    let s = 0;
    for (let f = 0; f < p; f++) s += t.importance[f];
    used++;
    if (s > 0) { for (let f = 0; f < p; f++) out[f] += t.importance[f] / s; }
  }
  if (used === 0) return out;
  let s = 0;
  for (let f = 0; f < p; f++) s += out[f];
  if (s > 0) { for (let f = 0; f < p; f++) out[f] /= s; }
  return out;
}
