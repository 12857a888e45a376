/**
 * Grows one regression tree on gradients and hessians over pre-binned
 * features, LightGBM's way: leaf-wise (best-first, the open leaf with the
 * largest gain splits next) up to `maxLeaves` leaves, Newton leaf values
 * -G / (H + lambda) and second-order gains, per-leaf histograms of
 * (G, H, count) per bin, and histogram subtraction (only the smaller child is
 * histogrammed; the larger is its parent minus it).
 *
 * Missing values (code NAN_BIN) are tried on both sides of every threshold and
 * follow the better one (the learned default direction); where a node saw no
 * missing value they follow the child with more rows. A split that only
 * separates missing from present values is a candidate too. Categorical
 * features split on a set of categories (kernels.ts); at such a node missing
 * values are one more category, and go right when the node saw none.
 *
 * Monotone constraints use LightGBM's "basic" method: a split whose child
 * values break the order is rejected, and the children's values are bounded by
 * the midpoint of the two, for their whole subtrees.
 *
 * The per-feature work (histograms, subtraction, split search) runs as jobs on
 * an `Executor` (the main thread alone, or with workers); this class keeps the
 * tree, picks the leaf to split, and partitions its rows (stably, so each
 * leaf's rows stay ascending and the histogram loop reads memory in order).
 */
import { midpoint, NAN_BIN } from "../forest/binning.ts";
import type { BoostBins } from "./bins.ts";
import {
  type Arena,
  chunkCount,
  J_A,
  J_B,
  J_BLOCKS,
  J_GHOFF,
  J_M,
  J_NCA,
  J_NCB,
  J_PEND,
  J_PFEAT,
  J_PMID,
  J_PSRC,
  J_PSTART,
  J_TYPE,
  JOB_CHUNKS,
  JOB_PART,
  JOB_TREE,
  leafOut,
  MODE_BUILD,
  MODE_NONE,
  MODE_REDUCE,
  MODE_ROOT,
  MODE_SUBTRACT,
  partitionBlock,
  R_BIN,
  R_CL,
  R_GAIN,
  R_GL,
  R_HL,
  R_NANCNT,
  R_NANLEFT,
  R_NEXT,
  R_WL,
  R_WR,
  RF,
  SET_WORDS,
  T_BUF,
  T_C,
  T_END,
  T_FIND,
  T_G,
  T_H,
  T_HI,
  T_LO,
  T_MODE,
  T_SLOT,
  T_START,
} from "./kernels.ts";

/** Leaves with fewer rows are partitioned on the calling thread (a job's hand-off costs more than half of it saves). */
const PARALLEL_PARTITION_ROWS = 4096;

export interface GrowSettings {
  /** Infinity for no limit */
  maxLeaves: number;
  /** Infinity for no limit */
  maxDepth: number;
  minSamplesLeaf: number;
  minChildWeight: number;
  lambda: number;
  learningRate: number;
  /** per feature -1/0/1, or undefined */
  monotone?: Int8Array;
}

/** Runs the arena's current job: blocks 0..nBlocks-1, on whatever threads it has. */
export interface Executor {
  run(nBlocks: number): void;
  /** blocks a tree job's features are cut into */
  readonly featureBlocks: number;
}

/** One grown tree, node arrays local to the tree; the children of node i are child[i] and child[i] + 1. */
export interface BoostTree {
  nNodes: number;
  /** split feature, or -1 for a leaf */
  feature: Int32Array;
  /** raw-value threshold: x <= threshold goes left (numeric splits) */
  threshold: Float64Array;
  /** the split's bin: code <= bin goes left (training-time routing on codes, numeric splits) */
  bin: Uint8Array;
  child: Int32Array;
  /** 1 if a missing value goes right */
  nanRight: Uint8Array;
  /** leaf value (learning rate applied); 0 at internal nodes */
  value: Float64Array;
  /** the split's gain at internal nodes */
  gain: Float64Array;
  /** training rows (of this tree's subsample) that reached each node: TreeSHAP's cover */
  cover: Float64Array;
  /** per node -1, or (a categorical split) the first word of its left set of codes in catBits */
  catStart: Int32Array;
  /** words of each categorical node's set */
  catWords: Uint8Array;
  /** the tree's categorical left sets: code c goes left iff bit c is on */
  catBits: Uint32Array;
}

