import { join } from "node:path";
import { assert, assertEquals, assertRejects } from "../models/_assert.ts";
import { churnRows, toCsv } from "../models/_data.ts";
import { UserError } from "../../src/core/errors.ts";
import { ConfigSchema } from "../../src/config/schema.ts";
import { loadArtifact } from "../../src/models/artifact.ts";
import { sha256Hex } from "../../src/core/digest.ts";
import { loadTrainingData, resolveTarget, train } from "../../src/training/train.ts";
import { EVALUATION_METRICS, isRunMetric } from "../../src/models/evaluate.ts";

/** A run's metrics are exactly its kind's evaluation metrics (what ct --primary-metric is checked against), plus train_seconds. */
function assertMetricNames(metrics: Record<string, number>, kind: keyof typeof EVALUATION_METRICS) {
  assertEquals(
    Object.keys(metrics).filter((k) => k !== "train_seconds" && !k.startsWith("cv_")).sort(),
    [...EVALUATION_METRICS[kind]].sort(),
  );
  for (const k of Object.keys(metrics)) assert.ok(isRunMetric(k), k);
}
import { candidateParams, tune } from "../../src/training/tune.ts";
import { TrackingStore } from "../../src/tracking/store.ts";

function setup(model: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  const dir = Deno.makeTempDirSync({ prefix: "orchard-train-" });
  const config = ConfigSchema.parse({
    paths: { models: join(dir, "models"), reports: join(dir, "reports"), features: join(dir, "features") },
    tracking: { store: join(dir, "models", "orchard.db"), experiment: "test" },
    model: { algorithm: "forest", n_estimators: 20, n_jobs: 1, ...model },
    ...extra,
  });
  const csv = join(dir, "churn.csv");
  Deno.writeTextFileSync(csv, toCsv(churnRows(300, 3)));
  return { dir, config, csv };
}

