/**
 * Exact path-dependent TreeSHAP (Lundberg, Erion and Lee, "Consistent
 * Individualized Feature Attribution for Tree Ensembles", 2018, Algorithm 2):
 * the Shapley values of the set function
 *
 *   v(S) = E[f(x) | x_S]
 *
 * where the conditional expectation is taken the way the tree itself can take
 * it: from the root, a split on a feature in S follows the row, a split on any
 * other feature goes both ways, each child weighted by its share of the node's
 * cover (training weight). One pass over the tree keeps, for the path from the
 * root to the current node, the proportion of every subset size that flows
 * down it (EXTEND), removes a feature again when it is split on a second time
 * (UNWIND), and at each leaf credits every feature on the path; the cost is
 * O(leaves x depth^2) per tree, not exponential in the number of features.
 *
 * The result is additive, exactly up to rounding:
 *
 *   expected value + sum over features of phi = the tree's output for the row
 *
 * with expected value = v(empty set), the cover-weighted mean of the leaves.
 *
 * Trees are given as flat node arrays (several trees may share one set of
 * arrays, each starting at its own root). A split sends `x <= threshold` left,
 * `x > threshold` right and a missing value (NaN) to `missing[node]`. Leaves
 * may hold a vector of values (one per class): `value[node * width + k]`.
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

/**
 * TreeSHAP over one or more trees sharing a set of node arrays: the path
 * buffers are allocated once, for the deepest tree, and reused for every row
 * and tree (no allocation per node or per row).
 */
export class TreeShap {
  readonly tree: ShapTree;
  readonly roots: Int32Array;
  /** per tree (in `roots` order): its expected value, `width` values each */
  readonly expected: Float64Array;
  readonly maxDepth: number;
  private readonly feature: Int32Array;
  private readonly left: Int32Array;
  private readonly right: Int32Array;
  private readonly missing: Int32Array;
  private readonly threshold: Float64Array;
  private readonly value: Float64Array;
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
  // the row being explained and where its attributions go (set per call)
  /** the row being explained, copied (one array kind for the hot loop, whatever the caller passes) */
  private readonly x: Float64Array;
  private phi: Float64Array = new Float64Array(0);
  private po = 0;
  private k0 = 0;
  private kn = 1;

  constructor(tree: ShapTree, roots: ArrayLike<number> = [0]) {
    if (!(tree.width >= 1)) throw new RangeError(`treeshap: width must be >= 1, got ${tree.width}`);
    // typed copies (or the caller's typed arrays as they are): the hot loops then see one
    // array kind, whatever trees the process explains
    const i32 = (a: ArrayLike<number>) => (a instanceof Int32Array ? a : Int32Array.from(a));
    const f64 = (a: ArrayLike<number>) => (a instanceof Float64Array ? a : Float64Array.from(a));
    this.feature = i32(tree.feature);
    this.left = i32(tree.left);
    this.right = i32(tree.right);
    this.missing = i32(tree.missing);
    this.threshold = f64(tree.threshold);
    this.value = f64(tree.value);
    this.tree = tree;
    this.x = new Float64Array(tree.nFeatures);
    this.roots = Int32Array.from(roots);
    const W = tree.width;
    this.expected = new Float64Array(this.roots.length * W);
    let depth = 0;
    for (let t = 0; t < this.roots.length; t++) {
      depth = Math.max(depth, treeDepth(tree, this.roots[t]));
      expectedValue(tree, this.roots[t], this.expected.subarray(t * W, (t + 1) * W));
    }
    this.maxDepth = depth;
    const n = tree.feature.length;
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
  }

  /** The summed expected values of trees [from, to), outputs [k0, k0 + kn), added to `out[oo..]`. */
  addExpected(
    out: Float64Array,
    oo = 0,
    k0 = 0,
    kn = this.tree.width,
    from = 0,
    to = this.roots.length,
  ): void {
    const W = this.tree.width;
    for (let t = from; t < to; t++) for (let k = 0; k < kn; k++) out[oo + k] += this.expected[t * W + k0 + k];
  }

  /**
   * Adds the SHAP values of the row `x[xo..xo + nFeatures)` through trees
   * [from, to) (summed) to `phi`: outputs k0..k0+kn-1 of feature f go to
   * `phi[po + f * kn + (k - k0)]` (with kn = 1, simply `phi[po + f]`).
   */
  addRow(
    x: ArrayLike<number>,
    xo: number,
    phi: Float64Array,
    po = 0,
    k0 = 0,
    kn = this.tree.width,
    from = 0,
    to = this.roots.length,
  ): void {
    if (!(k0 >= 0 && kn >= 1 && k0 + kn <= this.tree.width)) {
      throw new RangeError(`treeshap: outputs ${k0}..${k0 + kn - 1} out of range (width ${this.tree.width})`);
    }
    const row = this.x;
    for (let j = 0; j < row.length; j++) row[j] = x[xo + j];
    this.phi = phi;
    this.po = po;
    this.k0 = k0;
    this.kn = kn;
    for (let t = from; t < to; t++) this.recurse(this.roots[t], 0, 0, 0, 1, 1, -1);
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
    const hot = v <= th ? l : v > th ? r : this.missing[node];
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
    const vals = this.value, vo = node * this.tree.width + k0;
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
    let f = t.feature[node];
    while (f >= 0) {
      const v = x[xo + f], th = t.threshold[node];
      node = v <= th ? t.left[node] : v > th ? t.right[node] : t.missing[node];
      f = t.feature[node];
    }
    for (let k = 0; k < t.width; k++) out[k] += t.value[node * t.width + k];
  }
  return out;
}
