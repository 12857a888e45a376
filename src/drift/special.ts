/**
 * Special functions the drift tests need, in plain doubles: log-gamma, the
 * regularized upper incomplete gamma (chi-square survival), erfc (normal
 * tails), and the two-sided one-sample Kolmogorov distribution that scipy's
 * `kstwo.sf` computes (Simard & L'Ecuyer's choice of method by n and x).
 */

const LANCZOS_G = 7;
const LANCZOS = [
  0.99999999999980993,
  676.5203681218851,
  -1259.1392167224028,
  771.32342877765313,
  -176.61502916214059,
  12.507343278686905,
  -0.13857109526572012,
  9.9843695780195716e-6,
  1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos, about 15 significant digits). */
function lgamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lgamma(1 - x);
  x -= 1;
  let a = LANCZOS[0];
  const t = x + LANCZOS_G + 0.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** ln n! (exact table for small n). */
function logFactorial(n: number): number {
  if (n < 2) return 0;
  if (n < 50) {
    let s = 0;
    for (let i = 2; i <= n; i++) s += Math.log(i);
    return s;
  }
  return lgamma(n + 1);
}

const EPS = 1e-16;
const TINY = 1e-300;

/** Regularized lower incomplete gamma P(a, x) by its series (x < a + 1). */
function gammaPSeries(a: number, x: number): number {
  let ap = a;
  let sum = 1 / a;
  let del = sum;
  for (let n = 0; n < 100000; n++) {
    ap += 1;
    del *= x / ap;
    sum += del;
    if (Math.abs(del) < Math.abs(sum) * EPS) break;
  }
  return sum * Math.exp(-x + a * Math.log(x) - lgamma(a));
}

/** Regularized upper incomplete gamma Q(a, x) by Lentz's continued fraction (x >= a + 1). */
function gammaQFraction(a: number, x: number): number {
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 100000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS) break;
  }
  return Math.exp(-x + a * Math.log(x) - lgamma(a)) * h;
}

/** Q(a, x) = Γ(a, x) / Γ(a). */
function gammaQ(a: number, x: number): number {
  if (!(a > 0) || Number.isNaN(x)) return NaN;
  if (x <= 0) return 1;
  if (x === Infinity) return 0;
  return x < a + 1 ? 1 - gammaPSeries(a, x) : gammaQFraction(a, x);
}

/** Survival function of the chi-square distribution with `df` degrees of freedom. */
export function chi2Sf(x: number, df: number): number {
  if (Number.isNaN(x)) return NaN;
  return gammaQ(df / 2, x / 2);
}

/** Complementary error function for x >= 0 via Q(1/2, x²); symmetric extension below 0. */
function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return 2 - erfc(-x);
  return gammaQ(0.5, x * x);
}

/** Two-sided standard-normal tail: 2·(1 − Φ(|z|)). */
export function normTwoSided(z: number): number {
  return erfc(Math.abs(z) / Math.SQRT2);
}

/** numpy's round (half to even). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

const clip01 = (p: number) => (p < 0 ? 0 : p > 1 ? 1 : p);

/**
 * One-sided Smirnov survival P(D+_n >= x): the Smirnov / Birnbaum–Tingey sum,
 * in logs; beyond n = 10^6 the exp(-(6nx+1)²/18n) approximation.
 */
function smirnovSf(n: number, x: number): number {
  if (!(n > 0) || !(x >= 0 && x <= 1)) return NaN;
  if (x === 0) return 1;
  if (x === 1) return 0;
  if (n > 1_000_000) {
    const logp = -Math.pow(6 * n * x + 1, 2) / 18 / n;
    return clip01(Math.exp(logp));
  }
  const last = Math.min(Math.floor(n * (1 - x)), n - 1);
  let logC = 0; // ln C(n, j)
  let sum = 0;
  for (let j = 0; j <= last; j++) {
    if (j > 0) logC += Math.log((n - j + 1) / j);
    const evn = x + j / n;
    const omevn = 1 - evn;
    if (omevn <= 0) continue;
    const t = logC + (j - 1) * Math.log(evn) + (n - j) * Math.log(omevn);
    if (t > -745) sum += Math.exp(t);
  }
  return clip01(sum * x);
}

/** ln(n! / n^n) */
function logFactorialOverPower(n: number): number {
  return logFactorial(n) - n * Math.log(n);
}

