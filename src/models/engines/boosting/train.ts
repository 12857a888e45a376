/**
 * The boosting loop: the baseline, then per round the gradients and hessians
 * of the loss at the current scores, one tree per output grown on them (rows
 * and features sampled with the seeded stream), the scores moved by its
 * leaves, and the early-stopping check on the validation rows (their scores
 * kept up to date one tree at a time). Trees after the best round are dropped.
 *
 * Losses: squared error (regressor), binary log loss on one raw score, and
 * multiclass log loss on one raw score per class (softmax), as in
 * HistGradientBoosting and LightGBM.
 *
 * Parallel and deterministic: the gradients (by rows) and each tree's
 * per-feature work (by features) run as jobs on the main thread plus
 * `nJobs - 1` workers; each element of a result is computed by one thread in a
 * fixed order, so the same data, params and seed give the same trees with any
 * number of workers.
 */
import type { Rng } from "../../../core/random.ts";
import type { Matrix } from "../../types.ts";
import { type BoostBins, boostBins } from "./bins.ts";
import { sigmoid, softmaxInPlace } from "./flat.ts";
import { type BoostTree, type Executor, type GrowSettings, loadRouteTree, TreeGrower } from "./grower.ts";
import {
  APPLY_BLOCK,
  GRAD_BLOCK,
  J_DEPTH,
  J_K,
  J_LEAVES,
  J_LOSS,
  J_N,
  J_NV,
  J_RM,
  J_SCORE,
  J_TBLOCKS,
  J_TLOSS,
  J_TMODE,
  J_TYPE,
  J_VDEPTH,
  J_VLOSS,
  J_W,
  JOB_APPLY,
  JOB_GRAD,
  JOB_GRAD_ROOT,
  LOSS_BINARY,
  LOSS_MULTICLASS,
  LOSS_ROWS,
  LOSS_SQUARED,
  rootSegments,
  type SplitSettings,
  TMODE_LEAVES,
  TMODE_ROUTE,
  VALID_BLOCK,
} from "./kernels.ts";
import type { ResolvedBoostingParams } from "./params.ts";
import { createArena, LocalExecutor, slotCount, WorkerPool } from "./pool.ts";

export { LOSS_BINARY, LOSS_MULTICLASS, LOSS_SQUARED };

export interface BoostData {
  X: Matrix;
  /** targets: class index (classifier) or value */
  y: Float64Array;
  /** per-row weight (sample weights times class weights) */
  w: Float64Array;
}

export interface BoostOptions {
  /** per column: split on it as a set of categories */
  categorical?: Uint8Array;
  /** rounds done so far of max_iter */
  onProgress?: (done: number, total: number) => void;
  /** workers already started (pool.ts spawnBoostWorkers); they are used and terminated */
  workers?: Worker[];
}

export interface BoostResult {
  trees: BoostTree[];
  baseline: Float64Array;
  /** rounds kept */
  nIter: number;
  trainLoss: number[];
  /** per round, the early-stopping score on the validation rows (the loss, or the named metric) */
  validationScore: number[];
}

const EPS = 1e-15;
/** how often the loop lets queued events (timers, messages) run */
const YIELD_EVERY_MS = 250;

/** Weighted loss over weight of blocks' (loss, weight) pairs, summed in block order. */
function blockSum(pairs: Float64Array, nBlocks: number): number {
  let s = 0, sw = 0;
  for (let q = 0; q < nBlocks; q++) {
    s += pairs[2 * q];
    sw += pairs[2 * q + 1];
  }
  return sw > 0 ? s / sw : 0;
}

