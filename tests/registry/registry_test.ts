import assert from "node:assert/strict";
import { UserError } from "../../src/core/errors.ts";
import { dirDigest } from "../../src/registry/checksum.ts";
import { ModelRegistry } from "../../src/registry/registry.ts";
import { makeRun, tempProject } from "./_fixtures.ts";

const GATES = { recall: { threshold: 0.7 }, f1: { threshold: 0.6, min_absolute_change: 0.01 } };
const isUserError = (re: RegExp) => (e: unknown) => e instanceof UserError && re.test(e.message);

function setup() {
  const p = tempProject();
  const registry = new ModelRegistry(p.store, { modelsDir: p.modelsDir, gates: GATES });
  const run = (recall: number, f1: number, extra: Record<string, number> = {}) =>
    makeRun(p.store, p.root, { recall, f1, ...extra });
  return { ...p, registry, run };
}

Deno.test("register copies the artifact into models/<name>/<version> with its sha256; versions are immutable", () => {
  const { registry, run, modelsDir, store } = setup();
  const runId = run(0.8, 0.7, { roc_auc: 0.9 });
  const r = registry.register({ runId, name: "churn" });
  assert.equal(r.version, 1);
  assert.equal(r.path, `${modelsDir}/churn/1`);
  const source = store.getRun(runId).artifacts.model;
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
  const v = registry.getVersion("churn", 1);
  assert.deepEqual(v.metrics, { recall: 0.8, f1: 0.7, roc_auc: 0.9 });
  assert.equal(v.params.max_depth, "10");
  assert.equal(v.runId, runId);
  // changing the run's source afterwards does not change the version
  Deno.writeTextFileSync(`${source}/model.bin`, "retrained in place");
  assert.equal(registry.verify("churn", 1), `${modelsDir}/churn/1`);
  // the same run registered again is a new version, unless ifNew
  assert.equal(registry.register({ runId, name: "churn" }).version, 2);
  const again = registry.register({ runId, name: "churn", ifNew: true });
  assert.equal(again.existing, true);
  assert.equal(again.version, 2);
  assert.equal(registry.maxVersion("churn"), 2);
});

Deno.test("bad registrations are UserErrors and leave nothing behind", () => {
  const { registry, run, store, root, modelsDir } = setup();
  const good = run(0.8, 0.7);
  assert.throws(
    () => registry.register({ runId: "f".repeat(32), name: "churn" }),
    isUserError(/unknown run/),
  );
  const failed = makeRun(store, root, { recall: 1, f1: 1 }, { status: "FAILED" });
  assert.throws(
    () => registry.register({ runId: failed, name: "churn" }),
    isUserError(/FAILED; only FINISHED/),
  );
  const noArtifact = store.startRun({ experiment: "churn" }).runId;
  store.endRun(noArtifact);
  assert.throws(
    () => registry.register({ runId: noArtifact, name: "churn" }),
    isUserError(/no 'model' artifact/),
  );
  const gone = run(0.8, 0.7);
  Deno.removeSync(store.getRun(gone).artifacts.model, { recursive: true });
  assert.throws(() => registry.register({ runId: gone, name: "churn" }), isUserError(/does not exist/));
  for (const name of ["bad name", "../x", ".hidden", "artifacts", "orchard.db", ""]) {
    assert.throws(() => registry.register({ runId: good, name }), UserError, name);
  }
  assert.throws(
    () => registry.register({ runId: good, name: "churn", alias: "v3" }),
    isUserError(/reserved/),
  );
  assert.throws(
    () => registry.register({ runId: good, name: "churn", alias: "latest" }),
    isUserError(/reserved/),
  );
  assert.throws(
    () => registry.register({ runId: good, name: "churn", force: true }),
    isUserError(/--reason/),
  );
  assert.equal(registry.hasModel("churn"), false);
  const left = [...Deno.readDirSync(modelsDir)].map((e) => e.name);
  assert.ok(left.every((n) => n === "artifacts" || n.startsWith("orchard.db")), left.join(", "));
});

