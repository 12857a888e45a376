import assert, { equal } from "node:assert/strict";
import {
  binCountsSorted,
  chiSquare,
  chiSquareCounts,
  jensenShannon,
  ks2samp,
  psi,
  quantileEdges,
  wassersteinNormed,
  wassersteinSorted,
  zTestProportions,
} from "../../src/drift/stats.ts";
import { chi2Sf, kolmogorovSf, roundHalfEven } from "../../src/drift/special.ts";

// Values computed by scipy 1.10 (tests/drift/fixtures/make_fixtures.py).
const FIX = JSON.parse(Deno.readTextFileSync(new URL("./fixtures/stats.json", import.meta.url)));

type Spec = {
  values?: number[];
  gen?: { n: number; seed: number; scale: number; shift: number; decimals: number | null };
};

/** The fixture script's Lehmer generator, same integer arithmetic. */
export function sample(s: Spec): Float64Array {
  if (s.values) return Float64Array.from(s.values);
  const g = s.gen!;
  const out = new Float64Array(g.n);
  let x = g.seed;
  for (let i = 0; i < g.n; i++) {
    x = (x * 48271) % 2147483647;
    let v = (x / 2147483647) * g.scale + g.shift;
    if (g.decimals !== null) v = Math.floor(v * 10 ** g.decimals) / 10 ** g.decimals;
    out[i] = v;
  }
  return out;
}
const sorted = (s: Spec) => sample(s).sort();

function close(actual: number | null, expected: number, tol = 1e-6, what = "") {
  if (actual === null) throw new Error(`${what}: null`);
  assert(Math.abs(actual - expected) <= tol, `${what}: got ${actual}, scipy ${expected}`);
}

Deno.test("ks2samp matches scipy (exact and asymptotic, ties, constants)", () => {
  for (const c of FIX.ks) {
    const r = ks2samp(sorted(c.a), sorted(c.b));
    close(r.statistic, c.statistic, 1e-9, `${c.name} statistic`);
    close(r.pValue, c.p_value, 1e-6, `${c.name} p`);
  }
});

Deno.test("ks2samp is symmetric in its samples", () => {
  for (const c of FIX.ks) {
    const a = ks2samp(sorted(c.a), sorted(c.b)), b = ks2samp(sorted(c.b), sorted(c.a));
    close(a.pValue, b.pValue!, 1e-12, c.name);
  }
});

Deno.test("kstwo survival matches scipy in every regime", () => {
  for (const c of FIX.kstwo) close(kolmogorovSf(c.n, c.x), c.sf, 1e-6, `kstwo.sf(${c.x}, ${c.n})`);
});

Deno.test("chi-square survival and test match scipy, with empty and new categories", () => {
  for (const c of FIX.chi2sf) close(chi2Sf(c.x, c.df), c.sf, 1e-9, `chi2.sf(${c.x}, ${c.df})`);
  for (const c of FIX.chisquare) {
    const r = chiSquareCounts(c.ref, c.cur);
    close(r.statistic, c.statistic, 1e-6 * Math.max(1, c.statistic), `${c.name} statistic`);
    close(r.pValue, c.p_value, 1e-6, `${c.name} p`);
  }
  equal(chiSquare([5, 5], [5, 5]).statistic, 0);
  equal(chiSquare([5, 5], [5, 5]).pValue, 1);
});

Deno.test("Jensen-Shannon distance matches scipy (natural log), zero when equal, bounded by sqrt(ln 2)", () => {
  for (const c of FIX.jensenshannon) close(jensenShannon(c.ref, c.cur), c.distance, 1e-9, c.name);
  equal(jensenShannon([1, 2, 3], [2, 4, 6]), 0);
  close(jensenShannon([1, 0], [0, 1]), Math.sqrt(Math.LN2), 1e-12, "disjoint");
});

Deno.test("Wasserstein distance and its normed form match scipy", () => {
  for (const c of FIX.wasserstein) {
    const a = sorted(c.a), b = sorted(c.b);
    close(wassersteinSorted(a, b), c.distance, 1e-9, c.name);
    close(wassersteinNormed(a, b), c.normed, 1e-6, `${c.name} normed`);
  }
  equal(wassersteinSorted(Float64Array.of(1, 2, 3), Float64Array.of(1, 2, 3)), 0);
});

Deno.test("Z-test for proportions matches the formula with scipy's normal tail", () => {
  for (const c of FIX.z) {
    const r = zTestProportions(c.ref_hits, c.ref_n, c.cur_hits, c.cur_n);
    close(r.statistic, c.statistic, 1e-9, "z");
    close(r.pValue, c.p_value, 1e-9, "z p");
  }
  equal(zTestProportions(0, 10, 0, 10).pValue, 1); // one value everywhere
});

Deno.test("PSI with reference-quantile bins and epsilon matches numpy", () => {
  for (const c of FIX.psi) {
    const a = sorted(c.a), b = sorted(c.b);
    const edges = quantileEdges(a, 10);
    equal(edges.length, c.edges.length, `${c.name} edges`);
    edges.forEach((e, i) => close(e, c.edges[i], 1e-12, `${c.name} edge ${i}`));
    const rc = binCountsSorted(a, edges), cc = binCountsSorted(b, edges);
    equal([...rc].join(), c.ref_counts.join(), `${c.name} ref counts`);
    equal([...cc].join(), c.cur_counts.join(), `${c.name} cur counts`);
    close(psi(rc, cc), c.psi, 1e-9, c.name);
  }
  equal(psi([1, 2, 3], [2, 4, 6]), 0);
});

Deno.test("roundHalfEven rounds like numpy", () => {
  equal(roundHalfEven(2.5), 2);
  equal(roundHalfEven(3.5), 4);
  equal(roundHalfEven(10000.5), 10000);
  equal(roundHalfEven(2.4), 2);
});
