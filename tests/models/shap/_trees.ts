/**
 * Random small trees in TreeSHAP's flat form, and brute-force Shapley values
 * over every feature subset with the same path-dependent conditional
 * expectation TreeSHAP explains (the reference the tests hold it to).
 */
import type { ShapTree } from "../../../src/models/shap/treeshap.ts";
import { Rng } from "../../../src/core/random.ts";

export interface RandomTreeOptions {
  maxDepth: number;
  nFeatures: number;
  width: number;
  /** probability that a leaf has no cover at all */
  zeroCover?: number;
  /** probability that a split is a set split (on codes 0..codes-1) */
  sets?: number;
  /** category codes of set splits (default 6); thresholds then span 0..codes too */
  codes?: number;
}

/**
 * A random tree: splits on random features (repeats on a path included), covers summed up from the
 * leaves; with `sets`, some splits send a random set of codes left (empty sets and sets of 2 words included).
 */
export function randomTree(seed: number, o: RandomTreeOptions): ShapTree {
  const rng = new Rng(seed);
  const feature: number[] = [], threshold: number[] = [], left: number[] = [], right: number[] = [];
  const missing: number[] = [], cover: number[] = [], value: number[] = [];
  const catStart: number[] = [], catWords: number[] = [], catBits: number[] = [];
  const codes = o.codes ?? 6, scale = o.sets ? codes : 1;
  const grow = (depth: number): number => {
    const id = feature.length;
    feature.push(-1);
    threshold.push(0);
    left.push(-1);
    right.push(-1);
    missing.push(-1);
    cover.push(0);
    catStart.push(-1);
    catWords.push(0);
    for (let k = 0; k < o.width; k++) value.push(0);
    // the root always splits, so every tree has at least one split
    if (depth < o.maxDepth && (depth === 0 || rng.next() < 0.8)) {
      feature[id] = Math.floor(rng.next() * o.nFeatures);
      threshold[id] = (Math.round(rng.next() * 20) / 20) * scale;
      if (o.sets && rng.next() < o.sets) {
        const u = rng.next(), words = u < 0.1 ? 0 : u < 0.8 ? 1 : 2;
        catStart[id] = catBits.length;
        catWords[id] = words;
        for (let w = 0; w < words; w++) {
          let bits = 0;
          for (let b = 0; b < 32; b++) if (w * 32 + b < codes && rng.next() < 0.5) bits |= 1 << b;
          catBits.push(bits >>> 0);
        }
      }
      const l = grow(depth + 1), r = grow(depth + 1);
      left[id] = l;
      right[id] = r;
      missing[id] = rng.next() < 0.5 ? l : r;
      cover[id] = cover[l] + cover[r];
    } else {
      cover[id] = rng.next() < (o.zeroCover ?? 0) ? 0 : 1 + Math.floor(rng.next() * 50);
      for (let k = 0; k < o.width; k++) {
        value[id * o.width + k] = Math.round((rng.next() * 20 - 10) * 1000) / 1000;
      }
    }
    return id;
  };
  grow(0);
  return {
    feature: Int32Array.from(feature),
    threshold: Float64Array.from(threshold),
    left: Int32Array.from(left),
    right: Int32Array.from(right),
    missing: Int32Array.from(missing),
    cover: Float64Array.from(cover),
    value: Float64Array.from(value),
    width: o.width,
    nFeatures: o.nFeatures,
    ...(o.sets
      ? {
        catStart: Int32Array.from(catStart),
        catWords: Int32Array.from(catWords),
        catBits: Uint32Array.from(catBits),
      }
      : {}),
  };
}

/**
 * A random row on the thresholds' scale: some values missing, some exactly on a threshold; with
 * `codes`, on 0..codes, with integer codes -1..codes + 1 (negative: missing, past the sets: right).
 */
export function randomRow(rng: Rng, p: number, codes = 0): Float64Array {
  return Float64Array.from({ length: p }, () => {
    const u = rng.next();
    if (codes > 0 && u < 0.6 && u >= 0.15) return Math.floor(rng.next() * (codes + 3)) - 1;
    const s = codes || 1;
    return u < 0.15 ? NaN : u < 0.3 ? (Math.round(rng.next() * 20) / 20) * s : (rng.next() * 1.2 - 0.1) * s;
  });
}

