import assert from "node:assert/strict";
import { fileURLToPath as fromFileUrl } from "node:url";
import { UserError } from "../../src/core/errors.ts";
import { TrackingStore } from "../../src/tracking/store.ts";

const SHA = "ab".repeat(32);
const tmpStore = () => TrackingStore.open(`${Deno.makeTempDirSync()}/sub/orchard.db`);
const isUserError = (re: RegExp) => (e: unknown) => e instanceof UserError && re.test(e.message);

Deno.test("a run records status, times, params, metric history, tags, datasets and artifacts", () => {
  const store = tmpStore();
  const before = Date.now();
  const { runId } = store.startRun({ experiment: "churn", runName: "first", tags: { "git.commit": "abc" } });
  assert.match(runId, /^[0-9a-f]{32}$/);
  let run = store.getRun(runId);
  assert.equal(run.status, "RUNNING");
  assert.equal(run.endTime, null);
  assert.ok(run.startTime >= before);

  store.logParams(runId, {
    max_depth: 10,
    max_features: "sqrt",
    bootstrap: true,
    max_samples: null,
    grid: [1, 2],
  });
  store.logMetric(runId, "loss", 0.9, 0);
  store.logMetric(runId, "loss", 0.5, 2);
  store.logMetric(runId, "loss", 0.7, 1); // logged late, but an earlier step
  store.logMetrics(runId, { roc_auc: 0.875, log_loss: NaN });
  store.setTags(runId, { "git.dirty": "true" });
  store.logDataset(runId, { name: "train", path: "data/x.parquet", sha256: SHA, rows: 100 });
  store.logDataset(runId, { name: "validation", path: "data/x.parquet", sha256: SHA, rows: 25 });
  store.logArtifact(runId, "model", "models/artifacts/x");
  store.endRun(runId, "FINISHED");

  run = store.getRun(runId);
  assert.equal(run.status, "FINISHED");
  assert.ok(run.endTime! >= run.startTime);
  assert.equal(run.experiment, "churn");
  assert.equal(run.runName, "first");
  assert.deepEqual(run.params, {
    max_depth: "10",
    max_features: "sqrt",
    bootstrap: "true",
    max_samples: "null",
    grid: "[1,2]",
  });
  assert.equal(run.metrics.loss, 0.5, "latest = highest step");
  assert.deepEqual(run.metricHistory.loss.map((p) => [p.step, p.value]), [[0, 0.9], [1, 0.7], [2, 0.5]]);
  assert.equal(run.metrics.roc_auc, 0.875);
  assert.ok(Number.isNaN(run.metrics.log_loss), "NaN survives the round trip");
  assert.deepEqual(run.tags, { "git.commit": "abc", "git.dirty": "true" });
  assert.deepEqual(run.datasets.map((d) => [d.name, d.rows]), [["train", 100], ["validation", 25]]);
  assert.deepEqual(run.artifacts, { model: "models/artifacts/x" });
  store.close();
});

Deno.test("params are immutable; bad keys, values, statuses and unknown runs are UserErrors", () => {
  const store = tmpStore();
  const { runId } = store.startRun({ experiment: "e" });
  store.logParams(runId, { a: 1 });
  store.logParams(runId, { a: 1 }); // same value: fine
  assert.throws(() => store.logParams(runId, { a: 2 }), isUserError(/immutable/));
  assert.equal(store.getRun(runId).params.a, "1");
  assert.throws(() => store.logParams(runId, { "": 1 }), isUserError(/non-empty/));
  assert.throws(() => store.logMetric(runId, "m", "x" as unknown as number), isUserError(/must be a number/));
  assert.throws(() => store.logMetric(runId, "m", 1, 1.5), isUserError(/integer/));
  assert.throws(
    () => store.logDataset(runId, { name: "t", path: "p", sha256: "nothex", rows: 1 }),
    isUserError(/sha256/),
  );
  assert.throws(() => store.endRun(runId, "DONE" as "FINISHED"), isUserError(/FINISHED, FAILED or KILLED/));
  assert.throws(() => store.getRun("0".repeat(32)), isUserError(/unknown run/));
  assert.throws(() => store.logMetric("nope", "m", 1), isUserError(/unknown run 'nope'/));
  assert.throws(
    () => store.startRun({ experiment: "e", parentRunId: "f".repeat(32) }),
    isUserError(/unknown run/),
  );
  // a failed write left nothing behind
  assert.deepEqual(store.getRun(runId).metrics, {});
  store.close();
});

