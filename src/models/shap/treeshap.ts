/**
 * Exact path-dependent TreeSHAP (Lundberg, Erion and Lee, "Consistent
 * Individualized Feature Attribution for Tree Ensembles", 2018): the Shapley
 * values of the set function
 *
 *   v(S) = E[f(x) | x_S]
 *
 * where the conditional expectation is taken the way the tree itself can take
 * it: from the root, a split on a feature in S follows the row, a split on any
 * other feature goes both ways, each child weighted by its share of the node's
 * cover (training weight).
 *
 * The result is additive, exactly up to rounding:
 *
 *   expected value + sum over features of phi = the tree's output for the row
 *
 * with expected value = v(empty set), the cover-weighted mean of the leaves.
 *
 * Two exact methods compute the same values; each tree gets the faster one
 * that fits:
 *
 * - Leaf tables (the idea of Yang's "Fast TreeSHAP" v2, 2021). v is a sum over
 *   leaves, so the Shapley values are too. For a leaf with value c, distinct
 *   path features U (m of them), z_j the product of the cover shares toward
 *   the leaf at the splits on j, and A the features of U whose every split on
 *   the path the row follows toward the leaf, the leaf's part of v(S) is
 *   c * prod_{j in S, j in U} [j in A] * prod_{j in U \ S} z_j, whose Shapley
 *   values are
 *
 *     j in A:      phi_j = (1 - z_j) c Z(U \ A) T(A \ {j})
 *     j in U \ A:  phi_j =     -     c Z(U \ A) T(A)
 *
 *   with Z(B) = prod_{i in B} z_i and T(B) = sum over S subset of B of |S|! (m - |S| - 1)! / m! Z(B \ S),
 *   a table of 2^m numbers per leaf computed once. Explaining a row is then one
 *   pass over the tree's nodes (which features the row agrees with, as a bit
 *   mask per node) and O(m) work per leaf: O(nodes + leaves x depth) per tree.
 * - Algorithm 2 of the paper, for trees with a leaf of more than 12 distinct
 *   path features or past the tables' memory budget: one recursion over the
 *   tree keeps, for the path from the root, the proportion of every subset
 *   size that flows down it (EXTEND), removes a feature split on a second time
 *   (UNWIND) and credits every path feature at each leaf; O(leaves x depth^2).
 *
 * Trees are given as flat node arrays (several trees may share one set of
 * arrays, each starting at its own root). A split sends `x <= threshold` left,
 * `x > threshold` right and a missing value (NaN) to `missing[node]`; a set
 * split (optional `catStart`) sends a code in its set left. Leaves may hold a
 * vector of values (one per class): `value[node * width + k]`.
 */

/** One or more trees as flat node arrays, indexed by node. */
export interface ShapTree {
  /** split feature per node, or -1 for a leaf */
  readonly feature: ArrayLike<number>;
  /** split threshold: `x <= threshold` goes left */
  readonly threshold: ArrayLike<number>;
  readonly left: ArrayLike<number>;
  readonly right: ArrayLike<number>;
  /** the child a missing value (NaN) goes to: `left[node]` or `right[node]` */
  readonly missing: ArrayLike<number>;
  /**
   * training weight (row count) per node. Only ratios between siblings are
   * used: a child's share is cover[child] / (cover[left] + cover[right]), and
   * two children without cover share evenly.
   */
  readonly cover: ArrayLike<number>;
  /** `width` values per node, `value[node * width + k]`; only leaves' are read */
  readonly value: ArrayLike<number>;
  /** values per leaf (classes), 1 for a scalar tree */
  readonly width: number;
  /** the number of input features (the length of a row) */
  readonly nFeatures: number;
  /**
   * set splits (optional; FlatBoost's categorical splits): per node -1 for a
   * threshold split, else the first of `catWords[node]` 32-bit words of
   * `catBits` that hold the node's left set. There a value that is a code
   * c >= 0 goes left iff bit c is set (codes past the set go right, a
   * fractional code is truncated); NaN and negative values go to
   * `missing[node]`; `threshold` is not read.
   */
  readonly catStart?: ArrayLike<number>;
  readonly catWords?: ArrayLike<number>;
  readonly catBits?: ArrayLike<number>;
}

/** Whether code `v` (>= 0) is in the set of `words` 32-bit words at `bits[start..]`; codes past its end are not. */
export function inSet(bits: ArrayLike<number>, start: number, words: number, v: number): boolean {
  if (!(v < words * 32)) return false;
  const c = v | 0;
  return ((bits[start + (c >>> 5)] >>> (c & 31)) & 1) === 1;
}

