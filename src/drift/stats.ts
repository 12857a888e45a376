/**
 * The drift statistics, on typed arrays. Numeric tests take SORTED samples
 * (each column is sorted once, then every test walks the sorted arrays);
 * categorical tests take counts aligned by category. Values match scipy:
 * `ks_2samp` (statistic and p-value with its exact/asymptotic choice),
 * `chisquare`, `wasserstein_distance` (normed by the reference std as Evidently
 * does) and `distance.jensenshannon` (natural log).
 */
import { chi2Sf, kolmogorovSf, normTwoSided, roundHalfEven } from "./special.ts";

export interface TestValue {
  statistic: number;
  /** p-value for hypothesis tests, null for distances */
  pValue: number | null;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Index of the first element > x in sorted a (numpy searchsorted side="right"). */
export function upperBound(a: Float64Array, x: number, lo = 0, hi = a.length): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Largest ECDF gap as an integer numerator over n1·n2: max over the pooled
 * values v of |n2·#(a<=v) − n1·#(b<=v)|. Integer arithmetic keeps scipy's
 * rounding of d·lcm exact.
 */
function ksNumerator(a: Float64Array, b: Float64Array): number {
  const n1 = a.length, n2 = b.length;
  let i = 0, j = 0, best = 0;
  while (i < n1 || j < n2) {
    const v = j >= n2 || (i < n1 && a[i] <= b[j]) ? a[i] : b[j];
    while (i < n1 && a[i] <= v) i++;
    while (j < n2 && b[j] <= v) j++;
    const diff = Math.abs(i * n2 - j * n1);
    if (diff > best) best = diff;
  }
  return best;
}

/**
 * Probability that a uniformly random lattice path from (0,0) to (m,n) leaves
 * the band |x·ng − y·mg| < h, i.e. P(D >= h/lcm) under H0 (both samples from
 * one continuous distribution). Column-by-column dynamic programme of the
 * normalised path counts A(x,y)/C(x+y,y); O(m · band width).
 */
function ksExactTwoSided(n1: number, n2: number, h: number): number {
  let m = n1, n = n2;
  if (m < n) [m, n] = [n, m];
  const g = gcd(m, n);
  const mg = m / g, ng = n / g;
  const inside = (x: number, y: number) => Math.abs(x * ng - y * mg) < h;
  // col[y] = probability mass of inside paths reaching (x, y), normalised by C(x+y, y)
  let prev = new Float64Array(n + 1);
  let cur = new Float64Array(n + 1);
  for (let y = 0; y <= n; y++) prev[y] = inside(0, y) && (y === 0 || prev[y - 1] > 0) ? 1 : 0;
  for (let x = 1; x <= m; x++) {
    // y range where |x·ng − y·mg| < h
    const lo = Math.max(0, Math.floor((x * ng - h) / mg) + 1);
    const hi = Math.min(n, Math.ceil((x * ng + h) / mg) - 1);
    cur.fill(0);
    if (lo > hi) return 1;
    for (let y = lo; y <= hi; y++) {
      if (!inside(x, y)) continue;
      const left = prev[y];
      const down = y > 0 ? cur[y - 1] : 0;
      cur[y] = (left * x + down * y) / (x + y);
    }
    [prev, cur] = [cur, prev];
  }
  const p = 1 - prev[n];
  return p < 0 ? 0 : p > 1 ? 1 : p;
}

export type KsMethod = "auto" | "exact" | "asymp";

/**
 * Two-sample Kolmogorov–Smirnov test on sorted samples, as scipy's
 * `ks_2samp(a, b)` (two-sided): method "auto" is exact when both sizes are
 * at most 10,000, else Smirnov's asymptotic `kstwo.sf(d, round(n1·n2/(n1+n2)))`.
 */
export function ks2samp(a: Float64Array, b: Float64Array, method: KsMethod = "auto"): TestValue {
  const n1 = a.length, n2 = b.length;
  if (n1 === 0 || n2 === 0) throw new Error("ks2samp: empty sample");
  const num = ksNumerator(a, b);
  let d = num / n1 / n2;
  const g = gcd(n1, n2);
  let mode = method === "auto" ? (Math.max(n1, n2) <= 10000 ? "exact" : "asymp") : method;
  if (mode === "exact" && n1 / g >= 2147483647 / (n2 / g)) mode = "asymp";
  let p = NaN;
  if (mode === "exact") {
    const lcm = (n1 / g) * n2;
    const h = Math.round(num / g); // = round(d·lcm), exactly
    d = h / lcm;
    p = h === 0 ? 1 : ksExactTwoSided(n1, n2, h);
  }
  if (mode === "asymp") {
    const en = (n1 * n2) / (n1 + n2);
    p = kolmogorovSf(roundHalfEven(en), d);
  }
  return { statistic: d, pValue: Math.min(1, Math.max(0, p)) };
}

/**
 * Pearson's chi-square of observed counts against expected counts (scipy
 * `chisquare(f_obs, f_exp)`; df = k − 1). Callers scale expected to the
 * observed total.
 */
export function chiSquare(observed: ArrayLike<number>, expected: ArrayLike<number>): TestValue {
  const k = observed.length;
  if (k !== expected.length) throw new Error("chiSquare: length mismatch");
  let stat = 0;
  for (let i = 0; i < k; i++) {
    const e = expected[i];
    const diff = observed[i] - e;
    stat += (diff * diff) / e;
  }
  if (k < 2) return { statistic: stat, pValue: NaN };
  return { statistic: stat, pValue: chi2Sf(stat, k - 1) };
}

/**
 * The chi-square drift test on aligned category counts. Where every current
 * category is in the reference: Pearson's goodness of fit, expected = the
 * reference frequencies scaled to the current total (scipy `chisquare`, as
 * the reference script does; a category empty in both is left out). Where the
 * current has categories the reference never saw, that test has no expected
 * count for them (Evidently's p is then 0 outright), so the test is of
 * homogeneity over the 2 x k table instead (scipy `chi2_contingency`): a
 * current made of new categories is drift, a handful among thousands is not.
 */
export function chiSquareCounts(refCounts: ArrayLike<number>, curCounts: ArrayLike<number>): TestValue {
  let refTotal = 0, curTotal = 0, unseen = false;
  for (let i = 0; i < refCounts.length; i++) {
    refTotal += refCounts[i];
    curTotal += curCounts[i];
    if (refCounts[i] === 0 && curCounts[i] > 0) unseen = true;
  }
  if (unseen && refTotal > 0) return chiSquareHomogeneity(refCounts, curCounts, refTotal, curTotal);
  const obs: number[] = [], exp: number[] = [];
  for (let i = 0; i < refCounts.length; i++) {
    const e = (refCounts[i] / refTotal) * curTotal;
    if (e > 0) {
      obs.push(curCounts[i]);
      exp.push(e);
    }
  }
  let obsSum = 0, expSum = 0;
  for (let i = 0; i < obs.length; i++) {
    obsSum += obs[i];
    expSum += exp[i];
  }
  if (expSum > 0) { for (let i = 0; i < exp.length; i++) exp[i] = (exp[i] * obsSum) / expSum; }
  return chiSquare(obs, exp);
}

/**
 * Pearson's test of homogeneity of two count rows over the categories either
 * has (scipy `chi2_contingency` on the 2 x k table: df = k − 1, with Yates'
 * continuity correction when df = 1, as scipy's default).
 */
function chiSquareHomogeneity(
  ref: ArrayLike<number>,
  cur: ArrayLike<number>,
  refTotal: number,
  curTotal: number,
): TestValue {
  const n = refTotal + curTotal;
  let k = 0;
  for (let i = 0; i < ref.length; i++) if (ref[i] + cur[i] > 0) k++;
  if (k < 2 || curTotal === 0) return { statistic: 0, pValue: k < 2 ? NaN : 1 };
  const yates = k === 2;
  let stat = 0;
  for (let i = 0; i < ref.length; i++) {
    const column = ref[i] + cur[i];
    if (column === 0) continue;
    for (const [observed, rowTotal] of [[ref[i], refTotal], [cur[i], curTotal]]) {
      const expected = (rowTotal * column) / n;
      let diff = Math.abs(observed - expected);
      if (yates) diff = Math.max(0, diff - Math.min(0.5, diff));
      stat += (diff * diff) / expected;
    }
  }
  return { statistic: stat, pValue: chi2Sf(stat, k - 1) };
}

/** Mean and population standard deviation (numpy np.std, ddof=0), two-pass. */
export function meanStd(a: Float64Array): { mean: number; std: number } {
  const n = a.length;
  if (n === 0) return { mean: NaN, std: NaN };
  let s = 0;
  for (let i = 0; i < n; i++) s += a[i];
  const mean = s / n;
  let ss = 0, c = 0;
  for (let i = 0; i < n; i++) {
    const d = a[i] - mean;
    ss += d * d;
    c += d;
  }
  return { mean, std: Math.sqrt(Math.max(0, (ss - (c * c) / n) / n)) };
}

/** scipy `wasserstein_distance(a, b)` (1-D, unweighted) on sorted samples: ∫|F_a − F_b|. */
export function wassersteinSorted(a: Float64Array, b: Float64Array): number {
  const n1 = a.length, n2 = b.length;
  if (n1 === 0 || n2 === 0) throw new Error("wasserstein: empty sample");
  let i = 0, j = 0, total = 0;
  let v = Math.min(a[0], b[0]);
  while (i < n1 || j < n2) {
    while (i < n1 && a[i] <= v) i++;
    while (j < n2 && b[j] <= v) j++;
    if (i >= n1 && j >= n2) break;
    const next = j >= n2 || (i < n1 && a[i] <= b[j]) ? a[i] : b[j];
    total += Math.abs(i / n1 - j / n2) * (next - v);
    v = next;
  }
  return total;
}

/** Wasserstein distance divided by max(reference std, 0.001), as Evidently norms it. */
export function wassersteinNormed(refSorted: Float64Array, curSorted: Float64Array, refStd?: number): number {
  const std = refStd ?? meanStd(refSorted).std;
  return wassersteinSorted(refSorted, curSorted) / Math.max(std, 0.001);
}

/** scipy `distance.jensenshannon(p, q)` with the natural log; p and q are normalised here. */
export function jensenShannon(p: ArrayLike<number>, q: ArrayLike<number>): number {
  let ps = 0, qs = 0;
  for (let i = 0; i < p.length; i++) {
    ps += p[i];
    qs += q[i];
  }
  let js = 0;
  for (let i = 0; i < p.length; i++) {
    const pi = p[i] / ps, qi = q[i] / qs;
    const m = (pi + qi) / 2;
    if (pi > 0) js += pi * Math.log(pi / m);
    if (qi > 0) js += qi * Math.log(qi / m);
  }
  return Math.sqrt(Math.max(0, js / 2));
}

/**
 * Two-proportion Z-test (Evidently's `z` test): the first of the sorted
 * categories is "success"; pooled standard error; two-sided p-value. Counts
 * are (reference successes, reference n, current successes, current n).
 */
export function zTestProportions(refHits: number, refN: number, curHits: number, curN: number): TestValue {
  const p1 = refHits / refN, p2 = curHits / curN;
  const pooled = (refHits + curHits) / (refN + curN);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / refN + 1 / curN));
  if (se === 0) return { statistic: 0, pValue: 1 };
  const z = (p1 - p2) / se;
  return { statistic: z, pValue: normTwoSided(z) };
}

