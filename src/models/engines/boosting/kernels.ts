/**
 * The per-feature work of growing a boosting tree, shared by the main thread
 * and the training workers: building a leaf's histogram of (gradient, hessian,
 * count) per bin, deriving a sibling's by subtraction, and finding the best
 * split of one feature (a threshold on numeric codes, a category set on
 * categorical ones). Everything here reads and writes one `Arena` of typed
 * arrays (over SharedArrayBuffers when workers take part), and each feature's
 * result depends only on that feature's histogram, so how features are split
 * among threads cannot change a tree.
 *
 * A leaf's rows are a sorted slice of `rows`. Deep leaves are sparse: their
 * rows' codes and gradients are far apart, and a histogram loop reading them
 * directly waits on one cache miss after another (7 ns a feature update here,
 * against 1.5 for the root). So rows are histogrammed in blocks: a tight loop
 * first copies a block's codes and gradients into small buffers (its loads are
 * independent, so the misses overlap), then the update loop reads those. That
 * halves the cost of sparse leaves; moving whole rows along with each
 * partition instead (LightGBM's ordered gradients, for all of a row's codes)
 * cost more in memory traffic than it saved.
 *
 * Histograms: slot s, feature f, bin b at index x = (s * p + f) * 256 + b;
 * gradient and hessian sums side by side in `hist[2x], hist[2x + 1]`, row
 * counts in `cnt[x]` (an Int32Array: an integer increment costs about a third
 * of a float one here). Bin 255 (NAN_BIN) holds the missing values.
 */
import { NAN_BIN } from "../forest/binning.ts";
import { type SimdKernels, simdKernels } from "./simd.ts";

/** Fields of one per-(target, feature) split result in `Arena.res`. */
export const RF = 10;
export const R_GAIN = 0, R_BIN = 1, R_NANLEFT = 2, R_GL = 3, R_HL = 4, R_CL = 5, R_WL = 6, R_WR = 7;
/** numeric: the next non-empty bin after the split's bin (-1 if none); categorical: categories on the left */
export const R_NEXT = 8;
/** rows with a missing value in the node */
export const R_NANCNT = 9;
/** 32-bit words of a categorical split's left set of bins (256 bins) in `Arena.resBits` */
export const SET_WORDS = 8;

/** Job kinds and the layout of `Arena.job` (one Float64Array; integers are exact in it). */
export const JOB_TREE = 1, JOB_GRAD = 2, JOB_APPLY = 3, JOB_GRAD_ROOT = 4, JOB_PART = 5, JOB_CHUNKS = 6;
export const J_TYPE = 0, J_BLOCKS = 1, J_M = 2;
export const J_GHOFF = 3;
/** target A at J_A, target B at J_B: slot, mode, start, end, find, G, H, C, lo, hi, and which row buffer */
export const J_A = 4, J_B = 15;
export const T_SLOT = 0, T_MODE = 1, T_START = 2, T_END = 3, T_FIND = 4;
export const T_G = 5, T_H = 6, T_C = 7, T_LO = 8, T_HI = 9, T_BUF = 10;
/**
 * target modes: no histogram work, build from its rows, its slot (the parent's)
 * minus target A's, or (the root of a tree on every row) the sum of the
 * segments' histograms from the JOB_GRAD_ROOT job, with the counts of all rows
 */
export const MODE_NONE = 0, MODE_BUILD = 1, MODE_SUBTRACT = 2, MODE_ROOT = 3;
/** target mode: the sum, in chunk order, of its row chunks' partial histograms (a JOB_CHUNKS job left them) */
export const MODE_REDUCE = 4;
/**
 * tree and chunk jobs: how many row chunks target A and target B are cut into
 * (0: not chunked); A's partials are chunks [0, J_NCA), B's the J_NCB after
 */
export const J_NCA = 26, J_NCB = 27;
/** gradient job: loss, outputs, rows */
export const J_LOSS = 2, J_W = 3, J_N = 4;
/** gradient job: also write GOSS's score |g h| (summed over outputs) per row */
export const J_SCORE = 7;
/**
 * gradient jobs (one output): also each block's weighted training loss at the
 * scores the gradients are taken at (the last round's), over the rows
 * `LOSS_ROWS` follows, into `tLoss`
 */
export const J_TLOSS = 9;
/** the training loss is followed on at most this many rows, evenly spaced (as HistGradientBoosting does) */
export const LOSS_ROWS = 10000;
/**
 * apply job (the current tree's values added to the scores): blocks
 * [0, J_TBLOCKS) are training rows (J_TMODE: by the leaves' row lists, or
 * routed through the tree when it was grown on a sample), the rest validation
 * rows; the output k, the tree's depth, the leaves, the validation rows
 */
export const J_K = 5, J_DEPTH = 6, J_TMODE = 8, J_TBLOCKS = 9, J_LEAVES = 10, J_NV = 11;
/** apply job: the depth for the validation rows' side-by-side walk, or -1 (a tree with category sets) */
export const J_VDEPTH = 12;
/** apply job: also each validation block's weighted loss and weight (one output; J_LOSS the loss) */
export const J_VLOSS = 13;
export const TMODE_NONE = 0, TMODE_LEAVES = 1, TMODE_ROUTE = 2;
/** gradient-and-root job (one output, every row): the features histogrammed (the first J_RM of `feats`) */
export const J_RM = 8;
/**
 * partition job (a split leaf's rows, from one row buffer into the other):
 * its slice [start, end) of buffer J_PSRC, the first right position
 * (start + its left count, known from the histogram), the split feature;
 * the split's lookup table is `Arena.lut`
 */
export const J_PSTART = 2, J_PEND = 3, J_PMID = 4, J_PFEAT = 5, J_PSRC = 6;
export const JOB_FIELDS = 32;
/** rows per histogram block (their codes and gradients gathered first: 8 KB and 4 KB at 32 bytes a row) */
export const HIST_BLOCK = 256;

export const LOSS_SQUARED = 0;
export const LOSS_BINARY = 1;
export const LOSS_MULTICLASS = 2;
/** rows per gradient block, and at most per segment of the root's histogram (JOB_GRAD_ROOT) */
export const GRAD_BLOCK = 16384;

/**
 * Segments of the root's histogram over n rows: an even number (two threads
 * take the same share) of at most GRAD_BLOCK rows, of equal size within a row;
 * fixed by n alone, so the root's sums do not depend on the threads.
 */
export function rootSegments(n: number): number {
  return Math.max(1, 2 * Math.ceil(n / (2 * GRAD_BLOCK)));
}

/** The first row of segment (or chunk) q of nq over [0, n). */
export function cut(n: number, nq: number, q: number): number {
  return Math.floor((q * n) / nq);
}

/**
 * Row chunks of a leaf's histogram. A leaf of CHUNK_MIN_ROWS rows or more is
 * histogrammed by rows: cut into an even number of chunks of at most
 * CHUNK_ROWS rows, one partial histogram each (on any thread), summed in chunk
 * order; so every row is gathered once, and threads balance by claiming
 * chunks. Smaller leaves are one chunk, histogrammed a block of features a
 * thread. Either way a bin's sum depends only on the leaf's rows, never on
 * the number of threads.
 */
