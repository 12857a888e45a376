/**
 * Grows one decision tree on binned data, the way scikit-learn's best splitter
 * does (depth first; `max_features` features drawn per split without
 * replacement, constant features skipped and remembered for the subtree), but
 * searching splits over per-node histograms of the uint8 bin codes.
 *
 * Missing values (code NAN_BIN) go down the side that scores best at each
 * split; where a node saw no missing value they follow the heavier child.
 *
 * Pure and synchronous: the main thread and the workers call the same code.
 */
import { Rng } from "../../../core/random.ts";
import { type BinnedData, midpoint, NAN_BIN } from "./binning.ts";

export const CRITERION_GINI = 0;
export const CRITERION_ENTROPY = 1;
export const CRITERION_SQUARED_ERROR = 2;

/** Settings a tree builder needs, already resolved to numbers. */
export interface BuildSettings {
  criterion: number;
  /** Infinity for unlimited */
  maxDepth: number;
  minSamplesSplit: number;
  minSamplesLeaf: number;
  minImpurityDecrease: number;
  /** features drawn per split */
  mtry: number;
  bootstrap: boolean;
  /** draws per bootstrap sample */
  nDraw: number;
  /** recompute "balanced" class weights on each bootstrap sample */
  balancedSubsample: boolean;
  randomState: number;
}

/** The training data as the builder sees it: the binned inputs and the targets. */
export interface TrainData extends BinnedData {
  /** classification: number of classes; regression: 0 */
  nClasses: number;
  /** class index per row (classification) */
  yClass?: Int32Array;
  /** target per row (regression) */
  yValue?: Float64Array;
  /** per-row weight (sample weights times class weights), or undefined for 1 */
  weight?: Float64Array;
}

/** One grown tree, node arrays local to the tree. */
export interface Tree {
  nNodes: number;
  /** split feature, or -1 for a leaf */
  feature: Int32Array;
  threshold: Float64Array;
  /** internal node: index of the left child (the right is +1); leaf: leaf index */
  child: Int32Array;
  /** 1 if a missing value goes right */
  nanRight: Uint8Array;
  /** leaf values, `valueWidth` per leaf: class probabilities or the mean */
  values: Float64Array;
  /**
   * per leaf: the total weight of its in-bag training rows (bootstrap count x
   * sample and class weights), so an internal node's value is its children's
   * weighted mean (what tree-path attributions need)
   */
  leafWeight: Float32Array;
  /** weighted impurity decrease per feature (unnormalised) */
  importance: Float64Array;
  depth: number;
}

const IMPURITY_EPS = 1e-12;
/** nodes with at most this many rows sort their few bins instead of scanning a bin range */
const SMALL_NODE = 64;

/**
 * The seed of tree `index`'s random stream in a forest seeded with `randomState`:
 * a tree is the same whichever worker grows it. (The final xor with 0x9e3779b9
 * cancels the one `Rng` applies to its seed, so streams, and models, are those
 * of the engine's former private PRNG.)
 */
function treeSeed(randomState: number, index: number): number {
  let h = Math.imul((randomState >>> 0) ^ 0x5bd1e995, 0x27d4eb2d) ^ Math.imul(index + 1, 0x165667b1);
  h = Math.imul(h ^ (h >>> 15), 0x85ebca77);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae3d);
  return (h ^ (h >>> 16) ^ 0x9e3779b9) >>> 0;
}

/** Bootstrap multiplicities: `nDraw` draws with replacement from `rng` (the first draws of a tree's stream). */
function bootstrapCounts(rng: Rng, n: number, nDraw: number): Int32Array {
  const counts = new Int32Array(n);
  for (let i = 0; i < nDraw; i++) counts[rng.int(n)]++;
  return counts;
}

/** In-bag multiplicities of tree `index`, replayed from its seed (for OOB). */
export function inBagCounts(settings: BuildSettings, n: number, index: number): Int32Array {
  if (!settings.bootstrap) return new Int32Array(n).fill(1);
  return bootstrapCounts(new Rng(treeSeed(settings.randomState, index)), n, settings.nDraw);
}

