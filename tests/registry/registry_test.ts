import assert from "node:assert/strict";
import { UserError } from "../../src/core/errors.ts";
import { dirDigest } from "../../src/store/checksum.ts";
import { ModelRegistry } from "../../src/registry/registry.ts";
import { gateLine } from "../../src/registry/format.ts";
import { makeRun, tempProject } from "./_fixtures.ts";
import { type Backend, backendTest } from "../_support/backends.ts";

const GATES = { recall: { threshold: 0.7 }, f1: { threshold: 0.6, min_absolute_change: 0.01 } };
const isUserError = (re: RegExp) => (e: unknown) => e instanceof UserError && re.test(e.message);

async function setup(b: Backend) {
  const p = await tempProject(b);
  const registry = await ModelRegistry.open(p.store, { modelsDir: p.modelsDir, gates: GATES });
  const run = (recall: number, f1: number, extra: Record<string, number> = {}) =>
    makeRun(p.store, p.root, { recall, f1, ...extra });
  return { ...p, registry, run };
}

backendTest(
  "register copies the artifact into models/<name>/<version> with its sha256; versions are immutable",
  async (b) => {
    await using p = await setup(b);
    const { registry, run, modelsDir, store } = p;
    const runId = await run(0.8, 0.7, { roc_auc: 0.9 });
    const r = await registry.register({ runId, name: "churn" });
    assert.equal(r.version, 1);
    assert.equal(r.path, `${modelsDir}/churn/1`);
    const source = (await store.getRun(runId)).artifacts.model;
    assert.equal(dirDigest(r.path).sha256, dirDigest(source).sha256);
    assert.equal(r.sha256, dirDigest(source).sha256);
    assert.deepEqual(Object.keys(dirDigest(r.path).files), [
      "artifact.json",
      "model.bin",
      "sub/preprocess.json",
    ]);
    assert.equal(r.status, "candidate");
    assert.deepEqual(r.aliases, []);
    assert.equal(r.stage, "None");
    assert.equal(r.gates!.passed, true);
    // the version snapshot keeps the run's metrics and params
    const v = await registry.getVersion("churn", 1);
    assert.deepEqual(v.metrics, { recall: 0.8, f1: 0.7, roc_auc: 0.9 });
    assert.equal(v.params.max_depth, "10");
    assert.equal(v.runId, runId);
    // changing the run's source afterwards does not change the version
    Deno.writeTextFileSync(`${source}/model.bin`, "retrained in place");
    assert.equal(await registry.verify("churn", 1), `${modelsDir}/churn/1`);
    // the same run registered again is a new version, unless ifNew
    assert.equal((await registry.register({ runId, name: "churn" })).version, 2);
    const again = await registry.register({ runId, name: "churn", ifNew: true });
    assert.equal(again.existing, true);
    assert.equal(again.version, 2);
    assert.equal(await registry.maxVersion("churn"), 2);
  },
);

backendTest("bad registrations are UserErrors and leave nothing behind", async (b) => {
  await using p = await setup(b);
  const { registry, run, store, root, modelsDir } = p;
  const good = await run(0.8, 0.7);
  await assert.rejects(
    () => registry.register({ runId: "f".repeat(32), name: "churn" }),
    isUserError(/unknown run/),
  );
  const failed = await makeRun(store, root, { recall: 1, f1: 1 }, { status: "FAILED" });
  await assert.rejects(
    () => registry.register({ runId: failed, name: "churn" }),
    isUserError(/FAILED; only FINISHED/),
  );
  const noArtifact = (await store.startRun({ experiment: "churn" })).runId;
  await store.endRun(noArtifact);
  await assert.rejects(
    () => registry.register({ runId: noArtifact, name: "churn" }),
    isUserError(/no 'model' artifact/),
  );
  const gone = await run(0.8, 0.7);
  Deno.removeSync((await store.getRun(gone)).artifacts.model, { recursive: true });
  await assert.rejects(
    () => registry.register({ runId: gone, name: "churn" }),
    isUserError(/does not exist/),
  );
  // the store's own file is a reserved name only where it sits in the models folder (SQLite)
  const reserved = b.kind === "sqlite" ? ["artifacts", "orchard.db", "orchard.db-wal"] : ["artifacts"];
  for (const name of ["bad name", "../x", ".hidden", ...reserved, ""]) {
    await assert.rejects(() => registry.register({ runId: good, name }), UserError, name);
  }
  await assert.rejects(
    () => registry.register({ runId: good, name: "churn", alias: "v3" }),
    isUserError(/reserved/),
  );
  await assert.rejects(
    () => registry.register({ runId: good, name: "churn", alias: "latest" }),
    isUserError(/reserved/),
  );
  await assert.rejects(
    () => registry.register({ runId: good, name: "churn", force: true }),
    isUserError(/--reason/),
  );
  assert.equal(await registry.hasModel("churn"), false);
  const left = [...Deno.readDirSync(modelsDir)].map((e) => e.name);
  assert.ok(left.every((n) => n === "artifacts" || n.startsWith("orchard.db")), left.join(", "));
});

