/**
 * Per-model settings (issue 12, defect 5): gates, decision threshold and
 * experiment belong to a registered model. The example model
 * (registry.model_name) keeps the global keys; any other model gets its own
 * registry.models.<name> settings, else the defaults of its task kind, never
 * the churn example's.
 */
import assert from "node:assert/strict";
import { ConfigSchema } from "../../src/config/schema.ts";
import { validateConfig } from "../../src/config/load.ts";
import { UserError } from "../../src/core/errors.ts";
import {
  DEFAULT_GATES,
  modelExperiment,
  modelNameForData,
  modelSettings,
  taskKindOf,
} from "../../src/registry/settings.ts";
import { evaluateGates } from "../../src/registry/gates.ts";
import {
  binaryMetrics,
  multiclassClassificationMetrics,
  regressionMetrics,
} from "../../src/models/metrics.ts";

/** The shipped example's settings (params.yaml). */
const shipped = (extra: Record<string, unknown> = {}) =>
  ConfigSchema.parse({
    model: { threshold: 0.35 },
    tracking: { experiment: "churn" },
    registry: {
      model_name: "churn",
      gates: { recall: { threshold: 0.7 }, f1: { threshold: 0.6 } },
      ...extra,
    },
  });

Deno.test("settings: the example model keeps registry.gates, model.threshold and tracking.experiment", () => {
  const s = modelSettings(shipped(), "churn", "binary");
  assert.deepEqual(Object.keys(s.gates), ["recall", "f1"]);
  assert.equal(s.gates.recall.threshold, 0.7);
  assert.equal(s.threshold, 0.35);
  assert.equal(s.experiment, "churn");
  assert.deepEqual(s.from, {
    gates: "registry.gates",
    threshold: "model.threshold",
    experiment: "tracking.experiment",
  });
  // another example name and experiment: the global keys follow registry.model_name
  const other = ConfigSchema.parse({
    registry: { model_name: "attrition" },
    tracking: { experiment: "exp1" },
  });
  assert.equal(modelSettings(other, "attrition", "binary").experiment, "exp1");
  assert.equal(modelSettings(other, "churn", "binary").experiment, "churn");
});

Deno.test("settings: a model without settings gets its task kind's defaults, never the churn gates", () => {
  const config = shipped();
  const bin = modelSettings(config, "fraud", "binary");
  assert.deepEqual(Object.keys(bin.gates).sort(), ["f1", "roc_auc"]);
  assert.equal(bin.threshold, 0.5, "not the example's 0.35");
  assert.equal(bin.experiment, "fraud");
  assert.equal(bin.from.gates, "default (binary)");
  const multi = modelSettings(config, "tiers", "multiclass");
  assert.deepEqual(Object.keys(multi.gates).sort(), ["accuracy", "macro_f1"]);
  const reg = modelSettings(config, "houses", "regression");
  assert.deepEqual(Object.keys(reg.gates).sort(), ["r2", "rmse"]);
  assert.equal(reg.gates.rmse.greater_is_better, false);
  for (const s of [bin, multi, reg]) {
    assert.ok(!("recall" in s.gates), `${s.kind}: not the churn gates`);
    assert.deepEqual(s.gates, DEFAULT_GATES[s.kind]);
  }
});

Deno.test("settings: the default gates name metrics the evaluator produces for that kind", () => {
  const truth = Uint8Array.from([0, 1, 1, 0, 1, 0]);
  const score = [0.1, 0.8, 0.6, 0.4, 0.3, 0.2];
  const produced = {
    binary: Object.keys(binaryMetrics(truth, score)),
    multiclass: Object.keys(
      multiclassClassificationMetrics(
        [0, 1, 2, 1],
        [0.8, 0.1, 0.1, 0.2, 0.7, 0.1, 0.1, 0.2, 0.7, 0.3, 0.3, 0.4],
        3,
        [
          0,
          1,
          2,
          2,
        ],
      ).metrics,
    ),
    regression: Object.keys(regressionMetrics([1, 2, 3], [1.1, 1.9, 3.2])),
  };
  for (const kind of ["binary", "multiclass", "regression"] as const) {
    for (const metric of Object.keys(DEFAULT_GATES[kind])) {
      assert.ok(produced[kind].includes(metric), `${kind}: ${metric} is not a metric the evaluator produces`);
    }
  }
});

Deno.test("settings: regression defaults judge lower-is-better rmse correctly", () => {
  const gates = DEFAULT_GATES.regression;
  const champion = { version: 1, metrics: { rmse: 10, mae: 8, r2: 0.8 } };
  assert.equal(
    evaluateGates(gates, { rmse: 9, mae: 7, r2: 0.82 }, champion).passed,
    true,
    "lower rmse passes",
  );
  const worse = evaluateGates(gates, { rmse: 11, mae: 9, r2: 0.79 }, champion);
  assert.equal(worse.passed, false, "higher rmse fails");
  assert.ok(worse.reasons.some((r) => r.startsWith("rmse")), worse.reasons.join("; "));
  // the first version (no champion): only the r2 floor applies
  assert.equal(evaluateGates(gates, { rmse: 1e6, mae: 1e6, r2: 0.6 }).passed, true);
  assert.equal(evaluateGates(gates, { rmse: 1, mae: 1, r2: 0.1 }).passed, false);
});