export const CHUNK_ROWS = 8192, CHUNK_MIN_ROWS = 16384;

/** Chunks of a leaf of `rows` rows (1: not chunked), at most `maxChunks` (even, >= 2). */
export function chunkCount(rows: number, maxChunks: number): number {
  if (rows < CHUNK_MIN_ROWS) return 1;
  return Math.min(maxChunks, 2 * Math.ceil(rows / (2 * CHUNK_ROWS)));
}
/** rows per block of the apply job */
export const APPLY_BLOCK = 8192;
export const VALID_BLOCK = 2048;

/** The split search's settings, the same on every thread. */
export interface SplitSettings {
  lambda: number;
  minSamplesLeaf: number;
  minChildWeight: number;
  /** the smallest gain a split must exceed */
  minGain: number;
  catSmooth: number;
  catL2: number;
  maxCatThreshold: number;
  minDataPerGroup: number;
}

/** The typed arrays the tree jobs work on. */
export interface Arena {
  n: number;
  p: number;
  /** bytes per row of `codes` (rowStride) */
  stride: number;
  /** row-major codes, `stride` bytes a row */
  codes: Uint8Array;
  /** the same bytes as 32-bit words, to copy rows */
  words: Int32Array;
  /** column-major codes, n a feature: partitions, and the root's histogram (one feature's bins stay in L1) */
  colCodes: Uint8Array;
  /**
   * the rows of the tree, each leaf's a contiguous ascending slice of one of
   * two buffers (a split's children are in the other buffer than their parent)
   */
  rows: Int32Array;
  rows2: Int32Array;
  /** the current split's lookup table: 1 for a code that goes left */
  lut: Uint8Array;
  /** the partition job's two blocks' final left cursors */
  part: Int32Array;
  /** value bins per feature (categorical: one per code, the rare bin included) */
  nBins: Int32Array;
  /** 1 for a categorical feature */
  isCat: Uint8Array;
  /** categorical: the bin shared by the rarest codes (never put in a left set), or -1 */
  rareBin: Int32Array;
  /** per feature -1/0/1 */
  mono: Int8Array;
  /** gradient and hessian side by side in row order, output k's at [k * 2n, (k + 1) * 2n) */
  gh: Float64Array;
  hist: Float64Array;
  cnt: Int32Array;
  /** the features of the current tree (the first `job[J_M]`) */
  feats: Int32Array;
  /** per target (2) and feature: RF fields */
  res: Float64Array;
  /** per target and feature: a categorical split's left set of bins */
  resBits: Int32Array;
  job: Float64Array;
  /**
   * the current tree for routing: per node the feature, first child (a leaf:
   * itself), value, and a 256-bit set of the codes that go right; for raw
   * values, the threshold (a leaf: +Infinity), where missing goes, and whether
   * the node splits on a category set
   */
  tFeat: Int32Array;
  tChild: Int32Array;
  tValue: Float64Array;
  tRight: Int32Array;
  tThr: Float64Array;
  tNanRight: Uint8Array;
  tCat: Uint8Array;
  /** GOSS: per row |g h| of the round */
  score: Float64Array;
  /**
   * JOB_GRAD_ROOT: per segment of GRAD_BLOCK rows its (g, h) histograms (the
   * layout of a slot), and its gradient and hessian sums; the root's
   * histogram is their sum in segment order, so any thread count gives it
   */
  seg: Float64Array;
  segGH: Float64Array;
  /** per feature and bin, the count of all rows (the root's counts when a tree takes every row) */
  rootCnt: Int32Array;
  /** the current tree's leaves for the apply job: row-list slices and values */
  lStart: Int32Array;
  lEnd: Int32Array;
  lValue: Float64Array;
  /** and which row buffer holds each leaf's rows */
  lBuf: Uint8Array;
  /** per row chunk (chunkCount) its partial histogram, the layout of a slot: (g, h) and counts */
  chunkHist: Float64Array;
  chunkCnt: Int32Array;
  /** the most chunks a leaf is cut into (even; the partials' room) */
  maxChunks: number;
  /** 1: the threads' histogram loops run as WebAssembly SIMD (simd.ts) over `mem` */
  simd: number;
  /**
   * the WebAssembly memory that holds `codes`, `colCodes`, `gh`, `rows`,
   * `rows2` and the threads' scratch buffers (null: a SharedArrayBuffer
   * holds them, and the JavaScript loops run)
   */
  mem: WebAssembly.Memory | null;
  /** where thread t's scratch buffers start in that buffer: scratchAt + t * scratchBytes */
  scratchAt: number;
  scratchBytes: number;
  /** the validation rows (raw values, row-major) and their raw scores */
  vX: Float64Array;
  vRaw: Float64Array;
  /** the validation rows' targets and weights, and per block of them the weighted loss and weight (J_VLOSS) */
  vY: Float64Array;
  vW: Float64Array;
  vLoss: Float64Array;
  /** per gradient block (or root segment), its rows' training loss and weight (J_TLOSS) */
  tLoss: Float64Array;
  /** gradient inputs: raw scores (n x W), targets, weights */
  raw: Float64Array;
  y: Float64Array;
  w: Float64Array;
}

export function leafOut(G: number, H: number, lambda: number, lo: number, hi: number): number {
  const w = -G / (H + lambda);
  return w < lo ? lo : w > hi ? hi : w;
}

/** The loss reduction of a leaf with value w: -(2 G w + (H + lambda) w^2); G^2 / (H + lambda) at the optimum. */
export function leafGain(G: number, H: number, lambda: number, w: number): number {
  return -(2 * G * w + (H + lambda) * w * w);
}