backendTest(
  "gates: a failing version is registered as a candidate; champion stays; results stored",
  async (b) => {
    await using p = await setup(b);
    const { registry, run } = p;
    const r1 = await registry.register({ runId: await run(0.8, 0.7), name: "churn", alias: "champion" });
    assert.deepEqual(r1.aliases, ["champion"]);
    assert.equal(r1.status, "promoted");
    const r2 = await registry.register({ runId: await run(0.65, 0.9), name: "churn", alias: "champion" });
    assert.equal(r2.version, 2);
    assert.deepEqual(r2.aliases, []);
    assert.equal(r2.status, "candidate");
    assert.equal(r2.promotions[0].applied, false);
    assert.match(r2.promotions[0].gates!.reasons.join(";"), /recall 0\.65 not >= threshold 0\.7/);
    assert.equal(await registry.aliasVersion("churn", "champion"), 1);
    // not enough improvement over the champion's f1 (0.7 + 0.01)
    const r3 = await registry.register({ runId: await run(0.9, 0.705), name: "churn", alias: "champion" });
    assert.equal(r3.promotions[0].applied, false);
    assert.equal(r3.promotions[0].gates!.baselineVersion, 1);
    assert.match(r3.promotions[0].gates!.reasons[0], /f1 0\.705 not >= 0\.71 \(champion v1/);
    const stored = (await registry.getVersion("churn", 3)).gates!;
    assert.equal(stored.target, "alias:champion");
    assert.equal(stored.passed, false);
    // other aliases are not gated
    const r4 = await registry.register({ runId: await run(0.1, 0.1), name: "churn", alias: ["challenger"] });
    assert.deepEqual(r4.aliases, ["challenger"]);
    // force promotes and records the reason
    const r5 = await registry.register({
      runId: await run(0.5, 0.5),
      name: "churn",
      alias: "champion",
      force: true,
      reason: "incident 42",
    });
    assert.deepEqual(r5.aliases, ["champion"]);
    assert.equal(r5.promotions[0].gates!.forced, true);
    assert.equal((await registry.getVersion("churn", 5)).gates!.reason, "incident 42");
    const ev = (await registry.events("churn")).filter((e) =>
      e.action === "alias_set" && e.target === "champion"
    )
      .pop()!;
    assert.deepEqual([ev.version, ev.previousVersion, ev.reason], [5, 1, "incident 42"]);
  },
);

backendTest("promote: gated for champion, refused with reasons, forced with a reason", async (b) => {
  await using p = await setup(b);
  const { registry, run } = p;
  await registry.register({ runId: await run(0.8, 0.7), name: "m", alias: "champion" });
  await registry.register({ runId: await run(0.6, 0.8), name: "m" });
  await registry.register({ runId: await run(0.9, 0.8), name: "m" });
  await assert.rejects(
    () => registry.promote("m", 2),
    isUserError(/failed the gates for alias:champion: recall 0\.6/),
  );
  assert.equal(await registry.aliasVersion("m", "champion"), 1);
  assert.equal((await registry.getVersion("m", 2)).gates!.passed, false, "the refused check is stored");
  assert.equal((await registry.promote("m", 3)).previousVersion, 1);
  assert.equal(await registry.aliasVersion("m", "champion"), 3);
  await assert.rejects(() => registry.promote("m", 2, { force: true }), isUserError(/--reason/));
  const forced = await registry.promote("m", 2, { force: true, reason: "rollout test" });
  assert.equal(forced.gates!.forced, true);
  assert.equal(await registry.aliasVersion("m", "champion"), 2);
  await assert.rejects(
    () => registry.promote("m", 9),
    isUserError(/unknown version 9 of model 'm' \(versions: 1\.\.3\)/),
  );
  await assert.rejects(() => registry.promote("nope", 1), isUserError(/unknown model 'nope'/));
  await assert.rejects(
    () => registry.promote("m", 1, { alias: "a", stage: "Staging" }),
    isUserError(/not both/),
  );
});

backendTest("alias moves and rollback walk back through champions, skipping archived ones", async (b) => {
  await using p = await setup(b);
  const { registry, run } = p;
  for (let i = 0; i < 4; i++) await registry.register({ runId: await run(0.8, 0.7 + i / 10), name: "m" });
  await assert.rejects(() => registry.rollback("m"), isUserError(/no previous @champion/));
  await registry.promote("m", 1);
  await assert.rejects(() => registry.rollback("m"), isUserError(/no previous @champion/));
  await registry.promote("m", 2);
  await registry.promote("m", 3);
  await registry.promote("m", 3); // no-op: not a move
  assert.deepEqual(await registry.rollback("m"), { alias: "champion", from: 3, to: 2 });
  assert.deepEqual(await registry.rollback("m"), { alias: "champion", from: 2, to: 1 });
  await assert.rejects(() => registry.rollback("m"), isUserError(/no previous/));
  await registry.promote("m", 4);
  assert.equal((await registry.rollback("m")).to, 1);
  // aliases are per name: moving one does not touch another
  await registry.promote("m", 2, { alias: "challenger" });
  await registry.promote("m", 3, { alias: "challenger" });
  assert.equal(await registry.aliasVersion("m", "champion"), 1);
  assert.equal((await registry.rollback("m", "challenger")).to, 2);
  // archived versions are skipped
  await registry.promote("m", 3);
  await registry.promote("m", 4);
  await registry.archive("m", 3);
  assert.equal((await registry.rollback("m")).to, 1, "v3 is archived, so back to v1");
  // a deleted alias comes back with rollback
  await registry.deleteAlias("m", "challenger");
  assert.equal(await registry.aliasVersion("m", "challenger"), undefined);
  assert.equal((await registry.rollback("m", "challenger")).to, 2);
  // rollback verifies the restored artifact
  await registry.promote("m", 4);
  Deno.writeTextFileSync(`${registry.versionDir("m", 1)}/model.bin`, "tampered");
  await assert.rejects(() => registry.rollback("m"), isUserError(/checksum mismatch/));
  assert.equal(await registry.aliasVersion("m", "champion"), 4, "a failed rollback changes nothing");
});

backendTest(
  "stages: one Production per model, the previous one archived; archive guards aliases",
  async (b) => {
    await using p = await setup(b);
    const { registry, run } = p;
    await registry.register({ runId: await run(0.8, 0.7), name: "m", stage: "Production" });
    await registry.register({ runId: await run(0.9, 0.8), name: "m", stage: "Staging" });
    assert.equal(await registry.stageVersion("m", "Production"), 1);
    await registry.promote("m", 2, { stage: "Production" });
    assert.deepEqual((await registry.listVersions("m")).map((v) => v.stage), ["Archived", "Production"]);
    // a failing version is refused for Production
    await registry.register({ runId: await run(0.1, 0.1), name: "m" });
    await assert.rejects(
      () => registry.promote("m", 3, { stage: "Production" }),
      isUserError(/gates for stage:Production/),
    );
    assert.equal(await registry.stageVersion("m", "Production"), 2);
    // every check of v3 is kept, oldest first; the Production one was against Production's holder
    const history = await registry.gateHistory("m", 3);
    assert.deepEqual(history.map((g) => g.target), ["register", "stage:Production"]);
    assert.equal(history[1].baselineVersion, 2);
    assert.match(gateLine(history[1]), /^failed vs Production v2: /);
    assert.equal(gateLine(history[0]).includes("Production"), false);
    // the one-Production rule holds in the database itself
    await assert.rejects(() =>
      registry.store.db.run("UPDATE model_versions SET stage = 'Production' WHERE version = 3")
    );
    await registry.promote("m", 2);
    await assert.rejects(() => registry.archive("m", 2), isUserError(/holds @champion/));
    assert.deepEqual((await registry.archive("m", 2, { force: true })).removedAliases, ["champion"]);
    assert.equal((await registry.getVersion("m", 2)).stage, "Archived");
    assert.equal(await registry.aliasVersion("m", "champion"), undefined);
  },
);

backendTest("compare puts metrics and params side by side", async (backend) => {
  await using p = await setup(backend);
  const { registry, store, root } = p;
  const a = await makeRun(store, root, { recall: 0.8, f1: 0.7 }, {
    params: { max_depth: 8, n_estimators: 100 },
  });
  const b = await makeRun(store, root, { recall: 0.9, roc_auc: 0.95 }, {
    params: { max_depth: 12, n_estimators: 100 },
  });
  await registry.register({ runId: a, name: "m" });
  await registry.register({ runId: b, name: "m" });
  const c = await registry.compare("m", 1, 2);
  assert.deepEqual(
    c.metrics.map((m) => [m.key, m.values, m.delta === null ? null : Number(m.delta.toFixed(6))]),
    [
      ["f1", [0.7, null], null],
      ["recall", [0.8, 0.9], 0.1],
      ["roc_auc", [null, 0.95], null],
    ],
  );
  assert.deepEqual(c.params.map((p) => [p.key, p.values, p.same]), [
    ["max_depth", ["8", "12"], false],
    ["n_estimators", ["100", "100"], true],
  ]);
  assert.deepEqual(c.runs, [a, b]);
});

backendTest(
  "leftovers of a crashed registration are cleaned under the lock and never become versions",
  async (b) => {
    await using p = await setup(b);
    const { registry, run, modelsDir, store } = p;
    const first = await registry.register({ runId: await run(0.8, 0.7), name: "m" });
    // a crashed put of this store: its temp folder is marked with the store's id (.tmp-<id8>-<pid>-<rand>)
    const own = `.tmp-${store.storeId.slice(0, 8)}-999-dead`;
    Deno.mkdirSync(`${modelsDir}/m/${own}/sub`, { recursive: true });
    Deno.writeTextFileSync(`${modelsDir}/m/${own}/sub/x`, "half");
    // a temp folder that is not this store's is not its to remove (it used to be deleted too)
    const foreign = `.tmp-${store.storeId.startsWith("0") ? "1" : "0"}${"f".repeat(7)}-999-dead`;
    Deno.mkdirSync(`${modelsDir}/m/${foreign}`);
    Deno.writeTextFileSync(`${modelsDir}/m/${foreign}/x`, "not ours");
    Deno.mkdirSync(`${modelsDir}/m/2`); // renamed but never committed
    Deno.writeTextFileSync(`${modelsDir}/m/2/model.bin`, "orphan");
    await assert.rejects(() => registry.verify("m", 2), isUserError(/unknown version 2/));
    const runId = await run(0.8, 0.7);
    const r = await registry.register({ runId, name: "m" });
    assert.equal(r.version, 2);
    assert.equal(await registry.verify("m", 2), `${modelsDir}/m/2`);
    assert.equal(r.sha256, dirDigest((await store.getRun(runId)).artifacts.model).sha256, "not the orphan");
    assert.equal(await registry.verify("m", 1), first.path, "the earlier version is intact");
    assert.deepEqual(
      [...Deno.readDirSync(`${modelsDir}/m`)].map((e) => e.name).sort(),
      [".orchard-store", foreign, "1", "2"],
    );
    assert.equal(Deno.readTextFileSync(`${modelsDir}/m/${foreign}/x`), "not ours");
  },
);

backendTest(
  "a version holding an alias is never moved to Archived by a stage change, as archive refuses it",
  async (b) => {
    await using p = await setup(b);
    const { registry, run } = p;
    for (let i = 0; i < 2; i++) await registry.register({ runId: await run(0.8, 0.7 + i / 10), name: "m" });
    await registry.promote("m", 1); // @champion
    await registry.promote("m", 1, { stage: "Production" });
    // asked for by name: refused as `models archive` refuses it
    await assert.rejects(
      () => registry.promote("m", 1, { stage: "Archived" }),
      isUserError(/version 1 of 'm' holds @champion/),
    );
    // replacing it in Production would archive it: refused too, naming the alias to move first
    await assert.rejects(
      () => registry.promote("m", 2, { stage: "Production" }),
      isUserError(/version 1 of 'm' holds @champion/),
    );
    const v1 = await registry.getVersion("m", 1);
    assert.deepEqual([v1.stage, v1.aliases], ["Production", ["champion"]]);
    // once @champion has moved on, version 2 replaces it in Production and it is archived
    await registry.promote("m", 2);
    await registry.promote("m", 2, { stage: "Production" });
    assert.equal((await registry.getVersion("m", 1)).stage, "Archived");
  },
);