/**
 * A reusable tree grower for one data set: scratch buffers are allocated once
 * and reused for every tree it builds.
 */
export class TreeBuilder {
  private readonly rows: Int32Array;
  private readonly ws: Float64Array;
  private readonly yk: Int32Array;
  private readonly yv: Float64Array;
  private readonly features: Int32Array;
  /** slots per histogram bin: classes + count, or (w, wy, wy2, count) */
  private readonly S: number;
  private readonly K: number;
  private readonly hist: Float64Array;
  private readonly bestLeft: Float64Array;
  private readonly curLeft: Float64Array;
  private readonly left2: Float64Array;
  /** per batch slot: the present bins (small nodes: in order of appearance) */
  private readonly list: Int32Array;
  private readonly listLen: Int32Array;
  /** features of the current batch */
  private readonly batch: Int32Array;
  private readonly isConst: Uint8Array;
  /** the best split found so far in the current node (see scanSplits) */
  private bF = -1;
  private bB = 0;
  private bNext = -1;
  private bNanLeft = false;
  private bScore = -Infinity;
  private bHadNan = false;
  /**
   * Output and DFS-stack buffers, sized for the largest possible tree (every
   * leaf holds at least one row: at most 2n - 1 nodes, n leaves, depth n - 1).
   */
  private readonly oFeat: Int32Array;
  private readonly oThr: Float64Array;
  private readonly oChild: Int32Array;
  private readonly oNan: Uint8Array;
  private readonly oVal: Float64Array;
  private readonly oLW: Float32Array;
  private readonly stackI: Int32Array;
  private readonly stackT: Float64Array;
  /** the tree being grown: its random stream, node and leaf counts, depth, importances, stack size */
  private rng = new Rng(0);
  private nNodes = 0;
  private nLeaves = 0;
  private maxDepthSeen = 0;
  private importance = new Float64Array(0);
  private sp = 0;
  /** the current node's totals */
  private readonly T: Float64Array;

  constructor(private readonly d: TrainData, private readonly s: BuildSettings) {
    const n = d.n;
    this.rows = new Int32Array(n);
    this.ws = new Float64Array(n);
    this.yk = new Int32Array(d.nClasses > 0 ? n : 0);
    this.yv = new Float64Array(d.nClasses > 0 ? 0 : n);
    this.features = new Int32Array(d.p);
    this.K = d.nClasses > 0 ? d.nClasses : 1;
    this.S = d.nClasses > 0 ? d.nClasses + 1 : 4;
    const slots = Math.max(1, s.mtry);
    this.hist = new Float64Array(slots * 256 * this.S);
    this.list = new Int32Array(slots * 256);
    this.listLen = new Int32Array(slots);
    this.batch = new Int32Array(slots);
    this.isConst = new Uint8Array(d.p);
    this.bestLeft = new Float64Array(this.S);
    this.curLeft = new Float64Array(this.S);
    this.left2 = new Float64Array(this.S);
    this.oFeat = new Int32Array(2 * n);
    this.oThr = new Float64Array(2 * n);
    this.oChild = new Int32Array(2 * n);
    this.oNan = new Uint8Array(2 * n);
    this.oVal = new Float64Array(n * this.K);
    this.oLW = new Float32Array(n);
    this.stackI = new Int32Array(5 * (n + 1));
    this.stackT = new Float64Array(this.S * (n + 1));
    this.T = new Float64Array(this.S);
  }

  /**
   * Histograms of the batch's m features over rows[start..end), one pass over
   * the rows (codes are row-major, so a row's codes share a cache line). Small
   * nodes also note each value bin as it first fills (list/listLen). Row counts
   * (the last slot) are kept in small nodes and when min_samples_leaf > 1: with
   * one row per leaf allowed, every threshold between present bins qualifies, and
   * a bin is present when its weight is > 0 (every in-bag row weighs > 0).
   *
   * One small function per case: V8 optimises a function after it has run a
   * number of times its own size, so a hot loop in a small function is compiled
   * sooner, which counts when a fit lasts a few hundred milliseconds.
   */
  private histograms(start: number, end: number, m: number, small: boolean): void {
    const counted = this.s.minSamplesLeaf > 1;
    if (small) this.listLen.fill(0, 0, m);
    if (this.d.nClasses === 0) this.valueHistograms(start, end, m, small || counted, small);
    else if (small) this.classHistogramsSmall(start, end, m);
    else this.classHistograms(start, end, m, counted);
  }

