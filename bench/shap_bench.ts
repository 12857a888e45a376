/**
 * Explanation latency (deno bench): exact TreeSHAP of one row through a forest
 * of 100 trees of depth <= 6 on 20 features, trained here on seeded synthetic
 * data; the tree-path (Saabas) attributions alongside for scale.
 *   deno bench --allow-read bench/shap_bench.ts
 * Target: one row through 100 trees of depth 6 < 1 ms.
 */
import { RandomForestClassifier } from "../src/models/engines/forest/index.ts";
import { decodeForest } from "../src/models/engines/forest/serialize.ts";
import { explainRows } from "../src/models/engines/forest/explain.ts";
import { forestExplainer, shapForest } from "../src/models/engines/forest/shap.ts";
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
console.log(`model: ${stats.trees} trees, ${stats.nodes} nodes, max depth ${stats.maxDepth}`);

const rows = synth(1000, 2).X;
const one = rows.data.slice(0, P);
const ts = forestExplainer(ff);
const phi = new Float64Array(P);
const cls = new Float64Array([1]);
let sink = 0;

Deno.bench("TreeSHAP: one row through 100 trees (depth <= 6), TreeShap.addRow", {
  group: "row",
  baseline: true,
}, () => {
  phi.fill(0);
  ts.addRow(one, 0, phi, 0, 1, 1);
  sink += phi[0];
});

Deno.bench("TreeSHAP: one row through 100 trees (depth <= 6), shapForest", { group: "row" }, () => {
  sink += shapForest(ff, one, 1, 1).contributions[0];
});

Deno.bench("Saabas: one row through 100 trees (depth <= 6), explainRows", { group: "row" }, () => {
  sink += explainRows(ff, one, 1, cls).contributions[0];
});

Deno.bench(
  "TreeSHAP: 1,000 rows through 100 trees (depth <= 6), shapForest",
  { group: "batch", n: 5 },
  () => {
    sink += shapForest(ff, rows.data, rows.rows, 1).contributions[0];
  },
);

globalThis.addEventListener("unload", () => {
  if (sink === -1) console.log(sink);
});
