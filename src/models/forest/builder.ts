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
import { Rng } from "../../data/random.ts";
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
  private readonly stackI: Int32Array;
  private readonly stackT: Float64Array;

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
    this.stackI = new Int32Array(5 * (n + 1));
    this.stackT = new Float64Array(this.S * (n + 1));
  }

  /**
   * Histograms of the batch's m features over rows[start..end), one pass over
   * the rows (codes are row-major, so a row's codes share a cache line). Small
   * nodes also note each value bin as it first fills (list/listLen).
   */
  private histograms(start: number, end: number, m: number, small: boolean): void {
    const { codes, p } = this.d;
    const rows = this.rows, ws = this.ws, hist = this.hist, batch = this.batch, S = this.S;
    const HS = 256 * S;
    if (this.d.nClasses > 0) {
      const yk = this.yk, K = this.K;
      if (small) {
        const list = this.list, listLen = this.listLen;
        for (let j = 0; j < m; j++) listLen[j] = 0;
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
      } else if (m === 1) {
        const f = batch[0];
        for (let i = start; i < end; i++) {
          const o = codes[rows[i] * p + f] * S;
          hist[o + yk[i]] += ws[i];
          hist[o + K] += 1;
        }
      } else {
        for (let i = start; i < end; i++) {
          const ro = rows[i] * p, c = yk[i], w = ws[i];
          for (let j = 0, h = 0; j < m; j++, h += HS) {
            const o = h + codes[ro + batch[j]] * S;
            hist[o + c] += w;
            hist[o + K] += 1;
          }
        }
      }
      return;
    }
    const yv = this.yv;
    const list = this.list, listLen = this.listLen;
    for (let j = 0; j < m; j++) listLen[j] = 0;
    for (let i = start; i < end; i++) {
      const ro = rows[i] * p, w = ws[i], y = yv[i], wy = w * y, wy2 = wy * y;
      for (let j = 0, h = 0; j < m; j++, h += HS) {
        const b = codes[ro + batch[j]];
        const o = h + b * 4;
        if (small && hist[o + 3] === 0 && b !== NAN_BIN) list[j * 256 + listLen[j]++] = b;
        hist[o] += w;
        hist[o + 1] += wy;
        hist[o + 2] += wy2;
        hist[o + 3] += 1;
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
    for (let j = 0; j < m; j++) {
      const f = batch[j];
      const hOff = j * HS;
      const lOff = j * 256;
      let nList = listLen[j];
      if (small) sortPrefix(list, lOff, nList);
      else {
        nList = 0;
        const nb = nBinsArr[f];
        for (let b = 0; b < nb; b++) if (hist[hOff + b * S + S - 1] !== 0) list[lOff + nList++] = b;
      }
      const nanO = hOff + NAN_BIN * S;
      const hasNan = hist[nanO + S - 1] > 0;
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
        if (nl >= msl && nr >= msl) {
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
          if (nl2 >= msl && nr2 >= msl) {
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
    const d = this.d, s = this.s, n = d.n, p = d.p, S = this.S, K = this.K;
    const classif = d.nClasses > 0;
    const rng = new Rng(treeSeed(s.randomState, index));
    const counts = s.bootstrap ? bootstrapCounts(rng, n, s.nDraw) : null;

    // class weights recomputed on the bootstrap sample ("balanced_subsample")
    let subW: Float64Array | null = null;
    if (classif && s.balancedSubsample) {
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

    // in-bag rows, their weights and targets, in node order
    const rows = this.rows, ws = this.ws, yk = this.yk, yv = this.yv;
    const tot = new Float64Array(S);
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
        tot[c] += w;
        tot[K] += 1;
      } else {
        const y = d.yValue![i];
        yv[m] = y;
        tot[0] += w;
        tot[1] += w * y;
        tot[2] += w * y * y;
        tot[3] += 1;
      }
      m++;
    }

    const features = this.features;
    for (let f = 0; f < p; f++) features[f] = f;

    const feat = this.oFeat, thr = this.oThr, child = this.oChild, nan = this.oNan, vals = this.oVal;
    const importance = new Float64Array(p);
    let nNodes = 1, nLeaves = 0, maxDepthSeen = 0;

    // the DFS stack: start, end, depth, node id, known constants; and node totals
    const si = this.stackI, st = this.stackT;
    let sp = 0;
    const push = (start: number, end: number, depth: number, id: number, nConst: number, t: Float64Array) => {
      si[5 * sp] = start;
      si[5 * sp + 1] = end;
      si[5 * sp + 2] = depth;
      si[5 * sp + 3] = id;
      si[5 * sp + 4] = nConst;
      st.set(t, S * sp);
      sp++;
    };
    push(0, m, 0, 0, 0, tot);

    const T = new Float64Array(S);
    const bestLeft = this.bestLeft, curLeft = this.curLeft;
    const codes = d.codes;
    const crit = s.criterion;
    const msl = s.minSamplesLeaf;
    const mtry = s.mtry;
    const batch = this.batch, isConst = this.isConst;

    while (sp > 0) {
      sp--;
      const start = si[5 * sp], end = si[5 * sp + 1], depth = si[5 * sp + 2], id = si[5 * sp + 3];
      const nKnown = si[5 * sp + 4];
      for (let j = 0; j < S; j++) T[j] = st[S * sp + j];
      if (depth > maxDepthSeen) maxDepthSeen = depth;
      const count = end - start;
      const W = classif ? sumTo(T, K) : T[0];
      const imp = impurity(T, K, crit, classif);

      let split = !(depth >= s.maxDepth || count < s.minSamplesSplit || count < 2 * msl ||
        imp <= IMPURITY_EPS * (classif ? 1 : Math.max(1, (T[1] / W) ** 2)));

      this.bF = -1;
      this.bB = 0;
      this.bNext = -1;
      this.bNanLeft = false;
      this.bScore = -Infinity;
      this.bHadNan = false;
      let nTotalConst = nKnown;
      if (split) {
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
          const small = count <= SMALL_NODE;
          this.histograms(start, end, m, small);
          this.scanSplits(m, count, small, T);
        }
        if (nFoundConst > 0) {
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
          nTotalConst = w;
        }
        if (this.bF < 0) split = false;
      }
      const bestF = this.bF, bestB = this.bB, bestNext = this.bNext;
      const bestNanLeft = this.bNanLeft, bestHadNan = this.bHadNan;

      let leftImp = 0, rightImp = 0, WL = 0, WR = 0;
      const rightT = curLeft; // reuse as scratch for the right child's totals
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
        leftImp = impurity(bestLeft, K, crit, classif);
        rightImp = impurity(rightT, K, crit, classif);
        const decrease = W * imp - WL * leftImp - WR * rightImp;
        if (s.minImpurityDecrease > 0 && decrease / W < s.minImpurityDecrease) split = false;
        else if (decrease > 0) importance[bestF] += decrease;
      }

      if (!split) {
        feat[id] = -1;
        thr[id] = 0;
        nan[id] = 0;
        child[id] = nLeaves;
        if (classif) { for (let k = 0; k < K; k++) vals[nLeaves * K + k] = W > 0 ? T[k] / W : 1 / K; }
        else vals[nLeaves] = W > 0 ? T[1] / W : 0;
        nLeaves++;
        continue;
      }

      // partition rows: left = code <= bestB, or missing when nanLeft
      let i = start, j = end - 1;
      while (i <= j) {
        const b = codes[rows[i] * p + bestF];
        const goLeft = b === NAN_BIN ? bestNanLeft : b <= bestB;
        if (goLeft) i++;
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
      const mid = i;
      const left = nNodes;
      nNodes += 2;
      feat[id] = bestF;
      // between the node's present bins, as scikit-learn places it (all values left: +Infinity)
      const bs = d.binStart[bestF];
      thr[id] = bestNext >= 0 ? midpoint(d.binHi[bs + bestB], d.binLo[bs + bestNext]) : Infinity;
      child[id] = left;
      nan[id] = bestHadNan ? (bestNanLeft ? 0 : 1) : (WL >= WR ? 0 : 1);
      // right first so the left subtree is grown next (depth first, left to right)
      push(mid, end, depth + 1, left + 1, nTotalConst, rightT);
      push(start, mid, depth + 1, left, nTotalConst, bestLeft);
    }

    return {
      nNodes,
      feature: feat.slice(0, nNodes),
      threshold: thr.slice(0, nNodes),
      child: child.slice(0, nNodes),
      nanRight: nan.slice(0, nNodes),
      values: vals.slice(0, nLeaves * K),
      importance,
      depth: maxDepthSeen,
    };
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

function sumTo(a: Float64Array, k: number): number {
  let s = 0;
  for (let j = 0; j < k; j++) s += a[j];
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