/** The child of split `node` that a row with value `v` of the node's feature goes to. */
export function childFor(t: ShapTree, node: number, v: number): number {
  const cs = t.catStart ? t.catStart[node] : -1;
  if (cs >= 0) {
    if (!(v >= 0)) return t.missing[node];
    return inSet(t.catBits!, cs, t.catWords![node], v) ? t.left[node] : t.right[node];
  }
  const th = t.threshold[node];
  return v <= th ? t.left[node] : v > th ? t.right[node] : t.missing[node];
}

/** The share of `child`'s cover in its parent's, as every function here takes it. */
function share(cover: ArrayLike<number>, child: number, sibling: number): number {
  const a = cover[child], total = a + cover[sibling];
  return total > 0 ? a / total : 0.5;
}

/** Depth (edges from the root to the deepest leaf) of the tree at `root`. */
export function treeDepth(t: ShapTree, root = 0): number {
  let max = 0;
  // an explicit stack of (node, depth): trees from elsewhere may be deep
  const stack: number[] = [root, 0];
  while (stack.length) {
    const d = stack.pop()!, node = stack.pop()!;
    if (d > max) max = d;
    if (d > 1_000_000) throw new Error("treeshap: the tree has a cycle (or is absurdly deep)");
    if (t.feature[node] >= 0) stack.push(t.left[node], d + 1, t.right[node], d + 1);
  }
  return max;
}

/**
 * The tree's expected output, v(empty set): each leaf's value weighted by the
 * product of the cover shares on its path; `out[k]` for k < width.
 */
export function expectedValue(
  t: ShapTree,
  root = 0,
  out: Float64Array<ArrayBufferLike> = new Float64Array(t.width),
): Float64Array<ArrayBufferLike> {
  out.fill(0);
  const W = t.width;
  const stack: number[] = [root, 1];
  while (stack.length) {
    const p = stack.pop()!, node = stack.pop()!;
    if (t.feature[node] < 0) {
      for (let k = 0; k < W; k++) out[k] += p * t.value[node * W + k];
      continue;
    }
    const l = t.left[node], r = t.right[node];
    const pl = share(t.cover, l, r), pr = share(t.cover, r, l);
    if (pl > 0) stack.push(l, p * pl);
    if (pr > 0) stack.push(r, p * pr);
  }
  return out;
}

/** Leaves with more distinct path features than this are explained by Algorithm 2 (their table would pass 4,096 numbers). */
const MAX_TABLE_FEATURES = 12;
/**
 * Table numbers per explainer (8 MB); trees past it, the largest first, use Algorithm 2. Tables
 * pay while they stay near the cache: measured here, 32 MB of them (300 trees of 63 leaves) ran
 * no faster than Algorithm 2, as every leaf's lookups miss.
 */
const DEFAULT_TABLE_BUDGET = 1 << 20;

export interface TreeShapOptions {
  /**
   * how many leaf-table numbers (8 bytes each) the explainer may keep; 0
   * explains every tree by Algorithm 2. Default 2^20 (8 MB): 100 trees of
   * depth 6 need 0.4M.
   */
  tableBudget?: number;
  /** the most distinct path features a leaf may have for its tree to use tables (0..12, default 12) */
  maxTableFeatures?: number;
}

/**
 * TreeSHAP over one or more trees sharing a set of node arrays. Everything
 * that does not depend on the row (leaf tables, cover shares, path buffers
 * for the deepest tree) is built once here; explaining a row allocates nothing.
 */
