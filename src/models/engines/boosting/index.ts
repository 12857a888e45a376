/**
 * Orchard's histogram gradient-boosting engine: `GradientBoostingClassifier`
 * (binary and multiclass log loss) and `GradientBoostingRegressor` (squared
 * error), with LightGBM's and HistGradientBoosting's parameter names, trees
 * grown leaf-wise on the forest's pre-binned uint8 codes, learned missing-value
 * directions, early stopping on a held-out or given validation set, and the
 * fitted ensemble flattened into typed arrays for prediction.
 *
 *   const gb = new GradientBoostingClassifier({ learning_rate: 0.1, max_iter: 200 });
 *   await gb.fit(X, y);                // y: class indices 0..k-1
 *   gb.predictProba(X);                // rows x k, row-major
 *   loadBoosting(gb.toBytes());        // predicts bit-identically
 *
 * Training runs on `n_jobs` threads (Web Workers over shared memory) and gives
 * the same bytes for any number of them.
 */
import { UserError } from "../../../core/errors.ts";
import { Rng } from "../../../core/random.ts";
import type { Estimator, ExplainScale, FitOptions, Matrix } from "../../types.ts";
import { type FlatBoost, flattenBoost, sigmoid, softmaxInPlace } from "./flat.ts";
import { rowScorerOf, scoreRows } from "./compiled.ts";
import {
  type BoostingParams,
  resolveBoostingParams,
  type ResolvedBoostingParams,
  roundPlan,
} from "./params.ts";
import { type BoostState, decodeBoost, encodeBoost } from "./serialize.ts";
import { shapBoost } from "./shap.ts";
import { spawnBoostWorkers } from "./pool.ts";
import {
  boost,
  type BoostData,
  LOSS_BINARY,
  LOSS_MULTICLASS,
  LOSS_SQUARED,
  PARALLEL_MIN_CELLS,
} from "./train.ts";

export type { BoostingParams, ResolvedBoostingParams } from "./params.ts";
export { FORMAT_VERSION } from "./serialize.ts";

/**
 * The Estimator's FitOptions (progress per round, categorical columns, a
 * validation set for early stopping), plus per-row weights.
 */
export interface BoostingFitOptions extends FitOptions {
  /** per-row weights (multiplied with class weights) */
  sampleWeight?: Float64Array;
  /** an explicit validation set for early stopping (instead of holding out validation_fraction) */
  validation?: { X: Matrix; y: Float64Array; sampleWeight?: Float64Array };
}

abstract class BaseBoosting implements Estimator {
  abstract readonly kind: "classifier" | "regressor";
  readonly params: ResolvedBoostingParams;
  protected model: FlatBoost | undefined;
  protected importances: Float64Array | undefined;
  protected _nClasses = 0;
  protected _nIter = 0;
  /**
   * per round: the training loss (on at most 10,000 rows), and the early-stopping
   * score on the validation rows when early stopping was on (the loss, or the
   * `scoring` metric)
   */
  trainScore: number[] = [];
  validationScore: number[] = [];

  constructor(kind: "classifier" | "regressor", params: BoostingParams = {}) {
    this.params = resolveBoostingParams(kind, params);
  }

  /** Boosting rounds kept (after early stopping, the best round). */
  get n_iter_(): number {
    this.fitted();
    return this._nIter;
  }

  get nFeatures(): number {
    return this.fitted().nFeatures;
  }

  get isFitted(): boolean {
    return this.model !== undefined;
  }

  protected fitted(): FlatBoost {
    if (!this.model) throw new Error("gradient boosting: call fit() before predicting");
    return this.model;
  }

  protected checkX(X: Matrix, what: string): FlatBoost {
    const fb = this.fitted();
    if (X.cols !== fb.nFeatures) {
      throw new UserError(`${what}: got ${X.cols} input columns, the model was fitted on ${fb.nFeatures}`);
    }
    return fb;
  }

