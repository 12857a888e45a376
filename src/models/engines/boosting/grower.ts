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
 * separates missing from present values is a candidate too.
 *
 * Monotone constraints use LightGBM's "basic" method: a split whose child
 * values break the order is rejected, and the children's values are bounded by
 * the midpoint of the two, for their whole subtrees.
 *
 * Pure and synchronous, single-threaded; scratch buffers are reused across trees.
 */
import { type BinnedData, midpoint, NAN_BIN } from "../forest/binning.ts";

export interface GrowSettings {
  /** Infinity for no limit */
  maxLeaves: number;
  /** Infinity for no limit */
  maxDepth: number;
  minSamplesLeaf: number;
  minChildWeight: number;
  lambda: number;
  minGain: number;
  learningRate: number;
  /** per feature -1/0/1, or undefined */
  monotone?: Int8Array;
}

/** One grown tree, node arrays local to the tree; the children of node i are child[i] and child[i] + 1. */
export interface BoostTree {
  nNodes: number;
  /** split feature, or -1 for a leaf */
  feature: Int32Array;
  /** raw-value threshold: x <= threshold goes left */
  threshold: Float64Array;
  /** the split's bin: code <= bin goes left (training-time routing on codes) */
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
}

/** 3 slots per bin: G, H, count; 256 bins per feature (the last is NAN_BIN) */
const SLOTS = 3;
const HB = 256 * SLOTS;

/** An open leaf: its rows, totals, bounds, histogram, and best split. */
interface Leaf {
  node: number;
  start: number;
  end: number;
  depth: number;
  G: number;
  H: number;
  lo: number;
  hi: number;
  hist: Float64Array | null;
  gain: number;
  f: number;
  /** index of f in the tree's feature list */
  j: number;
  b: number;
  nanLeft: boolean;
  GL: number;
  HL: number;
  CL: number;
  wL: number;
  wR: number;
}

function leafOut(G: number, H: number, lambda: number, lo: number, hi: number): number {
  const w = -G / (H + lambda);
  return w < lo ? lo : w > hi ? hi : w;
}

/** The loss reduction of a leaf with value w: -(2 G w + (H + lambda) w^2); G^2 / (H + lambda) at the optimum. */
function leafGain(G: number, H: number, lambda: number, w: number): number {
  return -(2 * G * w + (H + lambda) * w * w);
}

export class TreeGrower {
  private readonly pool: Float64Array[] = [];
  private readonly feats: Int32Array;
  /** the rows' gradient and hessian side by side (one cache access per row in the histogram loop) */
  private readonly gh: Float64Array;
  private m = 0;
  // output, grown as needed
  private oFeat: number[] = [];
  private oThr: number[] = [];
  private oBin: number[] = [];
  private oNan: number[] = [];
  private oVal: number[] = [];
  private oGain: number[] = [];
  private oCov: number[] = [];

  constructor(private readonly d: BinnedData, private readonly s: GrowSettings) {
    this.feats = new Int32Array(d.p);
    this.gh = new Float64Array(2 * d.n);
  }

  private takeHist(): Float64Array {
    const h = this.pool.pop();
    if (h) return h;
    return new Float64Array(this.d.p * HB);
  }

  private giveHist(h: Float64Array | null): void {
    if (h) {
      h.fill(0, 0, this.m * HB);
      this.pool.push(h);
    }
  }