export class TreeShap {
  readonly tree: ShapTree;
  readonly roots: Int32Array;
  /** per tree (in `roots` order): its expected value, `width` values each */
  readonly expected: Float64Array;
  readonly maxDepth: number;
  /** how many trees are explained with leaf tables (the rest by Algorithm 2) */
  readonly tableTrees: number;
  private readonly W: number;
  private readonly feature: Int32Array;
  private readonly left: Int32Array;
  private readonly right: Int32Array;
  private readonly missing: Int32Array;
  /** the thresholds, NaN at set splits (so a set split takes the missing-value branch, which tests the set) */
  private readonly threshold: Float64Array;
  private readonly value: Float64Array;
  private readonly hasSets: boolean;
  private readonly catStart: Int32Array;
  private readonly catWords: Int32Array;
  private readonly catBits: Uint32Array;
  // the path: per element its feature, zero fraction, one fraction and permutation weight
  private readonly pFeature: Int32Array;
  private readonly pZero: Float64Array;
  private readonly pOne: Float64Array;
  private readonly pWeight: Float64Array;
  /**
   * the ratios EXTEND, UNWIND and the leaf sums use, per path length: for a
   * path whose last element is d, entry d * stride + i holds (d + 1) / (i + 1)
   * (rUp), (d - i) / (d + 1) (rDown), (i + 1) / (d + 1) (rIn) and
   * (d + 1) / (d - i) (rOut), so the inner loops multiply instead of divide
   */
  private readonly stride: number;
  /** per internal node: the left and the right child's share of its cover */
  private readonly shareLeft: Float64Array;
  private readonly shareRight: Float64Array;
  private readonly rUp: Float64Array;
  private readonly rDown: Float64Array;
  private readonly rIn: Float64Array;
  private readonly rOut: Float64Array;
  // table trees, their nodes renumbered in preorder (a node's left child is the next node)
  /** per tree: its first node in the arrays below, or -1 for an Algorithm 2 tree */
  private readonly tStart: Int32Array;
  private readonly tEnd: Int32Array;
  private readonly nFeat: Int32Array;
  private readonly nTh: Float64Array;
  /** an internal node's right child, relative to its tree's first node; a leaf's leaf index */
  private readonly nRight: Int32Array;
  private readonly nMissLeft: Uint8Array;
  /** the bit of the node's feature in the masks of the leaves below it */
  private readonly nBit: Int32Array;
  /** the node's number in the caller's arrays (set splits, leaf values) */
  private readonly nOrig: Int32Array;
  /** per leaf: distinct path features, where its features and fractions start, where its table starts */
  private readonly lM: Int32Array;
  private readonly lSlot: Int32Array;
  private readonly lTab: Int32Array;
  private readonly sFeat: Int32Array;
  /**
   * per distinct path feature of a leaf, pairs indexed by whether the row agrees with it (0 or
   * 1), so the leaf loops do not branch on the row: its factor in Z(U \ A), [z, 1], and its
   * coefficient, [-1, 1 - z] (a cold feature's credit is -Z T(A), an agreed one's (1 - z) Z T(A \ {j}))
   */
  private readonly sFactor: Float64Array;
  private readonly sCoef: Float64Array;
  private readonly table: Float64Array;
  /** per node of a table tree: the row's agreement mask */
  private readonly mask: Int32Array;
  /** per distinct path feature of a leaf: its coefficient (several outputs at once) */
  private readonly coef: Float64Array;
  // the row being explained and where its attributions go (set per call)
  /** the row being explained, copied (one array kind for the hot loop, whatever the caller passes) */
  private readonly x: Float64Array;
  private phi: Float64Array = new Float64Array(0);
  private po = 0;
  private k0 = 0;
  private kn = 1;