  private classHistogramsSmall(start: number, end: number, m: number): void {
    const { codes, p } = this.d;
    const rows = this.rows, ws = this.ws, yk = this.yk, hist = this.hist, batch = this.batch;
    const list = this.list, listLen = this.listLen, S = this.S, K = this.K, HS = 256 * S;
    for (let i = start; i < end; i++) {
      const ro = rows[i] * p, c = yk[i], w = ws[i];
      for (let j = 0; j < m; j++) {
        const b = codes[ro + batch[j]];
        const o = j * HS + b * S;
        if (hist[o + K] === 0 && b !== NAN_BIN) list[j * 256 + listLen[j]++] = b;
        hist[o + c] += w;
        hist[o + K] += 1;
      }
    }
  }

  private classHistograms(start: number, end: number, m: number, counted: boolean): void {
    const { codes, p } = this.d;
    const rows = this.rows, ws = this.ws, yk = this.yk, hist = this.hist, batch = this.batch;
    const S = this.S, K = this.K, HS = 256 * S;
    for (let i = start; i < end; i++) {
      const ro = rows[i] * p, c = yk[i], w = ws[i];
      for (let j = 0, h = 0; j < m; j++, h += HS) {
        const o = h + codes[ro + batch[j]] * S;
        hist[o + c] += w;
        if (counted) hist[o + K] += 1;
      }
    }
  }

  private valueHistograms(start: number, end: number, m: number, counted: boolean, small: boolean): void {
    const { codes, p } = this.d;
    const rows = this.rows, ws = this.ws, yv = this.yv, hist = this.hist, batch = this.batch;
    const list = this.list, listLen = this.listLen, HS = 256 * 4;
    for (let i = start; i < end; i++) {
      const ro = rows[i] * p, w = ws[i], y = yv[i], wy = w * y, wy2 = wy * y;
      for (let j = 0, h = 0; j < m; j++, h += HS) {
        const b = codes[ro + batch[j]];
        const o = h + b * 4;
        if (small && hist[o + 3] === 0 && b !== NAN_BIN) list[j * 256 + listLen[j]++] = b;
        hist[o] += w;
        hist[o + 1] += wy;
        hist[o + 2] += wy2;
        if (counted) hist[o + 3] += 1;
      }
    }
  }

