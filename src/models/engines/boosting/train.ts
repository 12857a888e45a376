/**
 * The boosting loop: the baseline, then per round the gradients and hessians
 * of the loss at the current scores, one tree per output grown on them (rows
 * and features sampled with the seeded stream), the scores moved by its
 * leaves, and the early-stopping check on the validation rows' loss. Trees
 * after the best round are dropped.
 *
 * Losses: squared error (regressor), binary log loss on one raw score, and
 * multiclass log loss on one raw score per class (softmax), as in
 * HistGradientBoosting and LightGBM. Single-threaded and deterministic: the
 * same data, params and seed give the same trees.
 */
import type { Rng } from "../../../core/random.ts";
import type { Matrix } from "../../types.ts";
import { binMatrix } from "../forest/binning.ts";
import { sigmoid, softmaxInPlace } from "./flat.ts";
import { type BoostTree, type GrowSettings, TreeGrower, treeValueBinned } from "./grower.ts";
import type { ResolvedBoostingParams } from "./params.ts";

export const LOSS_SQUARED = 0;
export const LOSS_BINARY = 1;
export const LOSS_MULTICLASS = 2;

export interface BoostData {
  X: Matrix;
  /** targets: class index (classifier) or value */
  y: Float64Array;
  /** per-row weight (sample weights times class weights) */
  w: Float64Array;
}

export interface BoostResult {
  trees: BoostTree[];
  baseline: Float64Array;
  /** rounds kept */
  nIter: number;
  trainLoss: number[];
  validationLoss: number[];
}

const EPS = 1e-15;

/** The raw-float leaf value of a tree for the row at x[xo..]. */
function treeValueRaw(t: BoostTree, x: ArrayLike<number>, xo: number): number {
  let node = 0;
  let f = t.feature[0];
  while (f >= 0) {
    const v = x[xo + f], th = t.threshold[node];
    node = t.child[node] + (v <= th ? 0 : v > th ? 1 : t.nanRight[node]);
    f = t.feature[node];
  }
  return t.value[node];
}

/** Weighted mean loss of raw scores `raw` (n x W) against y. */
export function meanLoss(
  loss: number,
  raw: Float64Array,
  y: Float64Array,
  w: Float64Array,
  W: number,
): number {
  const n = y.length;
  let s = 0, sw = 0;
  const tmp = new Float64Array(W);
  for (let i = 0; i < n; i++) {
    let l: number;
    if (loss === LOSS_SQUARED) {
      const e = y[i] - raw[i];
      l = 0.5 * e * e;
    } else if (loss === LOSS_BINARY) {
      const p = Math.min(1 - EPS, Math.max(EPS, sigmoid(raw[i])));
      l = y[i] === 1 ? -Math.log(p) : -Math.log(1 - p);
    } else {
      for (let k = 0; k < W; k++) tmp[k] = raw[i * W + k];
      softmaxInPlace(tmp, 0, W);
      l = -Math.log(Math.max(EPS, tmp[y[i]]));
    }
    s += w[i] * l;
    sw += w[i];
  }
  return sw > 0 ? s / sw : 0;
}

function baselineOf(loss: number, y: Float64Array, w: Float64Array, W: number): Float64Array {
  const out = new Float64Array(W);
  let sw = 0;
  for (let i = 0; i < y.length; i++) sw += w[i];
  if (!(sw > 0)) return out;
  if (loss === LOSS_SQUARED) {
    let s = 0;
    for (let i = 0; i < y.length; i++) s += w[i] * y[i];
    out[0] = s / sw;
  } else if (loss === LOSS_BINARY) {
    let s = 0;
    for (let i = 0; i < y.length; i++) if (y[i] === 1) s += w[i];
    const p = Math.min(1 - EPS, Math.max(EPS, s / sw));
    out[0] = Math.log(p / (1 - p));
  } else {
    const c = new Float64Array(W);
    for (let i = 0; i < y.length; i++) c[y[i]] += w[i];
    for (let k = 0; k < W; k++) out[k] = Math.log(Math.max(EPS, c[k] / sw));
  }
  return out;
}

/** Gradients and hessians (class-major: output k at [k * n, (k + 1) * n)) at scores raw. */
function gradients(
  loss: number,
  raw: Float64Array,
  y: Float64Array,
  w: Float64Array,
  W: number,
  g: Float64Array,
  h: Float64Array,
): void {
  const n = y.length;
  if (loss === LOSS_SQUARED) {
    for (let i = 0; i < n; i++) {
      g[i] = w[i] * (raw[i] - y[i]);
      h[i] = w[i];
    }
  } else if (loss === LOSS_BINARY) {
    for (let i = 0; i < n; i++) {
      const p = sigmoid(raw[i]);
      g[i] = w[i] * (p - y[i]);
      h[i] = w[i] * Math.max(p * (1 - p), 1e-16);
    }
  } else {
    const tmp = new Float64Array(W);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < W; k++) tmp[k] = raw[i * W + k];
      softmaxInPlace(tmp, 0, W);
      for (let k = 0; k < W; k++) {
        const p = tmp[k];
        g[k * n + i] = w[i] * (p - (y[i] === k ? 1 : 0));
        h[k * n + i] = w[i] * Math.max(p * (1 - p), 1e-16);
      }
    }
  }
}