/** An open leaf: its rows, totals, bounds, histogram slot, and best split. */
interface Leaf {
  node: number;
  /** its rows: rows[start..end) of row buffer `buf` (0: Arena.rows, 1: Arena.rows2) */
  buf: number;
  start: number;
  end: number;
  depth: number;
  G: number;
  H: number;
  lo: number;
  hi: number;
  /** histogram slot, or -1 (none: never built, or given up for another leaf) */
  slot: number;
  gain: number;
  f: number;
  b: number;
  nanLeft: boolean;
  nanCount: number;
  next: number;
  GL: number;
  HL: number;
  CL: number;
  wL: number;
  wR: number;
  /** categorical: the left set of bins */
  set: Int32Array | null;
}

export class TreeGrower {
  private readonly free: number[] = [];
  private readonly feats: Int32Array;
  private readonly lut: Uint8Array;
  private ghOff = 0;
  private m = 0;
  private open: Leaf[] = [];
  // output, grown as needed
  private oFeat: number[] = [];
  private oThr: number[] = [];
  private oBin: number[] = [];
  private oNan: number[] = [];
  private oVal: number[] = [];
  private oGain: number[] = [];
  private oCov: number[] = [];
  private oCat: number[] = [];
  private oCatW: number[] = [];
  private oBits: number[] = [];
  private links: number[] = [];

  constructor(
    private readonly d: BoostBins,
    private readonly a: Arena,
    private readonly s: GrowSettings,
    private readonly exec: Executor,
    nSlots: number,
  ) {
    this.feats = new Int32Array(d.p);
    this.lut = a.lut;
    for (let i = nSlots - 1; i >= 0; i--) this.free.push(i);
  }

  /**
   * Grows a tree over rows sample[0..nRows) (ascending) with the gradients at
   * gh[ghOff..], splitting only on `features`. `root`: the tree takes every
   * row and a JOB_GRAD_ROOT job (over these features) left the root's
   * histogram in the segments, with these sums.
   * Calls `onLeaf(rows, start, end, value)` with every leaf's row ids rows[start..end) (rows: one of
   * the arena's two row buffers).
   */
  grow(
    sample: Int32Array,
    nRows: number,
    ghOff: number,
    features: ArrayLike<number>,
    onLeaf: (rows: Int32Array, start: number, end: number, value: number) => void,
    root?: { G: number; H: number },
  ): BoostTree {
    const s = this.s, a = this.a;
    this.useFeatures(features);
    this.oFeat = [-1];
    this.oThr = [0];
    this.oBin = [0];
    this.oNan = [0];
    this.oVal = [0];
    this.oGain = [0];
    this.oCov = [nRows];
    this.oCat = [-1];
    this.oCatW = [0];
    this.oBits = [];
    const gh = a.gh, rows = a.rows;
    rows.set(sample.subarray(0, nRows));
    let G = 0, H = 0;
    if (root) {
      G = root.G;
      H = root.H;
    } else {
      for (let i = 0; i < nRows; i++) {
        const r = rows[i];
        G += gh[ghOff + 2 * r];
        H += gh[ghOff + 2 * r + 1];
      }
    }
    this.ghOff = ghOff;
    const top = this.newLeaf(0, 0, 0, nRows, 0, G, H, -Infinity, Infinity);
    const done: Leaf[] = [];
    this.open = [];
    if (this.canSplit(top)) {
      top.slot = this.takeSlot();
      this.runJob(top, root ? MODE_ROOT : MODE_BUILD, true, null, MODE_NONE, false);
    }
    (top.f >= 0 ? this.open : done).push(top);
    let nLeaves = 1;
    const open = this.open;
    while (nLeaves < s.maxLeaves) {
      let bi = -1, bg = -Infinity;
      for (let q = 0; q < open.length; q++) {
        if (open[q].gain > bg) {
          bg = open[q].gain;
          bi = q;
        }
      }
      if (bi < 0) break;
      const leaf = open[bi];
      open.splice(bi, 1);
      const [L, R] = this.split(leaf);
      nLeaves++;
      for (const c of [L, R]) (c.f >= 0 ? open : done).push(c);
    }
    for (const leaf of open) done.push(leaf);
    const lr = s.learningRate, lambda = s.lambda;
    for (const leaf of done) {
      this.giveSlot(leaf);
      const v = leafOut(leaf.G, leaf.H, lambda, leaf.lo, leaf.hi) * lr;
      this.oVal[leaf.node] = v;
      onLeaf(leaf.buf ? a.rows2 : a.rows, leaf.start, leaf.end, v);
    }
    this.open = [];
    const n = this.oFeat.length;
    const child = new Int32Array(n);
    // children were allocated in pairs right after their parent's split: recover them
    for (let i = 0; i < this.links.length; i += 2) child[this.links[i]] = this.links[i + 1];
    this.links = [];
    return {
      nNodes: n,
      feature: Int32Array.from(this.oFeat),
      threshold: Float64Array.from(this.oThr),
      bin: Uint8Array.from(this.oBin),
      child,
      nanRight: Uint8Array.from(this.oNan),
      value: Float64Array.from(this.oVal),
      gain: Float64Array.from(this.oGain),
      cover: Float64Array.from(this.oCov),
      catStart: Int32Array.from(this.oCat),
      catWords: Uint8Array.from(this.oCatW),
      catBits: Uint32Array.from(this.oBits),
    };
  }