  /**
   * Grows a tree over rows[0..nRows) (the array is reordered: each leaf's rows
   * end up contiguous) with per-row gradients g and hessians h, splitting only on
   * `features`. Calls `onLeaf(start, end, value)` for every leaf's row range.
   */
  grow(
    rows: Int32Array,
    nRows: number,
    g: Float64Array,
    h: Float64Array,
    features: ArrayLike<number>,
    onLeaf: (start: number, end: number, value: number) => void,
  ): BoostTree {
    const s = this.s, nBins = this.d.nBins;
    let m = 0;
    for (let q = 0; q < features.length; q++) if (nBins[features[q]] > 0) this.feats[m++] = features[q];
    this.m = m;
    this.oFeat = [-1];
    this.oThr = [0];
    this.oBin = [0];
    this.oNan = [0];
    this.oVal = [0];
    this.oGain = [0];
    this.oCov = [nRows];
    let G = 0, H = 0;
    const gh = this.gh;
    for (let i = 0; i < nRows; i++) {
      const r = rows[i];
      G += g[r];
      H += h[r];
      gh[2 * r] = g[r];
      gh[2 * r + 1] = h[r];
    }
    const root: Leaf = this.newLeaf(0, 0, nRows, 0, G, H, -Infinity, Infinity);
    if (this.canSplit(root)) {
      root.hist = this.takeHist();
      this.histogram(root.hist, rows, 0, nRows);
      this.findSplit(root);
    }
    const open: Leaf[] = [root];
    const done: Leaf[] = [];
    let nLeaves = 1;
    while (nLeaves < s.maxLeaves) {
      let bi = -1, bg = -Infinity;
      for (let q = 0; q < open.length; q++) {
        if (open[q].f >= 0 && open[q].gain > bg) {
          bg = open[q].gain;
          bi = q;
        }
      }
      if (bi < 0) break;
      const leaf = open[bi];
      open.splice(bi, 1);
      const [L, R] = this.split(leaf, rows);
      nLeaves++;
      for (const c of [L, R]) (c.f >= 0 ? open : done).push(c);
    }
    for (const leaf of open) done.push(leaf);
    const lr = s.learningRate, lambda = s.lambda;
    for (const leaf of done) {
      this.giveHist(leaf.hist);
      leaf.hist = null;
      const v = leafOut(leaf.G, leaf.H, lambda, leaf.lo, leaf.hi) * lr;
      this.oVal[leaf.node] = v;
      onLeaf(leaf.start, leaf.end, v);
    }
    const n = this.oFeat.length;
    const child = new Int32Array(n);
    // children were allocated in pairs right after their parent's split: recover them
    return {
      nNodes: n,
      feature: Int32Array.from(this.oFeat),
      threshold: Float64Array.from(this.oThr),
      bin: Uint8Array.from(this.oBin),
      child: this.childLinks(child),
      nanRight: Uint8Array.from(this.oNan),
      value: Float64Array.from(this.oVal),
      gain: Float64Array.from(this.oGain),
      cover: Float64Array.from(this.oCov),
    };
  }

  private links: number[] = [];

  private childLinks(child: Int32Array): Int32Array {
    for (let i = 0; i < this.links.length; i += 2) child[this.links[i]] = this.links[i + 1];
    this.links = [];
    return child;
  }