  protected fittedForRow(x: ArrayLike<number>): FlatBoost {
    const fb = this.fitted();
    if (x.length !== fb.nFeatures) {
      throw new UserError(`predict: got ${x.length} input columns, the model was fitted on ${fb.nFeatures}`);
    }
    return fb;
  }

  /** Raw scores (rows x width): log-odds, per-class logits, or the regression value. */
  rawPredict(X: Matrix): Float64Array {
    const fb = this.checkX(X, "predict");
    return scoreRows(fb, X.data, X.rows);
  }

  protected async fitBoost(X: Matrix, y: Float64Array, opts: BoostingFitOptions = {}): Promise<void> {
    await Promise.resolve();
    const p = this.params, classif = this.kind === "classifier";
    if (X.rows < 1 || X.cols < 1) throw new UserError("gradient boosting: no training rows or columns");
    if (y.length !== X.rows) throw new UserError(`gradient boosting: ${X.rows} rows but ${y.length} targets`);
    if (p.monotonic_cst && p.monotonic_cst.length !== X.cols) {
      throw new UserError(
        `gradient boosting: monotonic_cst has ${p.monotonic_cst.length} entries for ${X.cols} columns`,
      );
    }
    const K = classif ? checkClasses(y) : 0;
    const categorical = categoricalMask(opts.categorical, X.cols);
    if (categorical && p.monotonic_cst) {
      for (let f = 0; f < X.cols; f++) {
        if (categorical[f] && p.monotonic_cst[f] !== 0) {
          throw new UserError(
            `gradient boosting: column ${f} is categorical and cannot take a monotonic constraint`,
          );
        }
      }
    }
    if (p.scoring === "roc_auc" && K > 2) {
      throw new UserError('gradient boosting: scoring "roc_auc" is for binary classification');
    }
    const val = opts.validation;
    if (val) {
      if (val.X.cols !== X.cols) {
        throw new UserError("gradient boosting: the validation set has other columns");
      }
      if (val.y.length !== val.X.rows) {
        throw new UserError("gradient boosting: validation rows and targets differ");
      }
      if (classif && checkClasses(val.y) > K) {
        throw new UserError("gradient boosting: the validation set has a class the training set lacks");
      }
    }
    if (classif && p.scale_pos_weight !== 1 && K > 2) {
      throw new UserError("gradient boosting: scale_pos_weight is for binary classification");
    }
    const w = this.rowWeights(y, K, opts.sampleWeight, y);
    // workers load while the data is split and binned
    const threads = Math.max(1, p.n_jobs ?? navigator.hardwareConcurrency ?? 1);
    const workers = threads > 1 && X.rows * X.cols >= PARALLEL_MIN_CELLS
      ? spawnBoostWorkers(threads - 1)
      : [];
    const loss = !classif ? LOSS_SQUARED : K <= 2 ? LOSS_BINARY : LOSS_MULTICLASS;
    const W = loss === LOSS_MULTICLASS ? K : 1;
    const seed = p.random_state ?? 0;
    const rng = new Rng(seed);
    const { early, maxIter } = roundPlan(p, X.rows, val !== undefined);
    let train: BoostData = { X, y, w };
    let valid: BoostData | undefined;
    if (early && val) {
      valid = { X: val.X, y: val.y, w: this.rowWeights(val.y, K, val.sampleWeight, y) };
    } else if (early) {
      const vIdx = validationRows(
        classif ? y : undefined,
        X.rows,
        p.validation_fraction,
        new Rng(seed ^ 0x51ed27),
      );
      if (vIdx.length === 0 || vIdx.length === X.rows) {
        throw new UserError(`gradient boosting: too few rows (${X.rows}) to hold out a validation set`);
      }
      const inV = new Uint8Array(X.rows);
      for (const i of vIdx) inV[i] = 1;
      const tIdx: number[] = [];
      for (let i = 0; i < X.rows; i++) if (!inV[i]) tIdx.push(i);
      train = subset(train, tIdx);
      valid = subset({ X, y, w }, vIdx);
    }
    let res;
    try {
      res = await boost({ ...p, max_iter: maxIter }, loss, W, train, valid, rng, {
        categorical,
        onProgress: opts.onProgress,
        workers,
      });
    } finally {
      for (const wk of workers) wk.terminate();
    }
    this._nClasses = K;
    this._nIter = res.nIter;
    this.trainScore = res.trainLoss.slice(0, res.nIter);
    this.validationScore = res.validationScore;
    this.model = flattenBoost(res.trees, W, X.cols, res.baseline);
    const imp = new Float64Array(X.cols);
    for (const t of res.trees) {
      for (let i = 0; i < t.nNodes; i++) if (t.feature[i] >= 0) imp[t.feature[i]] += t.gain[i];
    }
    let s = 0;
    for (let f = 0; f < X.cols; f++) s += imp[f];
    if (s > 0) { for (let f = 0; f < X.cols; f++) imp[f] /= s; }
    this.importances = imp;
  }

