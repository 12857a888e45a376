/**
 * Drift knows its model (issue 15, part 2): with --model, the label, the task
 * kind and the reference come from the model's signature and lineage, not
 * from params.yaml. Here the model predicts `contract` (three classes) while
 * data.target stays the default (`churned`): the label is never tested as a
 * feature, performance is measured when the current data has labels, and a
 * run without them says so, on the terminal and in the report.
 */
import assert, { equal } from "node:assert/strict";
import { join } from "node:path";
import { ConfigSchema } from "../../src/config/schema.ts";
import { runDrift } from "../../src/drift/run.ts";
import { train } from "../../src/training/train.ts";
import { summaryText } from "../../tasks/drift.ts";
import { makeRows, toCsv } from "../serve/fixture.ts";

async function contractModel(root: string): Promise<string> {
  const data = join(root, "train.csv");
  Deno.writeTextFileSync(data, toCsv(makeRows(400, 3)));
  const result = await train({
    config: ConfigSchema.parse({
      model: { algorithm: "forest", n_estimators: 8, max_depth: 6, n_jobs: 1, random_state: 3 },
    }),
    data,
    target: "contract",
    store: null,
    artifactsDir: join(root, "artifacts"),
    reportsDir: null,
    verbose: false,
  });
  return result.artifact;
}

function configAt(root: string) {
  const config = ConfigSchema.parse({
    paths: {
      models: root,
      reports: join(root, "reports"),
      monitoring: join(root, "monitoring"),
      predictions: join(root, "predictions"),
    },
    tracking: { store: join(root, "none.db") },
  });
  equal(config.data.target, "churned", "params.yaml's target is not the model's");
  return config;
}

Deno.test("drift --model: a model's own target (not params.yaml's) is the label; performance measured with labels", async () => {
  const root = Deno.makeTempDirSync({ prefix: "drift_model_target_" });
  try {
    const artifact = await contractModel(root);
    const config = configAt(root);
    const current = join(root, "current.csv");
    Deno.writeTextFileSync(current, toCsv(makeRows(300, 8)));
    const run = await runDrift({ config, model: artifact, current, now: new Date("2026-03-02T10:00:00Z") });
    const tested = run.result.columns.map((c) => c.column);
    assert(!tested.includes("contract"), `the label was tested as a feature: ${tested}`);
    assert(tested.includes("churn"), `churn is an input of this model: ${tested}`);
    equal(run.referenceSource, join(root, "train.csv"));
    const perf = run.json.performance;
    assert(perf, "no performance section");
    equal(perf.status, "measured", perf.note);
    assert(perf.metrics && "accuracy" in perf.metrics, JSON.stringify(perf));
    assert(perf.metrics.accuracy.current > 0.3, JSON.stringify(perf.metrics));
    assert(/multiclass/.test(perf.note), perf.note);
    assert(/performance/i.test(summaryText(run.json)));
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("drift --model without labels in the current data says performance was not measured (one line, and in the report)", async () => {
  const root = Deno.makeTempDirSync({ prefix: "drift_model_nolabels_" });
  try {
    const artifact = await contractModel(root);
    const config = configAt(root);
    const current = join(root, "current.csv");
    Deno.writeTextFileSync(
      current,
      toCsv(makeRows(300, 9)).split("\n").map((l) => l.split(",").filter((_, i) => i !== 2).join(",")).join(
        "\n",
      ),
    );
    const run = await runDrift({ config, model: artifact, current, now: new Date("2026-03-02T10:00:00Z") });
    const perf = run.json.performance;
    assert(perf, "no performance section");
    equal(perf.status, "skipped");
    assert(/no labels/.test(perf.note) && /'contract'/.test(perf.note), perf.note);
    const lines = summaryText(run.json).split("\n").filter((l) => /performance.*not measured/.test(l));
    equal(lines.length, 1, summaryText(run.json));
    const html = Deno.readTextFileSync(run.reportPath);
    assert(/not measured/i.test(html) && html.includes("contract"), "the report does not say so");
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("drift --model on a regression model measures RMSE, MAE and R² on its own label", async () => {
  const root = Deno.makeTempDirSync({ prefix: "drift_model_regression_" });
  try {
    const data = join(root, "train.csv");
    Deno.writeTextFileSync(data, toCsv(makeRows(400, 3)));
    const { artifact } = await train({
      config: ConfigSchema.parse({
        model: { algorithm: "forest", n_estimators: 8, max_depth: 6, n_jobs: 1, random_state: 3 },
      }),
      data,
      target: "monthly_charges",
      store: null,
      artifactsDir: join(root, "artifacts"),
      reportsDir: null,
      verbose: false,
    });
    const current = join(root, "current.csv");
    Deno.writeTextFileSync(current, toCsv(makeRows(300, 8)));
    const run = await runDrift({
      config: configAt(root),
      model: artifact,
      current,
      now: new Date("2026-03-02T10:00:00Z"),
    });
    assert(!run.result.columns.some((c) => c.column === "monthly_charges"), "the label was tested");
    equal(run.json.model?.kind, "regression");
    const perf = run.json.performance!;
    equal(perf.status, "measured", perf.note);
    assert.deepEqual(Object.keys(perf.metrics!).sort(), ["mae", "r2", "rmse"]);
    assert(perf.metrics!.rmse.validation !== null, "compared with the model's validation RMSE");
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("drift --model: a classifier's prediction is categorical even when its classes are integers; a regressor's is numeric", async () => {
  const root = Deno.makeTempDirSync({ prefix: "drift_model_int_classes_" });
  try {
    // three integer classes (tenure in 24-month buckets), so the logged predictions are numbers
    const bucketed = (n: number, seed: number) =>
      makeRows(n, seed).map(({ tenure, ...r }) => ({ ...r, tenure, bucket: Math.floor(tenure / 24) }));
    const csv = (rows: Record<string, unknown>[]) =>
      [Object.keys(rows[0]).join(","), ...rows.map((r) => Object.values(r).join(","))].join("\n") + "\n";
    const data = join(root, "train.csv");
    Deno.writeTextFileSync(data, csv(bucketed(400, 3)));
    const fit = (target: string) =>
      train({
        config: ConfigSchema.parse({
          model: { algorithm: "forest", n_estimators: 8, max_depth: 6, n_jobs: 1, random_state: 3 },
        }),
        data,
        target,
        store: null,
        artifactsDir: join(root, "artifacts"),
        reportsDir: null,
        verbose: false,
      });
    for (const [target, type] of [["bucket", "categorical"], ["monthly_charges", "numeric"]] as const) {
      const { artifact } = await fit(target);
      // the current side as the prediction log has it: inputs and a numeric prediction, no label
      const rows = bucketed(300, 8).map(({ bucket: _, monthly_charges, ...r }) => ({
        ...r,
        ...(target === "bucket" ? { monthly_charges } : {}),
        prediction: target === "bucket" ? r.tenure % 3 : monthly_charges,
      }));
      const current = join(root, `current_${target}.csv`);
      Deno.writeTextFileSync(current, csv(rows));
      const run = await runDrift({ config: configAt(root), model: artifact, current, now: new Date() });
      const prediction = run.result.columns.find((c) => c.column === "prediction");
      assert(prediction, `prediction drift tested for ${target}`);
      equal(prediction.type, type, target);
    }
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});