  private newLeaf(
    node: number,
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
      start,
      end,
      depth,
      G,
      H,
      lo,
      hi,
      hist: null,
      gain: -Infinity,
      f: -1,
      j: -1,
      b: 0,
      nanLeft: false,
      GL: 0,
      HL: 0,
      CL: 0,
      wL: 0,
      wR: 0,
    };
  }

  private canSplit(leaf: Leaf): boolean {
    const s = this.s;
    return this.m > 0 && leaf.depth < s.maxDepth && leaf.end - leaf.start >= 2 * s.minSamplesLeaf &&
      leaf.H >= 2 * s.minChildWeight;
  }

  /** Adds rows[start..end)'s (g, h, 1) to the histograms of the tree's features. */
  private histogram(
    hist: Float64Array,
    rows: Int32Array,
    start: number,
    end: number,
  ): void {
    const codes = this.d.codes, p = this.d.p, m = this.m, feats = this.feats, gh = this.gh;
    if (m === p) {
      for (let i = start; i < end; i++) {
        const r = rows[i], gi = gh[2 * r], hi = gh[2 * r + 1], ro = r * p;
        for (let j = 0, hb = 0; j < m; j++, hb += HB) {
          const o = hb + codes[ro + j] * SLOTS;
          hist[o] += gi;
          hist[o + 1] += hi;
          hist[o + 2] += 1;
        }
      }
      return;
    }
    for (let i = start; i < end; i++) {
      const r = rows[i], gi = gh[2 * r], hi = gh[2 * r + 1], ro = r * p;
      for (let j = 0, hb = 0; j < m; j++, hb += HB) {
        const o = hb + codes[ro + feats[j]] * SLOTS;
        hist[o] += gi;
        hist[o + 1] += hi;
        hist[o + 2] += 1;
      }
    }
  }

  /** Finds the leaf's best split from its histogram into its split fields (f stays -1 when there is none). */
  private findSplit(leaf: Leaf): void {
    const s = this.s, hist = leaf.hist!, nBins = this.d.nBins, mono = s.monotone;
    const lambda = s.lambda, msl = s.minSamplesLeaf, mcw = s.minChildWeight;
    const G = leaf.G, H = leaf.H, C = leaf.end - leaf.start, lo = leaf.lo, hi = leaf.hi;
    const parentGain = leafGain(G, H, lambda, leafOut(G, H, lambda, lo, hi));
    let best = s.minGain > 0 ? s.minGain : 1e-12;
    leaf.f = -1;
    for (let j = 0; j < this.m; j++) {
      const f = this.feats[j], nb = nBins[f], hb = j * HB;
      const cst = mono ? mono[f] : 0;
      const no = hb + NAN_BIN * SLOTS;
      const Gn = hist[no], Hn = hist[no + 1], Cn = hist[no + 2];
      const hasNan = Cn > 0;
      let last = -1;
      for (let b = nb - 1; b >= 0; b--) {
        if (hist[hb + b * SLOTS + 2] > 0) {
          last = b;
          break;
        }
      }
      let GL = 0, HL = 0, CL = 0;
      for (let b = 0; b <= last; b++) {
        const o = hb + b * SLOTS;
        if (hist[o + 2] === 0) continue;
        GL += hist[o];
        HL += hist[o + 1];
        CL += hist[o + 2];
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
            leaf.f = f;
            leaf.j = j;
            leaf.b = b;
            leaf.nanLeft = side === 1;
            leaf.GL = gl;
            leaf.HL = hl;
            leaf.CL = cl;
            leaf.wL = wL;
            leaf.wR = wR;
          }
        }
      }
    }
    leaf.gain = leaf.f >= 0 ? best : -Infinity;
    if (leaf.f < 0) {
      this.giveHist(leaf.hist);
      leaf.hist = null;
    }
  }

  /** Splits an open leaf: writes its node, partitions its rows, and makes its two children (with best splits). */
  private split(leaf: Leaf, rows: Int32Array): [Leaf, Leaf] {
    const d = this.d, f = leaf.f, b = leaf.b, nanLeft = leaf.nanLeft, hist = leaf.hist!;
    const hb = leaf.j * HB;
    const Cn = hist[hb + NAN_BIN * SLOTS + 2];
    const C = leaf.end - leaf.start;
    // where missing goes: learned when the node had some, else the side with more rows
    const nanRight = Cn > 0 ? !nanLeft : leaf.CL < C - leaf.CL;
    let next = -1;
    for (let q = b + 1; q < d.nBins[f]; q++) {
      if (hist[hb + q * SLOTS + 2] > 0) {
        next = q;
        break;
      }
    }
    const bs = d.binStart[f];
    const id = leaf.node, left = this.oFeat.length;
    this.oFeat[id] = f;
    this.oThr[id] = next >= 0 ? midpoint(d.binHi[bs + b], d.binLo[bs + next]) : Infinity;
    this.oBin[id] = b;
    this.oNan[id] = nanRight ? 1 : 0;
    this.oGain[id] = leaf.gain;
    this.links.push(id, left);
    for (let k = 0; k < 2; k++) {
      this.oFeat.push(-1);
      this.oThr.push(0);
      this.oBin.push(0);
      this.oNan.push(0);
      this.oVal.push(0);
      this.oGain.push(0);
    }
    const mid = partition(d.codes, d.p, rows, leaf.start, leaf.end, f, b, !nanRight);
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
    const L = this.newLeaf(left, leaf.start, mid, leaf.depth + 1, leaf.GL, leaf.HL, lLo, lHi);
    const R = this.newLeaf(
      left + 1,
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
    if (splitSmall || splitLarge) {
      const sh = this.takeHist();
      this.histogram(sh, rows, small.start, small.end);
      if (splitLarge) {
        const n = this.m * HB;
        for (let i = 0; i < n; i++) hist[i] -= sh[i];
        large.hist = hist;
      } else this.giveHist(hist);
      if (splitSmall) small.hist = sh;
      else this.giveHist(sh);
    } else this.giveHist(hist);
    leaf.hist = null;
    if (L.hist) this.findSplit(L);
    if (R.hist) this.findSplit(R);
    return [L, R];
  }
}

/** Partitions rows[start..end): left = code <= b, or missing when nanLeft. Returns the first right row. */
function partition(
  codes: Uint8Array,
  p: number,
  rows: Int32Array,
  start: number,
  end: number,
  f: number,
  b: number,
  nanLeft: boolean,
): number {
  let i = start, j = end - 1;
  while (i <= j) {
    const c = codes[rows[i] * p + f];
    if (c === NAN_BIN ? nanLeft : c <= b) i++;
    else {
      const t = rows[i];
      rows[i] = rows[j];
      rows[j] = t;
      j--;
    }
  }
  return i;
}

/** The leaf value a tree gives row r of binned data (training-time routing on codes). */
export function treeValueBinned(t: BoostTree, codes: Uint8Array, p: number, r: number): number {
  let node = 0;
  const ro = r * p;
  while (t.feature[node] >= 0) {
    const c = codes[ro + t.feature[node]];
    const right = c === NAN_BIN ? t.nanRight[node] === 1 : c > t.bin[node];
    node = t.child[node] + (right ? 1 : 0);
  }
  return t.value[node];
}
