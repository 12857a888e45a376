/**
 * JIT warm-up for the tree builder: a fresh thread grows its first few trees
 * 5-8 times slower than once V8 has optimised the builder. `warmUpBuilder()`
 * grows a few small trees on fixed synthetic data (one-hot-like, continuous and
 * partly missing columns, two classes, gini) so a worker started by `warmUp`
 * is compiled before the fit that uses it. It returns the node count grown (for tests).
 */
import { Rng } from "../../data/random.ts";
import { binMatrix } from "./binning.ts";
import { CRITERION_GINI, type TrainData, TreeBuilder } from "./builder.ts";

export const WARM_ROWS = 800;
export const WARM_COLS = 24;
export const WARM_TREES = 4;

export function warmUpBuilder(trees = WARM_TREES): number {
  const n = WARM_ROWS, p = WARM_COLS;
  const rng = new Rng(12345);
  const X = new Float64Array(n * p);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let z = 0;
    for (let f = 0; f < p; f++) {
      let v: number;
      if (f % 3 === 0) v = rng.next() < 0.3 ? 1 : 0; // one-hot-like
      else if (f % 3 === 1) v = Math.round(rng.next() * 40); // few distinct values
      else v = rng.next() < 0.05 ? NaN : rng.next() * 100; // continuous, some missing
      X[i * p + f] = v;
      if (f < 6 && v === v) z += f % 3 === 0 ? v * 2 : v / 50;
    }
    y[i] = z + rng.next() * 2 > 3 ? 1 : 0;
  }
  const data: TrainData = { ...binMatrix({ rows: n, cols: p, data: X }), nClasses: 2, yClass: y };
  const builder = new TreeBuilder(data, {
    criterion: CRITERION_GINI,
    maxDepth: Infinity,
    minSamplesSplit: 2,
    minSamplesLeaf: 1,
    minImpurityDecrease: 0,
    mtry: Math.round(Math.sqrt(p)),
    bootstrap: true,
    nDraw: n,
    balancedSubsample: false,
    randomState: 0,
  });
  let nodes = 0;
  for (let t = 0; t < trees; t++) nodes += builder.build(t).nNodes;
  return nodes;
}