  constructor(tree: ShapTree, roots: ArrayLike<number> = [0], opts: TreeShapOptions = {}) {
    if (!(tree.width >= 1)) throw new RangeError(`treeshap: width must be >= 1, got ${tree.width}`);
    // typed copies (or the caller's typed arrays as they are): the hot loops then see one
    // array kind, whatever trees the process explains
    const i32 = (a: ArrayLike<number>) => (a instanceof Int32Array ? a : Int32Array.from(a));
    const f64 = (a: ArrayLike<number>) => (a instanceof Float64Array ? a : Float64Array.from(a));
    const n = tree.feature.length;
    this.feature = i32(tree.feature);
    this.left = i32(tree.left);
    this.right = i32(tree.right);
    this.missing = i32(tree.missing);
    this.value = f64(tree.value);
    this.tree = tree;
    this.W = tree.width;
    this.x = new Float64Array(tree.nFeatures);
    this.roots = Int32Array.from(roots);
    let sets = false;
    if (tree.catStart) {
      for (let i = 0; i < n && !sets; i++) sets = tree.feature[i] >= 0 && tree.catStart[i] >= 0;
    }
    this.hasSets = sets;
    if (sets) {
      this.threshold = Float64Array.from(tree.threshold);
      this.catStart = Int32Array.from(tree.catStart!);
      this.catWords = Int32Array.from(tree.catWords ?? []);
      this.catBits = Uint32Array.from(tree.catBits ?? []);
      for (let i = 0; i < n; i++) {
        if (tree.feature[i] < 0 || this.catStart[i] < 0) continue;
        if (!(this.catWords[i] >= 0 && this.catStart[i] + this.catWords[i] <= this.catBits.length)) {
          throw new RangeError(`treeshap: the set of node ${i} is out of range`);
        }
        this.threshold[i] = NaN;
      }
    } else {
      this.threshold = f64(tree.threshold);
      this.catStart = new Int32Array(0);
      this.catWords = new Int32Array(0);
      this.catBits = new Uint32Array(0);
    }
    const W = tree.width, nT = this.roots.length;
    this.expected = new Float64Array(nT * W);
    let depth = 0;
    for (let t = 0; t < nT; t++) {
      depth = Math.max(depth, treeDepth(tree, this.roots[t]));
      expectedValue(tree, this.roots[t], this.expected.subarray(t * W, (t + 1) * W));
    }
    this.maxDepth = depth;
    this.shareLeft = new Float64Array(n);
    this.shareRight = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      if (!(tree.feature[i] >= 0)) continue;
      this.shareLeft[i] = share(tree.cover, tree.left[i], tree.right[i]);
      this.shareRight[i] = share(tree.cover, tree.right[i], tree.left[i]);
    }
    // a call at depth d copies its parent's <= d elements and adds one: segments of 1, 2, ..., depth + 1
    const size = ((depth + 2) * (depth + 3)) / 2;
    this.pFeature = new Int32Array(size);
    this.pZero = new Float64Array(size);
    this.pOne = new Float64Array(size);
    this.pWeight = new Float64Array(size);
    const stride = depth + 2;
    this.stride = stride;
    this.rUp = new Float64Array(stride * stride);
    this.rDown = new Float64Array(stride * stride);
    this.rIn = new Float64Array(stride * stride);
    this.rOut = new Float64Array(stride * stride);
    for (let d = 0; d < stride; d++) {
      for (let i = 0; i < d; i++) {
        this.rUp[d * stride + i] = (d + 1) / (i + 1);
        this.rDown[d * stride + i] = (d - i) / (d + 1);
        this.rIn[d * stride + i] = (i + 1) / (d + 1);
        this.rOut[d * stride + i] = (d + 1) / (d - i);
      }
    }
    // leaf tables: the cheapest trees first, while the budget lasts
    const budget = opts.tableBudget ?? DEFAULT_TABLE_BUDGET;
    const maxFeatures = Math.max(
      0,
      Math.min(MAX_TABLE_FEATURES, opts.maxTableFeatures ?? MAX_TABLE_FEATURES),
    );
    const cost = new Float64Array(nT);
    const order: number[] = [];
    for (let t = 0; t < nT; t++) {
      cost[t] = this.tableCost(this.roots[t], maxFeatures);
      if (cost[t] >= 0) order.push(t);
    }
    order.sort((a, b) => cost[a] - cost[b] || a - b);
    const chosen = new Uint8Array(nT);
    let used = 0, tables = 0;
    for (const t of order) {
      if (used + cost[t] > budget) break;
      used += cost[t];
      chosen[t] = 1;
      tables++;
    }
    this.tableTrees = tables;
    const b = new TableBuilder({
      feature: this.feature,
      threshold: this.threshold,
      left: this.left,
      right: this.right,
      missing: this.missing,
      shareLeft: this.shareLeft,
      shareRight: this.shareRight,
    }, used);
    this.tStart = new Int32Array(nT).fill(-1);
    this.tEnd = new Int32Array(nT).fill(-1);
    let maxNodes = 0;
    for (let t = 0; t < nT; t++) {
      if (!chosen[t]) continue;
      this.tStart[t] = b.nodes;
      b.tree(this.roots[t]);
      this.tEnd[t] = b.nodes;
      maxNodes = Math.max(maxNodes, b.nodes - this.tStart[t]);
    }
    this.nFeat = Int32Array.from(b.nFeat);
    this.nTh = Float64Array.from(b.nTh);
    this.nRight = Int32Array.from(b.nRight);
    this.nMissLeft = Uint8Array.from(b.nMissLeft);
    this.nBit = Int32Array.from(b.nBit);
    this.nOrig = Int32Array.from(b.nOrig);
    this.lM = Int32Array.from(b.lM);
    this.lSlot = Int32Array.from(b.lSlot);
    this.lTab = Int32Array.from(b.lTab);
    this.sFeat = Int32Array.from(b.sFeat);
    this.sFactor = Float64Array.from({ length: 2 * b.sZero.length }, (_, i) => (i & 1 ? 1 : b.sZero[i >> 1]));
    this.sCoef = Float64Array.from(
      { length: 2 * b.sZero.length },
      (_, i) => (i & 1 ? 1 - b.sZero[i >> 1] : -1),
    );
    this.table = b.table;
    this.mask = new Int32Array(maxNodes);
    this.coef = new Float64Array(MAX_TABLE_FEATURES);
  }

  /** The numbers the tree's leaf tables need (sum of 2^m), or -1 when a leaf has too many distinct path features. */
  private tableCost(root: number, maxFeatures: number): number {
    const feat = this.feature, left = this.left, right = this.right;
    const slots: number[] = [];
    let cost = 0;
    const walk = (node: number): boolean => {
      const f = feat[node];
      if (f < 0) {
        cost += 1 << slots.length;
        return true;
      }
      const added = !slots.includes(f);
      if (added) {
        if (slots.length >= maxFeatures) return false;
        slots.push(f);
      }
      const ok = walk(left[node]) && walk(right[node]);
      if (added) slots.pop();
      return ok;
    };
    return walk(root) ? cost : -1;
  }

  /** The summed expected values of trees from, from + step, ... < to, outputs [k0, k0 + kn), added to `out[oo..]`. */
  addExpected(
    out: Float64Array,
    oo = 0,
    k0 = 0,
    kn = this.W,
    from = 0,
    to = this.roots.length,
    step = 1,
  ): void {
    const W = this.W;
    for (let t = from; t < to; t += step) {
      for (let k = 0; k < kn; k++) out[oo + k] += this.expected[t * W + k0 + k];
    }
  }

  /**
   * Adds the SHAP values of the row `x[xo..xo + nFeatures)` through trees
   * from, from + step, ... < to (summed) to `phi`: outputs k0..k0+kn-1 of
   * feature f go to `phi[po + f * kn + (k - k0)]` (with kn = 1, simply `phi[po + f]`).
   */
  addRow(
    x: ArrayLike<number>,
    xo: number,
    phi: Float64Array,
    po = 0,
    k0 = 0,
    kn = this.W,
    from = 0,
    to = this.roots.length,
    step = 1,
  ): void {
    if (!(k0 >= 0 && kn >= 1 && k0 + kn <= this.W)) {
      throw new RangeError(`treeshap: outputs ${k0}..${k0 + kn - 1} out of range (width ${this.W})`);
    }
    if (!(step >= 1)) throw new RangeError(`treeshap: step must be >= 1, got ${step}`);
    const row = this.x;
    for (let j = 0; j < row.length; j++) row[j] = x[xo + j];
    this.phi = phi;
    this.po = po;
    this.k0 = k0;
    this.kn = kn;
    const tStart = this.tStart;
    for (let t = from; t < to; t += step) {
      if (tStart[t] < 0) this.recurse(this.roots[t], 0, 0, 0, 1, 1, -1);
      else if (kn === 1) this.tableTree1(tStart[t], this.tEnd[t]);
      else this.tableTree(tStart[t], this.tEnd[t]);
    }
  }

  /** Where a missing value, or any value at a set split, goes: true for left. */
  private tableLeft(i: number, v: number): boolean {
    if (this.hasSets) {
      const o = this.nOrig[i], cs = this.catStart[o];
      if (cs >= 0 && v >= 0) return inSet(this.catBits, cs, this.catWords[o], v);
    }
    return this.nMissLeft[i] === 1;
  }

  /** One table tree, nodes [s, e), one output (k0): the credits straight into phi. */
  private tableTree1(s: number, e: number): void {
    const feat = this.nFeat, th = this.nTh, right = this.nRight, bit = this.nBit, mask = this.mask;
    const x = this.x, phi = this.phi, po = this.po, value = this.value, orig = this.nOrig;
    const lM = this.lM, lSlot = this.lSlot, lTab = this.lTab, table = this.table;
    const sFeat = this.sFeat, sFactor = this.sFactor, sCoef = this.sCoef;
    const W = this.W, k0 = this.k0;
    mask[0] = -1;
    for (let i = s; i < e; i++) {
      const f = feat[i], mk = mask[i - s];
      if (f >= 0) {
        const v = x[f], t = th[i];
        const goLeft = v <= t ? true : v > t ? false : this.tableLeft(i, v);
        const l = i + 1 - s, r = right[i], off = mk & ~bit[i];
        mask[l] = goLeft ? mk : off;
        mask[r] = goLeft ? off : mk;
        continue;
      }
      const c = value[orig[i] * W + k0];
      if (c === 0) continue;
      const leaf = right[i], m = lM[leaf], so = lSlot[leaf], A = mk & ((1 << m) - 1);
      let zc = 1;
      for (let j = 0; j < m; j++) zc *= sFactor[2 * (so + j) + ((A >>> j) & 1)];
      if (zc === 0) continue;
      // the same products in the same order as tableTree's, so one output = that column of all
      const tb = lTab[leaf];
      for (let j = 0; j < m; j++) {
        const a = (A >>> j) & 1;
        phi[po + sFeat[so + j]] += zc * sCoef[2 * (so + j) + a] * table[tb + (A ^ (a << j))] * c;
      }
    }
  }

  /** One table tree, nodes [s, e), outputs k0..k0+kn-1. */
  private tableTree(s: number, e: number): void {
    const feat = this.nFeat, th = this.nTh, right = this.nRight, bit = this.nBit, mask = this.mask;
    const x = this.x, phi = this.phi, po = this.po, value = this.value, orig = this.nOrig;
    const lM = this.lM, lSlot = this.lSlot, lTab = this.lTab, table = this.table, coef = this.coef;
    const sFeat = this.sFeat, sFactor = this.sFactor, sCoef = this.sCoef;
    const W = this.W, k0 = this.k0, kn = this.kn;
    mask[0] = -1;
    for (let i = s; i < e; i++) {
      const f = feat[i], mk = mask[i - s];
      if (f >= 0) {
        const v = x[f], t = th[i];
        const goLeft = v <= t ? true : v > t ? false : this.tableLeft(i, v);
        const l = i + 1 - s, r = right[i], off = mk & ~bit[i];
        mask[l] = goLeft ? mk : off;
        mask[r] = goLeft ? off : mk;
        continue;
      }
      const leaf = right[i], m = lM[leaf], so = lSlot[leaf], A = mk & ((1 << m) - 1);
      let zc = 1;
      for (let j = 0; j < m; j++) zc *= sFactor[2 * (so + j) + ((A >>> j) & 1)];
      if (zc === 0) continue;
      const tb = lTab[leaf];
      for (let j = 0; j < m; j++) {
        const a = (A >>> j) & 1;
        coef[j] = zc * sCoef[2 * (so + j) + a] * table[tb + (A ^ (a << j))];
      }
      const vo = orig[i] * W + k0;
      for (let j = 0; j < m; j++) {
        const o = po + sFeat[so + j] * kn, cj = coef[j];
        for (let k = 0; k < kn; k++) phi[o + k] += cj * value[vo + k];
      }
    }
  }

  /**
   * One node of Algorithm 2. The parent's path has `depth` elements at
   * `parent..parent + depth`; this call's path is built at `start`, the
   * parent's extended by (zero, one, feature).
   */
  private recurse(
    node: number,
    start: number,
    parent: number,
    depth: number,
    zero: number,
    one: number,
    feat: number,
  ): void {
    const pF = this.pFeature, pZ = this.pZero, pO = this.pOne, pW = this.pWeight;
    if (start !== parent) {
      for (let i = 0; i < depth; i++) {
        pF[start + i] = pF[parent + i];
        pZ[start + i] = pZ[parent + i];
        pO[start + i] = pO[parent + i];
        pW[start + i] = pW[parent + i];
      }
    }
    this.extend(start, depth, zero, one, feat);
    const f = this.feature[node];
    if (f < 0) {
      this.credit(node, start, depth);
      return;
    }
    const l = this.left[node], r = this.right[node];
    const v = this.x[f], th = this.threshold[node];
    const hot = v <= th ? l : v > th ? r : this.missingOrSet(node, v);
    const hotLeft = hot === l, cold = hotLeft ? r : l;
    const sl = this.shareLeft[node], sr = this.shareRight[node];
    const zHot = hotLeft ? sl : sr, zCold = hotLeft ? sr : sl;
    // a feature split on before: take it off the path, and carry its fractions on
    let inZero = 1, inOne = 1, d = depth;
    for (let i = 1; i <= depth; i++) {
      if (pF[start + i] === f) {
        inZero = pZ[start + i];
        inOne = pO[start + i];
        this.unwind(start, depth, i);
        d--;
        break;
      }
    }
    const next = start + d + 1;
    // a branch with both fractions 0 carries no weight for any subset: skip it
    if (zHot * inZero > 0 || inOne > 0) this.recurse(hot, next, start, d + 1, zHot * inZero, inOne, f);
    // the cold side last, on this call's own path: nothing here reads it afterwards, so no copy
    if (zCold * inZero > 0) this.recurse(cold, start, start, d + 1, zCold * inZero, 0, f);
  }

  /** Where a missing value, or any value at a set split, goes (Algorithm 2's numbering). */
  private missingOrSet(node: number, v: number): number {
    if (this.hasSets) {
      const cs = this.catStart[node];
      if (cs >= 0 && v >= 0) {
        return inSet(this.catBits, cs, this.catWords[node], v) ? this.left[node] : this.right[node];
      }
    }
    return this.missing[node];
  }

  /** EXTEND: appends (feature, zero, one) as element `depth` of the path at `s` (elements 0..depth-1 exist). */
  private extend(s: number, depth: number, zero: number, one: number, feat: number): void {
    const pW = this.pWeight, rDown = this.rDown, rIn = this.rIn, row = depth * this.stride;
    this.pFeature[s + depth] = feat;
    this.pZero[s + depth] = zero;
    this.pOne[s + depth] = one;
    pW[s + depth] = depth === 0 ? 1 : 0;
    for (let i = depth - 1; i >= 0; i--) {
      const w = pW[s + i];
      pW[s + i + 1] += one * w * rIn[row + i];
      pW[s + i] = zero * w * rDown[row + i];
    }
  }

  /** UNWIND: removes element `k` from the path at `s` whose last element is `depth`, in place. */
  private unwind(s: number, depth: number, k: number): void {
    const pF = this.pFeature, pZ = this.pZero, pO = this.pOne, pW = this.pWeight;
    const row = depth * this.stride, rUp = this.rUp, rDown = this.rDown, rOut = this.rOut;
    const one = pO[s + k], zero = pZ[s + k];
    if (one !== 0) {
      const inv = 1 / one;
      let carry = pW[s + depth];
      for (let i = depth - 1; i >= 0; i--) {
        const w = pW[s + i];
        const u = carry * rUp[row + i] * inv;
        pW[s + i] = u;
        carry = w - u * zero * rDown[row + i];
      }
    } else {
      const inv = 1 / zero;
      for (let i = depth - 1; i >= 0; i--) pW[s + i] = pW[s + i] * rOut[row + i] * inv;
    }
    for (let i = k; i < depth; i++) {
      pF[s + i] = pF[s + i + 1];
      pZ[s + i] = pZ[s + i + 1];
      pO[s + i] = pO[s + i + 1];
    }
  }

  /**
   * At a leaf: each path element k >= 1 gets (sum of the path's weights with k
   * unwound) x (its one fraction - its zero fraction) x the leaf's values.
   * The unwound sums are computed without touching the path; for an element
   * the row does not follow (one fraction 0) the sum is the same but for its
   * zero fraction, so it is computed once per leaf.
   */
  private credit(node: number, s: number, depth: number): void {
    const pF = this.pFeature, pZ = this.pZero, pO = this.pOne, pW = this.pWeight;
    const row = depth * this.stride, rUp = this.rUp, rDown = this.rDown, rOut = this.rOut;
    const phi = this.phi, po = this.po, k0 = this.k0, kn = this.kn;
    const vals = this.value, vo = node * this.W + k0;
    let coldSum = 0, haveCold = false;
    for (let k = 1; k <= depth; k++) {
      const one = pO[s + k], zero = pZ[s + k];
      let total = 0;
      if (one === 1) {
        // the row's own side (always, path-dependent): as below with inv = 1
        let carry = pW[s + depth];
        for (let i = depth - 1; i >= 0; i--) {
          const w = carry * rUp[row + i];
          total += w;
          carry = pW[s + i] - w * zero * rDown[row + i];
        }
      } else if (one !== 0) {
        const inv = 1 / one;
        let carry = pW[s + depth];
        for (let i = depth - 1; i >= 0; i--) {
          const w = carry * rUp[row + i] * inv;
          total += w;
          carry = pW[s + i] - w * zero * rDown[row + i];
        }
      } else {
        if (!haveCold) {
          for (let i = depth - 1; i >= 0; i--) coldSum += pW[s + i] * rOut[row + i];
          haveCold = true;
        }
        total = coldSum / zero;
      }
      const scale = total * (one - zero);
      if (scale === 0) continue;
      const o = po + pF[s + k] * kn;
      for (let j = 0; j < kn; j++) phi[o + j] += scale * vals[vo + j];
    }
  }
}