  /**
   * Makes `features` (those with a present value) the current tree's, in the
   * arena too; returns how many. A JOB_GRAD_ROOT job before `grow` needs them.
   */
  useFeatures(features: ArrayLike<number>): number {
    const nBins = this.d.nBins;
    let m = 0;
    for (let q = 0; q < features.length; q++) if (nBins[features[q]] > 0) this.feats[m++] = features[q];
    this.m = m;
    this.a.feats.set(this.feats.subarray(0, m));
    return m;
  }

  /** A free histogram slot; when none is left, the open leaf with the smallest gain gives its up. */
  private takeSlot(): number {
    const s = this.free.pop();
    if (s !== undefined) return s;
    let victim: Leaf | undefined;
    for (const l of this.open) if (l.slot >= 0 && (!victim || l.gain < victim.gain)) victim = l;
    if (!victim) throw new Error("boosting: no histogram slot left");
    const v = victim.slot;
    victim.slot = -1;
    return v;
  }

  private giveSlot(leaf: Leaf): void {
    if (leaf.slot >= 0) this.free.push(leaf.slot);
    leaf.slot = -1;
  }

  private newLeaf(
    node: number,
    buf: number,
    start: number,
    end: number,
    depth: number,
    G: number,
    H: number,
    lo: number,
    hi: number,
  ): Leaf {
    return {
      node,
      buf,
      start,
      end,
      depth,
      G,
      H,
      lo,
      hi,
      slot: -1,
      gain: -Infinity,
      f: -1,
      b: 0,
      nanLeft: false,
      nanCount: 0,
      next: -1,
      GL: 0,
      HL: 0,
      CL: 0,
      wL: 0,
      wR: 0,
      set: null,
    };
  }

  private canSplit(leaf: Leaf): boolean {
    const s = this.s;
    return this.m > 0 && leaf.depth < s.maxDepth && leaf.end - leaf.start >= 2 * s.minSamplesLeaf &&
      leaf.H >= 2 * s.minChildWeight;
  }

  private setTarget(at: number, leaf: Leaf | null, mode: number, find: boolean): void {
    const job = this.a.job;
    job[at + T_MODE] = leaf ? mode : MODE_NONE;
    job[at + T_FIND] = leaf && find ? 1 : 0;
    if (!leaf) return;
    job[at + T_SLOT] = leaf.slot;
    job[at + T_BUF] = leaf.buf;
    job[at + T_START] = leaf.start;
    job[at + T_END] = leaf.end;
    job[at + T_G] = leaf.G;
    job[at + T_H] = leaf.H;
    job[at + T_C] = leaf.end - leaf.start;
    job[at + T_LO] = leaf.lo;
    job[at + T_HI] = leaf.hi;
  }