  /**
   * Scans every threshold of the m histogrammed features of a node of `count` rows
   * with totals T, keeping the best split so far in the b* fields, and clears the
   * histograms. A method of its own: called once per node, it is optimised early.
   */
  private scanSplits(m: number, count: number, small: boolean, T: Float64Array): void {
    const S = this.S, K = this.K, HS = 256 * S;
    const hist = this.hist, list = this.list, listLen = this.listLen, batch = this.batch;
    const curLeft = this.curLeft, left2 = this.left2, bestLeft = this.bestLeft;
    const nBinsArr = this.d.nBins, msl = this.s.minSamplesLeaf, crit = this.s.criterion;
    const classif = this.d.nClasses > 0;
    const binaryGini = classif && K === 2 && crit === CRITERION_GINI;
    // without row counts (see histograms) every candidate passes the min_samples_leaf test
    const minLeaf = small || msl > 1 ? msl : 0;
    for (let j = 0; j < m; j++) {
      const f = batch[j];
      const hOff = j * HS;
      const lOff = j * 256;
      let nList = listLen[j];
      if (small) sortPrefix(list, lOff, nList);
      else {
        nList = 0;
        const nb = nBinsArr[f];
        for (let b = 0; b < nb; b++) if (sumTo(hist, K, hOff + b * S) > 0) list[lOff + nList++] = b;
      }
      const nanO = hOff + NAN_BIN * S;
      const hasNan = sumTo(hist, K, nanO) > 0;
      // scan thresholds: left = bins <= b (+ missing when nanLeft)
      curLeft.fill(0);
      const lastQ = nList - 1;
      for (let q = 0; q <= lastQ; q++) {
        const b = list[lOff + q];
        const o = hOff + b * S;
        for (let k = 0; k < S; k++) curLeft[k] += hist[o + k];
        // at the last present bin only "present left, missing right" remains
        if (q === lastQ && !hasNan) break;
        const nl = curLeft[S - 1], nr = count - nl;
        if (nl >= minLeaf && nr >= minLeaf) {
          const sc = binaryGini ? gini2(curLeft, T) : proxy(curLeft, T, K, crit, classif);
          if (sc > this.bScore) {
            this.bScore = sc;
            this.bF = f;
            this.bB = b;
            this.bNext = q < lastQ ? list[lOff + q + 1] : -1;
            this.bNanLeft = false;
            this.bHadNan = hasNan;
            bestLeft.set(curLeft);
          }
        }
        if (hasNan && q !== lastQ) {
          for (let k = 0; k < S; k++) left2[k] = curLeft[k] + hist[nanO + k];
          const nl2 = left2[S - 1], nr2 = count - nl2;
          if (nl2 >= minLeaf && nr2 >= minLeaf) {
            const sc = binaryGini ? gini2(left2, T) : proxy(left2, T, K, crit, classif);
            if (sc > this.bScore) {
              this.bScore = sc;
              this.bF = f;
              this.bB = b;
              this.bNext = list[lOff + q + 1];
              this.bNanLeft = true;
              this.bHadNan = true;
              bestLeft.set(left2);
            }
          }
        }
      }
      // clear this feature's histogram
      if (small) {
        for (let q = 0; q < nList; q++) {
          const o = hOff + list[lOff + q] * S;
          for (let k = 0; k < S; k++) hist[o + k] = 0;
        }
      } else hist.fill(0, hOff, hOff + nBinsArr[f] * S);
      for (let k = 0; k < S; k++) hist[nanO + k] = 0;
    }
  }

  /** Grows tree `index` of the forest. */
  build(index: number): Tree {
    const s = this.s, p = this.d.p, K = this.K;
    this.rng = new Rng(treeSeed(s.randomState, index));
    const counts = s.bootstrap ? bootstrapCounts(this.rng, this.d.n, s.nDraw) : null;
    const m = this.gather(counts);
    for (let f = 0; f < p; f++) this.features[f] = f;
    this.importance = new Float64Array(p);
    this.nNodes = 1;
    this.nLeaves = 0;
    this.maxDepthSeen = 0;
    this.sp = 0;
    this.push(0, m, 0, 0, 0, this.T);
    // one method call per node: small functions are optimised sooner and more cheaply
    // than one large loop, which matters when a fit is a few hundred milliseconds
    while (this.sp > 0) this.growNode();
    const nNodes = this.nNodes;
    return {
      nNodes,
      feature: this.oFeat.slice(0, nNodes),
      threshold: this.oThr.slice(0, nNodes),
      child: this.oChild.slice(0, nNodes),
      nanRight: this.oNan.slice(0, nNodes),
      values: this.oVal.slice(0, this.nLeaves * K),
      leafWeight: this.oLW.slice(0, this.nLeaves),
      importance: this.importance,
      depth: this.maxDepthSeen,
    };
  }