  /** Sample weights times class weights ("balanced": n / (k n_c) from the training targets; scale_pos_weight). */
  private rowWeights(
    y: Float64Array,
    K: number,
    sw: Float64Array | undefined,
    yTrain: Float64Array,
  ): Float64Array {
    const n = y.length;
    if (sw && (sw.length !== n || sw.some((v) => !(v >= 0) || !Number.isFinite(v)))) {
      throw new UserError("gradient boosting: sample weights must be one finite number >= 0 per row");
    }
    const w = sw ? Float64Array.from(sw) : new Float64Array(n).fill(1);
    if (this.kind !== "classifier") return w;
    const p = this.params;
    if (p.class_weight === "balanced") {
      const cnt = new Float64Array(K);
      for (let i = 0; i < yTrain.length; i++) cnt[yTrain[i]]++;
      let present = 0;
      for (let k = 0; k < K; k++) if (cnt[k] > 0) present++;
      for (let i = 0; i < n; i++) w[i] *= cnt[y[i]] > 0 ? yTrain.length / (present * cnt[y[i]]) : 0;
    } else if (p.scale_pos_weight !== 1) {
      for (let i = 0; i < n; i++) if (y[i] === 1) w[i] *= p.scale_pos_weight;
    }
    return w;
  }

  /** Tree, node and leaf counts, and the largest number of leaves in a tree. */
  stats(): { trees: number; nodes: number; leaves: number; maxLeaves: number } {
    const fb = this.fitted(), nT = fb.roots.length;
    let leaves = 0, maxLeaves = 0;
    for (let t = 0; t < nT; t++) {
      const end = t + 1 < nT ? fb.roots[t + 1] : fb.feature.length;
      let l = 0;
      for (let i = fb.roots[t]; i < end; i++) if (fb.feature[i] < 0) l++;
      leaves += l;
      if (l > maxLeaves) maxLeaves = l;
    }
    return { trees: nT, nodes: fb.feature.length, leaves, maxLeaves };
  }

  /** Total split gain per column over all trees, normalised to sum to 1 (all 0 without splits). */
  featureImportances(): Float64Array | undefined {
    return this.importances ? Float64Array.from(this.importances) : undefined;
  }

  toBytes(): Uint8Array {
    return encodeBoost({
      kind: this.kind,
      params: this.params,
      nClasses: this._nClasses,
      nIter: this._nIter,
      model: this.fitted(),
      importances: this.importances ?? new Float64Array(0),
    });
  }

  /** Takes the fitted state decoded from `toBytes()`. */
  restore(s: BoostState): this {
    this.model = s.model;
    this.importances = s.importances;
    this._nClasses = s.nClasses;
    this._nIter = s.nIter;
    this.trainScore = [];
    this.validationScore = [];
    return this;
  }