Deno.test("resolveRunId: full id, unique prefix, latest finished, ambiguity", () => {
  const store = tmpStore();
  const a = store.startRun({ experiment: "x" }).runId;
  store.endRun(a);
  const b = store.startRun({ experiment: "y" }).runId;
  store.endRun(b);
  const running = store.startRun({ experiment: "x" }).runId;
  assert.equal(store.resolveRunId(a), a);
  assert.equal(store.resolveRunId(a.slice(0, 10).toUpperCase()), a);
  assert.equal(store.resolveRunId("latest", "x"), a, "latest finished in x (not the running one)");
  assert.equal(store.resolveRunId("latest"), b);
  assert.equal(store.resolveRunId(running), running, "an explicit id may name a running run");
  // withArtifact: a newer finished run without a model (a tuning run) is passed over
  store.logArtifact(a, "model", "models/artifacts/a");
  const tuning = store.startRun({ experiment: "x" }).runId;
  store.endRun(tuning);
  assert.equal(store.resolveRunId("latest", "x"), tuning);
  assert.equal(store.resolveRunId("latest", "x", "model"), a, "latest finished run with a model");
  assert.throws(
    () => store.resolveRunId("latest", "y", "model"),
    isUserError(/no finished run in experiment 'y' with a 'model' artifact/),
  );
  assert.throws(
    () => store.resolveRunId("latest", "zzz"),
    isUserError(/no finished run in experiment 'zzz'/),
  );
  assert.throws(() => store.resolveRunId("not-a-run"), isUserError(/unknown run/));
  assert.throws(() => store.resolveRunId("abc"), isUserError(/unknown run/), "prefix too short");
  // make an ambiguous prefix: ids are random, so insert a crafted pair
  const exp = store.experimentId("x");
  for (const id of ["deadbeef00000000000000000000000a", "deadbeef00000000000000000000000b"]) {
    store.db.prepare(
      "INSERT INTO runs(run_id, experiment_id, status, start_time) VALUES (?, ?, 'FINISHED', 0)",
    )
      .run(id, exp);
  }
  assert.throws(() => store.resolveRunId("deadbeef"), isUserError(/ambiguous/));
  assert.equal(store.resolveRunId("deadbeef00000000000000000000000b"), "deadbeef00000000000000000000000b");
  store.close();
});

Deno.test("searchRuns: experiment, filter, order, limit; child runs keep their parent", () => {
  const store = tmpStore();
  const parent = store.startRun({ experiment: "tune" }).runId;
  for (const depth of [4, 8, 12]) {
    const { runId } = store.startRun({ experiment: "tune", parentRunId: parent, runName: `d${depth}` });
    store.logParams(runId, { max_depth: depth });
    store.logMetrics(runId, { roc_auc: 0.7 + depth / 100 });
    store.endRun(runId);
  }
  store.endRun(parent);
  store.startRun({ experiment: "other" });
  assert.equal(store.searchRuns().length, 5);
  assert.equal(store.searchRuns({ experiment: "tune" }).length, 4);
  assert.equal(store.searchRuns({ experiment: "nope" }).length, 0);
  const best = store.searchRuns({ experiment: "tune", orderBy: "metrics.roc_auc desc", maxResults: 2 });
  assert.deepEqual(best.map((r) => r.params.max_depth), ["12", "8"]);
  const children = store.searchRuns({
    filter: `attributes.parent_run_id = '${parent}' and params.max_depth >= 8`,
  });
  assert.deepEqual(children.map((r) => r.runName).sort(), ["d12", "d8"]);
  assert.ok(children.every((r) => r.parentRunId === parent && r.tags["orchard.parent_run_id"] === parent));
  assert.throws(() => store.searchRuns({ filter: "metrics.roc_auc >" }), UserError);
  assert.throws(() => store.searchRuns({ maxResults: 0 }), isUserError(/maxResults/));
  assert.deepEqual(store.listExperiments().map((e) => [e.name, e.runs]), [["other", 1], ["tune", 4]]);
  store.close();
});

