import { assert, assertAlmostEquals, assertEquals, assertThrows } from "../_assert.ts";
import { LogisticRegression } from "../../../src/models/engines/logistic.ts";
import { matrix } from "../../../src/models/types.ts";
import { Rng } from "../../../src/core/random.ts";
import { logisticShap } from "../../../src/models/shap/linear.ts";

function blobs(n: number, seed: number) {
  const rng = new Rng(seed);
  const X = new Float64Array(n * 2), y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 2;
    X[i * 2] = rng.normal(y[i] ? 2 : -2, 1) * 100; // large scale: standardization matters
    X[i * 2 + 1] = rng.normal(0, 1);
  }
  return { X: matrix(n, 2, X), y };
}

Deno.test("separates blobs; probabilities are rows summing to 1", async () => {
  const { X, y } = blobs(200, 1);
  const m = new LogisticRegression();
  await m.fit(X, y);
  const pred = m.predict(X);
  let ok = 0;
  for (let i = 0; i < y.length; i++) if (pred[i] === y[i]) ok++;
  assert.ok(ok / y.length > 0.95, `accuracy ${ok / y.length}`);
  const P = m.predictProba(X);
  for (let i = 0; i < y.length; i++) assertAlmostEquals(P[2 * i] + P[2 * i + 1], 1, 1e-12);
  const imp = m.featureImportances();
  assert.ok(imp[0] > imp[1], "the informative column matters more");
});

Deno.test("matches the closed-form optimum: gradient of 0.5|w|^2 + C*loss is zero", async () => {
  const { X, y } = blobs(80, 2);
  const m = new LogisticRegression({ C: 0.5 });
  await m.fit(X, y);
  const { coef, intercept } = m.coefficients;
  // recompute the gradient in standardized space
  const mean = [0, 0], sd = [0, 0];
  for (let j = 0; j < 2; j++) {
    for (let i = 0; i < 80; i++) mean[j] += X.data[i * 2 + j] / 80;
    for (let i = 0; i < 80; i++) sd[j] += (X.data[i * 2 + j] - mean[j]) ** 2 / 80;
    sd[j] = Math.sqrt(sd[j]);
  }
  const g = [coef[0][0], coef[0][1], 0];
  for (let i = 0; i < 80; i++) {
    const z0 = (X.data[i * 2] - mean[0]) / sd[0], z1 = (X.data[i * 2 + 1] - mean[1]) / sd[1];
    const p = 1 / (1 + Math.exp(-(intercept[0] + coef[0][0] * z0 + coef[0][1] * z1)));
    g[0] += 0.5 * (p - y[i]) * z0;
    g[1] += 0.5 * (p - y[i]) * z1;
    g[2] += 0.5 * (p - y[i]);
  }
  for (const v of g) assertAlmostEquals(v, 0, 1e-6);
});

Deno.test("stronger regularization shrinks coefficients", async () => {
  const { X, y } = blobs(100, 3);
  const weak = new LogisticRegression({ C: 100 }), strong = new LogisticRegression({ C: 0.01 });
  await weak.fit(X, y);
  await strong.fit(X, y);
  assert.ok(Math.abs(strong.coefficients.coef[0][0]) < Math.abs(weak.coefficients.coef[0][0]));
});

Deno.test("deterministic and byte-identical after a round trip", async () => {
  const { X, y } = blobs(60, 4);
  const a = new LogisticRegression(), b = new LogisticRegression();
  await a.fit(X, y);
  await b.fit(X, y);
  assertEquals(a.toBytes(), b.toBytes());
  const c = LogisticRegression.fromBytes(a.toBytes());
  assertEquals(Array.from(c.predictProba(X)), Array.from(a.predictProba(X)));
});

Deno.test("three classes: one-vs-rest, normalized probabilities", async () => {
  const rng = new Rng(5);
  const n = 150, X = new Float64Array(n), y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 3;
    X[i] = rng.normal(y[i] * 4, 0.5);
  }
  const m = new LogisticRegression({ C: 10 });
  await m.fit(matrix(n, 1, X), y);
  const P = m.predictProba(matrix(3, 1, Float64Array.from([0, 4, 8])));
  for (let r = 0; r < 3; r++) {
    assertAlmostEquals(P[r * 3] + P[r * 3 + 1] + P[r * 3 + 2], 1, 1e-12);
    assertEquals(
      [P[r * 3], P[r * 3 + 1], P[r * 3 + 2]].indexOf(Math.max(P[r * 3], P[r * 3 + 1], P[r * 3 + 2])),
      r,
    );
  }
});

