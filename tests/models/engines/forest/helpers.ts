/** Small seeded data sets for the forest tests (generated, never read from disk). */
import type { Matrix } from "../../../../src/models/types.ts";
import { Rng } from "../../../../src/core/random.ts";

export function gaussian(rng: Rng): number {
  const u = 1 - rng.next(), v = rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

export function fromRows(rows: number[][]): Matrix {
  const cols = rows[0].length;
  return { data: Float64Array.from(rows.flat()), rows: rows.length, cols };
}

/** XOR of two uniform features' signs, plus `noise` irrelevant columns. */
export function xor(n: number, seed: number, noise = 0): { X: Matrix; y: Float64Array } {
  const rng = new Rng(seed);
  const rows: number[][] = [], y: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = rng.next() * 2 - 1, b = rng.next() * 2 - 1;
    rows.push([a, b, ...Array.from({ length: noise }, () => rng.next())]);
    y.push((a > 0) !== (b > 0) ? 1 : 0);
  }
  return { X: fromRows(rows), y: Float64Array.from(y) };
}

/** k Gaussian blobs in 2-D, far apart (separable), plus `noise` columns. */
export function blobs(n: number, k: number, seed: number, noise = 0): { X: Matrix; y: Float64Array } {
  const rng = new Rng(seed);
  const rows: number[][] = [], y: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % k;
    rows.push([
      c * 10 + gaussian(rng),
      (c % 2) * 10 + gaussian(rng),
      ...Array.from({ length: noise }, () => gaussian(rng)),
    ]);
    y.push(c);
  }
  return { X: fromRows(rows), y: Float64Array.from(y) };
}

/** A noisy linear-ish binary problem with `p` columns, some informative. */
export function linear(n: number, p: number, seed: number): { X: Matrix; y: Float64Array } {
  const rng = new Rng(seed);
  const rows: number[][] = [], y: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = Array.from({ length: p }, () => gaussian(rng));
    const z = r[0] + 0.8 * r[1] - 0.6 * (p > 2 ? r[2] : 0) + 0.5 * gaussian(rng);
    rows.push(r);
    y.push(z > 0 ? 1 : 0);
  }
  return { X: fromRows(rows), y: Float64Array.from(y) };
}

export function accuracy(pred: Float64Array, y: Float64Array): number {
  let ok = 0;
  for (let i = 0; i < y.length; i++) if (pred[i] === y[i]) ok++;
  return ok / y.length;
}
