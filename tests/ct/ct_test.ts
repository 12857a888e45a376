/**
 * `deno task ct` end to end on generated data: no champion, a better
 * candidate (gates pass, @challenger), a worse one (regression; exit 1 with
 * --fail-on-regression), and the report's numbers against the stored runs.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runCt } from "../../src/ct/run.ts";
import { ModelRegistry } from "../../src/registry/registry.ts";
import { TrackingStore } from "../../src/tracking/store.ts";
import { formatNumber } from "../../src/core/format.ts";
import { ctProject, putChampion, STRONG, WEAK } from "./_project.ts";

const PNG = [0x89, 0x50, 0x4e, 0x47];

function isPng(path: string): boolean {
  const b = Deno.readFileSync(path);
  return PNG.every((x, i) => b[i] === x) && b.length > 2000;
}

Deno.test("ct with no champion: the candidate is compared with nothing, and the report says so", async () => {
  const p = ctProject();
  try {
    const r = await runCt({ config: p.config(STRONG), data: p.csv, target: "churned", verbose: false });
    assert.equal(r.champion, null);
    assert.match(r.champion_note!, /not registered yet/);
    assert.equal(r.verdict.regression, false);
    // only the floor is checked without a champion
    assert.deepEqual(r.gates.checks.map((c) => c.kind), ["threshold"]);
    assert.ok(r.gates.passed);
    assert.equal(r.registered?.version, 1);
    const md = Deno.readTextFileSync(r.report);
    assert.match(md, /\*\*No champion\*\*: the candidate is compared with nothing/);
    assert.match(md, /No champion run to diff against/);
    assert.match(md, /not measured \(no champion training set to compare with\)/);
    assert.match(md, /pipeline: skipped \(the candidate trains on --data\)/i);
    // binary: confusion matrix and ROC curve, as PNG files beside the report
    assert.deepEqual(r.charts.map((c) => c.file), ["confusion.png", "roc.png"]);
    for (const c of r.charts) assert.ok(isPng(join(r.report, "..", c.file)), c.file);
  } finally {
    Deno.removeSync(p.dir, { recursive: true });
  }
});

Deno.test("ct: a better candidate passes the gates and becomes @challenger; numbers equal the stored runs", async () => {
  const p = ctProject();
  try {
    const champ = await putChampion(p, WEAK);
    const r = await runCt({ config: p.config(STRONG), data: p.csv, target: "churned", verbose: false });
    assert.equal(r.champion?.version, champ.version);
    assert.ok(r.champion!.same_validation, "same file, same seed: the champion's own validation rows");
    assert.ok(r.gates.passed, r.gates.reasons.join("; "));
    assert.deepEqual(r.gates.checks.map((c) => c.kind).sort(), ["min_absolute_change", "threshold"]);
    assert.equal(r.verdict.regression, false);
    assert.equal(r.verdict.primary.metric, "roc_auc");
    assert.ok(r.verdict.candidate! > r.verdict.champion!);

    const store = await TrackingStore.open(p.config(STRONG).tracking.store);
    try {
      const registry = await ModelRegistry.open(store, { modelsDir: p.config(STRONG).paths.models });
      assert.equal(await registry.aliasVersion("churn", "challenger"), r.registered!.version);
      assert.equal(await registry.aliasVersion("churn", "champion"), champ.version, "champion unchanged");
      const cand = await store.getRun(r.candidate.run_id);
      assert.equal(cand.tags["orchard.ct"], "candidate");
      assert.equal(cand.tags["orchard.ct.gates"], "passed");
      assert.equal(cand.tags["orchard.ct.champion"], String(champ.version));
      assert.equal(cand.tags["orchard.ct.regression"], "false");
      assert.equal(cand.artifacts.ct_report, r.report);
      const old = await store.getRun(champ.runId);
      // the report's numbers are the runs' stored metrics: the candidate's, and the champion's
      // (scored on the same validation rows it was validated on when trained)
      const json = JSON.parse(Deno.readTextFileSync(join(r.report, "..", "report.json")));
      for (const row of json.metrics) {
        if (row.candidate !== null) assert.equal(row.candidate, cand.metrics[row.metric], row.metric);
        if (row.champion !== null && row.metric !== "train_seconds") {
          assert.equal(row.champion, old.metrics[row.metric], `champion ${row.metric}`);
        }
      }
      const md = Deno.readTextFileSync(r.report);
      const auc = (v: number) => formatNumber(v, { digits: 4 });
      const line = md.split("\n").find((l) => l.startsWith("| **roc_auc** (primary)"))!;
      assert.ok(line.includes(auc(cand.metrics.roc_auc)) && line.includes(auc(old.metrics.roc_auc)), line);
      assert.ok(line.includes("▲ better"), line);
      assert.match(md, /\*\*Gates passed\*\*: registered as version 2, `@challenger`/);
      // params diff: the forest's size changed; data: the same file on both sides, no drift
      const changed = r.params.map((x) => x.key);
      assert.ok(changed.includes("n_estimators") && changed.includes("max_depth"), changed.join(","));
      assert.ok(r.datasets.every((d) => d.same));
      assert.ok(r.drift.measured && r.drift.share === 0, JSON.stringify(r.drift));
    } finally {
      await store.close();
    }
  } finally {
    Deno.removeSync(p.dir, { recursive: true });
  }
});

Deno.test("ct: a worse candidate is a regression, not registered; --fail-on-regression exits 1, else 0", async () => {
  const p = ctProject();
  try {
    await putChampion(p, STRONG);
    const r = await runCt({ config: p.config(WEAK), data: p.csv, target: "churned", verbose: false });
    assert.equal(r.verdict.regression, true);
    assert.equal(r.gates.passed, false);
    assert.equal(r.registered, null);
    const md = Deno.readTextFileSync(r.report);
    assert.match(md, /\*\*Regression\*\*: the candidate is worse than champion v1 on the primary metric/);
    assert.match(md, /\*\*Gates failed\*\*/);
    assert.match(md, /▼ worse/);

    // the task: exit 1 only with the flag; the job itself ran (report written) both times
    const run = (...extra: string[]) =>
      new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "tasks/ct.ts",
          "--config",
          p.configPath,
          "--data",
          p.csv,
          "--target",
          "churned",
          "--set",
          "model.n_estimators=1",
          "--set",
          "model.max_depth=1",
          ...extra,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
    const plain = await run();
    assert.equal(plain.code, 0, new TextDecoder().decode(plain.stderr));
    assert.match(new TextDecoder().decode(plain.stdout), /gates FAILED/);
    const strict = await run("--fail-on-regression");
    assert.equal(strict.code, 1, new TextDecoder().decode(strict.stderr));
    assert.match(
      new TextDecoder().decode(strict.stderr),
      /regression: roc_auc .* worse .*--fail-on-regression/,
    );
    // a user error: one line, exit 2
    const bad = await run("--primary-metric", "no such metric!");
    assert.equal(bad.code, 2);
    assert.equal(new TextDecoder().decode(bad.stderr).trim().split("\n").length, 1);
    // a well-formed name no run has is refused before the candidate trains (no "training" line first)
    const unknown = await run("--primary-metric", "nope");
    const said = new TextDecoder().decode(unknown.stderr).trim().split("\n");
    assert.equal(unknown.code, 2);
    assert.equal(said.length, 1, said.join("\n"));
    assert.match(
      said[0],
      /^ct: --primary-metric: 'nope' is not a metric a run has \(accuracy, .*cv_mean_<metric>\)$/,
    );
  } finally {
    Deno.removeSync(p.dir, { recursive: true });
  }
});

