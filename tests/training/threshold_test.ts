/**
 * The decision threshold is a setting of the model being trained (issue 12,
 * defect 5): model.threshold is the example model's, any other model gets
 * registry.models.<name>.threshold or 0.5; `auto` picks the F1-optimal
 * threshold on the validation rows and records it where serving reads it.
 */
import { join } from "node:path";
import { assert, assertAlmostEquals, assertEquals, assertRejects } from "../models/_assert.ts";
import { churnRows, type Row, toCsv } from "../models/_data.ts";
import { Rng } from "../../src/core/random.ts";
import { UserError } from "../../src/core/errors.ts";
import { ConfigSchema } from "../../src/config/schema.ts";
import { loadArtifact } from "../../src/models/artifact.ts";
import { f1OptimalThreshold } from "../../src/models/metrics.ts";
import { train } from "../../src/training/train.ts";
import { storeExists, TrackingStore } from "../../src/tracking/store.ts";
import { spec as trainSpec } from "../../tasks/train.ts";

/** A rare positive class (about 1 in 8) that depends on two of three columns. */
function imbalancedRows(n: number, seed: number): Row[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const a = rng.normal(0, 1), b = rng.normal(0, 1), c = rng.normal(0, 1);
    const z = 1.4 * a + 0.9 * b + rng.normal(0, 0.8);
    return {
      a: Math.round(a * 1000) / 1000,
      b: Math.round(b * 1000) / 1000,
      c,
      label: z > 1.9 ? "fraud" : "ok",
    };
  });
}

function setup(registry: Record<string, unknown> = {}) {
  const dir = Deno.makeTempDirSync({ prefix: "orchard-threshold-" });
  const config = ConfigSchema.parse({
    paths: { models: join(dir, "models"), reports: join(dir, "reports"), features: join(dir, "features") },
    tracking: { store: join(dir, "models", "orchard.db"), experiment: "churn" },
    // the shipped example's threshold
    model: { n_estimators: 30, n_jobs: 1, threshold: 0.35 },
    registry: { model_name: "churn", ...registry },
  });
  const rows = imbalancedRows(800, 3);
  const fraud = join(dir, "fraud.csv");
  Deno.writeTextFileSync(fraud, toCsv(rows.slice(0, 600)));
  const fraudValid = join(dir, "fraud_valid.csv");
  Deno.writeTextFileSync(fraudValid, toCsv(rows.slice(600)));
  const churn = join(dir, "churn_export.csv");
  Deno.writeTextFileSync(churn, toCsv(churnRows(300, 3)));
  return { dir, config, fraud, fraudValid, valid: rows.slice(600), churn };
}

async function runParams(config: { tracking: { store: string } }, runId: string) {
  const store = await TrackingStore.open(config.tracking.store);
  try {
    return (await store.getRun(runId)).params;
  } finally {
    await store.close();
  }
}

const quiet = { verbose: false, reportsDir: null } as const;