/** Runs block `b` of the current job. */
export function runBlock(a: Arena, s: SplitSettings, b: number, scratch: Scratch): void {
  const job = a.job, type = job[J_TYPE];
  if (type === JOB_GRAD) {
    const n = job[J_N];
    const r0 = b * GRAD_BLOCK, r1 = Math.min(n, (b + 1) * GRAD_BLOCK), W = job[J_W];
    gradients(a, job[J_LOSS], W, n, r0, r1);
    if (job[J_SCORE]) gossScore(a, W, n, r0, r1);
    if (job[J_TLOSS]) trainLossBlock(a, job[J_LOSS], b, r0, r1);
    return;
  }
  if (type === JOB_GRAD_ROOT) {
    const n = job[J_N];
    const ns = rootSegments(n);
    gradRoot(a, job[J_LOSS], job[J_RM], b, cut(n, ns, b), cut(n, ns, b + 1), scratch);
    if (job[J_TLOSS]) trainLossBlock(a, job[J_LOSS], b, cut(n, ns, b), cut(n, ns, b + 1));
    return;
  }
  if (type === JOB_CHUNKS) {
    // chunk b of target A's rows, or (after A's) of target B's: its partial over all the tree's features
    const ncA = job[J_NCA],
      t = b < ncA ? J_A : J_B,
      q = b < ncA ? b : b - ncA,
      nq = b < ncA ? ncA : job[J_NCB];
    const start = job[t + T_START], c = job[t + T_END] - start;
    build(
      a,
      a.chunkHist,
      a.chunkCnt,
      b * a.p,
      job[t + T_BUF] ? a.rows2 : a.rows,
      start + cut(c, nq, q),
      start + cut(c, nq, q + 1),
      0,
      job[J_M],
      job[J_GHOFF],
      scratch,
    );
    return;
  }
  if (type === JOB_PART) {
    partitionBlock(a, b);
    return;
  }
  if (type === JOB_APPLY) {
    const tb = job[J_TBLOCKS], k = job[J_K], W = job[J_W];
    if (b < tb) {
      const n = job[J_N], r0 = b * APPLY_BLOCK, r1 = Math.min(n, r0 + APPLY_BLOCK);
      if (job[J_TMODE] === TMODE_LEAVES) applyLeaves(a, k, W, job[J_LEAVES], r0, r1);
      else route(a, k, W, job[J_DEPTH], r0, r1);
    } else {
      const r0 = (b - tb) * VALID_BLOCK, r1 = Math.min(job[J_NV], r0 + VALID_BLOCK);
      routeRaw(a, k, W, job[J_VDEPTH], r0, r1);
      if (job[J_VLOSS]) validLoss(a, job[J_LOSS], b - tb, r0, r1);
    }
    return;
  }
  const m = job[J_M], nb = job[J_BLOCKS];
  const j0 = Math.floor((b * m) / nb), j1 = Math.floor(((b + 1) * m) / nb);
  if (j0 >= j1) return;
  const sa = job[J_A + T_SLOT], sb = job[J_B + T_SLOT], modeB = job[J_B + T_MODE], ghOff = job[J_GHOFF];
  const modeA = job[J_A + T_MODE];
  if (modeA === MODE_BUILD) {
    build(
      a,
      a.hist,
      a.cnt,
      sa * a.p,
      job[J_A + T_BUF] ? a.rows2 : a.rows,
      job[J_A + T_START],
      job[J_A + T_END],
      j0,
      j1,
      ghOff,
      scratch,
    );
  } else if (modeA === MODE_ROOT) sumSegments(a, sa, j0, j1);
  else if (modeA === MODE_REDUCE) reduceChunks(a, sa, 0, job[J_NCA], j0, j1);
  if (modeB === MODE_BUILD) {
    build(
      a,
      a.hist,
      a.cnt,
      sb * a.p,
      job[J_B + T_BUF] ? a.rows2 : a.rows,
      job[J_B + T_START],
      job[J_B + T_END],
      j0,
      j1,
      ghOff,
      scratch,
    );
  } else if (modeB === MODE_SUBTRACT) subtract(a, sb, sa, j0, j1);
  else if (modeB === MODE_REDUCE) reduceChunks(a, sb, job[J_NCA], job[J_NCB], j0, j1);
  if (job[J_A + T_FIND]) findSplits(a, s, 0, J_A, j0, j1, scratch);
  if (job[J_B + T_FIND]) findSplits(a, s, 1, J_B, j0, j1, scratch);
}

/** Bytes per row of the codes: a multiple of 16 (rows are copied 16 bytes at a time; 16 or 32 unrolled in JavaScript). */
export function rowStride(p: number): number {
  return (Math.max(1, p) + 15) & ~15;
}

/**
 * The histograms of features feats[j0..j1) over rows[start..end) into
 * (hist, cnt) at feature f's place (base + f) * 256 (a slot: base = slot * p;
 * a chunk's partial: base = chunk * p), a block of rows at a time: the block's
 * rows are gathered, then its updates go four features at a time into
 * thread-local bins (the four features' 20 KB stay in L1, and their updates
 * are independent), which are copied out at the end. Each bin adds its rows
 * in row order.
 */
function build(
  a: Arena,
  hist: Float64Array,
  cnt: Int32Array,
  base: number,
  rows: Int32Array,
  start: number,
  end: number,
  j0: number,
  j1: number,
  ghOff: number,
  scratch: Scratch,
): void {
  const stride = a.stride, nw = stride >> 2, feats = a.feats;
  const words = a.words, gh = a.gh, nBins = a.nBins;
  const tw = scratch.words, tc = scratch.codes, tg = scratch.gh, lh = scratch.hist, lc = scratch.cnt;
  for (let j = j0; j < j1; j++) {
    const x = feats[j] << 8, nb = nBins[feats[j]];
    lh.fill(0, 2 * x, 2 * (x + nb));
    lc.fill(0, x, x + nb);
    lh[2 * (x + NAN_BIN)] = 0;
    lh[2 * (x + NAN_BIN) + 1] = 0;
    lc[x + NAN_BIN] = 0;
  }
  for (let b0 = start; b0 < end; b0 += HIST_BLOCK) {
    const k = Math.min(end - b0, HIST_BLOCK);
    // gather: independent loads, so the cache misses of sparse rows overlap
    if (scratch.k) {
      const go = gh.byteOffset + 8 * ghOff;
      scratch.k.gather(rows.byteOffset, b0, k, a.codes.byteOffset, stride, go, tc.byteOffset, tg.byteOffset);
    } else if (nw === 8) {
      for (let i = 0; i < k; i++) {
        const r = rows[b0 + i], so = r << 3, dO = i << 3;
        tw[dO] = words[so];
        tw[dO + 1] = words[so + 1];
        tw[dO + 2] = words[so + 2];
        tw[dO + 3] = words[so + 3];
        tw[dO + 4] = words[so + 4];
        tw[dO + 5] = words[so + 5];
        tw[dO + 6] = words[so + 6];
        tw[dO + 7] = words[so + 7];
        tg[2 * i] = gh[ghOff + 2 * r];
        tg[2 * i + 1] = gh[ghOff + 2 * r + 1];
      }
    } else if (nw === 4) {
      for (let i = 0; i < k; i++) {
        const r = rows[b0 + i], so = r << 2, dO = i << 2;
        tw[dO] = words[so];
        tw[dO + 1] = words[so + 1];
        tw[dO + 2] = words[so + 2];
        tw[dO + 3] = words[so + 3];
        tg[2 * i] = gh[ghOff + 2 * r];
        tg[2 * i + 1] = gh[ghOff + 2 * r + 1];
      }
    } else {
      for (let i = 0; i < k; i++) {
        const r = rows[b0 + i];
        for (let q = 0, so = r * nw, dO = i * nw; q < nw; q++) tw[dO + q] = words[so + q];
        tg[2 * i] = gh[ghOff + 2 * r];
        tg[2 * i + 1] = gh[ghOff + 2 * r + 1];
      }
    }
    let j = j0;
    const sk = scratch.k;
    if (sk) {
      const oc = scratch.oCodes, og = scratch.oGh, oh = scratch.oHist, on = scratch.oCnt;
      for (; j + 3 < j1; j += 4) {
        const f0 = feats[j], f1 = feats[j + 1], f2 = feats[j + 2], f3 = feats[j + 3];
        sk.leaf4(
          oc,
          stride,
          f0,
          f1,
          f2,
          f3,
          og,
          oh + (f0 << 12),
          oh + (f1 << 12),
          oh + (f2 << 12),
          oh + (f3 << 12),
          on + (f0 << 10),
          on + (f1 << 10),
          on + (f2 << 10),
          on + (f3 << 10),
          k,
        );
      }
      for (; j < j1; j++) sk.leaf1(oc, stride, feats[j], og, oh + (feats[j] << 12), on + (feats[j] << 10), k);
    }
    for (; j + 3 < j1; j += 4) {
      const f0 = feats[j], f1 = feats[j + 1], f2 = feats[j + 2], f3 = feats[j + 3];
      const x0 = f0 << 8, x1 = f1 << 8, x2 = f2 << 8, x3 = f3 << 8;
      for (let i = 0, ro = 0; i < k; i++, ro += stride) {
        const gi = tg[2 * i], hi = tg[2 * i + 1];
        const a0 = x0 + tc[ro + f0], a1 = x1 + tc[ro + f1], a2 = x2 + tc[ro + f2], a3 = x3 + tc[ro + f3];
        lh[2 * a0] += gi;
        lh[2 * a0 + 1] += hi;
        lc[a0]++;
        lh[2 * a1] += gi;
        lh[2 * a1 + 1] += hi;
        lc[a1]++;
        lh[2 * a2] += gi;
        lh[2 * a2 + 1] += hi;
        lc[a2]++;
        lh[2 * a3] += gi;
        lh[2 * a3 + 1] += hi;
        lc[a3]++;
      }
    }
    for (; j < j1; j++) {
      const f0 = feats[j], x0 = f0 << 8;
      for (let i = 0, ro = 0; i < k; i++, ro += stride) {
        const a0 = x0 + tc[ro + f0];
        lh[2 * a0] += tg[2 * i];
        lh[2 * a0 + 1] += tg[2 * i + 1];
        lc[a0]++;
      }
    }
  }
  for (let j = j0; j < j1; j++) {
    const f = feats[j], x = f << 8, xs = (base + f) << 8, nb = nBins[f];
    hist.set(lh.subarray(2 * x, 2 * (x + nb)), 2 * xs);
    cnt.set(lc.subarray(x, x + nb), xs);
    hist[2 * (xs + NAN_BIN)] = lh[2 * (x + NAN_BIN)];
    hist[2 * (xs + NAN_BIN) + 1] = lh[2 * (x + NAN_BIN) + 1];
    cnt[xs + NAN_BIN] = lc[x + NAN_BIN];
  }
}

