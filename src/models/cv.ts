/**
 * Seeded, stratified splits: a train/validation split and k folds. Rows are
 * grouped by stratum (class index; all rows one stratum for regression),
 * shuffled with a seeded PRNG, and dealt out so every part keeps the class
 * shares. Same labels and seed, same indices.
 */
import { Rng } from "../core/random.ts";
import type { ModelParams } from "../config/schema.ts";

function shuffle(idx: number[], rng: Rng): number[] {
  for (let i = idx.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx;
}

function strata(labels: ArrayLike<number> | undefined, n: number): number[][] {
  if (!labels) return [Array.from({ length: n }, (_, i) => i)];
  const groups = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const g = groups.get(labels[i]);
    if (g) g.push(i);
    else groups.set(labels[i], [i]);
  }
  return [...groups.entries()].sort((a, b) => a[0] - b[0]).map(([, g]) => g);
}

export class SplitError extends Error {}

/**
 * Stratified train/validation split. `labels` are class indices (omit for
 * regression). Each class with at least 2 rows puts at least one row on each
 * side; throws SplitError when a side would be empty or a class has one row.
 */
export function trainValidationSplit(
  n: number,
  fraction: number,
  seed: number,
  labels?: ArrayLike<number>,
  /** the class names behind the indices, for messages */
  names?: readonly string[],
): { train: number[]; validation: number[] } {
  const rng = new Rng(seed);
  const train: number[] = [], validation: number[] = [];
  for (const group of strata(labels, n)) {
    if (labels && group.length < 2) {
      throw new SplitError(
        `class ${
          names ? JSON.stringify(names[labels[group[0]]]) : labels[group[0]]
        } has only ${group.length} row; need at least 2 to split`,
      );
    }
    const g = shuffle([...group], rng);
    let k = Math.round(g.length * fraction);
    k = Math.min(g.length - 1, Math.max(1, k));
    // a loop, not push(...slice): spreading a large class overflows the call stack (~400,000 rows)
    for (let j = 0; j < g.length; j++) (j < k ? validation : train).push(g[j]);
  }
  if (train.length < 2 || validation.length < 1) {
    throw new SplitError(`${n} rows is too few to split into training and validation data`);
  }
  return { train: train.sort((a, b) => a - b), validation: validation.sort((a, b) => a - b) };
}

/**
 * Stratified k-fold: each row lands in exactly one test fold; the rows of each
 * class are dealt round-robin after a seeded shuffle, so fold class counts
 * differ by at most one.
 */
export function stratifiedKFold(
  n: number,
  k: number,
  seed: number,
  labels?: ArrayLike<number>,
): { train: number[]; test: number[] }[] {
  if (!Number.isInteger(k) || k < 2) {
    throw new SplitError(`cross-validation needs at least 2 folds, got ${k}`);
  }
  if (n < k) throw new SplitError(`${n} rows is too few for ${k} folds`);
  const rng = new Rng(seed);
  const fold = new Int32Array(n);
  let start = 0;
  for (const group of strata(labels, n)) {
    const g = shuffle([...group], rng);
    for (let j = 0; j < g.length; j++) fold[g[j]] = (start + j) % k;
    start = (start + g.length) % k; // keep fold sizes balanced across classes
  }
  const out: { train: number[]; test: number[] }[] = [];
  for (let f = 0; f < k; f++) {
    const train: number[] = [], test: number[] = [];
    for (let i = 0; i < n; i++) (fold[i] === f ? test : train).push(i);
    out.push({ train, test });
  }
  return out;
}

/** Stratum labels for splitting: the target's category, or none when it looks continuous. */
export function splitStrata(
  values: ArrayLike<unknown>,
  task: ModelParams["task"],
): { ids: Int32Array; names: string[] } | undefined {
  if (task === "regression") return undefined;
  const ids = new Map<string, number>();
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const key = String(values[i]);
    let id = ids.get(key);
    if (id === undefined) ids.set(key, id = ids.size);
    out[i] = id;
  }
  if (task === "auto" && ids.size > 20) return undefined;
  return { ids: out, names: [...ids.keys()] };
}
