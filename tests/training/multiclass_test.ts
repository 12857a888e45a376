/**
 * Multiclass targets end to end (issue 15, part 1): the headline metrics are
 * macro/weighted one-vs-rest AUCs, averaged F1/precision/recall and a true
 * multiclass log loss, never one class's; per-class metrics go in the report;
 * a class with no validation rows is left out of the AUC averages and named;
 * `runs --filter` ranks by the macro AUC.
 */
import { join } from "node:path";
import { assert, assertEquals } from "../models/_assert.ts";
import { churnRows, toCsv } from "../models/_data.ts";
import { ConfigSchema } from "../../src/config/schema.ts";
import { multiclassClassificationMetrics } from "../../src/models/metrics.ts";
import { loadArtifact } from "../../src/models/artifact.ts";
import { train } from "../../src/training/train.ts";
import { runsCommand, runsSummary } from "../../src/tracking/commands.ts";
import { spec as trainTask } from "../../tasks/train.ts";
import type { TrainResult } from "../../src/training/types.ts";

const CLASSES = ["t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8"];

/** Nine tiers by tenure (0..60), and a noisy "tier" from spend, so the model is good but not perfect. */
function tierRows(n: number, seed: number) {
  return churnRows(n, seed).map((r, i) => {
    const t = r.tenure as number;
    const c = Math.min(8, Math.floor(t / 6.7) + (i % 7 === 0 ? 1 : 0));
    const { churned: _c, ...rest } = r;
    return { ...rest, tier: CLASSES[Math.min(8, c)] };
  });
}

function setup() {
  const dir = Deno.makeTempDirSync({ prefix: "orchard-multiclass-" });
  const config = ConfigSchema.parse({
    paths: { models: join(dir, "models"), reports: join(dir, "reports"), features: join(dir, "features") },
    tracking: { store: join(dir, "models", "orchard.db"), experiment: "test" },
    model: { algorithm: "forest", n_estimators: 20, n_jobs: 1 },
  });
  return { dir, config };
}