/** slot `to` -= slot `from`, for features feats[j0..j1). */
function subtract(a: Arena, to: number, from: number, j0: number, j1: number): void {
  const p = a.p, hist = a.hist, cnt = a.cnt, feats = a.feats, nBins = a.nBins;
  for (let j = j0; j < j1; j++) {
    const f = feats[j], xt = (to * p + f) << 8, xf = (from * p + f) << 8;
    const nb = nBins[f];
    for (let b = 0; b < nb; b++) {
      hist[2 * (xt + b)] -= hist[2 * (xf + b)];
      hist[2 * (xt + b) + 1] -= hist[2 * (xf + b) + 1];
      cnt[xt + b] -= cnt[xf + b];
    }
    hist[2 * (xt + NAN_BIN)] -= hist[2 * (xf + NAN_BIN)];
    hist[2 * (xt + NAN_BIN) + 1] -= hist[2 * (xf + NAN_BIN) + 1];
    cnt[xt + NAN_BIN] -= cnt[xf + NAN_BIN];
  }
}

/** Slot `to` = the sum of partials [q0, q0 + nq) in chunk order, for features feats[j0..j1). */
function reduceChunks(a: Arena, to: number, q0: number, nq: number, j0: number, j1: number): void {
  const p = a.p,
    hist = a.hist,
    cnt = a.cnt,
    feats = a.feats,
    nBins = a.nBins,
    ph = a.chunkHist,
    pc = a.chunkCnt;
  for (let j = j0; j < j1; j++) {
    const f = feats[j], xt = (to * p + f) << 8, nb = nBins[f];
    const x0 = (q0 * p + f) << 8;
    hist.set(ph.subarray(2 * x0, 2 * (x0 + nb)), 2 * xt);
    cnt.set(pc.subarray(x0, x0 + nb), xt);
    hist[2 * (xt + NAN_BIN)] = ph[2 * (x0 + NAN_BIN)];
    hist[2 * (xt + NAN_BIN) + 1] = ph[2 * (x0 + NAN_BIN) + 1];
    cnt[xt + NAN_BIN] = pc[x0 + NAN_BIN];
    for (let q = 1; q < nq; q++) {
      const xq = ((q0 + q) * p + f) << 8;
      for (let b = 0; b < nb; b++) {
        hist[2 * (xt + b)] += ph[2 * (xq + b)];
        hist[2 * (xt + b) + 1] += ph[2 * (xq + b) + 1];
        cnt[xt + b] += pc[xq + b];
      }
      hist[2 * (xt + NAN_BIN)] += ph[2 * (xq + NAN_BIN)];
      hist[2 * (xt + NAN_BIN) + 1] += ph[2 * (xq + NAN_BIN) + 1];
      cnt[xt + NAN_BIN] += pc[xq + NAN_BIN];
    }
  }
}

/** The root's histograms of features feats[j0..j1) in a slot: the segments' sums (in order), all rows' counts. */
function sumSegments(a: Arena, slot: number, j0: number, j1: number): void {
  const p = a.p, hist = a.hist, cnt = a.cnt, feats = a.feats, nBins = a.nBins, seg = a.seg;
  const nSeg = rootSegments(a.n), segStride = 2 * p * 256;
  for (let j = j0; j < j1; j++) {
    const f = feats[j], x = (slot * p + f) << 8, nb = nBins[f];
    cnt.set(a.rootCnt.subarray(f << 8, (f << 8) + nb), x);
    cnt[x + NAN_BIN] = a.rootCnt[(f << 8) + NAN_BIN];
    for (let b = 0; b <= nb; b++) {
      const bin = b === nb ? NAN_BIN : b, xs = 2 * ((f << 8) + bin);
      let g = 0, h = 0;
      for (let q = 0, o = xs; q < nSeg; q++, o += segStride) {
        g += seg[o];
        h += seg[o + 1];
      }
      hist[2 * (x + bin)] = g;
      hist[2 * (x + bin) + 1] = h;
    }
  }
}

/**
 * One output's gradients and hessians of rows [r0, r1) (segment `q`), then
 * their (g, h) histograms over the first m of `feats` into the segment's
 * slice of `seg`, four features at a time: the codes (column-major) and the
 * gradients (copied to a thread-local buffer) are read in order, and the four
 * features' bins (16 KB, thread-local, copied to `seg` after) stay in L1; four
 * independent updates a row overlap, where one feature at a time waited on its
 * own bins (6.8 ns an update against 2.6 here). Each bin still adds its rows in
 * row order, so the sums are the same.
 */