Deno.test("threshold: a user dataset without settings gets 0.5, not the example's model.threshold", async () => {
  const { dir, config, fraud } = setup();
  try {
    const r = await train({ config, data: fraud, target: "label", ...quiet });
    assertEquals(r.model_name, "fraud");
    assertEquals(r.threshold, 0.5);
    assertEquals(loadArtifact(r.artifact).threshold, 0.5);
    assertEquals((await runParams(config, r.run_id)).threshold, "0.5");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("threshold: the example model keeps model.threshold; registry.models.<name>.threshold sets another's", async () => {
  const { dir, config, fraud, churn } = setup({ models: { fraud: { threshold: 0.2 } } });
  try {
    const example = await train({ config, data: churn, target: "churned", modelName: "churn", ...quiet });
    assertEquals(example.threshold, 0.35);
    assertEquals(loadArtifact(example.artifact).threshold, 0.35);
    const own = await train({ config, data: fraud, target: "label", ...quiet });
    assertEquals(own.threshold, 0.2);
    assertEquals(loadArtifact(own.artifact).threshold, 0.2);
    assertEquals((await runParams(config, own.run_id)).threshold, "0.2");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

/** F1 of the positive class when predicting it at probability >= t. */
function f1At(truth: boolean[], score: number[], t: number): number {
  let tp = 0, fp = 0, fn = 0;
  for (let i = 0; i < truth.length; i++) {
    const p = score[i] >= t;
    if (p && truth[i]) tp++;
    else if (p) fp++;
    else if (truth[i]) fn++;
  }
  return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
}

Deno.test("threshold auto: the F1-optimal threshold on validation, recorded in the run and the artifact", async () => {
  const { dir, config, fraud, fraudValid, valid } = setup({ models: { fraud: { threshold: "auto" } } });
  try {
    const r = await train({ config, data: fraud, validation: fraudValid, target: "label", ...quiet });
    const t = r.threshold!;
    assert.ok(typeof t === "number" && t > 0 && t < 1, `threshold ${t}`);
    assertEquals(r.threshold_auto, true);
    // recorded: the run's params, and the artifact's manifest and params (what serving reads)
    const params = await runParams(config, r.run_id);
    assertEquals(Number(params.threshold), t);
    assertEquals(params.threshold_mode, "auto");
    const model = loadArtifact(r.artifact);
    assertEquals(model.threshold, t);
    assertEquals(model.params.threshold, t);
    // the artifact scores with it: the positive class exactly when its probability reaches t
    const records = valid.map(({ label: _l, ...rec }) => rec);
    const preds = model.predictRecords(records);
    const score = preds.map((p) => p.probabilities!.fraud);
    preds.forEach((p, i) => assertEquals(p.prediction, score[i] >= t ? "fraud" : "ok"));
    // F1-optimal: no threshold does better on the validation rows, and the reported f1 is the one at t
    const truth = valid.map((v) => v.label === "fraud");
    const best = Math.max(...[...new Set(score)].map((s) => f1At(truth, score, s)));
    assertAlmostEquals(r.metrics.f1, best, 1e-12);
    assertAlmostEquals(f1At(truth, score, t), best, 1e-12);
    assert.ok(r.metrics.f1 >= f1At(truth, score, 0.5));
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("threshold auto is binary only: a one-line error for multiclass and regression, before any run", async () => {
  const { dir, config } = setup({ models: { tiers: { threshold: "auto" }, value: { threshold: "auto" } } });
  try {
    const base = churnRows(200, 5).map(({ churned: _c, ...rest }) => rest);
    const tiers = join(dir, "tiers.csv");
    Deno.writeTextFileSync(
      tiers,
      toCsv(
        base.map((r) => ({
          ...r,
          tier: (r.tenure as number) < 20 ? "new" : (r.tenure as number) < 40 ? "mid" : "old",
        })),
      ),
    );
    const value = join(dir, "value.csv");
    Deno.writeTextFileSync(value, toCsv(base.map((r) => ({ ...r, amount: (r.tenure as number) * 3.7 + 1 }))));
    for (const [data, target, kind] of [[tiers, "tier", "multiclass"], [value, "amount", "regression"]]) {
      const e = await assertRejects(() => train({ config, data, target, ...quiet }), UserError);
      assert.match(e.message, new RegExp(`threshold.*auto.*binary.*${kind}`));
      assert.ok(!e.message.includes("\n"), e.message);
    }
    assert.ok(!storeExists(config.tracking.store), "no run was started");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("train summary: a threshold other than 0.5 is printed", async () => {
  const { dir, config, fraud, churn } = setup({ models: { other: { threshold: "auto" } } });
  try {
    const example = await train({ config, data: churn, target: "churned", modelName: "churn", ...quiet });
    assert.match(trainSpec.summary!(example), /threshold 0\.35 \(model\.threshold\)/);
    assertEquals((trainSpec.json!(example) as { threshold?: number }).threshold, 0.35);
    const plain = await train({ config, data: fraud, target: "label", ...quiet });
    assert.doesNotMatch(trainSpec.summary!(plain), /threshold \d/); // (the temp folder is named orchard-threshold-)
    const auto = await train({ config, data: fraud, target: "label", modelName: "other", ...quiet });
    assert.match(trainSpec.summary!(auto), /threshold 0\.\d+ \(auto: F1-optimal on validation\)/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("f1OptimalThreshold: halfway between neighbouring scores, ties to the higher, null without positives", () => {
  // scores 0.9 0.8 0.6 0.4 0.2 with truth 1 1 0 1 0: best F1 predicts the top four (tp 3, fp 1) = 6/7
  const truth = [1, 1, 0, 1, 0], score = [0.9, 0.8, 0.6, 0.4, 0.2];
  const best = f1OptimalThreshold(truth, score)!;
  assertAlmostEquals(best.f1, 6 / 7, 1e-12);
  assertAlmostEquals(best.threshold, 0.3, 1e-12);
  // F1 ties: the top one alone and the top four both give 2/3; the higher threshold wins
  const tie = f1OptimalThreshold([1, 0, 0, 1, 0, 0], [0.9, 0.8, 0.7, 0.6, 0.5, 0.4])!;
  assertAlmostEquals(tie.f1, 2 / 3, 1e-12);
  assertAlmostEquals(tie.threshold, 0.85, 1e-12);
  // ties in score form one step; the lowest step has no lower neighbour and keeps its score
  assertEquals(f1OptimalThreshold([1, 1, 1], [0.5, 0.5, 0.5]), { threshold: 0.5, f1: 1 });
  assertEquals(f1OptimalThreshold([0, 0], [0.3, 0.6]), null);
});
