import assert from "node:assert/strict";
import { fileURLToPath as fromFileUrl } from "node:url";
import { UserError } from "../../src/core/errors.ts";
import { TrackingStore } from "../../src/tracking/store.ts";
import type { Sql } from "../../src/store/sql.ts";
import { backendTest } from "../_support/backends.ts";

const SHA = "ab".repeat(32);
const DENO_JSON = fromFileUrl(new URL("../../deno.json", import.meta.url));
const isUserError = (re: RegExp) => (e: unknown) => e instanceof UserError && re.test(e.message);

backendTest(
  "a run records status, times, params, metric history, tags, datasets and artifacts",
  async (b) => {
    // on SQLite the store's folder (<root>/models) does not exist yet: opening creates it
    await using store = await TrackingStore.open(b.location);
    const before = Date.now();
    const { runId } = await store.startRun({
      experiment: "churn",
      runName: "first",
      tags: { "git.commit": "abc" },
    });
    assert.match(runId, /^[0-9a-f]{32}$/);
    let run = await store.getRun(runId);
    assert.equal(run.status, "RUNNING");
    assert.equal(run.endTime, null);
    assert.ok(run.startTime >= before);

    await store.logParams(runId, {
      max_depth: 10,
      max_features: "sqrt",
      bootstrap: true,
      max_samples: null,
      grid: [1, 2],
    });
    await store.logMetric(runId, "loss", 0.9, 0);
    await store.logMetric(runId, "loss", 0.5, 2);
    await store.logMetric(runId, "loss", 0.7, 1); // logged late, but an earlier step
    await store.logMetrics(runId, { roc_auc: 0.875, log_loss: NaN });
    await store.setTags(runId, { "git.dirty": "true" });
    await store.logDataset(runId, { name: "train", path: "data/x.parquet", sha256: SHA, rows: 100 });
    await store.logDataset(runId, { name: "validation", path: "data/x.parquet", sha256: SHA, rows: 25 });
    await store.logArtifact(runId, "model", "models/artifacts/x");
    await store.endRun(runId, "FINISHED");

    run = await store.getRun(runId);
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
  },
);

backendTest("params are immutable; bad keys, values, statuses and unknown runs are UserErrors", async (b) => {
  await using store = await TrackingStore.open(b.location);
  const { runId } = await store.startRun({ experiment: "e" });
  await store.logParams(runId, { a: 1 });
  await store.logParams(runId, { a: 1 }); // same value: fine
  await assert.rejects(() => store.logParams(runId, { a: 2 }), isUserError(/immutable/));
  assert.equal((await store.getRun(runId)).params.a, "1");
  await assert.rejects(() => store.logParams(runId, { "": 1 }), isUserError(/non-empty/));
  await assert.rejects(
    () => store.logMetric(runId, "m", "x" as unknown as number),
    isUserError(/must be a number/),
  );
  await assert.rejects(() => store.logMetric(runId, "m", 1, 1.5), isUserError(/integer/));
  await assert.rejects(
    () => store.logDataset(runId, { name: "t", path: "p", sha256: "nothex", rows: 1 }),
    isUserError(/sha256/),
  );
  await assert.rejects(
    () => store.endRun(runId, "DONE" as "FINISHED"),
    isUserError(/FINISHED, FAILED or KILLED/),
  );
  await assert.rejects(() => store.getRun("0".repeat(32)), isUserError(/unknown run/));
  await assert.rejects(() => store.logMetric("nope", "m", 1), isUserError(/unknown run 'nope'/));
  await assert.rejects(
    () => store.startRun({ experiment: "e", parentRunId: "f".repeat(32) }),
    isUserError(/unknown run/),
  );
  // a failed write left nothing behind
  assert.deepEqual((await store.getRun(runId)).metrics, {});
  assert.deepEqual((await store.searchRuns()).map((r) => r.runId), [runId], "no half-started run");
});

