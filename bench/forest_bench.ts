/**
 * Inference latency of the forest (deno bench): 100 trees of depth <= 12 on
 * 30 features, trained here on seeded synthetic data.
 *   deno bench --allow-read bench/forest_bench.ts
 * Targets: one row through 100 trees < 50 µs; 100,000 rows < 1 s.
 */
import { RandomForestClassifier } from "../src/models/engines/forest/index.ts";
import { Rng } from "../src/core/random.ts";

const P = 30;
function synth(n: number, seed: number) {
  const rng = new Rng(seed);
  const data = new Float64Array(n * P), y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let z = 0;
    for (let f = 0; f < P; f++) {
      const v = rng.next() * 2 - 1;
      data[i * P + f] = v;
      if (f < 10) z += (f % 2 ? 1 : -1) * v * (1 + f / 10);
    }
    z += data[i * P] * data[i * P + 1] * 2 + (rng.next() - 0.5);
    y[i] = z > 0 ? 1 : 0;
  }
  return { X: { data, rows: n, cols: P }, y };
}

const train = synth(20_000, 1);
const rf = new RandomForestClassifier({ n_estimators: 100, max_depth: 12, random_state: 0 });
await rf.fit(train.X, train.y);
const stats = rf.stats();
if (stats.maxDepth > 12) throw new Error("depth above 12");
console.log(`model: ${stats.trees} trees, ${stats.nodes} nodes, max depth ${stats.maxDepth}`);

const many = synth(100_000, 2).X;
const one = many.data.slice(0, P);
const out = new Float64Array(2);
let sink = 0;

Deno.bench(
  "one row through 100 trees (depth <= 12), predictProbaRow",
  { group: "row", baseline: true },
  () => {
    sink += rf.predictProbaRow(one, out)[1];
  },
);

Deno.bench("one row through 100 trees via predictProba(1 x 30 matrix)", { group: "row" }, () => {
  sink += rf.predictProba({ data: one, rows: 1, cols: P })[1];
});

Deno.bench(
  "100,000 rows through 100 trees (depth <= 12), predictProba",
  { group: "batch", n: 5, warmup: 1 },
  () => {
    sink += rf.predictProba(many)[1];
  },
);

globalThis.addEventListener("unload", () => {
  if (sink === -1) console.log(sink);
});