  /**
   * Lists the in-bag rows (bootstrap multiplicities `counts`, or every row once)
   * with their weights and targets in rows/ws/yk/yv; their totals go to T.
   * Returns the number of rows.
   */
  private gather(counts: Int32Array | null): number {
    const d = this.d, n = d.n, K = this.K, T = this.T;
    const classif = d.nClasses > 0;
    // class weights recomputed on the bootstrap sample ("balanced_subsample")
    let subW: Float64Array | null = null;
    if (classif && this.s.balancedSubsample) {
      const cc = new Float64Array(d.nClasses);
      let tot = 0;
      for (let i = 0; i < n; i++) {
        const c = counts ? counts[i] : 1;
        cc[d.yClass![i]] += c;
        tot += c;
      }
      subW = new Float64Array(d.nClasses);
      let present = 0;
      for (let k = 0; k < d.nClasses; k++) if (cc[k] > 0) present++;
      for (let k = 0; k < d.nClasses; k++) subW[k] = cc[k] > 0 ? tot / (present * cc[k]) : 0;
    }
    const rows = this.rows, ws = this.ws, yk = this.yk, yv = this.yv;
    T.fill(0);
    let m = 0;
    for (let i = 0; i < n; i++) {
      let w = counts ? counts[i] : 1;
      if (w === 0) continue;
      if (d.weight) w *= d.weight[i];
      if (subW) w *= subW[d.yClass![i]];
      if (!(w > 0)) continue;
      rows[m] = i;
      ws[m] = w;
      if (classif) {
        const c = d.yClass![i];
        yk[m] = c;
        T[c] += w;
        T[K] += 1;
      } else {
        const y = d.yValue![i];
        yv[m] = y;
        T[0] += w;
        T[1] += w * y;
        T[2] += w * y * y;
        T[3] += 1;
      }
      m++;
    }
    return m;
  }

  /** Pushes a node to grow onto the DFS stack: its rows, depth, id, known constants and totals. */
  private push(start: number, end: number, depth: number, id: number, nConst: number, t: Float64Array): void {
    const si = this.stackI, o = 5 * this.sp;
    si[o] = start;
    si[o + 1] = end;
    si[o + 2] = depth;
    si[o + 3] = id;
    si[o + 4] = nConst;
    this.stackT.set(t, this.S * this.sp);
    this.sp++;
  }

  /** Pops the next node off the stack and makes it a leaf, or splits it and pushes its children. */
  private growNode(): void {
    const d = this.d, s = this.s, S = this.S, K = this.K, T = this.T;
    const classif = d.nClasses > 0;
    const sp = --this.sp;
    const si = this.stackI;
    const start = si[5 * sp], end = si[5 * sp + 1], depth = si[5 * sp + 2], id = si[5 * sp + 3];
    const nKnown = si[5 * sp + 4];
    for (let j = 0; j < S; j++) T[j] = this.stackT[S * sp + j];
    if (depth > this.maxDepthSeen) this.maxDepthSeen = depth;
    const count = end - start, msl = s.minSamplesLeaf, crit = s.criterion;
    const W = classif ? sumTo(T, K) : T[0];
    const imp = impurity(T, K, crit, classif);

    let split = !(depth >= s.maxDepth || count < s.minSamplesSplit || count < 2 * msl ||
      imp <= IMPURITY_EPS * (classif ? 1 : Math.max(1, (T[1] / W) ** 2)));
    let nConst = nKnown;
    if (split) {
      nConst = this.findSplit(start, end, nKnown);
      split = this.bF >= 0;
    }
    const bestF = this.bF, bestLeft = this.bestLeft;
    let WL = 0, WR = 0;
    const rightT = this.curLeft; // reuse as scratch for the right child's totals
    if (split) {
      for (let j = 0; j < S; j++) rightT[j] = T[j] - bestLeft[j];
      if (classif) {
        // exact counts: rounding in T - left could leave tiny negatives
        for (let k = 0; k < K; k++) if (rightT[k] < 0) rightT[k] = 0;
        WL = sumTo(bestLeft, K);
        WR = sumTo(rightT, K);
      } else {
        WL = bestLeft[0];
        WR = rightT[0];
      }
      const decrease = W * imp - WL * impurity(bestLeft, K, crit, classif) -
        WR * impurity(rightT, K, crit, classif);
      if (s.minImpurityDecrease > 0 && decrease / W < s.minImpurityDecrease) split = false;
      else if (decrease > 0) this.importance[bestF] += decrease;
    }

    if (!split) {
      const leaf = this.nLeaves++, vals = this.oVal;
      this.oFeat[id] = -1;
      this.oThr[id] = 0;
      this.oNan[id] = 0;
      this.oChild[id] = leaf;
      this.oLW[leaf] = W;
      if (classif) { for (let k = 0; k < K; k++) vals[leaf * K + k] = W > 0 ? T[k] / W : 1 / K; }
      else vals[leaf] = W > 0 ? T[1] / W : 0;
      return;
    }

    const bestB = this.bB, bestNext = this.bNext, bestNanLeft = this.bNanLeft;
    const mid = this.partition(start, end, bestF, bestB, bestNanLeft);
    const left = this.nNodes;
    this.nNodes += 2;
    this.oFeat[id] = bestF;
    // between the node's present bins, as scikit-learn places it (all values left: +Infinity)
    const bs = d.binStart[bestF];
    this.oThr[id] = bestNext >= 0 ? midpoint(d.binHi[bs + bestB], d.binLo[bs + bestNext]) : Infinity;
    this.oChild[id] = left;
    this.oNan[id] = this.bHadNan ? (bestNanLeft ? 0 : 1) : (WL >= WR ? 0 : 1);
    // right first so the left subtree is grown next (depth first, left to right)
    this.push(mid, end, depth + 1, left + 1, nConst, rightT);
    this.push(start, mid, depth + 1, left, nConst, bestLeft);
  }