/**
 * Renumbers table trees in preorder and computes their leaves' tables:
 * T(B) for every subset B of a leaf's m distinct path features, from the
 * elementary symmetric polynomials e_k of B's zero fractions:
 * T(B) = sum_s s! (m - s - 1)! / m! e_{|B| - s}(B).
 */
class TableBuilder {
  nodes = 0;
  readonly nFeat: number[] = [];
  readonly nTh: number[] = [];
  readonly nRight: number[] = [];
  readonly nMissLeft: number[] = [];
  readonly nBit: number[] = [];
  readonly nOrig: number[] = [];
  readonly lM: number[] = [];
  readonly lSlot: number[] = [];
  readonly lTab: number[] = [];
  readonly sFeat: number[] = [];
  readonly sZero: number[] = [];
  readonly table: Float64Array;
  private tabAt = 0;
  private start = 0;
  // the current path's distinct features and their zero fractions
  private readonly slotF = new Int32Array(MAX_TABLE_FEATURES);
  private readonly slotZ = new Float64Array(MAX_TABLE_FEATURES);
  private nSlots = 0;
  /** e_k per subset, (m + 1) per subset */
  private readonly poly = new Float64Array((1 << MAX_TABLE_FEATURES) * (MAX_TABLE_FEATURES + 1));
  private readonly weights = new Float64Array(MAX_TABLE_FEATURES);

