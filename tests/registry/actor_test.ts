/**
 * Who moved an alias: every registry event records its actor (registry
 * schema v2). The CLI records ORCHARD_ACTOR or else the OS user; a program
 * names its own (the UI: "ui:<name>"); events from before v2 keep NULL.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { ModelRegistry, REGISTRY_SCHEMA } from "../../src/registry/registry.ts";
import { defaultActor } from "../../src/registry/actor.ts";
import { TrackingStore } from "../../src/tracking/store.ts";
import { openDatabase } from "../../src/store/open.ts";
import { migrate } from "../../src/store/migrate.ts";
import { STORE_SCHEMA } from "../../src/store/identity.ts";
import { TRACKING_SCHEMA } from "../../src/tracking/schema.ts";
import { makeRun, tempProject } from "./_fixtures.ts";
import { backendTest } from "../_support/backends.ts";

const repo = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));

backendTest("each event records who made it: the registry's actor, or another one per call", async (b) => {
  await using p = await tempProject(b);
  const registry = await ModelRegistry.open(p.store, { modelsDir: p.modelsDir, actor: "alice" });
  const r1 = await makeRun(p.store, p.root, { recall: 0.8 });
  const r2 = await makeRun(p.store, p.root, { recall: 0.9 });
  await registry.register({ runId: r1, name: "churn", alias: "champion" });
  await registry.register({ runId: r2, name: "churn" });
  const bob = registry.withActor("ui:bob");
  await bob.promote("churn", 2, { alias: "champion" });
  await bob.rollback("churn");
  await registry.promote("churn", 2, { alias: "challenger" });
  await bob.archive("churn", 2, { force: true, reason: "leaked labels" });
  const events = await registry.events("churn");
  assert.deepEqual(events.map((e) => [e.action, e.target, e.actor]), [
    ["register", null, "alice"],
    ["alias_set", "champion", "alice"],
    ["register", null, "alice"],
    ["alias_set", "champion", "ui:bob"],
    ["alias_rollback", "champion", "ui:bob"],
    ["alias_set", "challenger", "alice"],
    ["alias_delete", "challenger", "ui:bob"],
    ["stage_set", "Archived", "ui:bob"],
  ]);
  assert.equal(events.at(-1)!.reason, "leaked labels");
  assert.equal(registry.actor, "alice", "withActor leaves the original as it was");
});

backendTest("events written before registry schema v2 keep actor NULL after the migration", async (b) => {
  const db = await openDatabase(b.location);
  await migrate(db, [STORE_SCHEMA, TRACKING_SCHEMA, {
    ...REGISTRY_SCHEMA,
    migrations: REGISTRY_SCHEMA.migrations.slice(0, 1),
  }]);
  await db.run(
    "INSERT INTO model_events(name, version, action, target, previous_version, reason, time) VALUES ('churn', 1, 'alias_set', 'champion', NULL, NULL, 5)",
  );
  await db.close();
  const store = await TrackingStore.open(b.location);
  try {
    const registry = await ModelRegistry.open(store, { modelsDir: `${b.root}/models` });
    const v = await store.db.get<{ version: number }>(
      "SELECT version FROM orchard_schema WHERE component = 'registry'",
    );
    assert.equal(Number(v!.version), 2);
    const [e] = await registry.events("churn");
    assert.equal(e.action, "alias_set");
    assert.equal(e.actor, null);
    assert.equal(e.time, 5);
  } finally {
    await store.close();
  }
});

Deno.test("the default actor is ORCHARD_ACTOR, else the OS user, else undefined", () => {
  assert.equal(defaultActor({ ORCHARD_ACTOR: "ci-bot", USER: "dave" }), "ci-bot");
  assert.equal(defaultActor({ USER: "dave" }), "dave");
  assert.equal(defaultActor({ LOGNAME: "erin" }), "erin");
  assert.equal(defaultActor({ ORCHARD_ACTOR: "  ", USER: "dave" }), "dave");
  assert.equal(defaultActor({}), undefined);
  assert.equal(defaultActor({ USER: "x".repeat(500) })!.length, 200, "kept short");
});

/** tasks/models.ts as a process, with its deno.json permissions, in a project on the given store. */
async function modelsTask(root: string, args: string[], env: Record<string, string>) {
  const tasks = JSON.parse(Deno.readTextFileSync(repo("deno.json"))).tasks as Record<
    string,
    { command: string }
  >;
  const flags = tasks.models.command.split(/\s+/).slice(2).filter((w) => w.startsWith("--"));
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--config", repo("deno.json"), ...flags, repo("tasks/models.ts"), ...args],
    cwd: root,
    env: { NO_COLOR: "1", ...env },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

backendTest("the models command records ORCHARD_ACTOR, or else the OS user", async (b) => {
  const root = b.root;
  Deno.writeTextFileSync(
    `${root}/params.yaml`,
    "tracking:\n  store: models/orchard.db\n" +
      (b.kind === "postgres" ? `  uri: ${JSON.stringify(b.location)}\n` : "") +
      "  experiment: churn\nregistry:\n  model_name: churn\n",
  );
  {
    await using store = await TrackingStore.open(b.location);
    const registry = await ModelRegistry.open(store, { modelsDir: `${root}/models` });
    for (let i = 0; i < 2; i++) {
      const id = await makeRun(store, root, { recall: 0.8 });
      await registry.register({ runId: id, name: "churn" });
    }
  }
  // the environment is cleared (no USER of the test's own), but for the Deno cache's location
  const home: Record<string, string> = {};
  for (const k of ["HOME", "DENO_DIR", "PATH"]) if (Deno.env.get(k)) home[k] = Deno.env.get(k)!;
  let out = await modelsTask(root, ["promote", "churn", "1", "--alias", "challenger"], {
    ...home,
    USER: "dave",
    ORCHARD_ACTOR: "ci-bot",
  });
  assert.equal(out.code, 0, out.stderr);
  out = await modelsTask(root, ["promote", "churn", "2", "--alias", "challenger"], { ...home, USER: "dave" });
  assert.equal(out.code, 0, out.stderr);
  await using store = await TrackingStore.open(b.location);
  const registry = await ModelRegistry.open(store, { modelsDir: `${root}/models` });
  const moves = (await registry.events("churn")).filter((e) => e.action === "alias_set");
  assert.deepEqual(moves.map((e) => [e.version, e.actor]), [[1, "ci-bot"], [2, "dave"]]);
});