  /**
   * Finds the best split of the node over rows[start..end) (totals T) into the b*
   * fields (bF stays -1 when there is none). Returns how many features are now
   * known to be constant in the node: they lead `features`, for its children.
   */
  private findSplit(start: number, end: number, nKnown: number): number {
    const p = this.d.p, codes = this.d.codes, rows = this.rows, rng = this.rng;
    const features = this.features, batch = this.batch, isConst = this.isConst, mtry = this.s.mtry;
    this.bF = -1;
    this.bB = 0;
    this.bNext = -1;
    this.bNanLeft = false;
    this.bScore = -Infinity;
    this.bHadNan = false;
    // Draw features as scikit-learn does: uniformly among the unvisited ones and the
    // constants known from ancestors (a drawn known constant counts as visited but costs
    // nothing); stop after max_features draws once one non-constant feature was seen.
    // A quick scan of its codes tells whether a drawn feature is constant in this node (and
    // so in its subtree); the non-constant ones are histogrammed together in one pass.
    let nKnownLeft = nKnown; // known constants not drawn yet
    let drawn = 0; // unvisited features taken so far, at features[nKnown .. nKnown + drawn)
    let nVisited = 0, m = 0, nFoundConst = 0;
    const nCand = p - nKnown;
    while (drawn < nCand && (nVisited < mtry || m === 0)) {
      nVisited++;
      const r = rng.int(nKnownLeft + nCand - drawn);
      if (r < nKnownLeft) {
        nKnownLeft--;
        continue;
      }
      const pos = nKnown + drawn + (r - nKnownLeft);
      const at = nKnown + drawn;
      const f = features[pos];
      features[pos] = features[at];
      features[at] = f;
      drawn++;
      if (constantIn(codes, rows, start, end, p, f)) {
        isConst[f] = 1;
        nFoundConst++;
      } else batch[m++] = f;
    }
    if (m > 0) {
      const small = end - start <= SMALL_NODE;
      this.histograms(start, end, m, small);
      this.scanSplits(m, end - start, small, this.T);
    }
    if (nFoundConst === 0) return nKnown;
    // move this node's new constants to the front of the drawn block, for the children
    let w = nKnown;
    for (let q = nKnown; q < nKnown + drawn; q++) {
      const f = features[q];
      if (isConst[f]) {
        features[q] = features[w];
        features[w] = f;
        isConst[f] = 0;
        w++;
      }
    }
    return w;
  }

  /** Partitions rows[start..end) (and their weights and targets): left = code <= b, or missing when nanLeft. Returns the first right row. */
  private partition(start: number, end: number, f: number, b: number, nanLeft: boolean): number {
    const codes = this.d.codes, p = this.d.p, rows = this.rows, ws = this.ws;
    const classif = this.d.nClasses > 0, yk = this.yk, yv = this.yv;
    let i = start, j = end - 1;
    while (i <= j) {
      const c = codes[rows[i] * p + f];
      if (c === NAN_BIN ? nanLeft : c <= b) i++;
      else {
        let t = rows[i];
        rows[i] = rows[j];
        rows[j] = t;
        const tw = ws[i];
        ws[i] = ws[j];
        ws[j] = tw;
        if (classif) {
          t = yk[i];
          yk[i] = yk[j];
          yk[j] = t;
        } else {
          const ty = yv[i];
          yv[i] = yv[j];
          yv[j] = ty;
        }
        j--;
      }
    }
    return i;
  }
}

