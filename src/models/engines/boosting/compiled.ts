/**
 * One row's raw scores by code compiled from the ensemble: each tree becomes
 * nested conditional expressions whose thresholds, feature offsets, category
 * sets and leaf values are literals, so V8 compiles the walk to straight-line
 * compares and jumps instead of the array lookups of rawRowInto (node ->
 * feature, threshold, child, categorical start, ... per level). The serving
 * path scores one record at a time; on the bench:serve model (28 trees of 31
 * leaves, 10 categorical features) a row took 1.1-1.2 µs against 2.0-2.5 µs
 * (docs/benchmarks.md, "Serving").
 *
 * The same sums as rawRowInto, bit for bit: the baseline, then each tree's
 * leaf value added to its output in tree order; a numeric node sends NaN by
 * `nanRight`, a set node tests the same bit of the same word
 * (tests/models/engines/boosting/compiled_test.ts checks every kind of value).
 * Only numbers go into the source, each written by String (which reads back
 * as the same double) or as an integer index checked against the model, so no
 * model file can put code in it. Ensembles too large or too deep to compile
 * well (the source would be megabytes, or the nesting deeper than V8's parser
 * takes comfortably) keep rawRowInto.
 */
import { type FlatBoost, rawRowInto, rawScores } from "./flat.ts";

/** Adds one row's raw scores (x[xo..]) into out[oo .. oo + width), after setting them to the baseline. */
export type RowScorer = (x: ArrayLike<number>, xo: number, out: Float64Array, oo: number) => void;

/** nodes in one generated function: TurboFan optimizes functions up to a bytecode size, so trees are grouped */
const NODES_PER_FUNCTION = 400;
/** past these the ensemble is walked by rawRowInto (compiling would take long and the code be large) */
const MAX_NODES = 200_000;
const MAX_DEPTH = 64;

const scorers = new WeakMap<FlatBoost, RowScorer>();

/** The ensemble's row scorer, compiled on first use (and cached per model). */
export function rowScorerOf(fb: FlatBoost): RowScorer {
  let s = scorers.get(fb);
  if (!s) scorers.set(fb, s = compileRowScorer(fb));
  return s;
}

/**
 * Raw scores (rows x width, row-major) of a row-major matrix, as rawScores
 * gives them, bit for bit. A model with set splits is scored row by row by its
 * compiled code (rawScores walks it row by row too: its four-rows-abreast walk
 * is for numeric splits); a 10,000-record batch of the bench:serve model took
 * 17 ms that way against ~11 ms compiled.
 */
export function scoreRows(fb: FlatBoost, data: ArrayLike<number>, rows: number): Float64Array {
  if (!fb.catStart) return rawScores(fb, data, rows);
  const W = fb.width, p = fb.nFeatures, out = new Float64Array(rows * W), score = rowScorerOf(fb);
  for (let r = 0; r < rows; r++) score(data, r * p, out, r * W);
  return out;
}

/** A double as JavaScript source that evaluates to exactly it. */
function literal(x: number): string {
  if (Object.is(x, -0)) return "-0";
  if (Number.isFinite(x)) return String(x);
  return x !== x ? "NaN" : x > 0 ? "Infinity" : "-Infinity";
}

/** The deepest node of the tree rooted at `root` (its root at depth 0). */
function depthOf(fb: FlatBoost, root: number): number {
  let deepest = 0;
  const stack = [root, 0];
  while (stack.length) {
    const d = stack.pop()!, node = stack.pop()!;
    if (d > deepest) deepest = d;
    if (fb.feature[node] >= 0) stack.push(fb.child[node], d + 1, fb.child[node] + 1, d + 1);
  }
  return deepest;
}

export function compileRowScorer(fb: FlatBoost): RowScorer {
  const { feature, threshold, child, nanRight, value, roots, width: W, baseline } = fb;
  const walk: RowScorer = (x, xo, out, oo) => rawRowInto(fb, x, xo, out, oo);
  if (feature.length > MAX_NODES) return walk;
  for (let t = 0; t < roots.length; t++) if (depthOf(fb, roots[t]) > MAX_DEPTH) return walk;
  const catStart = fb.catStart, catWords = fb.catWords, catBits = fb.catBits;

  /** The expression of the subtree at `node`: its leaf value, given x and xo in scope. */
  const subtree = (node: number): string => {
    const f = feature[node];
    if (f < 0) return literal(value[node]);
    if (!Number.isInteger(f) || f >= fb.nFeatures) {
      throw new Error(`boosting: node ${node} reads feature ${f}`);
    }
    const left = subtree(child[node]), right = subtree(child[node] + 1);
    const xf = `x[xo+${f}]`;
    if (!catStart || catStart[node] < 0) {
      // rawRowInto: v <= th left, v > th right, NaN (both false) by nanRight
      const th = literal(threshold[node]);
      return nanRight[node] ? `(${xf}<=${th}?${left}:${right})` : `(${xf}>${th}?${right}:${left})`;
    }
    // treeValueCat: a code v >= 0 goes left iff word floor(v / 32) < catWords holds bit v & 31; NaN and
    // negative codes follow nanRight
    const words = catWords![node], start = catStart[node];
    const word = words === 1 ? String(catBits![start]) : `B[${start}+Math.floor(v/32)]`;
    const missing = nanRight[node] ? right : left;
    return `((v=${xf})>=0?((v<${32 * words}&&((${word}>>>(v&31))&1)===1)?${left}:${right}):${missing})`;
  };

  const parts: RowScorer[] = [];
  let body = "", nodes = 0;
  const emit = () => {
    if (!body) return;
    const make = new Function("B", `"use strict";return function(x,xo,out,oo){let v;${body}};`);
    parts.push(make(catBits) as RowScorer);
    body = "";
    nodes = 0;
  };
  for (let t = 0; t < roots.length; t++) {
    const size = (t + 1 < roots.length ? roots[t + 1] : feature.length) - roots[t];
    if (nodes > 0 && nodes + size > NODES_PER_FUNCTION) emit();
    body += `out[oo+${t % W}]+=${subtree(roots[t])};`;
    nodes += size;
  }
  emit();
  return (x, xo, out, oo) => {
    for (let k = 0; k < W; k++) out[oo + k] = baseline[k];
    for (let i = 0; i < parts.length; i++) parts[i](x, xo, out, oo);
  };
}