  abstract fit(X: Matrix, y: Float64Array, opts?: BoostingFitOptions): Promise<void>;
  abstract predict(X: Matrix): Float64Array;
}

export class GradientBoostingClassifier extends BaseBoosting {
  readonly kind = "classifier" as const;

  constructor(params: BoostingParams = {}) {
    super("classifier", params);
  }

  get nClasses(): number {
    this.fitted();
    return this._nClasses;
  }

  fit(X: Matrix, y: Float64Array, opts: BoostingFitOptions = {}): Promise<void> {
    return this.fitBoost(X, y, opts);
  }

  /** Class probabilities, rows x nClasses, row-major; each row sums to 1. */
  predictProba(X: Matrix): Float64Array {
    const raw = this.rawPredict(X);
    const K = this._nClasses, n = X.rows;
    if (K > 2) {
      for (let i = 0; i < n; i++) softmaxInPlace(raw, i * K, K);
      return raw;
    }
    const out = new Float64Array(n * K);
    for (let i = 0; i < n; i++) binaryInto(raw[i], K, out, i * K);
    return out;
  }

  /** Class probabilities of one row (the serving path); writes into `out` when given. */
  predictProbaRow(x: ArrayLike<number>, out: Float64Array = new Float64Array(this.nClasses)): Float64Array {
    // the trees as compiled code (compiled.ts): the same sums as rawRowInto, in half the time
    const score = rowScorerOf(this.fittedForRow(x)), K = this._nClasses;
    if (K > 2) {
      score(x, 0, out, 0);
      softmaxInPlace(out, 0, K);
      return out;
    }
    // the raw score goes through out[0]: a typed array costs 0.5-0.8 µs to allocate in Deno
    score(x, 0, out, 0);
    binaryInto(out[0], K, out, 0);
    return out;
  }

  /** The most probable class per row (the first one on a tie). */
  predict(X: Matrix): Float64Array {
    const proba = this.predictProba(X), K = this._nClasses;
    const out = new Float64Array(X.rows);
    for (let i = 0; i < X.rows; i++) {
      let best = 0;
      for (let k = 1; k < K; k++) if (proba[i * K + k] > proba[i * K + best]) best = k;
      out[i] = best;
    }
    return out;
  }

  /** binary: the log-odds of the explained class (class 0's is the negation of class 1's); multiclass: its logit */
  get explainScale(): ExplainScale {
    return this._nClasses > 2 ? "logit" : "log_odds";
  }

  /** TreeSHAP values (src/models/engines/boosting/shap.ts) for class `classes[i]` of row i (default: the predicted class). */
  explain(X: Matrix, classes?: ArrayLike<number>): { bias: Float64Array; contributions: Float64Array } {
    const fb = this.checkX(X, "explain");
    return shapBoost(fb, X.data, X.rows, classes ?? this.predict(X), true);
  }

  static fromBytes(bytes: Uint8Array): GradientBoostingClassifier {
    const s = decodeBoost(bytes);
    if (s.kind !== "classifier") throw new UserError("this boosting model is a regressor, not a classifier");
    return new GradientBoostingClassifier(s.params).restore(s);
  }
}

export class GradientBoostingRegressor extends BaseBoosting {
  readonly kind = "regressor" as const;

  constructor(params: BoostingParams = {}) {
    super("regressor", params);
  }

  fit(X: Matrix, y: Float64Array, opts: BoostingFitOptions = {}): Promise<void> {
    for (let i = 0; i < y.length; i++) {
      if (!Number.isFinite(y[i])) {
        throw new UserError(`gradient boosting: regression target at row ${i} is ${y[i]}`);
      }
    }
    return this.fitBoost(X, y, opts);
  }

  predict(X: Matrix): Float64Array {
    return this.rawPredict(X);
  }

  predictRow(x: ArrayLike<number>): number {
    rowScorerOf(this.fittedForRow(x))(x, 0, ROW_VALUE, 0);
    return ROW_VALUE[0];
  }