  constructor(private readonly ts: TreeArrays, size: number) {
    this.table = new Float64Array(size);
  }

  tree(root: number): void {
    this.start = this.nodes;
    this.nSlots = 0;
    this.node(root);
  }

  private node(node: number): void {
    const ts = this.ts, id = this.nodes++;
    const f = ts.feature[node];
    this.nFeat.push(f);
    this.nTh.push(f >= 0 ? ts.threshold[node] : 0);
    this.nRight.push(0);
    this.nMissLeft.push(f >= 0 && ts.missing[node] === ts.left[node] ? 1 : 0);
    this.nBit.push(0);
    this.nOrig.push(node);
    if (f < 0) {
      this.nRight[id] = this.lM.length;
      this.leaf();
      return;
    }
    let slot = 0;
    while (slot < this.nSlots && this.slotF[slot] !== f) slot++;
    const added = slot === this.nSlots;
    if (added) {
      this.slotF[slot] = f;
      this.slotZ[slot] = 1;
      this.nSlots++;
    }
    this.nBit[id] = 1 << slot;
    const z = this.slotZ[slot];
    this.slotZ[slot] = z * ts.shareLeft[node];
    this.node(ts.left[node]);
    this.nRight[id] = this.nodes - this.start;
    this.slotZ[slot] = z * ts.shareRight[node];
    this.node(ts.right[node]);
    this.slotZ[slot] = z;
    if (added) this.nSlots--;
  }

