import assert from "node:assert/strict";
import { GradientBoostingClassifier } from "../../../../src/models/engines/boosting/index.ts";
import { setSimdKernels } from "../../../../src/models/engines/boosting/pool.ts";
import { simdKernels, simdMemory, simdModuleBytes } from "../../../../src/models/engines/boosting/simd.ts";
import { Rng } from "../../../../src/core/random.ts";
import type { Matrix } from "../../../../src/models/types.ts";

Deno.test("simd: the module validates (shared memory or not), and a memory gets its kernels", () => {
  assert.ok(WebAssembly.validate(simdModuleBytes(false)));
  assert.ok(WebAssembly.validate(simdModuleBytes(true)));
  const mem = simdMemory(1 << 20, true);
  assert.ok(mem !== null && mem.buffer instanceof SharedArrayBuffer);
  assert.equal(typeof simdKernels(mem).gather, "function");
});

Deno.test("simd: the WebAssembly histogram loops give the JavaScript loops' model bytes, 1 and 2 threads", async () => {
  // 40,000 x 15: workers take part, leaves above and below the row-chunk size, 15 features (4 + 4 + 4 + 3:
  // the one-feature loops too), missing values, a categorical column; binary (the root job) and 3 classes
  const n = 40000, p = 15, rng = new Rng(5);
  const X = new Float64Array(n * p), y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < p - 1; f++) X[i * p + f] = rng.chance(0.04) ? NaN : rng.normal();
    const cat = rng.int(9);
    X[i * p + p - 1] = cat;
    const z = X[i * p] + 0.6 * X[i * p + 1] * X[i * p + 2] + (cat % 3 === 0 ? 0.9 : 0) + 0.7 * rng.normal();
    y[i] = z > 0.9 ? 2 : z > -0.3 ? 1 : 0;
  }
  const M: Matrix = { data: X, rows: n, cols: p };
  const categorical = Array.from({ length: p }, (_, f) => f === p - 1);
  const bytes = async (simd: boolean, n_jobs: number, classes: 2 | 3) => {
    setSimdKernels(simd);
    try {
      const gb = new GradientBoostingClassifier({
        max_iter: 4,
        random_state: 3,
        early_stopping: false,
        n_jobs,
      });
      await gb.fit(M, classes === 2 ? y.map((v) => (v === 2 ? 1 : 0)) : y, { categorical });
      return gb.toBytes();
    } finally {
      setSimdKernels(true);
    }
  };
  for (const classes of [2, 3] as const) {
    const js = await bytes(false, 1, classes);
    assert.deepEqual(await bytes(true, 1, classes), js);
    assert.deepEqual(await bytes(true, 2, classes), js);
  }
});