Deno.test("opening a file that is not a store is a UserError", () => {
  const path = `${Deno.makeTempDirSync()}/junk.db`;
  Deno.writeTextFileSync(path, "this is not sqlite, not at all, and long enough to have a header".repeat(20));
  assert.throws(() => TrackingStore.open(path), isUserError(/not a tracking store/));
});

Deno.test("concurrent writers in separate processes: no lost or corrupt rows", async () => {
  const dir = Deno.makeTempDirSync();
  const path = `${dir}/orchard.db`;
  const store = TrackingStore.open(path);
  const shared = store.startRun({ experiment: "shared" }).runId;
  store.close();
  const writer = fromFileUrl(new URL("./_writer.ts", import.meta.url));
  const WORKERS = 6;
  const RUNS = 15;
  const procs = Array.from({ length: WORKERS }, (_, w) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", writer, path, String(w), String(RUNS), shared],
      stdout: "piped",
      stderr: "piped",
    }).output());
  const outs = await Promise.all(procs);
  for (const o of outs) {
    assert.equal(o.code, 0, new TextDecoder().decode(o.stderr));
    assert.equal(new TextDecoder().decode(o.stdout).trim(), "ok");
  }
  const check = TrackingStore.open(path);
  const runs = check.searchRuns({ filter: "params.worker >= 0" });
  assert.equal(runs.length, WORKERS * RUNS);
  assert.equal(new Set(runs.map((r) => r.runId)).size, WORKERS * RUNS);
  for (const r of runs) {
    assert.equal(r.status, "FINISHED");
    assert.equal(r.metrics.score, Number(r.params.worker) * 1000 + Number(r.params.i));
    assert.equal(r.tags.worker, r.params.worker);
  }
  const steps = check.getRun(shared).metricHistory.progress.map((p) => p.step).sort((a, b) => a - b);
  const expected = Array.from(
    { length: WORKERS },
    (_, w) => Array.from({ length: RUNS }, (_, i) => w * 1000 + i),
  )
    .flat().sort((a, b) => a - b);
  assert.deepEqual(steps, expected);
  assert.equal(
    (check.db.prepare("PRAGMA integrity_check").get() as Record<string, string>).integrity_check,
    "ok",
  );
  assert.equal(check.searchRuns({ experiment: "exp-0" }).length, 3 * RUNS);
  check.close();
});

Deno.test("transactions nest as savepoints: an inner failure undoes only the inner part", () => {
  const store = tmpStore();
  const { runId } = store.startRun({ experiment: "e" });
  store.transaction(() => {
    store.logMetric(runId, "kept", 1);
    assert.throws(() =>
      store.transaction(() => {
        store.logMetric(runId, "undone", 2);
        throw new Error("inner");
      })
    );
    store.setTags(runId, { after: "yes" });
  });
  let run = store.getRun(runId);
  assert.deepEqual(Object.keys(run.metrics), ["kept"]);
  assert.equal(run.tags.after, "yes");
  assert.throws(() =>
    store.transaction(() => {
      store.logMetric(runId, "outer", 3);
      throw new Error("outer");
    })
  );
  run = store.getRun(runId);
  assert.equal(run.metrics.outer, undefined, "an outer failure rolls everything back");
  store.logMetric(runId, "later", 4); // the store is usable afterwards
  assert.equal(store.getRun(runId).metrics.later, 4);
  store.close();
});