Deno.test("train on a CSV: split, fit, metrics, artifact, run, report", async () => {
  const { dir, config, csv } = setup();
  try {
    const r = await train({ config, data: csv, target: "churned", verbose: false });
    assertEquals(r.task, "classification");
    assertEquals(r.rows + r.validation_rows, 300);
    assertEquals(r.validation_rows, 75); // split.validation_fraction 0.25
    assertMetricNames(r.metrics, "binary");
    assert.ok(r.metrics.roc_auc > 0.75, `roc_auc ${r.metrics.roc_auc}`);
    for (
      const k of [
        "accuracy",
        "precision",
        "recall",
        "f1",
        "pr_auc",
        "log_loss",
        "brier",
        "tp",
        "fp",
        "tn",
        "fn",
      ]
    ) {
      assert.ok(Number.isFinite(r.metrics[k]), k);
    }
    assertEquals(r.metrics.tp + r.metrics.fp + r.metrics.tn + r.metrics.fn, 75);
    assertEquals(r.dropped.map((d) => d.name), ["customer_ref"]); // ID-like text
    // the run in the store
    const store = await TrackingStore.open(config.tracking.store);
    const run = await store.getRun(r.run_id);
    await store.close();
    assertEquals(run.status, "FINISHED");
    assertEquals(run.artifacts.model, r.artifact);
    assertEquals(run.metrics.roc_auc, r.metrics.roc_auc);
    assertEquals(run.params.n_estimators, "20");
    assertEquals(run.datasets.map((d) => d.name).sort(), ["train", "validation"]);
    assert.ok(/^[0-9a-f]{64}$/.test(run.datasets[0].sha256));
    // the training file's digest is its bytes' sha256 (the split's validation rows come from the same file)
    for (const d of run.datasets) assertEquals(d.sha256, sha256Hex(Deno.readFileSync(csv)), d.name);
    // ... and each counts its own part's rows, as the report does (225 / 75 of the file's 300)
    assertEquals(
      Object.fromEntries(run.datasets.map((d) => [d.name, d.rows])),
      { train: r.rows, validation: r.validation_rows },
    );
    assert.ok("git.commit" in run.tags && "git.dirty" in run.tags);
    // report files beside each other, self-contained
    const html = Deno.readTextFileSync(r.report!);
    assert.ok(
      html.includes("<svg") && !/<script|https?:\/\/(?!www\.w3\.org)/.test(html),
      "inline charts, nothing remote",
    );
    assert.ok(Deno.readTextFileSync(r.summary!).includes("| roc_auc |"));
    // SHAP of the validation rows (all 75: under the sample cap), beside the impurity importance
    assert.match(html, /SHAP summary/);
    assert.match(html, /SHAP dependence: tenure/);
    assert.match(html, /Exact SHAP values of 75 of the 75 validation rows/);
    assert.match(html, /mean \|SHAP\| \(probability\)<\/th><th>impurity importance/);
    assert.match(
      Deno.readTextFileSync(r.summary!),
      /Top columns by mean \|SHAP\| \(probability, 75 rows\): `tenure`/,
    );
    // the artifact scores raw records exactly as training evaluation did
    const model = loadArtifact(r.artifact);
    assertEquals(model.positiveClass, "yes"); // minority class by default
    assertEquals(model.lineage.run_id, r.run_id);
    assertEquals(model.signature.inputs.map((c) => c.name), ["tenure", "plan", "autopay", "spend", "signup"]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a model setting the engine does not read is reported (n_estimators on boosting)", async () => {
  const { dir, config, csv } = setup({ algorithm: "boosting", max_iter: 10 });
  try {
    const r = await train({ config, data: csv, target: "churned", verbose: false });
    assertEquals(r.ignored_settings, ["n_estimators"]); // setup's 20 trees: boosting's rounds are max_iter
    const f = await train({ config: setup().config, data: csv, target: "churned", verbose: false });
    assertEquals(f.ignored_settings, []);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("same data and seed give the same model bytes", async () => {
  const { dir, config, csv } = setup();
  try {
    const a = await train({
      config,
      data: csv,
      target: "churned",
      verbose: false,
      store: null,
      reportsDir: null,
    });
    const b = await train({
      config,
      data: csv,
      target: "churned",
      verbose: false,
      store: null,
      reportsDir: null,
    });
    assertEquals(
      Deno.readFileSync(join(a.artifact, "model.bin")),
      Deno.readFileSync(join(b.artifact, "model.bin")),
    );
    assertEquals(a.metrics.roc_auc, b.metrics.roc_auc);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("logistic and explicit positive class; cross-validation logs fold history", async () => {
  const { dir, config, csv } = setup({ algorithm: "logistic", positive_class: "no", cv_folds: 3 });
  try {
    const r = await train({ config, data: csv, target: "churned", verbose: false, reportsDir: null });
    assertEquals(r.positive_class, "no");
    assert.ok(r.cv && r.cv.mean.roc_auc > 0.7);
    const store = await TrackingStore.open(config.tracking.store);
    const run = await store.getRun(r.run_id);
    await store.close();
    assertEquals(run.metricHistory.cv_fold_roc_auc.map((p) => p.step), [0, 1, 2]);
    assertEquals(run.metrics.cv_mean_roc_auc, r.cv.mean.roc_auc);
    assertEquals(run.metrics.cv_std_roc_auc, r.cv.std.roc_auc);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("regression target trains a regressor with RMSE/MAE/R2", async () => {
  const { dir, config } = setup();
  try {
    const rows = churnRows(200, 9).map((r) => {
      const { churned: _c, ...rest } = r;
      return { ...rest, value: (r.tenure as number) * 2 + (r.autopay ? 10 : 0) };
    });
    const csv = join(dir, "reg.csv");
    Deno.writeTextFileSync(csv, toCsv(rows));
    const r = await train({ config, data: csv, target: "value", verbose: false, store: null });
    assertEquals(r.task, "regression");
    assert.ok(r.metrics.r2 > 0.8, `r2 ${r.metrics.r2}`);
    assertMetricNames(r.metrics, "regression");
    const m = loadArtifact(r.artifact);
    assertEquals(typeof m.predictRecords([{ tenure: 10, autopay: true }])[0].prediction, "number");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("multiclass target: argmax predictions, macro metrics, accuracy agrees", async () => {
  const { dir, config } = setup();
  try {
    // three classes whose share depends on tenure
    const rows = churnRows(300, 5).map((r) => {
      const t = r.tenure as number;
      return { ...r, tier: t < 15 ? "new" : t < 40 ? "mid" : "loyal" };
    });
    const csv = join(dir, "tiers.csv");
    Deno.writeTextFileSync(csv, toCsv(rows));
    const r = await train({ config, data: csv, target: "tier", verbose: false, store: null });
    assertEquals(r.task, "classification");
    assertEquals(r.classes, ["loyal", "mid", "new"]);
    assertMetricNames(r.metrics, "multiclass");
    // a positive class (and a decision threshold) mean nothing with three classes: none is recorded or shown
    assertEquals(r.positive_class, undefined);
    const manifest = JSON.parse(Deno.readTextFileSync(join(r.artifact, "artifact.json")));
    assert.ok(!("positive_class" in manifest) && !("threshold" in manifest), JSON.stringify(manifest));
    assertEquals(loadArtifact(r.artifact).positiveClass, undefined);
    // the report's SHAP text: each row's contributions add to its own class's base value, not to their mean
    const report = Deno.readTextFileSync(r.report!);
    assert.match(
      report,
      /the base value of the class it explains \(loyal -?[\d.]+, mid -?[\d.]+, new -?[\d.]+\)/,
    );
    assert.doesNotMatch(report, /for every row, the base value -?\d/);
    for (const k of ["macro_precision", "macro_recall", "macro_f1", "macro_roc_auc", "weighted_roc_auc"]) {
      assert.ok(Number.isFinite(r.metrics[k]), k);
    }
    assert.ok(r.metrics.accuracy > 0.8, `accuracy ${r.metrics.accuracy}`);
    // accuracy and each class's recall follow the argmax predictions the artifact serves
    const model = loadArtifact(r.artifact);
    const data = loadTrainingData(config, { data: csv, target: "tier" });
    const n = data.validation.rows;
    const records = Array.from({ length: n }, (_, i) => {
      const rec: Record<string, unknown> = {};
      for (const [c, v] of Object.entries(data.validation.columns)) if (c !== "tier") rec[c] = v[i];
      return rec;
    });
    const preds = model.predictRecords(records);
    let ok = 0, tpNew = 0, allNew = 0;
    for (let i = 0; i < n; i++) {
      const truth = data.validation.columns.tier[i];
      if (preds[i].prediction === truth) ok++;
      if (truth === "new") {
        allNew++;
        if (preds[i].prediction === "new") tpNew++;
      }
    }
    assertEquals(r.metrics.accuracy, ok / n);
    assertEquals(r.per_class!.find((c) => c.class === "new")!.recall, tpNew / allNew);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("default mode reads the feature parquet and its split column", async () => {
  const { dir, config } = setup();
  try {
    const pl = (await import("nodejs-polars")).default;
    const rows = churnRows(200, 4).map((r, i) => ({
      customer_id: `c${i}`,
      tenure: r.tenure,
      spend: r.spend ?? 0,
      churned: r.churned === "yes" ? 1 : 0,
      split: i % 4 === 0 ? "validation" : "train",
    }));
    Deno.mkdirSync(config.paths.features, { recursive: true });
    pl.DataFrame(rows).writeParquet(join(config.paths.features, "customer_features.parquet"));
    const data = loadTrainingData(config);
    assertEquals([data.train.rows, data.validation.rows], [150, 50]);
    assertEquals(data.exclude.map((e) => typeof e === "string" ? e : e.name).sort(), [
      "customer_id",
      "split",
    ]);
    const r = await train({ config, verbose: false, store: null, reportsDir: null });
    assertEquals(r.positive_class, 1);
    assertEquals(loadArtifact(r.artifact).signature.inputs.map((c) => c.name), ["tenure", "spend"]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("bad input is a UserError with one clear line", async () => {
  const { dir, config, csv } = setup();
  const bad = async (text: string, target: string, re: RegExp, cfg = config) => {
    const p = join(dir, `bad-${crypto.randomUUID()}.csv`);
    Deno.writeTextFileSync(p, text);
    const e = await assertRejects(
      () => train({ config: cfg, data: p, target, verbose: false, store: null }),
      UserError,
    );
    assert.match(e.message, re);
    assert.ok(!e.message.includes("\n"));
  };
  try {
    await assertRejects(
      () => train({ config, data: csv, target: "nope", verbose: false }),
      /target column 'nope' not found/,
    );
    await bad("a,y\n1,x\n2,x\n3,x\n4,x\n", "y", /single class/);
    await bad("a,y\n1,x\n2,z\n3,x\n", "y", /too small to split/);
    const reg = ConfigSchema.parse({ ...config, model: { ...config.model, task: "regression" } });
    await bad("a,y\n1,x\n2,z\n3,x\n4,z\n5,x\n", "y", /not numeric/, reg);
    await assertRejects(
      () => train({ config, data: join(dir, "missing.csv"), target: "y", verbose: false }),
      /file not found/,
    );
    const badParams = ConfigSchema.parse({
      ...config,
      model: { ...config.model, criterion: "squared_error" },
    });
    await assertRejects(
      () => train({ config: badParams, data: csv, target: "churned", verbose: false }),
      /model.criterion/,
    );
    // an unknown engine is refused before any data is read (the data here does not even exist)
    const noEngine = ConfigSchema.parse({ ...config, model: { ...config.model, algorithm: "nope" } });
    await assertRejects(
      () => train({ config: noEngine, data: join(dir, "missing.csv"), target: "y", verbose: false }),
      /model\.algorithm = nope: no such engine/,
    );
    const badPos = ConfigSchema.parse({ ...config, model: { ...config.model, positive_class: "maybe" } });
    await assertRejects(
      () => train({ config: badPos, data: csv, target: "churned", verbose: false }),
      /positive_class = "maybe": not a class/,
    );
    // nothing half-written: no artifacts for the failed runs
    let artifacts: string[] = [];
    try {
      artifacts = [...Deno.readDirSync(join(config.paths.models, "artifacts"))].map((e) => e.name);
    } catch { /* never created */ }
    assertEquals(artifacts, []);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("resolveTarget: minority class is positive; ties go to the later class", () => {
  const t = resolveTarget(["a", "b", "b"], ["a"], { task: "auto", positive_class: undefined });
  assertEquals([t.positiveClass, t.classes], ["a", ["a", "b"]]);
  assertEquals(
    resolveTarget([0, 1, 0, 1], [1], { task: "auto", positive_class: undefined }).positiveClass,
    1,
  );
  assertEquals(
    resolveTarget([1.5, 2.25, 3, 4], [1], { task: "auto", positive_class: undefined }).task,
    "regression",
  );
});

Deno.test("tune: grid trials are child runs of one parent; best is the top CV score", async () => {
  const { dir, config, csv } = setup({}, {
    tune: {
      strategy: "grid",
      cv_folds: 2,
      metric: "roc_auc",
      space: { max_depth: [1, 6], n_estimators: [10] },
    },
  });
  try {
    const r = await tune({ config, data: csv, target: "churned", verbose: false });
    assertEquals(r.trials.length, 2);
    assertEquals(r.best.score, Math.max(...r.trials.map((t) => t.score)));
    const store = await TrackingStore.open(config.tracking.store);
    const children = (await store.searchRuns({ experiment: "test" })).filter((x) =>
      x.parentRunId === r.parent_run_id
    );
    const parent = await store.getRun(r.parent_run_id!);
    await store.close();
    assertEquals(children.length, 2);
    assert.ok(children.every((c) => c.status === "FINISHED" && c.metricHistory.cv_fold_roc_auc.length === 2));
    assertEquals(parent.metrics.cv_mean_roc_auc, r.best.score);
    const bestChild = children.find((c) => c.runId === r.best.run_id)!;
    assertEquals(bestChild.metrics.cv_mean_roc_auc, r.best.score);
    assertEquals(bestChild.metrics.cv_std_roc_auc, r.best.std);
    const badSpace = ConfigSchema.parse({ ...config, tune: { ...config.tune, space: { max_depth: [0] } } });
    await assertRejects(
      () => tune({ config: badSpace, data: csv, target: "churned", verbose: false }),
      /tune.space.max_depth/,
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("tune space values: typed like --set (None -> null), invalid ones name the key and expectation", () => {
  const base = ConfigSchema.parse({}).model;
  assertEquals(candidateParams(base, { max_depth: "None", n_estimators: 7 }).max_depth, null);
  assertEquals(candidateParams(base, { max_depth: "None", n_estimators: 7 }).n_estimators, 7);
  try {
    candidateParams(base, { max_depth: "deep" });
    assert.fail("should throw");
  } catch (e) {
    assert.ok(e instanceof UserError);
    assertEquals(e.message, 'tune.space.max_depth = "deep": expected one of an integer > 0 or null');
  }
  try {
    candidateParams(base, { n_trees: 3 });
    assert.fail("should throw");
  } catch (e) {
    assert.ok(e instanceof UserError);
    assertEquals(e.message, "tune.space.n_trees: not a model parameter");
  }
});

Deno.test("--validation: a file without a training column, or with text in a numeric or date column, is refused before training", async () => {
  const { dir, config, csv } = setup();
  try {
    const rows = churnRows(120, 9);
    const write = (name: string, data: Parameters<typeof toCsv>[0]) => {
      const p = join(dir, name);
      Deno.writeTextFileSync(p, toCsv(data));
      return p;
    };
    const refused = async (path: string, re: RegExp) => {
      const e = await assertRejects(
        () => train({ config, data: csv, validation: path, target: "churned", verbose: false, store: null }),
        UserError,
      );
      assert.match(e.message, re);
    };
    await refused(
      write("no-spend.csv", rows.map(({ spend: _, ...r }) => r)),
      /no-spend\.csv: missing column the training data has: spend$/,
    );
    await refused(
      write("cm.csv", rows.map((r) => ({ ...r, spend: `${r.spend}cm` }))),
      /cm\.csv: row 1 spend: '[\d.]+cm' where the training data's spend holds numbers$/,
    );
    await refused(
      write("dates.csv", rows.map((r, i) => ({ ...r, signup: i === 5 ? "last spring" : r.signup }))),
      /dates\.csv: row 6 signup: 'last spring' where the training data's signup holds dates$/,
    );
    // missing values and a category never seen are fine: they are what validation is for
    const ok = await train({
      config,
      data: csv,
      validation: write(
        "ok.csv",
        rows.map((r, i) => ({ ...r, spend: i % 7 ? r.spend : "", plan: i % 5 ? r.plan : "new" })),
      ),
      target: "churned",
      verbose: false,
      store: null,
    });
    assertEquals(ok.rows, 300);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
