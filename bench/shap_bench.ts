/**
 * Explanation latency (deno bench): exact TreeSHAP of one row through a forest
 * of 100 trees of depth <= 6 and through a gradient-boosting model of 100
 * trees of <= 31 leaves, both on 20 features and trained here on seeded
 * synthetic data. Each is timed with leaf tables (what explain uses) and
 * with Algorithm 2 alone (`tableBudget: 0`, the method before tables), on one
 * repeated row and on a different row each call; the tree-path (Saabas)
 * attributions alongside for scale.
 *   deno bench --allow-read bench/shap_bench.ts
 * Target: one row through 100 trees of depth 6 < 1 ms.
 */
import { RandomForestClassifier } from "../src/models/engines/forest/index.ts";
import { decodeForest } from "../src/models/engines/forest/serialize.ts";
import { explainRows } from "../src/models/engines/forest/explain.ts";
import { forestExplainer, forestShapTree, shapForest } from "../src/models/engines/forest/shap.ts";
import { GradientBoostingClassifier } from "../src/models/engines/boosting/index.ts";
import { decodeBoost } from "../src/models/engines/boosting/serialize.ts";
import { boostExplainer, boostShapTree, shapBoost } from "../src/models/engines/boosting/shap.ts";
import { TreeShap } from "../src/models/shap/treeshap.ts";
import { Rng } from "../src/core/random.ts";

const P = 20;
function synth(n: number, seed: number) {
  const rng = new Rng(seed);
  const data = new Float64Array(n * P), y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let z = 0;
    for (let f = 0; f < P; f++) {
      const v = rng.next() * 2 - 1;
      data[i * P + f] = v;
      if (f < 8) z += (f % 2 ? 1 : -1) * v * (1 + f / 8);
    }
    z += data[i * P] * data[i * P + 1] * 2 + (rng.next() - 0.5);
    y[i] = z > 0 ? 1 : 0;
  }
  return { X: { data, rows: n, cols: P }, y };
}

const train = synth(10_000, 1);
const rf = new RandomForestClassifier({ n_estimators: 100, max_depth: 6, random_state: 0 });
await rf.fit(train.X, train.y);
const ff = decodeForest(rf.toBytes()).forest;
const stats = rf.stats();
const gb = new GradientBoostingClassifier({
  max_iter: 100,
  max_leaf_nodes: 31,
  early_stopping: false,
  random_state: 0,
});
await gb.fit(train.X, train.y);
const fb = decodeBoost(gb.toBytes()).model;
const gstats = gb.stats();

let t0 = performance.now();
const ts = forestExplainer(ff);
const forestBuild = performance.now() - t0;
t0 = performance.now();
const bx = boostExplainer(fb);
const boostBuild = performance.now() - t0;
const ts2 = new TreeShap(forestShapTree(ff), ff.roots, { tableBudget: 0 });
const bts2 = new TreeShap(boostShapTree(fb), fb.roots, { tableBudget: 0 });
console.log(
  `forest: ${stats.trees} trees, ${stats.nodes} nodes, max depth ${stats.maxDepth}; explainer built in ` +
    `${forestBuild.toFixed(1)} ms (${ts.tableTrees} table trees)\n` +
    `boosting: ${gstats.trees} trees, ${gstats.nodes} nodes, <= ${gstats.maxLeaves} leaves, max depth ` +
    `${bx.ts.maxDepth}; explainer built in ${boostBuild.toFixed(1)} ms (${bx.ts.tableTrees} table trees)`,
);

const rows = synth(1000, 2).X;
const one = rows.data.slice(0, P);
const phi = new Float64Array(P);
const cls = new Float64Array([1]);
let sink = 0, next = 0;
/** a different row each call, so branch predictors cannot learn one row's path */
const nextRow = () => (next = (next + 1) % rows.rows) * P;

Deno.bench("forest TreeSHAP, one repeated row, tables (TreeShap.addRow)", {
  group: "forest row",
  baseline: true,
}, () => {
  phi.fill(0);
  ts.addRow(one, 0, phi, 0, 1, 1);
  sink += phi[0];
});

Deno.bench("forest TreeSHAP, one repeated row, Algorithm 2 only", { group: "forest row" }, () => {
  phi.fill(0);
  ts2.addRow(one, 0, phi, 0, 1, 1);
  sink += phi[0];
});

Deno.bench("forest TreeSHAP, a new row each call, tables (shapForest)", { group: "forest row" }, () => {
  sink += shapForest(ff, rows.data.subarray(nextRow()), 1, 1).contributions[0];
});

Deno.bench("forest TreeSHAP, a new row each call, Algorithm 2 only", { group: "forest row" }, () => {
  phi.fill(0);
  ts2.addRow(rows.data, nextRow(), phi, 0, 1, 1);
  sink += phi[0];
});

Deno.bench("forest Saabas, one row (explainRows)", { group: "forest row" }, () => {
  sink += explainRows(ff, one, 1, cls).contributions[0];
});

Deno.bench("boosting TreeSHAP, a new row each call, tables (shapBoost)", {
  group: "boosting row",
  baseline: true,
}, () => {
  sink += shapBoost(fb, rows.data.subarray(nextRow()), 1, 1, true).contributions[0];
});

Deno.bench("boosting TreeSHAP, a new row each call, Algorithm 2 only", { group: "boosting row" }, () => {
  phi.fill(0);
  bts2.addRow(rows.data, nextRow(), phi, 0, 0, 1);
  sink += phi[0];
});

Deno.bench("forest TreeSHAP, 1,000 rows (shapForest)", { group: "batch", n: 5 }, () => {
  sink += shapForest(ff, rows.data, rows.rows, 1).contributions[0];
});

Deno.bench("boosting TreeSHAP, 1,000 rows (shapBoost)", { group: "batch", n: 5 }, () => {
  sink += shapBoost(fb, rows.data, rows.rows, 1, true).contributions[0];
});

globalThis.addEventListener("unload", () => {
  if (sink === -1) console.log(sink);
});