/** Where value v goes at split n, by the rules ShapTree documents (written out again, as the reference). */
export function routeRef(t: ShapTree, n: number, v: number): number {
  const cs = t.catStart ? t.catStart[n] : -1;
  if (cs < 0) return v <= t.threshold[n] ? t.left[n] : v > t.threshold[n] ? t.right[n] : t.missing[n];
  if (Number.isNaN(v) || v < 0) return t.missing[n];
  const c = Math.trunc(v), word = Math.floor(c / 32);
  if (word >= t.catWords![n]) return t.right[n];
  return (t.catBits![cs + word] >>> (c % 32)) & 1 ? t.left[n] : t.right[n];
}

/** E[f(x) | x_S]: splits on features in S follow x, others go both ways weighted by cover. */
export function conditional(
  t: ShapTree,
  x: ArrayLike<number>,
  inS: boolean[],
  node = 0,
  out?: Float64Array,
): Float64Array {
  const res = out ?? new Float64Array(t.width);
  const walk = (n: number, w: number) => {
    if (w === 0) return;
    const f = t.feature[n];
    if (f < 0) {
      for (let k = 0; k < t.width; k++) res[k] += w * t.value[n * t.width + k];
      return;
    }
    const l = t.left[n], r = t.right[n];
    if (inS[f]) {
      walk(routeRef(t, n, x[f]), w);
    } else {
      const total = t.cover[l] + t.cover[r];
      const sl = total > 0 ? t.cover[l] / total : 0.5;
      walk(l, w * sl);
      walk(r, w * (1 - sl));
    }
  };
  walk(node, 1);
  return res;
}

/** Shapley values by enumerating all 2^p subsets: p x width, `[f * width + k]`. */
export function bruteShap(t: ShapTree, x: ArrayLike<number>): Float64Array {
  const p = t.nFeatures, W = t.width;
  const v: Float64Array[] = [];
  for (let mask = 0; mask < 1 << p; mask++) {
    v.push(conditional(t, x, Array.from({ length: p }, (_, f) => ((mask >> f) & 1) === 1)));
  }
  const fact = (n: number): number => (n <= 1 ? 1 : n * fact(n - 1));
  const phi = new Float64Array(p * W);
  for (let f = 0; f < p; f++) {
    for (let mask = 0; mask < 1 << p; mask++) {
      if ((mask >> f) & 1) continue;
      let size = 0;
      for (let g = 0; g < p; g++) size += (mask >> g) & 1;
      const weight = (fact(size) * fact(p - size - 1)) / fact(p);
      const withF = v[mask | (1 << f)], without = v[mask];
      for (let k = 0; k < W; k++) phi[f * W + k] += weight * (withF[k] - without[k]);
    }
  }
  return phi;
}

/** Brute force on the subtree at `root` of a many-tree ShapTree, re-rooted as a tree of its own. */
export function bruteShapAt(tree: ShapTree, root: number, x: ArrayLike<number>): Float64Array {
  const ids = new Map<number, number>();
  const order: number[] = [];
  const visit = (n: number) => {
    ids.set(n, order.length);
    order.push(n);
    if (tree.feature[n] >= 0) {
      visit(tree.left[n]);
      visit(tree.right[n]);
    }
  };
  visit(root);
  const W = tree.width;
  const map = (a: ArrayLike<number>) => order.map((n) => (a[n] >= 0 ? ids.get(a[n])! : -1));
  const sets = tree.catStart
    ? {
      catStart: order.map((n) => tree.catStart![n]),
      catWords: order.map((n) => tree.catWords![n]),
      catBits: tree.catBits,
    }
    : {};
  return bruteShap({
    feature: order.map((n) => tree.feature[n]),
    threshold: order.map((n) => tree.threshold[n]),
    left: map(tree.left),
    right: map(tree.right),
    missing: map(tree.missing),
    cover: order.map((n) => tree.cover[n]),
    value: order.flatMap((n) => Array.from({ length: W }, (_, k) => tree.value[n * W + k])),
    width: W,
    nFeatures: tree.nFeatures,
    ...sets,
  }, x);
}