Deno.test("gates: a failing version is registered as a candidate; champion stays; results stored", () => {
  const { registry, run } = setup();
  const r1 = registry.register({ runId: run(0.8, 0.7), name: "churn", alias: "champion" });
  assert.deepEqual(r1.aliases, ["champion"]);
  assert.equal(r1.status, "promoted");
  const r2 = registry.register({ runId: run(0.65, 0.9), name: "churn", alias: "champion" });
  assert.equal(r2.version, 2);
  assert.deepEqual(r2.aliases, []);
  assert.equal(r2.status, "candidate");
  assert.equal(r2.promotions[0].applied, false);
  assert.match(r2.promotions[0].gates!.reasons.join(";"), /recall 0\.65 not >= threshold 0\.7/);
  assert.equal(registry.aliasVersion("churn", "champion"), 1);
  // not enough improvement over the champion's f1 (0.7 + 0.01)
  const r3 = registry.register({ runId: run(0.9, 0.705), name: "churn", alias: "champion" });
  assert.equal(r3.promotions[0].applied, false);
  assert.equal(r3.promotions[0].gates!.baselineVersion, 1);
  assert.match(r3.promotions[0].gates!.reasons[0], /f1 0\.705 not >= 0\.71 \(champion v1/);
  const stored = registry.getVersion("churn", 3).gates!;
  assert.equal(stored.target, "alias:champion");
  assert.equal(stored.passed, false);
  // other aliases are not gated
  const r4 = registry.register({ runId: run(0.1, 0.1), name: "churn", alias: ["challenger"] });
  assert.deepEqual(r4.aliases, ["challenger"]);
  // force promotes and records the reason
  const r5 = registry.register({
    runId: run(0.5, 0.5),
    name: "churn",
    alias: "champion",
    force: true,
    reason: "incident 42",
  });
  assert.deepEqual(r5.aliases, ["champion"]);
  assert.equal(r5.promotions[0].gates!.forced, true);
  assert.equal(registry.getVersion("churn", 5).gates!.reason, "incident 42");
  const ev = registry.events("churn").filter((e) => e.action === "alias_set" && e.target === "champion")
    .pop()!;
  assert.deepEqual([ev.version, ev.previousVersion, ev.reason], [5, 1, "incident 42"]);
});

Deno.test("promote: gated for champion, refused with reasons, forced with a reason", () => {
  const { registry, run } = setup();
  registry.register({ runId: run(0.8, 0.7), name: "m", alias: "champion" });
  registry.register({ runId: run(0.6, 0.8), name: "m" });
  registry.register({ runId: run(0.9, 0.8), name: "m" });
  assert.throws(
    () => registry.promote("m", 2),
    isUserError(/failed the gates for alias:champion: recall 0\.6/),
  );
  assert.equal(registry.aliasVersion("m", "champion"), 1);
  assert.equal(registry.getVersion("m", 2).gates!.passed, false, "the refused check is stored");
  assert.equal(registry.promote("m", 3).previousVersion, 1);
  assert.equal(registry.aliasVersion("m", "champion"), 3);
  assert.throws(() => registry.promote("m", 2, { force: true }), isUserError(/--reason/));
  const forced = registry.promote("m", 2, { force: true, reason: "rollout test" });
  assert.equal(forced.gates!.forced, true);
  assert.equal(registry.aliasVersion("m", "champion"), 2);
  assert.throws(
    () => registry.promote("m", 9),
    isUserError(/unknown version 9 of model 'm' \(versions: 1\.\.3\)/),
  );
  assert.throws(() => registry.promote("nope", 1), isUserError(/unknown model 'nope'/));
  assert.throws(() => registry.promote("m", 1, { alias: "a", stage: "Staging" }), isUserError(/not both/));
});

Deno.test("alias moves and rollback walk back through champions, skipping archived ones", () => {
  const { registry, run } = setup();
  for (let i = 0; i < 4; i++) registry.register({ runId: run(0.8, 0.7 + i / 10), name: "m" });
  assert.throws(() => registry.rollback("m"), isUserError(/no previous @champion/));
  registry.promote("m", 1);
  assert.throws(() => registry.rollback("m"), isUserError(/no previous @champion/));
  registry.promote("m", 2);
  registry.promote("m", 3);
  registry.promote("m", 3); // no-op: not a move
  assert.deepEqual(registry.rollback("m"), { alias: "champion", from: 3, to: 2 });
  assert.deepEqual(registry.rollback("m"), { alias: "champion", from: 2, to: 1 });
  assert.throws(() => registry.rollback("m"), isUserError(/no previous/));
  registry.promote("m", 4);
  assert.equal(registry.rollback("m").to, 1);
  // aliases are per name: moving one does not touch another
  registry.promote("m", 2, { alias: "challenger" });
  registry.promote("m", 3, { alias: "challenger" });
  assert.equal(registry.aliasVersion("m", "champion"), 1);
  assert.equal(registry.rollback("m", "challenger").to, 2);
  // archived versions are skipped
  registry.promote("m", 3);
  registry.promote("m", 4);
  registry.archive("m", 3);
  assert.equal(registry.rollback("m").to, 1, "v3 is archived, so back to v1");
  // a deleted alias comes back with rollback
  registry.deleteAlias("m", "challenger");
  assert.equal(registry.aliasVersion("m", "challenger"), undefined);
  assert.equal(registry.rollback("m", "challenger").to, 2);
  // rollback verifies the restored artifact
  registry.promote("m", 4);
  Deno.writeTextFileSync(`${registry.versionDir("m", 1)}/model.bin`, "tampered");
  assert.throws(() => registry.rollback("m"), isUserError(/checksum mismatch/));
  assert.equal(registry.aliasVersion("m", "champion"), 4, "a failed rollback changes nothing");
});

Deno.test("stages: one Production per model, the previous one archived; archive guards aliases", () => {
  const { registry, run } = setup();
  registry.register({ runId: run(0.8, 0.7), name: "m", stage: "Production" });
  registry.register({ runId: run(0.9, 0.8), name: "m", stage: "Staging" });
  assert.equal(registry.stageVersion("m", "Production"), 1);
  registry.promote("m", 2, { stage: "Production" });
  assert.deepEqual(registry.listVersions("m").map((v) => v.stage), ["Archived", "Production"]);
  // a failing version is refused for Production
  registry.register({ runId: run(0.1, 0.1), name: "m" });
  assert.throws(
    () => registry.promote("m", 3, { stage: "Production" }),
    isUserError(/gates for stage:Production/),
  );
  assert.equal(registry.stageVersion("m", "Production"), 2);
  // the one-Production rule holds in the database itself
  assert.throws(() =>
    registry.store.db.prepare("UPDATE model_versions SET stage = 'Production' WHERE version = 3").run()
  );
  registry.promote("m", 2);
  assert.throws(() => registry.archive("m", 2), isUserError(/holds @champion/));
  assert.deepEqual(registry.archive("m", 2, { force: true }).removedAliases, ["champion"]);
  assert.equal(registry.getVersion("m", 2).stage, "Archived");
  assert.equal(registry.aliasVersion("m", "champion"), undefined);
});

Deno.test("compare puts metrics and params side by side", () => {
  const { registry, store, root } = setup();
  const a = makeRun(store, root, { recall: 0.8, f1: 0.7 }, { params: { max_depth: 8, n_estimators: 100 } });
  const b = makeRun(store, root, { recall: 0.9, roc_auc: 0.95 }, {
    params: { max_depth: 12, n_estimators: 100 },
  });
  registry.register({ runId: a, name: "m" });
  registry.register({ runId: b, name: "m" });
  const c = registry.compare("m", 1, 2);
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

Deno.test("leftovers of a crashed registration are cleaned under the lock and never become versions", () => {
  const { registry, run, modelsDir } = setup();
  registry.register({ runId: run(0.8, 0.7), name: "m" });
  Deno.mkdirSync(`${modelsDir}/m/.tmp-999-dead/sub`, { recursive: true });
  Deno.writeTextFileSync(`${modelsDir}/m/.tmp-999-dead/sub/x`, "half");
  Deno.mkdirSync(`${modelsDir}/m/2`); // renamed but never committed
  Deno.writeTextFileSync(`${modelsDir}/m/2/model.bin`, "orphan");
  assert.throws(() => registry.verify("m", 2), isUserError(/unknown version 2/));
  const r = registry.register({ runId: run(0.8, 0.7), name: "m" });
  assert.equal(r.version, 2);
  assert.equal(registry.verify("m", 2), `${modelsDir}/m/2`);
  assert.deepEqual([...Deno.readDirSync(`${modelsDir}/m`)].map((e) => e.name).sort(), ["1", "2"]);
});