Deno.test("gates: a loss metric without greater_is_better is gated as lower-is-better", () => {
  // MLflow users write `rmse: { threshold: 5 }` meaning "at most 5"
  assert.equal(evaluateGates({ rmse: { threshold: 5 } }, { rmse: 4 }).passed, true);
  assert.equal(evaluateGates({ rmse: { threshold: 5 } }, { rmse: 6 }).passed, false);
  assert.equal(evaluateGates({ log_loss: { threshold: 0.5 } }, { log_loss: 0.4 }).passed, true);
  assert.equal(
    evaluateGates({ mae: { min_absolute_change: 1 } }, { mae: 8 }, { version: 1, metrics: { mae: 9 } })
      .passed,
    true,
  );
  // an explicit greater_is_better still wins, and other metrics stay higher-is-better
  assert.equal(evaluateGates({ rmse: { threshold: 5, greater_is_better: true } }, { rmse: 4 }).passed, false);
  assert.equal(evaluateGates({ f1: { threshold: 0.5 } }, { f1: 0.4 }).passed, false);
  // and the config no longer fills in greater_is_better: true for them
  const config = ConfigSchema.parse({ registry: { gates: { rmse: { threshold: 5 } } } });
  assert.equal(config.registry.gates.rmse.greater_is_better, undefined);
});

Deno.test("settings: registry.models.<name> overrides key by key, for any model including the example", () => {
  const config = shipped({
    models: {
      fraud: { threshold: "auto", gates: { pr_auc: { threshold: 0.4 } } },
      houses: { experiment: "real-estate" },
      churn: { threshold: 0.3 },
    },
  });
  const fraud = modelSettings(config, "fraud", "binary");
  assert.equal(fraud.threshold, "auto");
  assert.deepEqual(Object.keys(fraud.gates), ["pr_auc"]);
  assert.equal(fraud.experiment, "fraud");
  assert.deepEqual(fraud.from, {
    gates: "registry.models.fraud.gates",
    threshold: "registry.models.fraud.threshold",
    experiment: "default (the model's name)",
  });
  const houses = modelSettings(config, "houses", "regression");
  assert.equal(houses.experiment, "real-estate");
  assert.equal(modelExperiment(config, "houses"), "real-estate");
  assert.deepEqual(houses.gates, DEFAULT_GATES.regression);
  const churn = modelSettings(config, "churn", "binary");
  assert.equal(churn.threshold, 0.3, "the model's own key wins over model.threshold");
  assert.deepEqual(Object.keys(churn.gates), ["recall", "f1"], "the rest still comes from the global keys");
});

Deno.test("schema: registry.models is validated like the rest of the config", () => {
  const ok = validateConfig(
    { registry: { models: { a: { threshold: 0.2 }, b: { threshold: "auto" } } } },
    "t",
  );
  assert.equal(ok.registry.models.a.threshold, 0.2);
  assert.deepEqual(ConfigSchema.parse({}).registry.models, {});
  for (
    const [models, re] of [
      [{ a: { threshold: 1.5 } }, /registry\.models\.a\.threshold/],
      [{ a: { threshold: "best" } }, /registry\.models\.a\.threshold/],
      [{ a: { gate: {} } }, /registry\.models\.a/],
      [{ a: { experiment: "" } }, /registry\.models\.a\.experiment/],
      [{ "bad name!": {} }, /registry\.models/],
    ] as const
  ) {
    assert.throws(() => validateConfig({ registry: { models } }, "t"), (e: Error) => {
      assert.ok(e instanceof UserError, String(e));
      assert.match(e.message, re);
      return true;
    });
  }
  // model.threshold stays a number (the example model's); auto is a per-model setting
  assert.throws(() => validateConfig({ model: { threshold: "auto" } }, "t"), UserError);
});

Deno.test("settings: the task kind of a run or version comes from its params (and metrics)", () => {
  assert.equal(taskKindOf({ params: { task: "regression" }, metrics: { rmse: 1 } }), "regression");
  assert.equal(
    taskKindOf({ params: { task: "classification", threshold: "0.5" }, metrics: { f1: 0.5 } }),
    "binary",
  );
  assert.equal(
    taskKindOf({ params: { task: "classification" }, metrics: { f1: 0.5, macro_f1: 0.4 } }),
    "multiclass",
  );
  // no task param (a run logged by hand): judged by its metrics
  assert.equal(taskKindOf({ params: {}, metrics: { rmse: 2, r2: 0.5 } }), "regression");
  assert.equal(taskKindOf({ params: {}, metrics: { recall: 0.8 } }), "binary");
});

Deno.test("settings: a data file's model and experiment name is its stem, sanitized", () => {
  assert.equal(modelNameForData("data/housing.csv"), "housing");
  assert.equal(modelNameForData("/tmp/x/My Sales (2024).parquet"), "My_Sales_2024");
  assert.equal(modelNameForData("C:\\data\\credit-risk.v2.json"), "credit-risk.v2");
  assert.equal(modelNameForData("data/.hidden.csv"), "hidden");
  assert.equal(modelNameForData("data/@@@.csv"), "data");
  assert.ok(modelNameForData(`data/${"x".repeat(500)}.csv`).length <= 100);
});