Deno.test("9 classes, one absent from validation: macro/weighted OvR metrics, no one-class headline, report per class", async () => {
  const { dir, config } = setup();
  try {
    const data = join(dir, "tiers.csv"), validation = join(dir, "tiers_val.csv");
    Deno.writeTextFileSync(data, toCsv(tierRows(600, 3)));
    // the validation rows hold no "t4"
    Deno.writeTextFileSync(validation, toCsv(tierRows(300, 4).filter((r) => r.tier !== "t4")));
    const r = await train({ config, data, validation, target: "tier", verbose: false });
    assertEquals(r.classes, CLASSES);
    // no headline metric of one class ("the rarest class only")
    for (const k of ["roc_auc", "pr_auc", "f1", "precision", "recall", "tp"]) {
      assertEquals(k in r.metrics, false, `${k} is one class's metric`);
    }
    for (
      const k of [
        "accuracy",
        "macro_roc_auc",
        "weighted_roc_auc",
        "macro_pr_auc",
        "weighted_pr_auc",
        "macro_f1",
        "weighted_f1",
        "macro_precision",
        "macro_recall",
        "log_loss",
        "brier",
      ]
    ) assert.ok(Number.isFinite(r.metrics[k]), `${k} = ${r.metrics[k]}`);
    assert.ok(r.metrics.macro_roc_auc < 1, `macro_roc_auc ${r.metrics.macro_roc_auc}: not one easy class`);
    assertEquals(r.absent_classes, ["t4"]);
    const t4 = r.per_class!.find((c) => c.class === "t4")!;
    assertEquals(t4.support, 0);
    assert.ok(Number.isNaN(t4.roc_auc));
    const rows = Deno.readTextFileSync(validation).trim().split("\n").slice(1);
    assertEquals(r.per_class!.reduce((a, c) => a + c.support, 0), rows.length);
    // the summary line prints the multiclass headline and says which class is left out
    const summary = trainTask.summary!(r as TrainResult);
    assert.match(
      summary,
      /validation \(\d+ rows\): accuracy [\d.]+ {2}macro_roc_auc [\d.]+ {2}weighted_roc_auc/,
    );
    assert.ok(!/ roc_auc /.test(summary.replace(/(macro|weighted)_roc_auc/g, "")), summary);
    assert.match(
      summary,
      /1 of 9 classes has no validation rows \("t4"\): left out of the macro AUC averages/,
    );
    // the report has the per-class table, with the missing symbol for t4's AUC
    const md = Deno.readTextFileSync(r.summary!);
    assert.match(
      md,
      /\| class \| support \| precision \| recall \| f1 \| roc_auc \(vs rest\) \| pr_auc \(vs rest\) \|/,
    );
    assert.match(md, /\| \*\*t4\*\* \| 0 \| 0(\.0000)? \| 0(\.0000)? \| 0(\.0000)? \| - \| - \|/);
    assert.match(md, /no validation rows \("t4"\)/);
    const html = Deno.readTextFileSync(r.report!);
    assert.match(html, /<h2>Per class<\/h2>/);
    assert.ok(!html.includes("NaN"), "no NaN in the report");
    // t4's AUCs print the missing symbol, as in the Markdown and on the CLI
    assert.match(html, /<td>t4<\/td><td>0<\/td>(<td>[^<]*<\/td>){3}<td>-<\/td><td>-<\/td>/);
    // nine classes: the confusion matrix takes a whole row of the chart grid (the CSS would shrink it to a third)
    assert.match(html, /<figure class="wide"><figure[^>]*><h2>Confusion matrix<\/h2>/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("multiclass metrics of a trained model agree with the formulas on its own probabilities", async () => {
  const { dir, config } = setup();
  try {
    const data = join(dir, "tiers.csv");
    Deno.writeTextFileSync(data, toCsv(tierRows(400, 5)));
    const r = await train({ config, data, target: "tier", verbose: false, store: null, reportsDir: null });
    const { loadTrainingData } = await import("../../src/training/train.ts");
    const d = loadTrainingData(config, { data, target: "tier" });
    const model = loadArtifact(r.artifact);
    const n = d.validation.rows;
    const records = Array.from({ length: n }, (_, i) => {
      const rec: Record<string, unknown> = {};
      for (const [c, v] of Object.entries(d.validation.columns)) if (c !== "tier") rec[c] = v[i];
      return rec;
    });
    const preds = model.predictRecords(records);
    const classes = r.classes!.map(String);
    const k = classes.length;
    const y = Array.from(d.validation.columns.tier, (v) => classes.indexOf(String(v)));
    const P = preds.flatMap((p) => classes.map((c) => p.probabilities![c]));
    const yPred = preds.map((p) => classes.indexOf(String(p.prediction)));
    const want = multiclassClassificationMetrics(y, P, k, yPred).metrics;
    for (const [key, v] of Object.entries(want)) {
      assert.ok(Math.abs(r.metrics[key] - v) < 1e-9, `${key}: ${r.metrics[key]} vs ${v}`);
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("runs --filter on macro_roc_auc ranks multiclass runs; roc_auc does not match them", async () => {
  const { dir, config } = setup();
  try {
    const data = join(dir, "tiers.csv");
    Deno.writeTextFileSync(data, toCsv(tierRows(300, 6)));
    const binary = join(dir, "churn.csv");
    Deno.writeTextFileSync(binary, toCsv(churnRows(300, 3)));
    const good = await train({ config, data, target: "tier", verbose: false, reportsDir: null });
    const weak = await train({
      config: ConfigSchema.parse({ ...config, model: { ...config.model, max_depth: 1, n_estimators: 3 } }),
      data,
      target: "tier",
      verbose: false,
      reportsDir: null,
      experiment: "test",
    });
    const bin = await train({
      config,
      data: binary,
      target: "churned",
      verbose: false,
      reportsDir: null,
      experiment: "test",
    });
    assert.ok(good.metrics.macro_roc_auc > weak.metrics.macro_roc_auc);
    const store = config.tracking.store;
    const ranked = await runsCommand(store, [], {
      filter: "metrics.macro_roc_auc > 0",
      sort: "metrics.macro_roc_auc desc",
    });
    assert.ok(ranked.command === "list");
    assertEquals(ranked.runs.map((x) => x.runId), [good.run_id, weak.run_id]);
    assertEquals(ranked.metricColumns[0], "macro_roc_auc");
    const byAuc = await runsCommand(store, [], { filter: "metrics.roc_auc > 0" });
    assert.ok(byAuc.command === "list");
    assertEquals(byAuc.runs.map((x) => x.runId), [bin.run_id]);
    assert.match(runsSummary(ranked), /macro_roc_auc/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