/** Whether feature f has one code (one value, or all missing) over rows[start..end). */
function constantIn(
  codes: Uint8Array,
  rows: Int32Array,
  start: number,
  end: number,
  p: number,
  f: number,
): boolean {
  const c = codes[rows[start] * p + f];
  for (let i = start + 1; i < end; i++) if (codes[rows[i] * p + f] !== c) return false;
  return true;
}

/** Insertion sort of list[off .. off + len): a handful of bins. */
function sortPrefix(list: Int32Array, off: number, len: number): void {
  for (let q = off + 1; q < off + len; q++) {
    const v = list[q];
    let r = q - 1;
    while (r >= off && list[r] > v) {
      list[r + 1] = list[r];
      r--;
    }
    list[r + 1] = v;
  }
}

/** a[at] + ... + a[at + k - 1] */
function sumTo(a: Float64Array, k: number, at = 0): number {
  let s = 0;
  for (let j = at; j < at + k; j++) s += a[j];
  return s;
}

/** The gini proxy for two classes (slots: class 0, class 1, count). */
function gini2(L: Float64Array, T: Float64Array): number {
  const l0 = L[0], l1 = L[1], r0 = T[0] - l0, r1 = T[1] - l1;
  const wl = l0 + l1, wr = r0 + r1;
  if (!(wl > 0) || !(wr > 0)) return -Infinity;
  return (l0 * l0 + l1 * l1) / wl + (r0 * r0 + r1 * r1) / wr;
}

/** Node impurity from its totals. */
function impurity(t: Float64Array, K: number, crit: number, classif: boolean): number {
  if (!classif) {
    const w = t[0];
    if (!(w > 0)) return 0;
    const mean = t[1] / w;
    const v = t[2] / w - mean * mean;
    return v > 0 ? v : 0;
  }
  const w = sumTo(t, K);
  if (!(w > 0)) return 0;
  if (crit === CRITERION_GINI) {
    let s = 0;
    for (let k = 0; k < K; k++) s += t[k] * t[k];
    return 1 - s / (w * w);
  }
  let h = 0;
  for (let k = 0; k < K; k++) {
    const q = t[k] / w;
    if (q > 0) h -= q * Math.log2(q);
  }
  return h;
}

/**
 * Split score to maximise (a monotone proxy of the impurity decrease):
 * gini: sum_k L_k^2/W_L + R_k^2/W_R; entropy: -(W_L H_L + W_R H_R);
 * squared error: S_L^2/W_L + S_R^2/W_R.
 */
function proxy(L: Float64Array, T: Float64Array, K: number, crit: number, classif: boolean): number {
  if (!classif) {
    const wl = L[0], wr = T[0] - L[0];
    if (!(wl > 0) || !(wr > 0)) return -Infinity;
    const sl = L[1], sr = T[1] - L[1];
    return (sl * sl) / wl + (sr * sr) / wr;
  }
  let wl = 0, wr = 0;
  if (crit === CRITERION_GINI) {
    let ql = 0, qr = 0;
    for (let k = 0; k < K; k++) {
      const l = L[k], r = T[k] - l;
      wl += l;
      wr += r;
      ql += l * l;
      qr += r * r;
    }
    if (!(wl > 0) || !(wr > 0)) return -Infinity;
    return ql / wl + qr / wr;
  }
  let e = 0;
  for (let k = 0; k < K; k++) {
    const l = L[k], r = T[k] - l;
    wl += l;
    wr += r;
    if (l > 0) e += l * Math.log(l);
    if (r > 0) e += r * Math.log(r);
  }
  if (!(wl > 0) || !(wr > 0)) return -Infinity;
  return e - wl * Math.log(wl) - wr * Math.log(wr);
}
