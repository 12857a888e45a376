import { assert, assertEquals, assertThrows } from "../_assert.ts";
import { UserError } from "../../../src/core/errors.ts";
import { ModelSchema } from "../../../src/config/schema.ts";
import {
  createEstimator,
  engineParams,
  ignoredModelKeys,
  loadEstimator,
} from "../../../src/models/engines/registry.ts";
import { matrix } from "../../../src/models/types.ts";

const n = 60;
const X = matrix(
  n,
  2,
  Float64Array.from({ length: n * 2 }, (_, i) => (i % 2 ? (i * 7) % 5 : Math.floor(i / 2))),
);
const y = Float64Array.from({ length: n }, (_, i) => (i > n / 2 ? 1 : 0));

for (const algorithm of ["forest", "ml-random-forest", "logistic"] as const) {
  Deno.test(`${algorithm}: fits, predicts probabilities, round-trips through bytes`, async () => {
    const params = ModelSchema.parse({ algorithm, n_estimators: 5, n_jobs: 1 });
    const est = createEstimator(params, "classifier");
    await est.fit(X, y);
    const P = est.predictProba!(X);
    assertEquals(P.length, n * 2);
    let ok = 0;
    for (let i = 0; i < n; i++) if ((P[2 * i + 1] >= 0.5 ? 1 : 0) === y[i]) ok++;
    assert.ok(ok / n > 0.8, `${algorithm} training accuracy ${ok / n}`);
    const back = loadEstimator(algorithm, est.toBytes());
    assertEquals(Array.from(back.predictProba!(X)), Array.from(P));
  });
}

Deno.test("forest regressor from the same params", async () => {
  const est = createEstimator(
    ModelSchema.parse({ algorithm: "forest", n_estimators: 5, n_jobs: 1 }),
    "regressor",
  );
  assertEquals(est.kind, "regressor");
  await est.fit(X, Float64Array.from({ length: n }, (_, i) => i));
  assertEquals(est.predict(X).length, n);
});

Deno.test("invalid params and combinations are one-line UserErrors naming the key", () => {
  const bad = (model: Record<string, unknown>, kind: "classifier" | "regressor", re: RegExp) =>
    assertThrows(() => createEstimator(ModelSchema.parse({ algorithm: "forest", ...model }), kind), re);
  bad({ criterion: "squared_error" }, "classifier", /model.criterion/);
  bad({ criterion: "gini" }, "regressor", /model.criterion/);
  bad({ max_features: 1.5 }, "classifier", /model.max_features/);
  bad({ bootstrap: false, max_samples: 0.5 }, "classifier", /model.max_samples/);
  bad({ algorithm: "logistic" }, "regressor", /logistic/);
  bad({ algorithm: "ml-random-forest", class_weight: "balanced" }, "classifier", /class_weight/);
  const e = assertThrows(() =>
    createEstimator(ModelSchema.parse({ algorithm: "forest", criterion: "gini" }), "regressor")
  );
  assert.ok(e instanceof UserError);
  assertThrows(
    () => loadEstimator("nope", new Uint8Array()),
    /engine = nope: no such engine \(registered: .*forest.*\); a plugin engine needs its module in model\.plugins/,
  );
});

Deno.test("engineParams lists only the keys the algorithm uses", () => {
  assertEquals(Object.keys(engineParams(ModelSchema.parse({ algorithm: "logistic" }), "classifier")), [
    "C",
    "max_iter",
  ]);
  const f = engineParams(ModelSchema.parse({ algorithm: "forest" }), "classifier");
  assertEquals(f.criterion, "gini");
  assert.ok("class_weight" in f && !("C" in f));
  assertEquals(
    engineParams(ModelSchema.parse({ algorithm: "forest" }), "regressor").criterion,
    "squared_error",
  );
});

Deno.test("ignoredModelKeys: a model key set away from its default that the engine does not read", () => {
  const of = (model: Record<string, unknown>) => ignoredModelKeys(ModelSchema.parse(model), "classifier");
  // boosting's rounds are max_iter: n_estimators is a forest's
  assertEquals(of({ algorithm: "boosting", n_estimators: 300, learning_rate: 0.05, threshold: 0.3 }), [
    "n_estimators",
  ]);
  assertEquals(of({ algorithm: "forest", C: 2, learning_rate: 0.05, max_depth: 8 }), ["C", "learning_rate"]);
  assertEquals(of({ algorithm: "forest", early_stopping_on: "validation" }), ["early_stopping_on"]);
  assertEquals(of({ algorithm: "boosting", early_stopping_on: "validation", monotonic_cst: { a: 1 } }), []);
  assertEquals(of({ algorithm: "logistic", C: 0.5, max_iter: 50, n_estimators: 10 }), ["n_estimators"]);
  // a key at its default changes nothing whichever engine runs: never reported
  assertEquals(of({ algorithm: "boosting", n_estimators: 100, cv_folds: 3, encoding: "onehot" }), []);
});