/** Sorted draw of m of n indices without replacement (selection sampling), into out; returns m. */
function sampleRows(rng: Rng, n: number, m: number, out: Int32Array): number {
  let need = m;
  for (let i = 0, k = 0; i < n && need > 0; i++) {
    if (rng.next() * (n - i) < need) {
      out[k++] = i;
      need--;
    }
  }
  return m;
}

/** Sorted draw of m of p features. */
function sampleFeatures(rng: Rng, p: number, m: number): Int32Array {
  const all = new Int32Array(p);
  for (let f = 0; f < p; f++) all[f] = f;
  if (m >= p) return all;
  for (let i = 0; i < m; i++) {
    const j = i + rng.int(p - i);
    const t = all[i];
    all[i] = all[j];
    all[j] = t;
  }
  return all.slice(0, m).sort();
}

export function boost(
  p: ResolvedBoostingParams,
  loss: number,
  W: number,
  train: BoostData,
  valid: BoostData | undefined,
  rng: Rng,
): BoostResult {
  const X = train.X, y = train.y, w = train.w, n = X.rows, nf = X.cols;
  const binned = binMatrix(X, p.max_bins);
  const settings: GrowSettings = {
    maxLeaves: p.max_leaf_nodes ?? Infinity,
    maxDepth: p.max_depth ?? Infinity,
    minSamplesLeaf: p.min_samples_leaf,
    minChildWeight: p.min_child_weight,
    lambda: p.l2_regularization,
    minGain: p.min_gain_to_split,
    learningRate: p.learning_rate,
    monotone: p.monotonic_cst ? Int8Array.from(p.monotonic_cst) : undefined,
  };
  const grower = new TreeGrower(binned, settings);
  const baseline = baselineOf(loss, y, w, W);
  const raw = new Float64Array(n * W);
  for (let i = 0; i < n; i++) for (let k = 0; k < W; k++) raw[i * W + k] = baseline[k];
  const nv = valid ? valid.X.rows : 0;
  const rawV = new Float64Array(nv * W);
  for (let i = 0; i < nv; i++) for (let k = 0; k < W; k++) rawV[i * W + k] = baseline[k];
  const g = new Float64Array(n * W), h = new Float64Array(n * W);
  const sample = new Int32Array(n);
  const rows = new Int32Array(n);
  const inSample = new Uint8Array(n);
  const nSample = p.subsample < 1 ? Math.max(1, Math.round(p.subsample * n)) : n;
  const nCols = Math.max(1, Math.round(p.colsample * nf));
  const trees: BoostTree[] = [];
  const trainLoss: number[] = [], validationLoss: number[] = [];
  let best = Infinity, bestRounds = 0;
  for (let r = 0; r < n; r++) sample[r] = r;
  for (let round = 0; round < p.max_iter; round++) {
    gradients(loss, raw, y, w, W, g, h);
    if (nSample < n) {
      sampleRows(rng, n, nSample, sample);
      inSample.fill(0);
      for (let i = 0; i < nSample; i++) inSample[sample[i]] = 1;
    }
    for (let k = 0; k < W; k++) {
      const feats = sampleFeatures(rng, nf, nCols);
      rows.set(sample.subarray(0, nSample));
      const tree = grower.grow(
        rows,
        nSample,
        g.subarray(k * n, (k + 1) * n),
        h.subarray(k * n, (k + 1) * n),
        feats,
        (start, end, v) => {
          for (let i = start; i < end; i++) raw[rows[i] * W + k] += v;
        },
      );
      if (nSample < n) {
        for (let i = 0; i < n; i++) {
          if (!inSample[i]) raw[i * W + k] += treeValueBinned(tree, binned.codes, nf, i);
        }
      }
      if (valid) {
        const vd = valid.X.data;
        for (let i = 0; i < nv; i++) rawV[i * W + k] += treeValueRaw(tree, vd, i * nf);
      }
      trees.push(tree);
    }
    trainLoss.push(meanLoss(loss, raw, y, w, W));
    if (valid) {
      const vl = meanLoss(loss, rawV, valid.y, valid.w, W);
      validationLoss.push(vl);
      if (vl < best - p.tol) {
        best = vl;
        bestRounds = round + 1;
      } else if (round + 1 - bestRounds >= p.n_iter_no_change) break;
    }
  }
  const nIter = valid ? Math.max(1, bestRounds) : trees.length / W;
  trees.length = nIter * W;
  return { trees, baseline, nIter, trainLoss, validationLoss };
}