  /**
   * One tree job on up to two leaves (A, then B), then each searched leaf's
   * best split from the per-feature results. A large leaf to build is first
   * histogrammed by row chunks (a JOB_CHUNKS job; kernels.ts chunkCount), and
   * the tree job sums its partials; a small one is built in the tree job, a
   * block of features a thread (each block gathers the leaf's rows, so no more
   * blocks than threads).
   */
  private runJob(
    A: Leaf,
    modeA: number,
    findA: boolean,
    B: Leaf | null,
    modeB: number,
    findB: boolean,
  ): void {
    const a = this.a, job = a.job, m = this.m, fb = this.exec.featureBlocks;
    job[J_M] = m;
    job[J_GHOFF] = this.ghOff;
    this.setTarget(J_A, A, modeA, findA);
    this.setTarget(J_B, B, modeB, findB);
    const ncA = modeA === MODE_BUILD ? chunkCount(A.end - A.start, a.maxChunks) : 1;
    const ncB = B && modeB === MODE_BUILD ? chunkCount(B.end - B.start, a.maxChunks) : 1;
    if (ncA > 1 || ncB > 1) {
      job[J_TYPE] = JOB_CHUNKS;
      job[J_NCA] = ncA > 1 ? ncA : 0;
      job[J_NCB] = ncB > 1 ? ncB : 0;
      this.exec.run(job[J_NCA] + job[J_NCB]);
      if (ncA > 1) job[J_A + T_MODE] = MODE_REDUCE;
      if (ncB > 1) job[J_B + T_MODE] = MODE_REDUCE;
    }
    const gathers = job[J_A + T_MODE] === MODE_BUILD || job[J_B + T_MODE] === MODE_BUILD;
    // without a gather, more blocks than threads cost little and balance a descheduled thread's share
    const nb = Math.min(m, gathers || fb === 1 ? fb : 4 * fb);
    job[J_TYPE] = JOB_TREE;
    job[J_BLOCKS] = nb;
    this.exec.run(nb);
    if (findA) this.bestOf(A, 0);
    if (B && findB) this.bestOf(B, 1);
  }

  /** The best of the per-feature results (ties: the first feature), into the leaf; frees its slot when it has no split. */
  private bestOf(leaf: Leaf, target: number): void {
    const res = this.a.res, p = this.d.p, feats = this.feats;
    let best = -Infinity, bo = -1, bf = -1;
    for (let j = 0; j < this.m; j++) {
      const f = feats[j], o = (target * p + f) * RF;
      if (res[o + R_GAIN] > best) {
        best = res[o + R_GAIN];
        bo = o;
        bf = f;
      }
    }
    leaf.f = bf;
    if (bf < 0) {
      leaf.gain = -Infinity;
      this.giveSlot(leaf);
      return;
    }
    leaf.gain = best;
    leaf.b = res[bo + R_BIN];
    leaf.nanLeft = res[bo + R_NANLEFT] === 1;
    leaf.nanCount = res[bo + R_NANCNT];
    leaf.next = res[bo + R_NEXT];
    leaf.GL = res[bo + R_GL];
    leaf.HL = res[bo + R_HL];
    leaf.CL = res[bo + R_CL];
    leaf.wL = res[bo + R_WL];
    leaf.wR = res[bo + R_WR];
    if (this.d.isCat[bf]) {
      const ob = (target * p + bf) * SET_WORDS;
      leaf.set = this.a.resBits.slice(ob, ob + SET_WORDS);
    } else leaf.set = null;
  }