function gradRoot(
  a: Arena,
  loss: number,
  m: number,
  q: number,
  r0: number,
  r1: number,
  scratch: Scratch,
): void {
  const raw = a.raw, y = a.y, w = a.w, gh = a.gh, col = a.colCodes, n = a.n, feats = a.feats;
  const p = a.p, seg = a.seg, nBins = a.nBins;
  const tg = scratch.rootGh, h = scratch.rootHist;
  const base = q * p, k = r1 - r0;
  let G = 0, H = 0;
  for (let i = r0, t = 0; i < r1; i++, t += 2) {
    let g: number, hh: number;
    if (loss === LOSS_BINARY) {
      const pr = 1 / (1 + Math.exp(-raw[i]));
      g = w[i] * (pr - y[i]);
      hh = w[i] * Math.max(pr * (1 - pr), 1e-16);
    } else {
      g = w[i] * (raw[i] - y[i]);
      hh = w[i];
    }
    tg[t] = g;
    tg[t + 1] = hh;
    G += g;
    H += hh;
  }
  gh.set(tg.subarray(0, 2 * k), 2 * r0);
  let j = 0;
  const sk = scratch.k;
  if (sk) {
    // the column-major codes are in the module's memory too
    const oc = col.byteOffset + r0, og = scratch.oRootGh, oh = scratch.oRootHist;
    for (; j + 3 < m; j += 4) {
      h.fill(0);
      sk.root4(
        og,
        oc + feats[j] * n,
        oc + feats[j + 1] * n,
        oc + feats[j + 2] * n,
        oc + feats[j + 3] * n,
        oh,
        k,
      );
      for (let u = 0; u < 4; u++) storeSeg(seg, h, 512 * u, (base + feats[j + u]) << 9, nBins[feats[j + u]]);
    }
    for (; j < m; j++) {
      h.fill(0, 0, 512);
      sk.root1(og, oc + feats[j] * n, oh, k);
      storeSeg(seg, h, 0, (base + feats[j]) << 9, nBins[feats[j]]);
    }
  }
  for (; j + 3 < m; j += 4) {
    const c0 = feats[j] * n + r0, c1 = feats[j + 1] * n + r0, c2 = feats[j + 2] * n + r0;
    const c3 = feats[j + 3] * n + r0;
    h.fill(0);
    for (let i = 0; i < k; i++) {
      const o0 = 2 * col[c0 + i], o1 = 512 + 2 * col[c1 + i], o2 = 1024 + 2 * col[c2 + i];
      const o3 = 1536 + 2 * col[c3 + i];
      const g = tg[2 * i], hh = tg[2 * i + 1];
      h[o0] += g;
      h[o0 + 1] += hh;
      h[o1] += g;
      h[o1 + 1] += hh;
      h[o2] += g;
      h[o2 + 1] += hh;
      h[o3] += g;
      h[o3 + 1] += hh;
    }
    for (let u = 0; u < 4; u++) storeSeg(seg, h, 512 * u, (base + feats[j + u]) << 9, nBins[feats[j + u]]);
  }
  for (; j < m; j++) {
    const c0 = feats[j] * n + r0;
    h.fill(0, 0, 512);
    for (let i = 0; i < k; i++) {
      const o0 = 2 * col[c0 + i];
      h[o0] += tg[2 * i];
      h[o0 + 1] += tg[2 * i + 1];
    }
    storeSeg(seg, h, 0, (base + feats[j]) << 9, nBins[feats[j]]);
  }
  a.segGH[2 * q] = G;
  a.segGH[2 * q + 1] = H;
}

/** A feature's (g, h) bins from a local histogram at `from` into `to` at `at`: its nb value bins and the missing bin. */
function storeSeg(to: Float64Array, from: Float64Array, at: number, x2: number, nb: number): void {
  to.set(from.subarray(at, at + 2 * nb), x2);
  to[x2 + 2 * NAN_BIN] = from[at + 2 * NAN_BIN];
  to[x2 + 2 * NAN_BIN + 1] = from[at + 2 * NAN_BIN + 1];
}

/** Per feature and bin, the count of every row (the root's counts of a tree on all rows). */
export function countAll(a: Arena): void {
  const { n, p, stride, codes, rootCnt } = a;
  rootCnt.fill(0);
  for (let i = 0; i < n; i++) {
    const ro = i * stride;
    for (let f = 0; f < p; f++) rootCnt[(f << 8) + codes[ro + f]]++;
  }
}

/** Adds each leaf's value to output k of its rows that sit at positions [r0, r1) of `rows`. */
function applyLeaves(a: Arena, k: number, W: number, nLeaves: number, r0: number, r1: number): void {
  const raw = a.raw, ls = a.lStart, le = a.lEnd, lv = a.lValue;
  for (let l = 0; l < nLeaves; l++) {
    const s = ls[l] > r0 ? ls[l] : r0, e = le[l] < r1 ? le[l] : r1, v = lv[l];
    const rows = a.lBuf[l] ? a.rows2 : a.rows;
    if (W === 1) { for (let i = s; i < e; i++) raw[rows[i]] += v; }
    else for (let i = s; i < e; i++) raw[rows[i] * W + k] += v;
  }
}

/**
 * Block b (0 or 1) of the partition job: the first half of the leaf's slice
 * read forward, its left rows written from `start` on and its right ones from
 * the first right position on; the second half read backward, its left rows
 * written down from just before the first right position and its right ones
 * down from the end. So every row's place is known without the halves'
 * counts, the two halves run on any threads, and each side stays ascending
 * (stable). The final left cursors go to `part` (they meet when the
 * histogram's left count was right).
 */
export function partitionBlock(a: Arena, b: number): void {
  const job = a.job, start = job[J_PSTART], end = job[J_PEND], mid = job[J_PMID];
  const fromSecond = job[J_PSRC] === 1;
  const src = fromSecond ? a.rows2 : a.rows, dst = fromSecond ? a.rows : a.rows2;
  const col = a.colCodes, co = job[J_PFEAT] * a.n, lut = a.lut, h = start + ((end - start) >> 1);
  const sk = a.mem && a.simd ? kernelsOf(a.mem) : null;
  if (sk) {
    // the same loop in the module (simd.ts part): the row lists, codes and lookup table are in its memory
    const s0 = src.byteOffset, d0 = dst.byteOffset, cf = col.byteOffset + co, lt = lut.byteOffset;
    if (b === 0) a.part[0] = sk.part(s0, d0, cf, lt, start, h - start, start, mid, 1);
    else a.part[1] = sk.part(s0, d0, cf, lt, end - 1, end - h, mid - 1, end - 1, -1);
    return;
  }
  if (b === 0) {
    let l = start, r = mid;
    for (let i = start; i < h; i++) {
      const row = src[i], left = lut[col[co + row]];
      // branch-free: the row's place is one cursor or the other, and that cursor advances
      dst[r + (l - r) * left] = row;
      l += left;
      r += 1 - left;
    }
    a.part[0] = l;
  } else {
    let l = mid - 1, r = end - 1;
    for (let i = end - 1; i >= h; i--) {
      const row = src[i], left = lut[col[co + row]];
      dst[r + (l - r) * left] = row;
      l -= left;
      r -= 1 - left;
    }
    a.part[1] = l;
  }
}