  private leaf(): void {
    const m = this.nSlots, n = 1 << m, S = m + 1, poly = this.poly, w = this.weights, z = this.slotZ;
    this.lM.push(m);
    this.lSlot.push(this.sFeat.length);
    this.lTab.push(this.tabAt);
    for (let j = 0; j < m; j++) {
      this.sFeat.push(this.slotF[j]);
      this.sZero.push(z[j]);
    }
    // s! (m - s - 1)! / m!, s = 0..m-1
    if (m > 0) w[0] = 1 / m;
    for (let s = 0; s + 1 < m; s++) w[s + 1] = (w[s] * (s + 1)) / (m - 1 - s);
    poly.fill(0, 0, S);
    poly[0] = 1;
    const out = this.table, o = this.tabAt;
    out[o] = m > 0 ? w[0] : 0;
    for (let B = 1; B < n; B++) {
      // B's polynomial from B without its lowest feature j: e_k(B) = e_k(P) + z_j e_{k-1}(P)
      const low = B & -B, j = 31 - Math.clz32(low), P = (B ^ low) * S, Q = B * S, zj = z[j];
      poly[Q] = poly[P];
      for (let k = 1; k < S; k++) poly[Q + k] = poly[P + k] + zj * poly[P + k - 1];
      let size = 0;
      for (let q = B; q; q &= q - 1) size++;
      // T(U) is never read (with every feature agreed there is no cold one)
      if (size === m) continue;
      let t = 0;
      for (let s = 0; s <= size; s++) t += w[s] * poly[Q + size - s];
      out[o + B] = t;
    }
    this.tabAt += n;
  }
}