backendTest("resolveRunId: full id, unique prefix, latest finished, ambiguity", async (b) => {
  await using store = await TrackingStore.open(b.location);
  const a = (await store.startRun({ experiment: "x" })).runId;
  await store.endRun(a);
  const bRun = (await store.startRun({ experiment: "y" })).runId;
  await store.endRun(bRun);
  const running = (await store.startRun({ experiment: "x" })).runId;
  assert.equal(await store.resolveRunId(a), a);
  assert.equal(await store.resolveRunId(a.slice(0, 10).toUpperCase()), a);
  assert.equal(await store.resolveRunId("latest", "x"), a, "latest finished in x (not the running one)");
  assert.equal(await store.resolveRunId("latest"), bRun);
  assert.equal(await store.resolveRunId(running), running, "an explicit id may name a running run");
  // withArtifact: a newer finished run without a model (a tuning run) is passed over
  await store.logArtifact(a, "model", "models/artifacts/a");
  const tuning = (await store.startRun({ experiment: "x" })).runId;
  await store.endRun(tuning);
  assert.equal(await store.resolveRunId("latest", "x"), tuning);
  assert.equal(await store.resolveRunId("latest", "x", "model"), a, "latest finished run with a model");
  await assert.rejects(
    () => store.resolveRunId("latest", "y", "model"),
    isUserError(/no finished run in experiment 'y' with a 'model' artifact/),
  );
  await assert.rejects(
    () => store.resolveRunId("latest", "zzz"),
    isUserError(/no finished run in experiment 'zzz'/),
  );
  await assert.rejects(() => store.resolveRunId("not-a-run"), isUserError(/unknown run/));
  await assert.rejects(
    () => store.resolveRunId("abc"),
    isUserError(/^run id prefix 'abc' is too short: give at least 4 characters/),
  );
  // make an ambiguous prefix: ids are random, so insert a crafted pair
  const exp = await store.experimentId("x");
  for (const id of ["deadbeef00000000000000000000000a", "deadbeef00000000000000000000000b"]) {
    await store.db.run(
      "INSERT INTO runs(run_id, experiment_id, status, start_time) VALUES (?, ?, 'FINISHED', 0)",
      [id, exp],
    );
  }
  await assert.rejects(() => store.resolveRunId("deadbeef"), isUserError(/ambiguous/));
  assert.equal(
    await store.resolveRunId("deadbeef00000000000000000000000b"),
    "deadbeef00000000000000000000000b",
  );
});

backendTest("searchRuns: experiment, filter, order, limit; child runs keep their parent", async (b) => {
  await using store = await TrackingStore.open(b.location);
  const parent = (await store.startRun({ experiment: "tune" })).runId;
  for (const depth of [4, 8, 12]) {
    const { runId } = await store.startRun({ experiment: "tune", parentRunId: parent, runName: `d${depth}` });
    await store.logParams(runId, { max_depth: depth });
    await store.logMetrics(runId, { roc_auc: 0.7 + depth / 100 });
    await store.endRun(runId);
  }
  await store.endRun(parent);
  await store.startRun({ experiment: "other" });
  assert.equal((await store.searchRuns()).length, 5);
  assert.equal((await store.searchRuns({ experiment: "tune" })).length, 4);
  assert.equal((await store.searchRuns({ experiment: "nope" })).length, 0);
  const best = await store.searchRuns({ experiment: "tune", orderBy: "metrics.roc_auc desc", maxResults: 2 });
  assert.deepEqual(best.map((r) => r.params.max_depth), ["12", "8"]);
  const children = await store.searchRuns({
    filter: `attributes.parent_run_id = '${parent}' and params.max_depth >= 8`,
  });
  assert.deepEqual(children.map((r) => r.runName).sort(), ["d12", "d8"]);
  assert.ok(children.every((r) => r.parentRunId === parent && r.tags["orchard.parent_run_id"] === parent));
  await assert.rejects(() => store.searchRuns({ filter: "metrics.roc_auc >" }), UserError);
  await assert.rejects(() => store.searchRuns({ maxResults: 0 }), isUserError(/maxResults/));
  assert.deepEqual((await store.listExperiments()).map((e) => [e.name, e.runs]), [["other", 1], ["tune", 4]]);
});