/**
 * Reusable per-thread buffers: a histogram block's gathered rows, the local
 * bins, and the categorical search's order. With `simd`, the histogram
 * buffers are views of the thread's WebAssembly memory (simd.ts), at the byte
 * offsets `o*`, and `k` holds its kernels; else (or where WebAssembly SIMD is
 * missing) `k` is null and the JavaScript loops run.
 */
export class Scratch {
  readonly words: Int32Array;
  readonly codes: Uint8Array;
  readonly gh: Float64Array;
  readonly order = new Int32Array(256);
  readonly key = new Float64Array(256);
  /** gradRoot: a segment's (g, h), and four features' (g, h) bins */
  readonly rootGh: Float64Array;
  readonly rootHist: Float64Array;
  /** build: the features' (g, h) bins and counts, feature f's at f * 256 */
  readonly hist: Float64Array;
  readonly cnt: Int32Array;
  readonly k: SimdKernels | null;
  readonly oRootGh: number;
  readonly oGh: number;
  readonly oRootHist: number;
  readonly oCodes: number;
  readonly oHist: number;
  readonly oCnt: number;
  /** Thread `thread`'s buffers, in the arena's buffer (and its kernels, when that is a WebAssembly memory). */
  constructor(a: Arena, thread: number) {
    const at = scratchLayout(a.stride, a.p).at.map((o) => o + a.scratchAt + thread * a.scratchBytes);
    this.k = a.mem && a.simd ? kernelsOf(a.mem) : null;
    const buf = a.codes.buffer;
    [this.oRootGh, this.oGh, this.oRootHist, this.oCodes, this.oHist, this.oCnt] = at;
    this.rootGh = new Float64Array(buf, at[0], 2 * GRAD_BLOCK);
    this.gh = new Float64Array(buf, at[1], 2 * HIST_BLOCK);
    this.rootHist = new Float64Array(buf, at[2], 4 * 512);
    this.words = new Int32Array(buf, at[3], (HIST_BLOCK * a.stride) >> 2);
    this.codes = new Uint8Array(buf, at[3], HIST_BLOCK * a.stride);
    this.hist = new Float64Array(buf, at[4], a.p * 512);
    this.cnt = new Int32Array(buf, at[5], a.p * 256);
  }
}

const instances = new WeakMap<WebAssembly.Memory, SimdKernels>();

/** This thread's instance of the kernels over an arena's memory (one per memory and thread). */
function kernelsOf(mem: WebAssembly.Memory): SimdKernels {
  let k = instances.get(mem);
  if (!k) instances.set(mem, k = simdKernels(mem));
  return k;
}

/** A thread's scratch buffers: their byte offsets from its start (16-aligned), and its bytes. */
export function scratchLayout(stride: number, p: number): { at: number[]; bytes: number } {
  const sizes = [16 * GRAD_BLOCK, 16 * HIST_BLOCK, 4 * 4096, HIST_BLOCK * stride, p * 4096, p * 1024];
  const at: number[] = [];
  let bytes = 0;
  for (const z of sizes) {
    at.push(bytes);
    bytes += (z + 15) & ~15;
  }
  return { at, bytes };
}

/** The best split of each feature feats[j0..j1) for the target at job offset `t`, into res[target]. */
function findSplits(
  a: Arena,
  s: SplitSettings,
  target: number,
  t: number,
  j0: number,
  j1: number,
  scratch: Scratch,
): void {
  const job = a.job, p = a.p;
  const slot = job[t + T_SLOT];
  const G = job[t + T_G], H = job[t + T_H], C = job[t + T_C], lo = job[t + T_LO], hi = job[t + T_HI];
  for (let j = j0; j < j1; j++) {
    const f = a.feats[j];
    const o = (target * p + f) * RF;
    const x = (slot * p + f) << 8;
    if (a.isCat[f]) categoricalSplit(a, s, x, f, G, H, C, lo, hi, o, (target * p + f) * SET_WORDS, scratch);
    else numericSplit(a, s, x, f, G, H, C, lo, hi, o);
  }
}

function numericSplit(
  a: Arena,
  s: SplitSettings,
  x: number,
  f: number,
  G: number,
  H: number,
  C: number,
  lo: number,
  hi: number,
  o: number,
): void {
  const hist = a.hist, cnt = a.cnt, res = a.res, nb = a.nBins[f], cst = a.mono[f];
  const lambda = s.lambda, msl = s.minSamplesLeaf, mcw = s.minChildWeight;
  const parentGain = leafGain(G, H, lambda, leafOut(G, H, lambda, lo, hi));
  const xn = x + NAN_BIN;
  const Gn = hist[2 * xn], Hn = hist[2 * xn + 1], Cn = cnt[xn];
  const hasNan = Cn > 0;
  res[o + R_GAIN] = -Infinity;
  res[o + R_NANCNT] = Cn;
  let last = -1;
  for (let b = nb - 1; b >= 0; b--) {
    if (cnt[x + b] > 0) {
      last = b;
      break;
    }
  }
  let best = s.minGain, bestB = -1;
  let GL = 0, HL = 0, CL = 0;
  if (cst === 0 && lo === -Infinity && hi === Infinity) {
    // unconstrained (the usual case): a child's gain is G^2 / (H + lambda), values only for the best
    const pg = (G * G) / (H + lambda);
    for (let b = 0; b <= last; b++) {
      const c = cnt[x + b];
      if (c === 0) continue;
      GL += hist[2 * (x + b)];
      HL += hist[2 * (x + b) + 1];
      CL += c;
      if (b === last && !hasNan) break;
      // missing right
      if (CL >= msl && C - CL >= msl && HL >= mcw && H - HL >= mcw) {
        const gr = G - GL, gain = (GL * GL) / (HL + lambda) + (gr * gr) / (H - HL + lambda) - pg;
        if (gain > best) {
          best = gain;
          bestB = b;
          res[o + R_NANLEFT] = 0;
          res[o + R_GL] = GL;
          res[o + R_HL] = HL;
          res[o + R_CL] = CL;
        }
      }
      // missing left, when there are some and present rows remain on the right
      if (hasNan && b < last) {
        const gl = GL + Gn, hl = HL + Hn, cl = CL + Cn;
        if (cl >= msl && C - cl >= msl && hl >= mcw && H - hl >= mcw) {
          const gr = G - gl, gain = (gl * gl) / (hl + lambda) + (gr * gr) / (H - hl + lambda) - pg;
          if (gain > best) {
            best = gain;
            bestB = b;
            res[o + R_NANLEFT] = 1;
            res[o + R_GL] = gl;
            res[o + R_HL] = hl;
            res[o + R_CL] = cl;
          }
        }
      }
    }
    if (bestB >= 0) {
      res[o + R_BIN] = bestB;
      res[o + R_WL] = -res[o + R_GL] / (res[o + R_HL] + lambda);
      res[o + R_WR] = -(G - res[o + R_GL]) / (H - res[o + R_HL] + lambda);
    }
  } else {
    for (let b = 0; b <= last; b++) {
      const c = cnt[x + b];
      if (c === 0) continue;
      GL += hist[2 * (x + b)];
      HL += hist[2 * (x + b) + 1];
      CL += c;
      if (b === last && !hasNan) break;
      // two candidates: missing right (always), missing left (when there are some and present rows remain right)
      for (let side = 0; side < (hasNan && b < last ? 2 : 1); side++) {
        const gl = side ? GL + Gn : GL, hl = side ? HL + Hn : HL, cl = side ? CL + Cn : CL;
        const cr = C - cl, hr = H - hl, gr = G - gl;
        if (cl < msl || cr < msl || hl < mcw || hr < mcw) continue;
        const wL = leafOut(gl, hl, lambda, lo, hi), wR = leafOut(gr, hr, lambda, lo, hi);
        if ((cst > 0 && wL > wR) || (cst < 0 && wL < wR)) continue;
        const gain = leafGain(gl, hl, lambda, wL) + leafGain(gr, hr, lambda, wR) - parentGain;
        if (gain > best) {
          best = gain;
          bestB = b;
          res[o + R_BIN] = b;
          res[o + R_NANLEFT] = side;
          res[o + R_GL] = gl;
          res[o + R_HL] = hl;
          res[o + R_CL] = cl;
          res[o + R_WL] = wL;
          res[o + R_WR] = wR;
        }
      }
    }
  }
  if (bestB < 0) return;
  res[o + R_GAIN] = best;
  let next = -1;
  for (let q = bestB + 1; q < nb; q++) {
    if (cnt[x + q] > 0) {
      next = q;
      break;
    }
  }
  res[o + R_NEXT] = next;
}