Deno.test("ct on a regression target: rmse decides (lower is better); predicted-vs-actual and residual charts", async () => {
  const p = ctProject(300);
  try {
    const config = p.config({ ...STRONG, task: "regression" });
    const r = await runCt({ config, data: p.csv, target: "tenure", verbose: false });
    assert.equal(r.kind, "regression");
    assert.deepEqual(r.verdict.primary, { metric: "rmse", greaterIsBetter: false });
    assert.deepEqual(r.charts.map((c) => c.file), ["residuals.png"]);
    // the example model's gates are on roc_auc, which a regression has not: they fail, and say so
    assert.equal(r.gates.passed, false);
    assert.match(r.gates.reasons[0], /roc_auc: the candidate has no value/);
    assert.match(Deno.readTextFileSync(r.report), /\*\*rmse\*\* \(primary\)/);
  } finally {
    Deno.removeSync(p.dir, { recursive: true });
  }
});

Deno.test("ct on a multiclass target: macro_roc_auc decides; confusion matrices and per-class charts", async () => {
  const p = ctProject(300);
  try {
    const r = await runCt({ config: p.config(STRONG), data: p.csv, target: "plan", verbose: false });
    assert.equal(r.kind, "multiclass");
    assert.equal(r.verdict.primary.metric, "macro_roc_auc");
    assert.deepEqual(r.charts.map((c) => c.file), ["confusion.png", "per_class.png"]);
    for (const c of r.charts) assert.ok(isPng(join(r.report, "..", c.file)), c.file);
  } finally {
    Deno.removeSync(p.dir, { recursive: true });
  }
});