Deno.test("bad settings and unfitted use throw", () => {
  assertThrows(() => new LogisticRegression({ C: 0 }), /C must be > 0/);
  assertThrows(() => new LogisticRegression({ max_iter: 1.5 }), /max_iter/);
  assertThrows(() => new LogisticRegression().predict(matrix(1, 1)), /fit/);
});

Deno.test("explain: linear SHAP on log-odds, the same numbers as logisticShap, per row's class", async () => {
  const { X, y } = blobs(200, 5);
  const data = Float64Array.from(X.data);
  for (let i = 0; i < data.length; i += 9) data[i] = NaN; // missing reads as the mean: contributes 0
  const Xm = matrix(X.rows, 2, data);
  const m = new LogisticRegression();
  await m.fit(X, y);
  assertEquals(m.explainScale, "log_odds");
  const P = m.predictProba(Xm);
  for (const k of [0, 1]) {
    const e = m.explain(Xm, new Int32Array(Xm.rows).fill(k)), ref = logisticShap(m, Xm, k);
    for (let i = 0; i < e.contributions.length; i++) {
      assertAlmostEquals(e.contributions[i], ref.contributions[i], 1e-9);
    }
    for (let i = 0; i < Xm.rows; i++) {
      assertAlmostEquals(e.bias[i], ref.bias[i], 1e-9);
      const sum = e.bias[i] + e.contributions[i * 2] + e.contributions[i * 2 + 1];
      const logOdds = Math.log(P[i * 2 + k] / P[i * 2 + 1 - k]);
      assertAlmostEquals(sum, logOdds, 1e-8);
      if (Number.isNaN(data[i * 2])) assertEquals(e.contributions[i * 2], 0);
    }
  }
  // by default each row explains its predicted class
  const pred = m.predict(Xm), d = m.explain(Xm);
  for (let i = 0; i < Xm.rows; i++) {
    const sum = d.bias[i] + d.contributions[i * 2] + d.contributions[i * 2 + 1];
    assert(sum >= 0, `row ${i}: the predicted class has log-odds >= 0, got ${sum}`);
    assertAlmostEquals(sum, Math.log(P[i * 2 + pred[i]] / P[i * 2 + 1 - pred[i]]), 1e-8);
  }
});

Deno.test("explain (three classes): each one-versus-rest model's log-odds; width checked; no means, no explain", async () => {
  const rng = new Rng(4);
  const n = 240, data = new Float64Array(n * 2), y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 3;
    data[i * 2] = rng.normal(y[i] * 2, 1);
    data[i * 2 + 1] = rng.normal(0, 1);
  }
  const X = matrix(n, 2, data);
  const m = new LogisticRegression();
  await m.fit(X, y);
  const { coef, intercept } = m.coefficients;
  for (const k of [0, 1, 2]) {
    const e = m.explain(X, new Int32Array(n).fill(k)), ref = logisticShap(m, X, k);
    const state = JSON.parse(new TextDecoder().decode(m.toBytes()));
    for (let i = 0; i < 20; i++) {
      // the one-vs-rest model's score in its standardized space
      const z = intercept[k] + coef[k].reduce(
        (a: number, w: number, j: number) => a + w * (data[i * 2 + j] - state.mean[j]) / state.scale[j],
        0,
      );
      assertAlmostEquals(e.bias[i] + e.contributions[i * 2] + e.contributions[i * 2 + 1], z, 1e-9);
      assertAlmostEquals(e.contributions[i * 2], ref.contributions[i * 2], 1e-9);
    }
  }
  assertThrows(() => m.explain(matrix(1, 3, new Float64Array(3))), /3 input columns/);
  // every saved v1 state has its means (predict standardizes with them); a state without them is refused
  const state = JSON.parse(new TextDecoder().decode(m.toBytes()));
  delete state.mean;
  const old = LogisticRegression.fromBytes(new TextEncoder().encode(JSON.stringify(state)));
  assertThrows(() => old.explain(X), /fit it again/);
});