/**
 * LightGBM's categorical search: the node's categories with at least
 * `catSmooth` rows (missing values are one more category; the rare bin is
 * left out, so it goes right with unseen codes) sorted by G / (H + catSmooth),
 * then prefixes of that order taken from either end as the left set, at most
 * `maxCatThreshold` categories, with `lambda + catL2` on the children, and a
 * candidate only after every `minDataPerGroup` rows added.
 */
function categoricalSplit(
  a: Arena,
  s: SplitSettings,
  x: number,
  f: number,
  G: number,
  H: number,
  C: number,
  lo: number,
  hi: number,
  o: number,
  ob: number,
  scratch: Scratch,
): void {
  const hist = a.hist, cnt = a.cnt, res = a.res, bits = a.resBits, nb = a.nBins[f], rare = a.rareBin[f];
  const lambda = s.lambda, l2 = s.lambda + s.catL2, msl = s.minSamplesLeaf, mcw = s.minChildWeight;
  const smooth = s.catSmooth, mdg = s.minDataPerGroup;
  const parentGain = leafGain(G, H, lambda, leafOut(G, H, lambda, lo, hi));
  const order = scratch.order, key = scratch.key;
  res[o + R_GAIN] = -Infinity;
  res[o + R_NANCNT] = cnt[x + NAN_BIN];
  let k = 0;
  for (let b = 0; b <= nb; b++) {
    const bin = b === nb ? NAN_BIN : b;
    if (bin === rare || cnt[x + bin] < smooth || cnt[x + bin] === 0) continue;
    const kv = hist[2 * (x + bin)] / (hist[2 * (x + bin) + 1] + smooth);
    // insertion sort, stable: equal keys keep bin order
    let q = k++;
    while (q > 0 && key[q - 1] > kv) {
      key[q] = key[q - 1];
      order[q] = order[q - 1];
      q--;
    }
    key[q] = kv;
    order[q] = bin;
  }
  const maxCats = Math.min(s.maxCatThreshold, (k + 1) >> 1);
  let best = s.minGain, bestDir = 0, bestK = 0;
  for (let dir = 1; dir >= -1; dir -= 2) {
    let GL = 0, HL = 0, CL = 0, group = 0;
    for (let i = 0; i < k && i < maxCats; i++) {
      const bin = order[dir > 0 ? i : k - 1 - i];
      const c = cnt[x + bin];
      GL += hist[2 * (x + bin)];
      HL += hist[2 * (x + bin) + 1];
      CL += c;
      group += c;
      if (CL < msl || HL < mcw) continue;
      const CR = C - CL, HR = H - HL;
      if (CR < msl || CR < mdg || HR < mcw) break;
      if (group < mdg) continue;
      group = 0;
      const GR = G - GL;
      const wL = leafOut(GL, HL, l2, lo, hi), wR = leafOut(GR, HR, l2, lo, hi);
      const gain = leafGain(GL, HL, l2, wL) + leafGain(GR, HR, l2, wR) - parentGain;
      if (gain > best) {
        best = gain;
        bestDir = dir;
        bestK = i + 1;
        res[o + R_GL] = GL;
        res[o + R_HL] = HL;
        res[o + R_CL] = CL;
        res[o + R_WL] = wL;
        res[o + R_WR] = wR;
      }
    }
  }
  if (bestK === 0) return;
  res[o + R_GAIN] = best;
  res[o + R_BIN] = 0;
  res[o + R_NEXT] = bestK;
  let nanLeft = 0;
  bits.fill(0, ob, ob + SET_WORDS);
  for (let i = 0; i < bestK; i++) {
    const bin = order[bestDir > 0 ? i : k - 1 - i];
    if (bin === NAN_BIN) nanLeft = 1;
    bits[ob + (bin >> 5)] |= 1 << (bin & 31);
  }
  res[o + R_NANLEFT] = nanLeft;
}

/**
 * Adds the current tree's value to output k of the rows in [r0, r1) (a tree
 * grown on a sample: the rows outside it need the value too). Leaves loop to
 * themselves, so every row takes `depth` steps and four rows walk side by
 * side: their chains of dependent loads overlap.
 */
function route(a: Arena, k: number, W: number, depth: number, r0: number, r1: number): void {
  const codes = a.codes, stride = a.stride, raw = a.raw;
  const feat = a.tFeat, child = a.tChild, value = a.tValue, right = a.tRight;
  let i = r0;
  for (; i + 3 < r1; i += 4) {
    const o0 = i * stride, o1 = o0 + stride, o2 = o1 + stride, o3 = o2 + stride;
    let n0 = 0, n1 = 0, n2 = 0, n3 = 0;
    for (let d = 0; d < depth; d++) {
      const c0 = codes[o0 + feat[n0]], c1 = codes[o1 + feat[n1]];
      const c2 = codes[o2 + feat[n2]], c3 = codes[o3 + feat[n3]];
      n0 = child[n0] + ((right[(n0 << 3) + (c0 >> 5)] >>> (c0 & 31)) & 1);
      n1 = child[n1] + ((right[(n1 << 3) + (c1 >> 5)] >>> (c1 & 31)) & 1);
      n2 = child[n2] + ((right[(n2 << 3) + (c2 >> 5)] >>> (c2 & 31)) & 1);
      n3 = child[n3] + ((right[(n3 << 3) + (c3 >> 5)] >>> (c3 & 31)) & 1);
    }
    raw[i * W + k] += value[n0];
    raw[(i + 1) * W + k] += value[n1];
    raw[(i + 2) * W + k] += value[n2];
    raw[(i + 3) * W + k] += value[n3];
  }
  for (; i < r1; i++) {
    const o = i * stride;
    let node = 0;
    for (let d = 0; d < depth; d++) {
      const c = codes[o + feat[node]];
      node = child[node] + ((right[(node << 3) + (c >> 5)] >>> (c & 31)) & 1);
    }
    raw[i * W + k] += value[node];
  }
}

