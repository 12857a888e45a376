import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { POSTGRES_URI } from "../_support/backends.ts";
import { backendTest } from "../_support/backends.ts";
import { UserError } from "../../src/core/errors.ts";
import { TrackingStore } from "../../src/tracking/store.ts";
import { ModelRegistry } from "../../src/registry/registry.ts";
import { copyStore } from "../../src/registry/copy_store.ts";
import { artifactRun } from "./_artifact_run.ts";

const isUserError = (re: RegExp) => (e: unknown) => e instanceof UserError && re.test(e.message);

/** Copies a store with runs, nested runs, metric history and registry state, then checks the copy reads the same. */
backendTest(
  "store:copy moves every run and version, keeps the identity, and the copy keeps registering gap-free",
  async (b) => {
    const modelsDir = `${b.root}/models`;
    const src = await TrackingStore.open(`${b.root}/source.db`); // always from SQLite, into the backend under test
    const registry = await ModelRegistry.open(src, { modelsDir });
    const { runId: parent } = await src.startRun({ experiment: "tune" });
    const { runId: child } = await src.startRun({ experiment: "tune", parentRunId: parent });
    for (let i = 0; i < 3; i++) await src.logMetric(parent, "loss", 1 / (i + 1), i);
    await src.logMetrics(parent, { nan: NaN, inf: Infinity });
    // copied while quiet: a run still RUNNING in the source has its process writing there, not in the copy
    await src.endRun(child);
    await src.endRun(parent, "KILLED");
    const runIds = [await artifactRun(src, b.root), await artifactRun(src, b.root, { roc_auc: 0.9 })];
    await registry.register({ runId: runIds[0], name: "churn", alias: "champion" });
    await registry.register({ runId: runIds[1], name: "churn", alias: "challenger" });
    await registry.promote("churn", 2, { stage: "Production" });
    const before = await src.searchRuns({});
    const versionsBefore = await registry.listVersions("churn");
    await src.close();

    const result = await copyStore(`${b.root}/source.db`, b.location);
    assert.equal(result.rows.runs, 4);
    assert.equal(result.rows.model_versions, 2);

    const dst = await TrackingStore.open(b.location);
    try {
      const copy = await ModelRegistry.open(dst, { modelsDir });
      assert.equal(dst.storeId, result.store_id);
      assert.deepEqual(await dst.searchRuns({}), before);
      assert.deepEqual(await copy.listVersions("churn"), versionsBefore);
      await copy.verify("churn", 1); // the model folder is the copy's: same identity
      const v3 = await copy.register({ runId: runIds[1], name: "churn" });
      assert.equal(v3.version, 3);
      // the source shares the copy's identity and model folders: a registration there would take (and
      // remove, as its own uncommitted leftover) the copy's version 3, so it is refused, naming the copy
      {
        await using source = await TrackingStore.open(`${b.root}/source.db`);
        const old = await ModelRegistry.open(source, { modelsDir });
        await assert.rejects(
          () => old.register({ runId: runIds[0], name: "churn" }),
          isUserError(/was copied to .* by store:copy .*register in the copy/),
        );
      }
      await copy.verify("churn", 3); // untouched
      // new rows get fresh ids after the copied ones (PostgreSQL sequences moved on)
      await dst.logMetric(parent, "loss", 0.1, 3);
      assert.equal((await dst.getRun(parent)).metricHistory.loss.length, 4);
    } finally {
      await dst.close();
    }
    // a source that is not there is refused, and nothing is created for it
    await assert.rejects(
      () => copyStore(`${b.root}/typo.db`, `${b.root}/elsewhere.db`),
      isUserError(/typo\.db: no store there \(a SQLite file\)/),
    );
    assert.throws(() => Deno.statSync(`${b.root}/typo.db`));
    assert.throws(() => Deno.statSync(`${b.root}/elsewhere.db`));
    // a non-empty destination is refused, and left as it was
    await assert.rejects(
      () => copyStore(`${b.root}/source.db`, b.location),
      isUserError(/is not empty .*store:copy writes only into an empty store/),
    );
  },
);

Deno.test({
  name: "store:copy from PostgreSQL back to a SQLite file" +
    (POSTGRES_URI ? "" : " [postgres: skipped, no server]"),
  ignore: POSTGRES_URI === undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const root = Deno.makeTempDirSync({ prefix: "orchard-copy-" });
    const url = new URL(POSTGRES_URI!);
    url.searchParams.set("schema", `copyback_${Deno.pid}_${Date.now().toString(36)}`);
    try {
      const pg = await TrackingStore.open(url.toString());
      const runId = await artifactRun(pg, root);
      await pg.close();
      const r = await copyStore(url.toString(), `${root}/back.db`);
      assert.equal(r.rows.runs, 1);
      const back = await TrackingStore.open(`${root}/back.db`);
      assert.equal((await back.getRun(runId)).status, "FINISHED");
      await back.close();
      const drop = await TrackingStore.open(url.toString());
      await drop.db.run(`DROP SCHEMA ${url.searchParams.get("schema")} CASCADE`);
      await drop.close();
    } finally {
      Deno.removeSync(root, { recursive: true });
    }
  },
});

Deno.test("store:copy --to: a folder or another scheme is one line, exit 2, before the source is opened", async () => {
  const { executeTask } = await import("../../src/cli/task.ts");
  const { spec } = await import("../../tasks/store_copy.ts");
  const dir = Deno.makeTempDirSync({ prefix: "orchard-copy-task-" });
  const err: string[] = [];
  const error = console.error;
  console.error = (...a: unknown[]) => err.push(a.join(" "));
  try {
    const from = `${dir}/from.db`;
    const cases: [string, RegExp][] = [
      [dir, /^store:copy: --to .*: is a folder; name a file$/],
      ["mysql://u:secret@h/db", /^store:copy: --to = mysql:\/\/u:\*\*\*@h\/db: not a store Orchard opens/],
    ];
    for (const [to, line] of cases) {
      err.length = 0;
      assert.equal(await executeTask(spec, ["--from", from, "--to", to]), 2, to);
      assert.equal(err.length, 1, err.join("\n"));
      assert.match(err[0], line);
    }
    assert.ok(!existsSync(from), "the source was not even opened");
  } finally {
    console.error = error;
    Deno.removeSync(dir, { recursive: true });
  }
});