/** Empty-bin share used by PSI (and nowhere else): 0.0001, as Evidently's binning fills zeros. */
const PSI_EPSILON = 1e-4;

/**
 * Population Stability Index Σ (cur − ref)·ln(cur/ref) over bin shares,
 * where an empty bin's share is replaced by `epsilon`.
 */
export function psi(
  refCounts: ArrayLike<number>,
  curCounts: ArrayLike<number>,
  epsilon = PSI_EPSILON,
): number {
  let rs = 0, cs = 0;
  for (let i = 0; i < refCounts.length; i++) {
    rs += refCounts[i];
    cs += curCounts[i];
  }
  let out = 0;
  for (let i = 0; i < refCounts.length; i++) {
    const r = refCounts[i] > 0 ? refCounts[i] / rs : epsilon;
    const c = curCounts[i] > 0 ? curCounts[i] / cs : epsilon;
    out += (c - r) * Math.log(c / r);
  }
  return out;
}

/** numpy's default (linear) quantile of a sorted sample. */
export function quantileSorted(a: Float64Array, q: number): number {
  const pos = (a.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, a.length - 1);
  return a[lo] + (a[hi] - a[lo]) * (pos - lo);
}

/**
 * PSI bins of a numeric column: the distinct reference quantiles at 1/k … (k−1)/k
 * as interior edges; bin i holds edge[i−1] < x <= edge[i], the outer bins are open.
 */
export function quantileEdges(refSorted: Float64Array, bins: number): Float64Array {
  const edges: number[] = [];
  for (let i = 1; i < bins; i++) {
    const e = quantileSorted(refSorted, i / bins);
    if (edges.length === 0 || e > edges[edges.length - 1]) edges.push(e);
  }
  return Float64Array.from(edges);
}

/** Counts of a sorted sample in the bins the interior edges define (edges.length + 1 bins). */
export function binCountsSorted(sorted: Float64Array, edges: Float64Array): Float64Array {
  const out = new Float64Array(edges.length + 1);
  let prev = 0;
  for (let i = 0; i < edges.length; i++) {
    const at = upperBound(sorted, edges[i], prev);
    out[i] = at - prev;
    prev = at;
  }
  out[edges.length] = sorted.length - prev;
  return out;
}