/**
 * Adds the current tree's value to output k of validation rows [r0, r1),
 * routed on their raw values. A tree without category sets walks four rows
 * side by side for its depth (a leaf's threshold is +Infinity and its missing
 * values stay: it loops to itself).
 */
function routeRaw(a: Arena, k: number, W: number, depth: number, r0: number, r1: number): void {
  const x = a.vX, vRaw = a.vRaw, p = a.p;
  const feat = a.tFeat, child = a.tChild, value = a.tValue, right = a.tRight;
  const thr = a.tThr, nanRight = a.tNanRight, cat = a.tCat;
  let i = r0;
  if (depth >= 0) {
    for (; i + 3 < r1; i += 4) {
      const o0 = i * p, o1 = o0 + p, o2 = o1 + p, o3 = o2 + p;
      let n0 = 0, n1 = 0, n2 = 0, n3 = 0;
      for (let d = 0; d < depth; d++) {
        const v0 = x[o0 + feat[n0]], v1 = x[o1 + feat[n1]], v2 = x[o2 + feat[n2]], v3 = x[o3 + feat[n3]];
        const t0 = thr[n0], t1 = thr[n1], t2 = thr[n2], t3 = thr[n3];
        // branch-free: 1 past the threshold, or missing (v !== v) and sent right (a ?: mispredicts)
        n0 = child[n0] + (+(v0 > t0) | (nanRight[n0] & +(v0 !== v0)));
        n1 = child[n1] + (+(v1 > t1) | (nanRight[n1] & +(v1 !== v1)));
        n2 = child[n2] + (+(v2 > t2) | (nanRight[n2] & +(v2 !== v2)));
        n3 = child[n3] + (+(v3 > t3) | (nanRight[n3] & +(v3 !== v3)));
      }
      vRaw[i * W + k] += value[n0];
      vRaw[(i + 1) * W + k] += value[n1];
      vRaw[(i + 2) * W + k] += value[n2];
      vRaw[(i + 3) * W + k] += value[n3];
    }
  }
  for (; i < r1; i++) {
    const o = i * p;
    let node = 0;
    while (child[node] !== node) {
      const v = x[o + feat[node]];
      if (!cat[node]) {
        const t = thr[node];
        node = child[node] + (v <= t ? 0 : v > t ? 1 : nanRight[node]);
      } else if (v >= 0) {
        // a code: the set of codes that go right (codes past the bins, unseen, go right)
        const c = Math.floor(v);
        node = child[node] + (c >= 255 ? 1 : (right[(node << 3) + (c >> 5)] >>> (c & 31)) & 1);
      } else node = child[node] + nanRight[node];
    }
    vRaw[i * W + k] += value[node];
  }
}

const EPS = 1e-15;

/** One row's loss (one output): log loss of the clipped sigmoid for binary, half the squared error otherwise. */
function rowLoss(loss: number, raw: number, y: number): number {
  if (loss === LOSS_BINARY) {
    const p = Math.min(1 - EPS, Math.max(EPS, 1 / (1 + Math.exp(-raw))));
    return y === 1 ? -Math.log(p) : -Math.log(1 - p);
  }
  const e = y - raw;
  return 0.5 * e * e;
}

/**
 * The weighted loss (one output) of the followed training rows in [r0, r1) —
 * all rows up to LOSS_ROWS of them, else rows floor(i n / LOSS_ROWS) — and
 * their weight, as block q's in `tLoss` (train.ts meanLoss's terms).
 */
function trainLossBlock(a: Arena, loss: number, q: number, r0: number, r1: number): void {
  const raw = a.raw, y = a.y, w = a.w, n = a.n, L = LOSS_ROWS;
  let s = 0, sw = 0;
  const all = n <= L;
  for (let j = all ? r0 : Math.ceil((r0 * L) / n); j < (all ? r1 : L); j++) {
    const i = all ? j : Math.floor((j * n) / L);
    if (i >= r1) break;
    s += w[i] * rowLoss(loss, raw[i], y[i]);
    sw += w[i];
  }
  a.tLoss[2 * q] = s;
  a.tLoss[2 * q + 1] = sw;
}

/** Validation rows [r0, r1)'s weighted loss (one output) and weight, as block q's in `vLoss`. */
function validLoss(a: Arena, loss: number, q: number, r0: number, r1: number): void {
  const raw = a.vRaw, y = a.vY, w = a.vW;
  let s = 0, sw = 0;
  for (let i = r0; i < r1; i++) {
    s += w[i] * rowLoss(loss, raw[i], y[i]);
    sw += w[i];
  }
  a.vLoss[2 * q] = s;
  a.vLoss[2 * q + 1] = sw;
}

/** GOSS's per-row score: |g h| summed over the outputs. */
function gossScore(a: Arena, W: number, n: number, r0: number, r1: number): void {
  const gh = a.gh, sc = a.score;
  for (let i = r0; i < r1; i++) {
    let s = 0;
    for (let k = 0; k < W; k++) s += Math.abs(gh[2 * k * n + 2 * i] * gh[2 * k * n + 2 * i + 1]);
    sc[i] = s;
  }
}

/** Gradients and hessians of rows [r0, r1) at the current raw scores, into gh (per output). */
function gradients(a: Arena, loss: number, W: number, n: number, r0: number, r1: number): void {
  const raw = a.raw, y = a.y, w = a.w, gh = a.gh;
  if (loss === LOSS_SQUARED) {
    for (let i = r0; i < r1; i++) {
      gh[2 * i] = w[i] * (raw[i] - y[i]);
      gh[2 * i + 1] = w[i];
    }
  } else if (loss === LOSS_BINARY) {
    for (let i = r0; i < r1; i++) {
      const p = 1 / (1 + Math.exp(-raw[i]));
      gh[2 * i] = w[i] * (p - y[i]);
      gh[2 * i + 1] = w[i] * Math.max(p * (1 - p), 1e-16);
    }
  } else {
    const n2 = 2 * n;
    for (let i = r0; i < r1; i++) {
      const o = i * W;
      let mx = -Infinity;
      for (let k = 0; k < W; k++) if (raw[o + k] > mx) mx = raw[o + k];
      let sum = 0;
      for (let k = 0; k < W; k++) sum += Math.exp(raw[o + k] - mx);
      const yi = y[i], wi = w[i];
      for (let k = 0; k < W; k++) {
        const p = Math.exp(raw[o + k] - mx) / sum;
        gh[k * n2 + 2 * i] = wi * (p - (yi === k ? 1 : 0));
        gh[k * n2 + 2 * i + 1] = wi * Math.max(p * (1 - p), 1e-16);
      }
    }
  }
}