  /** Splits an open leaf: writes its node, partitions its rows, and makes its two children (with best splits). */
  private split(leaf: Leaf): [Leaf, Leaf] {
    const d = this.d, f = leaf.f, b = leaf.b, C = leaf.end - leaf.start;
    const cat = leaf.set !== null;
    // where missing goes: learned when the node had some, else the side with more rows (categorical: right)
    const nanRight = leaf.nanCount > 0 ? !leaf.nanLeft : cat ? true : leaf.CL < C - leaf.CL;
    const id = leaf.node, left = this.oFeat.length;
    const lut = this.lut;
    this.oFeat[id] = f;
    this.oBin[id] = cat ? 0 : b;
    this.oNan[id] = nanRight ? 1 : 0;
    this.oGain[id] = leaf.gain;
    if (cat) {
      const set = leaf.set!;
      // the set in code space: bins below the rare bin are the codes themselves (the rare bin never goes left)
      let top = -1;
      for (let c = 0; c < NAN_BIN; c++) {
        const on = (set[c >> 5] >>> (c & 31)) & 1;
        lut[c] = on;
        if (on) top = c;
      }
      const words = (top >> 5) + 1;
      this.oCat[id] = this.oBits.length;
      this.oCatW[id] = words;
      for (let w = 0; w < words; w++) this.oBits.push(set[w] >>> 0);
      this.oThr[id] = 0;
    } else {
      const bs = d.binStart[f];
      this.oThr[id] = leaf.next >= 0 ? midpoint(d.binHi[bs + b], d.binLo[bs + leaf.next]) : Infinity;
      for (let c = 0; c < NAN_BIN; c++) lut[c] = c <= b ? 1 : 0;
    }
    lut[NAN_BIN] = nanRight ? 0 : 1;
    this.links.push(id, left);
    for (let k = 0; k < 2; k++) {
      this.oFeat.push(-1);
      this.oThr.push(0);
      this.oBin.push(0);
      this.oNan.push(0);
      this.oVal.push(0);
      this.oGain.push(0);
      this.oCat.push(-1);
      this.oCatW.push(0);
    }
    const mid = this.partition(leaf, f);
    this.oCov.push(mid - leaf.start, leaf.end - mid);
    // bounds of the children (monotone: split at the midpoint of the two values)
    let lLo = leaf.lo, lHi = leaf.hi, rLo = leaf.lo, rHi = leaf.hi;
    const cst = this.s.monotone ? this.s.monotone[f] : 0;
    if (cst !== 0) {
      const mv = (leaf.wL + leaf.wR) / 2;
      if (cst > 0) {
        lHi = Math.min(lHi, mv);
        rLo = Math.max(rLo, mv);
      } else {
        lLo = Math.max(lLo, mv);
        rHi = Math.min(rHi, mv);
      }
    }
    const L = this.newLeaf(left, 1 - leaf.buf, leaf.start, mid, leaf.depth + 1, leaf.GL, leaf.HL, lLo, lHi);
    const R = this.newLeaf(
      left + 1,
      1 - leaf.buf,
      mid,
      leaf.end,
      leaf.depth + 1,
      leaf.G - leaf.GL,
      leaf.H - leaf.HL,
      rLo,
      rHi,
    );
    const splitL = this.canSplit(L), splitR = this.canSplit(R);
    const leftSmaller = mid - leaf.start <= leaf.end - mid;
    const small = leftSmaller ? L : R, large = leftSmaller ? R : L;
    const splitSmall = leftSmaller ? splitL : splitR, splitLarge = leftSmaller ? splitR : splitL;
    if (!splitSmall && !splitLarge) {
      this.giveSlot(leaf);
      return [L, R];
    }
    if (leaf.slot >= 0) {
      // the small child is histogrammed (needed for the subtraction even when it cannot split); the large one
      // takes the parent's slot, minus the small one
      const parent = leaf.slot;
      leaf.slot = -1;
      small.slot = this.takeSlot();
      if (splitLarge) large.slot = parent;
      else this.free.push(parent);
      this.runJob(small, MODE_BUILD, splitSmall, splitLarge ? large : null, MODE_SUBTRACT, true);
      if (!splitSmall) this.giveSlot(small);
    } else {
      // the parent's histogram was given up: build the children that can split
      if (splitSmall) small.slot = this.takeSlot();
      if (splitLarge) large.slot = this.takeSlot();
      const A = splitSmall ? small : large, B = splitSmall && splitLarge ? large : null;
      this.runJob(A, MODE_BUILD, true, B, MODE_BUILD, true);
    }
    return [L, R];
  }