Deno.test("opening a file that is not a store is a UserError", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    const path = `${dir}/junk.db`;
    Deno.writeTextFileSync(
      path,
      "this is not sqlite, not at all, and long enough to have a header".repeat(20),
    );
    await assert.rejects(() => TrackingStore.open(path), isUserError(/not a store/));
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("an empty (0-byte) store file is refused, not read as a new store", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    const path = `${dir}/orchard.db`;
    Deno.writeFileSync(path, new Uint8Array());
    const before = new Date(Date.now() - 60_000); // emptied a while ago (a fresh one may be a store being created)
    Deno.utimeSync(path, before, before);
    await assert.rejects(() => TrackingStore.open(path), isUserError(/empty \(0 bytes\)/));
    assert.equal(Deno.statSync(path).size, 0, "the file is left as it was");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

backendTest("concurrent writers in separate processes: no lost or corrupt rows", async (b) => {
  let shared: string;
  {
    await using store = await TrackingStore.open(b.location);
    shared = (await store.startRun({ experiment: "shared" })).runId;
  }
  const writer = fromFileUrl(new URL("./_writer.ts", import.meta.url));
  const WORKERS = 6;
  const RUNS = 15;
  const procs = Array.from({ length: WORKERS }, (_, w) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--config", DENO_JSON, writer, b.location, String(w), String(RUNS), shared],
      stdout: "piped",
      stderr: "piped",
    }).output());
  const outs = await Promise.all(procs);
  for (const o of outs) {
    assert.equal(o.code, 0, new TextDecoder().decode(o.stderr));
    assert.equal(new TextDecoder().decode(o.stdout).trim(), "ok");
  }
  await using check = await TrackingStore.open(b.location);
  const runs = await check.searchRuns({ filter: "params.worker >= 0" });
  assert.equal(runs.length, WORKERS * RUNS);
  assert.equal(new Set(runs.map((r) => r.runId)).size, WORKERS * RUNS);
  for (const r of runs) {
    assert.equal(r.status, "FINISHED");
    assert.equal(r.metrics.score, Number(r.params.worker) * 1000 + Number(r.params.i));
    assert.equal(r.tags.worker, r.params.worker);
  }
  const steps = (await check.getRun(shared)).metricHistory.progress.map((p) => p.step).sort((x, y) => x - y);
  const expected = Array.from(
    { length: WORKERS },
    (_, w) => Array.from({ length: RUNS }, (_, i) => w * 1000 + i),
  )
    .flat().sort((x, y) => x - y);
  assert.deepEqual(steps, expected);
  if (b.kind === "sqlite") {
    const integrity = await check.db.get<Record<string, string>>("PRAGMA integrity_check");
    assert.equal(integrity?.integrity_check, "ok");
  }
  assert.equal((await check.searchRuns({ experiment: "exp-0" })).length, 3 * RUNS);
  assert.equal((await check.getRun(shared)).status, "RUNNING", "the shared run's process is alive");
});

backendTest("a transaction's writes commit together; a failure rolls all of them back", async (b) => {
  // (nested store.transaction calls, savepoints in the synchronous store, are gone
  // with the async API: statements inside a transaction go through its `tx`)
  await using store = await TrackingStore.open(b.location);
  const { runId } = await store.startRun({ experiment: "e" });
  const metric = (tx: Sql, key: string, value: number) =>
    tx.run(
      "INSERT INTO metrics(run_id, key, value, is_nan, step, timestamp) VALUES (?, ?, ?, 0, 0, ?)",
      [runId, key, value, Date.now()],
    );
  await store.transaction(async (tx) => {
    await metric(tx, "kept", 1);
    await tx.run("INSERT INTO tags(run_id, key, value) VALUES (?, 'after', 'yes')", [runId]);
  });
  let run = await store.getRun(runId);
  assert.deepEqual(Object.keys(run.metrics), ["kept"]);
  assert.equal(run.tags.after, "yes");
  await assert.rejects(
    () =>
      store.transaction(async (tx) => {
        await metric(tx, "outer", 3);
        await tx.run("INSERT INTO tags(run_id, key, value) VALUES (?, 'undone', 'yes')", [runId]);
        throw new Error("outer");
      }),
    /outer/,
  );
  run = await store.getRun(runId);
  assert.equal(run.metrics.outer, undefined, "a failure rolls everything back");
  assert.equal(run.tags.undone, undefined, "a failure rolls everything back");
  // a failing statement (a duplicate key) also rolls back the statements before it
  await assert.rejects(() =>
    store.transaction(async (tx) => {
      await metric(tx, "before_dup", 5);
      await tx.run("INSERT INTO tags(run_id, key, value) VALUES (?, 'after', 'again')", [runId]);
    })
  );
  run = await store.getRun(runId);
  assert.equal(run.metrics.before_dup, undefined);
  assert.equal(run.tags.after, "yes");
  await store.logMetric(runId, "later", 4); // the store is usable afterwards
  assert.equal((await store.getRun(runId)).metrics.later, 4);
});

backendTest(
  "closing a store twice is harmless (as `await using` after an explicit close does)",
  async (b) => {
    const store = await TrackingStore.open(b.location);
    await store.startRun({ experiment: "e" });
    await store.close();
    await store.close();
    await store[Symbol.asyncDispose]();
  },
);