/** What the table builder reads of a TreeShap: its typed node arrays and cover shares. */
interface TreeArrays {
  readonly feature: Int32Array;
  readonly threshold: Float64Array;
  readonly left: Int32Array;
  readonly missing: Int32Array;
  readonly right: Int32Array;
  readonly shareLeft: Float64Array;
  readonly shareRight: Float64Array;
}

/**
 * SHAP values of `rows` rows (row-major, `nFeatures` per row) through an
 * ensemble, all outputs: `phi` is rows x nFeatures x width, `expected` width
 * values. `average` (a forest) divides by the number of trees; otherwise
 * (boosting) trees are summed. For every row and output k:
 *
 *   expected[k] + sum_f phi[(row * nFeatures + f) * width + k] = the ensemble's output k
 */
export function ensembleShap(
  ts: TreeShap,
  data: ArrayLike<number>,
  rows: number,
  average: boolean,
): { expected: Float64Array; phi: Float64Array } {
  const W = ts.tree.width, p = ts.tree.nFeatures, nT = ts.roots.length;
  const expected = new Float64Array(W);
  ts.addExpected(expected);
  const phi = new Float64Array(rows * p * W);
  for (let r = 0; r < rows; r++) ts.addRow(data, r * p, phi, r * p * W, 0, W);
  if (average && nT > 0) {
    for (let k = 0; k < W; k++) expected[k] /= nT;
    for (let i = 0; i < phi.length; i++) phi[i] /= nT;
  }
  return { expected, phi };
}

/** A tree's (or trees' summed) output for one row, walking as TreeSHAP does; `out[k]` for k < width. */
export function treeOutput(
  t: ShapTree,
  x: ArrayLike<number>,
  xo = 0,
  roots: ArrayLike<number> = [0],
  out = new Float64Array(t.width),
): Float64Array {
  out.fill(0);
  for (let i = 0; i < roots.length; i++) {
    let node = roots[i];
    while (t.feature[node] >= 0) node = childFor(t, node, x[xo + t.feature[node]]);
    for (let k = 0; k < t.width; k++) out[k] += t.value[node * t.width + k];
  }
  return out;
}
