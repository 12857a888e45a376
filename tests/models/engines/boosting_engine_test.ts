/** The boosting engine as model.algorithm = boosting: config keys, the registry, fit on a table, tune's space. */
import { assert, assertEquals, assertThrows } from "../_assert.ts";
import { ModelSchema } from "../../../src/config/schema.ts";
import { createEstimator, engineParams, getEngine } from "../../../src/models/engines/registry.ts";
import { fit, load } from "../../../src/models/model.ts";
import { churnRows } from "../_data.ts";

const rows = churnRows(600, 3);
const labelled = churnRows(300, 4);

Deno.test("boosting: fit on a table, predicts, and a saved model reloads to the same probabilities", async () => {
  const model = await fit(rows, { target: "churned", algorithm: "boosting", max_iter: 40 });
  assertEquals(model.engine, "boosting");
  const P = model.predictProba(labelled);
  for (const p of P) assert.ok(Math.abs(p[0] + p[1] - 1) < 1e-12);
  const auc = model.evaluate(labelled).metrics.roc_auc;
  assert.ok(auc > 0.85, `roc_auc ${auc}`);
  const dir = await Deno.makeTempDir();
  try {
    model.save(`${dir}/m`);
    assertEquals(load(`${dir}/m`).predictProba(labelled), P);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("boosting: the model.* keys reach the engine, engine defaults fill the shared nulls", () => {
  const rec = engineParams(ModelSchema.parse({ algorithm: "boosting", learning_rate: 0.05 }), "classifier");
  assertEquals(rec.learning_rate, 0.05);
  // null: the engine decides (1,000 rounds with early stopping, 100 without)
  assertEquals(rec.max_iter, null);
  assertEquals(rec.min_samples_leaf, 20);
  // the forest keeps its own defaults for the same nullable keys
  assertEquals(engineParams(ModelSchema.parse({ algorithm: "forest" }), "classifier").min_samples_leaf, 1);
  const reg = engineParams(ModelSchema.parse({ algorithm: "boosting" }), "regressor");
  assert.ok(!("class_weight" in reg));
});

Deno.test("boosting: bad combinations are one-line UserErrors naming the key", () => {
  const bad = (model: Record<string, unknown>, kind: "classifier" | "regressor", re: RegExp) =>
    assertThrows(() => createEstimator(ModelSchema.parse({ algorithm: "boosting", ...model }), kind), re);
  bad({ class_weight: "balanced" }, "regressor", /model\.class_weight/);
  bad({ scale_pos_weight: 3 }, "regressor", /model\.scale_pos_weight/);
  bad(
    { class_weight: "balanced", scale_pos_weight: 2 },
    "classifier",
    /class_weight and model\.scale_pos_weight/,
  );
  bad({ scoring: "r2" }, "classifier", /model\.scoring = r2/);
  bad({ scoring: "roc_auc" }, "regressor", /model\.scoring = roc_auc/);
  bad({ early_stopping: false, early_stopping_on: "validation" }, "classifier", /early_stopping_on/);
});

Deno.test("boosting: monotonic_cst names input columns; a non-numeric or unknown one is refused", async () => {
  const model = await fit(rows, {
    target: "churned",
    algorithm: "boosting",
    max_iter: 30,
    monotonic_cst: { tenure: 1 },
  });
  // churn only falls with tenure in the data; constrained to rise, the probability can never fall with it
  const base = { plan: "plus", autopay: false, spend: 50, signup: "2023-03-01" };
  const grid = Array.from({ length: 61 }, (_, t) => ({ ...base, tenure: t }));
  const p = model.predictProba(grid).map((r) => r[model.classes!.indexOf("yes")]);
  for (let i = 1; i < p.length; i++) {
    assert.ok(p[i] >= p[i - 1] - 1e-12, `tenure ${i}: ${p[i]} < ${p[i - 1]}`);
  }
  await assertRejects(
    fit(rows, { target: "churned", algorithm: "boosting", monotonic_cst: { tenur: 1 } }),
    /model\.monotonic_cst\.tenur: no such input column/,
  );
  await assertRejects(
    fit(rows, { target: "churned", algorithm: "boosting", monotonic_cst: { plan: -1 } }),
    /model\.monotonic_cst\.plan: only a numeric or boolean column/,
  );
});

Deno.test("boosting: early stopping on given validation rows records the rounds it kept", async () => {
  const model = await fit(rows, {
    target: "churned",
    algorithm: "boosting",
    max_iter: 500,
    learning_rate: 0.3,
    early_stopping: true,
    validation: labelled,
  });
  const kept = (model.estimator as unknown as { n_iter_: number }).n_iter_;
  assert.ok(kept >= 1 && kept < 500, `kept ${kept} rounds`);
});

Deno.test("tune: each engine brings its own default search space", () => {
  assertEquals(Object.keys(getEngine("boosting").tuneSpace!).sort(), [
    "learning_rate",
    "max_leaf_nodes",
    "min_samples_leaf",
  ]);
  assertEquals(Object.keys(getEngine("forest").tuneSpace!).sort(), ["max_depth", "n_estimators"]);
});

async function assertRejects(p: Promise<unknown>, re: RegExp): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert.match((e as Error).message, re);
    return;
  }
  throw new Error(`expected a rejection matching ${re}`);
}