  readonly explainScale: ExplainScale = "value";

  /** TreeSHAP values (src/models/engines/boosting/shap.ts) of each row's prediction. */
  explain(X: Matrix, _classes?: ArrayLike<number>): { bias: Float64Array; contributions: Float64Array } {
    return shapBoost(this.checkX(X, "explain"), X.data, X.rows);
  }

  static fromBytes(bytes: Uint8Array): GradientBoostingRegressor {
    const s = decodeBoost(bytes);
    if (s.kind !== "regressor") throw new UserError("this boosting model is a classifier, not a regressor");
    return new GradientBoostingRegressor(s.params).restore(s);
  }
}

/** Reads either kind of boosting model back from `toBytes()`. */
export function loadBoosting(bytes: Uint8Array): GradientBoostingClassifier | GradientBoostingRegressor {
  const s = decodeBoost(bytes);
  return s.kind === "classifier"
    ? new GradientBoostingClassifier(s.params).restore(s)
    : new GradientBoostingRegressor(s.params).restore(s);
}

/** predictRow's one-value buffer: read back at once, so every call can share it (allocating one costs more than the trees) */
const ROW_VALUE = new Float64Array(1);

/** [1 - p, p] from a log-odds (or [1] for a one-class model). */
function binaryInto(z: number, K: number, out: Float64Array, o: number): void {
  if (K === 1) {
    out[o] = 1;
    return;
  }
  const p1 = sigmoid(z);
  out[o] = 1 - p1;
  out[o + 1] = p1;
}

/** FitOptions.categorical as one flag per column (undefined when none is set). */
function categoricalMask(cat: ArrayLike<boolean> | undefined, p: number): Uint8Array | undefined {
  if (!cat) return undefined;
  if (cat.length !== p) {
    throw new UserError(`gradient boosting: ${cat.length} categorical flags for ${p} columns`);
  }
  const m = new Uint8Array(p);
  let any = false;
  for (let f = 0; f < p; f++) {
    if (cat[f]) {
      m[f] = 1;
      any = true;
    }
  }
  return any ? m : undefined;
}

/** The number of classes (largest index + 1), after checking every target is a class index. */
function checkClasses(y: Float64Array): number {
  let k = 0;
  for (let i = 0; i < y.length; i++) {
    const c = y[i];
    if (!Number.isInteger(c) || c < 0 || c > 65535) {
      throw new UserError(`gradient boosting: class targets must be indices 0..k-1, row ${i} has ${c}`);
    }
    if (c + 1 > k) k = c + 1;
  }
  return k;
}

/** The held-out rows: a seeded share of each class (stratified), or of all rows; sorted. */
function validationRows(y: Float64Array | undefined, n: number, frac: number, rng: Rng): number[] {
  const groups = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const c = y ? y[i] : 0;
    let g = groups.get(c);
    if (!g) groups.set(c, g = []);
    g.push(i);
  }
  const out: number[] = [];
  for (const c of [...groups.keys()].sort((a, b) => a - b)) {
    const g = groups.get(c)!;
    for (let i = g.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      const t = g[i];
      g[i] = g[j];
      g[j] = t;
    }
    const m = Math.round(frac * g.length);
    for (let i = 0; i < m; i++) out.push(g[i]);
  }
  return out.sort((a, b) => a - b);
}

function subset(d: BoostData, idx: number[]): BoostData {
  const p = d.X.cols, m = idx.length;
  const data = new Float64Array(m * p), y = new Float64Array(m), w = new Float64Array(m);
  for (let r = 0; r < m; r++) {
    const i = idx[r];
    data.set(d.X.data.subarray(i * p, (i + 1) * p), r * p);
    y[r] = d.y[i];
    w[r] = d.w[i];
  }
  return { X: { data, rows: m, cols: p }, y, w };
}