/** P(D_n <= d) by Durbin's matrix as Marsaglia, Tsang and Wang compute it (with exponent tracking). */
function kolmogorovCdfDurbin(n: number, d: number): number {
  if (d >= 1) return 1;
  const nd = n * d;
  if (nd <= 0.5) return 0;
  const k = Math.ceil(nd);
  const h = k - nd;
  const m = 2 * k - 1;
  const H = new Float64Array(m * m);
  const invFact = new Float64Array(m + 1);
  invFact[0] = 1;
  for (let i = 1; i <= m; i++) invFact[i] = invFact[i - 1] / i;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) {
      if (i - j + 1 >= 0) H[i * m + j] = invFact[i - j + 1];
    }
  }
  for (let i = 0; i < m; i++) {
    H[i * m] -= Math.pow(h, i + 1) * invFact[i + 1];
    H[(m - 1) * m + i] -= Math.pow(h, m - i) * invFact[m - i];
  }
  H[(m - 1) * m] += (2 * h - 1 > 0 ? Math.pow(2 * h - 1, m) : 0) * invFact[m];

  // Q = H^n with a separate base-2 exponent
  const matmul = (A: Float64Array, B: Float64Array): Float64Array => {
    const C = new Float64Array(m * m);
    for (let i = 0; i < m; i++) {
      for (let l = 0; l < m; l++) {
        const a = A[i * m + l];
        if (a === 0) continue;
        const bo = l * m, co = i * m;
        for (let j = 0; j < m; j++) C[co + j] += a * B[bo + j];
      }
    }
    return C;
  };
  const SCALE = 2 ** 128;
  let P: Float64Array | undefined; // undefined = identity
  let pExp = 0;
  let Hp: Float64Array = H;
  let hExp = 0;
  let nn = n;
  while (nn > 0) {
    if (nn % 2) {
      P = P ? matmul(P, Hp) : Hp.slice();
      pExp += hExp;
      if (Math.abs(P[(k - 1) * m + (k - 1)]) > SCALE) {
        for (let i = 0; i < P.length; i++) P[i] /= SCALE;
        pExp += 128;
      }
    }
    nn = Math.floor(nn / 2);
    if (nn > 0) {
      Hp = matmul(Hp, Hp);
      hExp *= 2;
      if (Math.abs(Hp[(k - 1) * m + (k - 1)]) > SCALE) {
        for (let i = 0; i < Hp.length; i++) Hp[i] /= SCALE;
        hExp += 128;
      }
    }
  }
  let p = P![(k - 1) * m + (k - 1)];
  for (let i = 1; i <= n; i++) {
    p = (i * p) / n;
    if (Math.abs(p) < 2 ** -128) {
      p *= SCALE;
      pExp -= 128;
    }
  }
  return clip01(p * Math.pow(2, pExp));
}

/** Pelz–Good asymptotic series for P(D_n <= x). */
function kolmogorovCdfPelzGood(n: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const PI2 = Math.PI * Math.PI, PI4 = PI2 * PI2, PI6 = PI4 * PI2;
  const SQRT2PI = Math.sqrt(2 * Math.PI);
  const z = Math.sqrt(n) * x;
  const z2 = z * z, z3 = z2 * z, z4 = z2 * z2, z6 = z4 * z2;
  const qlog = -PI2 / 8 / z2;
  if (qlog < -708) return 0;
  let q = Math.exp(qlog);
  const k1a = -z2, k1b = PI2 / 4;
  const k2a = 6 * z6 + 2 * z4, k2b = ((2 * z4 - 5 * z2) * PI2) / 4, k2c = (PI4 * (1 - 2 * z2)) / 16;
  const k3d = (PI6 * (5 - 30 * z2)) / 64;
  const k3c = (PI4 * (-60 * z2 + 212 * z4)) / 16;
  const k3b = (PI2 * (135 * z4 - 96 * z6)) / 4;
  const k3a = -30 * z6 - 90 * z4 * z4;
  const K = [0, 0, 0, 0];
  const maxk = Math.ceil((16 * z) / Math.PI);
  for (let k = maxk; k >= 1; k--) {
    const m = 2 * k - 1;
    const m2 = m * m, m4 = m2 * m2, m6 = m4 * m2;
    const qp = Math.pow(q, 8 * k);
    const c = [1, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4, k3a + k3b * m2 + k3c * m4 + k3d * m6];
    for (let i = 0; i < 4; i++) K[i] = K[i] * qp + c[i];
  }
  const div = [z, 6 * z4, 72 * z6 * z, 6480 * z6 * z4];
  for (let i = 0; i < 4; i++) K[i] = (K[i] * q * SQRT2PI) / div[i];
  q = Math.exp(-PI2 / 2 / z2);
  let k2extra = 0, k3extra = 0;
  const sqrt3z = Math.sqrt(3) * z;
  for (let k = maxk; k >= 1; k--) {
    const k2 = k * k;
    const qp = Math.pow(q, k2);
    k2extra += k2 * qp;
    const kpi = Math.PI * k;
    k3extra += (sqrt3z + kpi) * (sqrt3z - kpi) * k2 * qp;
  }
  K[2] += (k2extra * PI2 * SQRT2PI) / (-36 * z3);
  K[3] += (k3extra * PI2 * SQRT2PI) / (216 * z6);
  let sum = 0;
  for (let i = 0; i < 4; i++) sum += K[i] / Math.pow(n, i / 2);
  return sum;
}

/**
 * Survival P(D_n >= x) of the two-sided one-sample KS statistic (scipy's
 * `kstwo.sf(x, n)`), choosing the method by n and n·x² as Simard & L'Ecuyer
 * do. Where scipy uses Pomeranz's recursion (n <= 140, 0.754693 < n·x² <= 4)
 * this uses Durbin's matrix, which computes the same exact probability.
 */
export function kolmogorovSf(n: number, x: number): number {
  if (!(n > 0) || Number.isNaN(x)) return NaN;
  if (x >= 1) return 0;
  if (x <= 0) return 1;
  const t = n * x;
  if (t <= 1) {
    if (t <= 0.5) return 1;
    const cdf = Math.exp(logFactorialOverPower(n) + n * Math.log(2 * t - 1));
    return clip01(1 - cdf);
  }
  if (t >= n - 1) return clip01(2 * Math.pow(1 - x, n));
  if (x >= 0.5) return clip01(2 * smirnovSf(n, x));
  const nx2 = t * x;
  if (n <= 140) {
    if (nx2 <= 4) return clip01(1 - kolmogorovCdfDurbin(n, x));
    return clip01(2 * smirnovSf(n, x));
  }
  if (nx2 >= 370) return 0;
  if (nx2 >= 2.2) return clip01(2 * smirnovSf(n, x));
  let cdf: number;
  if (nx2 >= 18) cdf = 1;
  else if (n <= 100000 && n * Math.pow(x, 1.5) <= 1.4) cdf = kolmogorovCdfDurbin(n, x);
  else cdf = kolmogorovCdfPelzGood(n, x);
  return clip01(1 - cdf);
}