/** Weighted mean loss of raw scores `raw` (n x W) against y, over rows `idx` (or all). */
export function meanLoss(
  loss: number,
  raw: Float64Array,
  y: Float64Array,
  w: Float64Array,
  W: number,
  idx?: Int32Array,
): number {
  const n = idx ? idx.length : y.length;
  let s = 0, sw = 0;
  const tmp = new Float64Array(W);
  for (let q = 0; q < n; q++) {
    const i = idx ? idx[q] : q;
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

/** Weighted ROC AUC of scores against 0/1 targets (ties share credit); 0.5 without both classes. */
function weightedAuc(score: Float64Array, y: Float64Array, w: Float64Array): number {
  const n = y.length;
  const idx = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => score[a] - score[b] || a - b);
  let pos = 0, neg = 0, area = 0;
  for (let q = 0; q < n;) {
    let tp = 0, tn = 0;
    const v = score[idx[q]];
    for (; q < n && score[idx[q]] === v; q++) {
      const i = idx[q];
      if (y[i] === 1) tp += w[i];
      else tn += w[i];
    }
    area += tp * (neg + tn / 2);
    pos += tp;
    neg += tn;
  }
  return pos > 0 && neg > 0 ? area / (pos * neg) : 0.5;
}

/** The early-stopping score of raw scores: the loss (lower is better) or a metric (higher is better). */
function validationScore(
  scoring: string,
  loss: number,
  raw: Float64Array,
  y: Float64Array,
  w: Float64Array,
  W: number,
): number {
  if (scoring === "roc_auc") return weightedAuc(raw, y, w);
  if (scoring === "accuracy") {
    let ok = 0, sw = 0;
    for (let i = 0; i < y.length; i++) {
      let c: number;
      if (loss === LOSS_BINARY) c = raw[i] > 0 ? 1 : 0;
      else {
        c = 0;
        for (let k = 1; k < W; k++) if (raw[i * W + k] > raw[i * W + c]) c = k;
      }
      if (c === y[i]) ok += w[i];
      sw += w[i];
    }
    return sw > 0 ? ok / sw : 0;
  }
  if (scoring === "r2") {
    let sw = 0, my = 0;
    for (let i = 0; i < y.length; i++) {
      sw += w[i];
      my += w[i] * y[i];
    }
    my = sw > 0 ? my / sw : 0;
    let ss = 0, st = 0;
    for (let i = 0; i < y.length; i++) {
      ss += w[i] * (y[i] - raw[i]) ** 2;
      st += w[i] * (y[i] - my) ** 2;
    }
    return st > 0 ? 1 - ss / st : 0;
  }
  return meanLoss(loss, raw, y, w, W);
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

/** Buckets of GOSS's top-row threshold: the high 15 bits of a positive double (exponent and 4 mantissa bits) */
const GOSS_BUCKETS = 1 << 15;

/**
 * GOSS's rows for one round, sorted, into `out` (returns how many): the nTop
 * rows of largest |g h| (summed over outputs; ties at the threshold taken in
 * row order), then nOther drawn uniformly from the others, whose gradients and
 * hessians are multiplied by (n - nTop) / nOther so they stand for all the
 * rest. The threshold comes from a count per bucket of the scores' top bits,
 * not a sort.
 */
function gossSample(
  gh: Float64Array,
  n: number,
  W: number,
  nTop: number,
  nOther: number,
  rng: Rng,
  out: Int32Array,
  score: Float64Array,
  bucket: Int32Array | undefined,
): number {
  // the scores |g h| come from the gradient job
  const sc = score, bk = bucket!;
  const hi = new Uint32Array(sc.buffer, sc.byteOffset, 2 * n);
  bk.fill(0);
  for (let i = 0; i < n; i++) bk[hi[2 * i + 1] >>> 16]++;
  // the bucket where the top rows end: all rows in higher buckets, some of this one
  let tb = GOSS_BUCKETS - 1, above = 0;
  while (tb > 0 && above + bk[tb] < nTop) above += bk[tb--];
  let inTb = nTop - above;
  const rest = n - nTop;
  const q = Math.min(1, nOther / Math.max(1, rest));
  const amp = 1 / q;
  // each of the rest is drawn with probability q: geometric gaps between draws, one random number per drawn row
  const logQ = q < 1 ? Math.log1p(-q) : 0;
  const gap = () => (q < 1 ? Math.floor(Math.log1p(-rng.next()) / logQ) : 0);
  let next = gap(), seen = 0, m = 0;
  for (let i = 0; i < n; i++) {
    const b = hi[2 * i + 1] >>> 16;
    let top = b > tb;
    if (!top && b === tb && inTb > 0) {
      top = true;
      inTb--;
    }
    if (top) {
      out[m++] = i;
      continue;
    }
    if (seen === next) {
      next += 1 + gap();
      out[m++] = i;
      for (let k = 0; k < W; k++) {
        const o = 2 * k * n + 2 * i;
        gh[o] *= amp;
        gh[o + 1] *= amp;
      }
    }
    seen++;
  }
  return m;
}

/** Whether a tree has a categorical (set) split. */
function hasSets(t: BoostTree): boolean {
  for (let i = 0; i < t.nNodes; i++) if (t.feature[i] >= 0 && t.catStart[i] >= 0) return true;
  return false;
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

/** Below this many rows (times columns) workers cost more than they save. */
export const PARALLEL_MIN_CELLS = 20000 * 30;

export async function boost(
  /** max_iter already resolved (params.ts roundPlan) */
  p: ResolvedBoostingParams & { max_iter: number },
  loss: number,
  W: number,
  train: BoostData,
  valid: BoostData | undefined,
  rng: Rng,
  opts: BoostOptions = {},
): Promise<BoostResult> {
  const X = train.X, y = train.y, w = train.w, n = X.rows, nf = X.cols;
  let workers = opts.workers ?? [];
  let pool: WorkerPool | undefined;
  try {
    const binned: BoostBins = boostBins(X, p.max_bins, opts.categorical);
    const settings: GrowSettings = {
      maxLeaves: p.max_leaf_nodes ?? Infinity,
      maxDepth: p.max_depth ?? Infinity,
      minSamplesLeaf: p.min_samples_leaf,
      minChildWeight: p.min_child_weight,
      lambda: p.l2_regularization,
      learningRate: p.learning_rate,
      monotone: p.monotonic_cst ? Int8Array.from(p.monotonic_cst) : undefined,
    };
    const split: SplitSettings = {
      lambda: p.l2_regularization,
      minSamplesLeaf: p.min_samples_leaf,
      minChildWeight: p.min_child_weight,
      minGain: p.min_gain_to_split > 0 ? p.min_gain_to_split : 1e-12,
      catSmooth: p.cat_smooth,
      catL2: p.cat_l2,
      maxCatThreshold: p.max_cat_threshold,
      minDataPerGroup: p.min_data_per_group,
    };
    const nSlots = slotCount(nf, settings.maxLeaves);
    // nodes of a tree: 2 leaves - 1, leaves bounded by max_leaf_nodes and by min_samples_leaf
    const maxNodes = 2 * Math.min(settings.maxLeaves, Math.ceil(n / settings.minSamplesLeaf) + 1);
    const goss = p.data_sample_strategy === "goss";
    const nSample = p.subsample < 1 ? Math.max(1, Math.round(p.subsample * n)) : n;
    if (n * nf < PARALLEL_MIN_CELLS) {
      for (const wk of workers) wk.terminate();
      workers = [];
    }
    const arena = createArena(
      binned,
      W,
      nSlots,
      maxNodes,
      goss,
      W === 1 && !goss && nSample === n,
      valid ? { X: valid.X.data, y: valid.y, w: valid.w } : undefined,
      settings.monotone ?? new Int8Array(nf),
      y,
      w,
      workers.length + 1,
    );
    let exec: Executor;
    if (workers.length > 0) {
      pool = await WorkerPool.start(arena, split, workers);
      exec = pool;
    } else exec = new LocalExecutor(arena, split);
    const grower = new TreeGrower(binned, arena, settings, exec, nSlots);
    const baseline = baselineOf(loss, y, w, W);
    const raw = arena.raw;
    for (let i = 0; i < n; i++) for (let k = 0; k < W; k++) raw[i * W + k] = baseline[k];
    const nv = valid ? valid.X.rows : 0;
    const rawV = arena.vRaw;
    for (let i = 0; i < nv; i++) for (let k = 0; k < W; k++) rawV[i * W + k] = baseline[k];
    const sample = new Int32Array(n);
    const nCols = Math.max(1, Math.round(p.colsample * nf));
    // LightGBM's rule: all rows while the early rounds' gradients are still large everywhere
    const gossFrom = Math.floor(1 / p.learning_rate);
    const nTop = Math.max(1, Math.floor(p.top_rate * n)), nOther = Math.max(1, Math.floor(p.other_rate * n));
    const gossBucket = goss ? new Int32Array(GOSS_BUCKETS) : undefined;
    const lossRows = n > LOSS_ROWS
      ? Int32Array.from({ length: LOSS_ROWS }, (_, i) => Math.floor((i * n) / LOSS_ROWS))
      : undefined;
    const trees: BoostTree[] = [];
    const trainLoss: number[] = [], validationScores: number[] = [];
    const lowerBetter = p.scoring === "loss";
    let best = lowerBetter ? Infinity : -Infinity, bestRounds = 0;
    const nGradBlocks = Math.ceil(n / GRAD_BLOCK);
    const fused = W === 1 && !goss && nSample === n;
    const nVBlocks = Math.ceil(nv / VALID_BLOCK);
    const blockLoss = nv > 0 && W === 1 && p.scoring === "loss";
    // one output: each round's training loss is summed by blocks in the next round's gradient job
    const jobLoss = W === 1;
    let lastYield = performance.now();
    for (let r = 0; r < n; r++) sample[r] = r;
    for (let round = 0; round < p.max_iter; round++) {
      const job = arena.job;
      let nRows = nSample;
      // one output on every row: the gradients and the root's histogram in one pass over the rows
      let fusedFeats: Int32Array | undefined;
      let rootSums: { G: number; H: number } | undefined;
      if (fused) {
        fusedFeats = sampleFeatures(rng, nf, nCols);
        job[J_TYPE] = JOB_GRAD_ROOT;
        job[J_LOSS] = loss;
        job[J_N] = n;
        job[J_RM] = grower.useFeatures(fusedFeats);
        job[J_TLOSS] = jobLoss && round > 0 ? 1 : 0;
        const nSeg = rootSegments(n);
        exec.run(nSeg);
        if (job[J_TLOSS]) trainLoss.push(blockSum(arena.tLoss, nSeg));
        let G = 0, H = 0;
        for (let q = 0; q < nSeg; q++) {
          G += arena.segGH[2 * q];
          H += arena.segGH[2 * q + 1];
        }
        rootSums = { G, H };
      } else {
        job[J_TYPE] = JOB_GRAD;
        job[J_LOSS] = loss;
        job[J_W] = W;
        job[J_N] = n;
        const gossRound = goss && round >= gossFrom;
        job[J_SCORE] = gossRound ? 1 : 0;
        job[J_TLOSS] = jobLoss && round > 0 ? 1 : 0;
        exec.run(nGradBlocks);
        if (job[J_TLOSS]) trainLoss.push(blockSum(arena.tLoss, nGradBlocks));
        if (gossRound) nRows = gossSample(arena.gh, n, W, nTop, nOther, rng, sample, arena.score, gossBucket);
        else if (goss) {
          for (let r = 0; r < n; r++) sample[r] = r;
          nRows = n;
        } else if (nSample < n) sampleRows(rng, n, nSample, sample);
      }
      for (let k = 0; k < W; k++) {
        const feats = fusedFeats ?? sampleFeatures(rng, nf, nCols);
        let nLeaves = 0;
        const tree = grower.grow(sample, nRows, k * 2 * n, feats, (rows, start, end, v) => {
          arena.lBuf[nLeaves] = rows === arena.rows ? 0 : 1;
          arena.lStart[nLeaves] = start;
          arena.lEnd[nLeaves] = end;
          arena.lValue[nLeaves++] = v;
        }, rootSums);
        // the tree's values to the scores: a tree on all rows by its leaves' row lists, on a sample by routing
        // every row through it; the validation rows by routing
        const depth = nRows < n || nv > 0 ? loadRouteTree(tree, arena) : 0;
        const tBlocks = Math.ceil(n / APPLY_BLOCK);
        job[J_TYPE] = JOB_APPLY;
        job[J_TMODE] = nRows === n ? TMODE_LEAVES : TMODE_ROUTE;
        job[J_TBLOCKS] = tBlocks;
        job[J_LEAVES] = nLeaves;
        job[J_DEPTH] = depth;
        job[J_VDEPTH] = hasSets(tree) ? -1 : depth;
        job[J_K] = k;
        job[J_W] = W;
        job[J_N] = n;
        job[J_NV] = nv;
        job[J_VLOSS] = blockLoss ? 1 : 0;
        job[J_LOSS] = loss;
        exec.run(tBlocks + nVBlocks);
        trees.push(tree);
      }
      if (!jobLoss) trainLoss.push(meanLoss(loss, raw, y, w, W, lossRows));
      opts.onProgress?.(round + 1, p.max_iter);
      if (valid) {
        let sc: number;
        if (blockLoss) {
          // the validation loss, summed by blocks in the apply job
          let sl = 0, sw = 0;
          for (let q = 0; q < nVBlocks; q++) {
            sl += arena.vLoss[2 * q];
            sw += arena.vLoss[2 * q + 1];
          }
          sc = sw > 0 ? sl / sw : 0;
        } else sc = validationScore(p.scoring, loss, rawV, valid.y, valid.w, W);
        validationScores.push(sc);
        if (lowerBetter ? sc < best - p.tol : sc > best + p.tol) {
          best = sc;
          bestRounds = round + 1;
        } else if (round + 1 - bestRounds >= p.n_iter_no_change) break;
      }
      if (performance.now() - lastYield >= YIELD_EVERY_MS) {
        await new Promise<void>((resolve) => setTimeout(resolve, 0));
        lastYield = performance.now();
      }
    }
    // the last round's loss (the others' came with the next round's gradients)
    if (jobLoss && trees.length > 0) trainLoss.push(meanLoss(loss, raw, y, w, W, lossRows));
    const nIter = valid ? Math.max(1, bestRounds) : trees.length / W;
    trees.length = nIter * W;
    return { trees, baseline, nIter, trainLoss, validationScore: validationScores };
  } finally {
    if (pool) pool.close();
    else for (const wk of workers) wk.terminate();
  }
}