  /**
   * Stable partition of the leaf's rows by the split's lookup table on feature
   * f's codes, into the other row buffer (kernels.ts partitionBlock: two
   * halves, on the executor's threads for a large leaf); returns the first
   * right row.
   */
  private partition(leaf: Leaf, f: number): number {
    const a = this.a, job = a.job, start = leaf.start, end = leaf.end, mid = start + leaf.CL;
    job[J_TYPE] = JOB_PART;
    job[J_PSTART] = start;
    job[J_PEND] = end;
    job[J_PMID] = mid;
    job[J_PFEAT] = f;
    job[J_PSRC] = leaf.buf;
    if (end - start >= PARALLEL_PARTITION_ROWS) this.exec.run(2);
    else {
      partitionBlock(a, 0);
      partitionBlock(a, 1);
    }
    // the histogram's count is exact: a mismatch would be a bug in the split search
    if (a.part[0] !== a.part[1] + 1) {
      const found = a.part[0] - start + mid - 1 - a.part[1];
      throw new Error(`boosting: partition found ${found} left rows, the histogram ${leaf.CL}`);
    }
    return mid;
  }
}

/** Copies a tree into the arena's routing arrays (a leaf loops to itself, and sends every value left); returns its depth. */
export function loadRouteTree(t: BoostTree, a: Arena): number {
  const depth = new Int32Array(t.nNodes);
  let maxDepth = 0;
  for (let i = 0; i < t.nNodes; i++) {
    const o = i << 3;
    a.tRight.fill(0, o, o + 8);
    a.tValue[i] = t.value[i];
    if (t.feature[i] < 0) {
      a.tFeat[i] = 0;
      a.tChild[i] = i;
      a.tThr[i] = Infinity;
      a.tNanRight[i] = 0;
      a.tCat[i] = 0;
      continue;
    }
    a.tFeat[i] = t.feature[i];
    a.tChild[i] = t.child[i];
    a.tThr[i] = t.threshold[i];
    a.tNanRight[i] = t.nanRight[i];
    a.tCat[i] = t.catStart[i] >= 0 ? 1 : 0;
    // children come after their parent
    depth[t.child[i]] = depth[t.child[i] + 1] = depth[i] + 1;
    if (depth[i] + 1 > maxDepth) maxDepth = depth[i] + 1;
    for (let c = 0; c < NAN_BIN; c++) {
      const right = t.catStart[i] >= 0 ? !catLeft(t, i, c) : c > t.bin[i];
      if (right) a.tRight[o + (c >> 5)] |= 1 << (c & 31);
    }
    if (t.nanRight[i]) a.tRight[o + (NAN_BIN >> 5)] |= 1 << (NAN_BIN & 31);
  }
  return maxDepth;
}

/** Whether a tree sends binned row r left or right at categorical node `node` (code c). */
function catLeft(t: BoostTree, node: number, c: number): boolean {
  const w = c >> 5;
  return w < t.catWords[node] && ((t.catBits[t.catStart[node] + w] >>> (c & 31)) & 1) === 1;
}

/** The leaf value a tree gives row r of binned data, `stride` codes a row (training-time routing on codes). */
export function treeValueBinned(t: BoostTree, codes: Uint8Array, stride: number, r: number): number {
  let node = 0;
  const ro = r * stride;
  while (t.feature[node] >= 0) {
    const c = codes[ro + t.feature[node]];
    const right = c === NAN_BIN
      ? t.nanRight[node] === 1
      : t.catStart[node] >= 0
      ? !catLeft(t, node, c)
      : c > t.bin[node];
    node = t.child[node] + (right ? 1 : 0);
  }
  return t.value[node];
}
