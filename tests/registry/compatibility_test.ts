/**
 * Issue 12, defect 4, in the registry: a run's artifact becomes a new version
 * of a model only when it is the same kind of model (task kind, target, class
 * set, as the artifacts' manifests say); an input-signature change is listed
 * and needs --allow-schema-change. Real small models (fit, then save), logged
 * as finished runs in a SQLite store; and tasks/register.ts as a process with
 * its deno.json permissions.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { UserError } from "../../src/core/errors.ts";
import { fit } from "../../src/models/model.ts";
import { ModelRegistry } from "../../src/registry/registry.ts";
import { registerSummary } from "../../src/registry/format.ts";
import { TrackingStore } from "../../src/tracking/store.ts";
import { churnRows, type Row } from "../models/_data.ts";

const SMALL = { n_estimators: 4, max_depth: 4, n_jobs: 1, random_state: 7 };

/** A finished run whose "model" artifact is a real model fitted on `rows`, saved under <root>/models/artifacts/<run>. */
async function modelRun(store: TrackingStore, root: string, rows: Row[], target: string): Promise<string> {
  const model = await fit(rows, { target, ...SMALL });
  const { runId } = await store.startRun({ experiment: "churn" });
  await store.logMetrics(runId, { roc_auc: 0.8 });
  const dir = model.save(`${root}/models/artifacts/${runId}`);
  await store.logArtifact(runId, "model", dir);
  await store.endRun(runId, "FINISHED");
  return runId;
}

/** The churn rows with the target's values or name changed, or columns dropped and added. */
function variant(
  rows: Row[],
  f: (r: Row) => Row,
): Row[] {
  return rows.map((r) => f({ ...r }));
}

const BASE = churnRows(200, 4);
const rename = (r: Row) => {
  const { churned, ...rest } = r;
  return { ...rest, churn: churned };
};

async function project() {
  const root = await Deno.makeTempDir({ prefix: "orchard-compat-" });
  const store = await TrackingStore.open(`${root}/models/orchard.db`);
  const registry = await ModelRegistry.open(store, { modelsDir: `${root}/models` });
  const v1 = await modelRun(store, root, BASE, "churned");
  await registry.register({ runId: v1, name: "churn", alias: "champion" });
  return {
    root,
    store,
    registry,
    async [Symbol.asyncDispose]() {
      await store.close();
      await Deno.remove(root, { recursive: true });
    },
  };
}

/** Asserts nothing of a refused registration was kept: one version, one register event, no copy. */
async function onlyVersion1(p: Awaited<ReturnType<typeof project>>) {
  assert.equal(await p.registry.maxVersion("churn"), 1);
  assert.equal(await p.registry.aliasVersion("churn", "champion"), 1);
  assert.deepEqual((await p.registry.events("churn")).map((e) => [e.action, e.version]), [
    ["register", 1],
    ["alias_set", 1],
  ]);
  const entries = [...Deno.readDirSync(`${p.root}/models/churn`)].map((e) => e.name).sort();
  assert.deepEqual(entries, [".orchard-store", "1"], "the artifact was never copied");
}

const refused = (message: string) => (e: unknown) => {
  assert.ok(e instanceof UserError, String(e));
  assert.equal(e.message, message);
  return true;
};

Deno.test("register refuses another target: the telecom run (target churn) is not a version of churn (target churned)", async () => {
  await using p = await project();
  const runId = await modelRun(p.store, p.root, variant(BASE, rename), "churn");
  await assert.rejects(
    p.registry.register({ runId, name: "churn", alias: "champion" }),
    refused(
      "churn: version 2 would change the target from 'churned' to 'churn'; register it under another name",
    ),
  );
  await onlyVersion1(p);
  // the flag for schema changes does not let another target in
  await assert.rejects(
    p.registry.register({ runId, name: "churn", allowSchemaChange: true }),
    /would change the target from 'churned' to 'churn'/,
  );
  await onlyVersion1(p);
  // under another name it is a model of its own
  assert.equal((await p.registry.register({ runId, name: "telecom_churn" })).version, 1);
});

Deno.test("register refuses another task kind or another class set", async () => {
  await using p = await project();
  const regression = await modelRun(
    p.store,
    p.root,
    variant(BASE, (r) => ({ ...r, churned: Number(r.tenure) * 1.5 + 0.25 })),
    "churned",
  );
  await assert.rejects(
    p.registry.register({ runId: regression, name: "churn" }),
    refused(
      "churn: version 2 would change the task from 'binary' to 'regression'; register it under another name",
    ),
  );
  const multiclass = await modelRun(
    p.store,
    p.root,
    variant(
      BASE,
      (r) => ({ ...r, churned: Number(r.tenure) < 20 ? "yes" : Number(r.tenure) < 40 ? "no" : "maybe" }),
    ),
    "churned",
  );
  await assert.rejects(
    p.registry.register({ runId: multiclass, name: "churn" }),
    refused(
      "churn: version 2 would change the task from 'binary' to 'multiclass'; register it under another name",
    ),
  );
  const relabelled = await modelRun(
    p.store,
    p.root,
    variant(BASE, (r) => ({ ...r, churned: r.churned === "yes" ? "Y" : "N" })),
    "churned",
  );
  await assert.rejects(
    p.registry.register({ runId: relabelled, name: "churn" }),
    refused(
      `churn: version 2 would change the classes from ["no","yes"] to ["N","Y"]; register it under another name`,
    ),
  );
  await onlyVersion1(p);
});

Deno.test("register takes a retrain of the same model, and refuses a version that is no model artifact after one that is", async () => {
  await using p = await project();
  const retrain = await modelRun(p.store, p.root, churnRows(200, 9), "churned");
  const r = await p.registry.register({ runId: retrain, name: "churn", alias: "champion" });
  assert.equal(r.version, 2);
  assert.equal(r.schema_change, null);
  assert.ok(!registerSummary(r).includes("inputs"), registerSummary(r));
  // a run whose artifact has no Orchard manifest cannot follow a real model
  const { runId } = await p.store.startRun({ experiment: "churn" });
  const dir = `${p.root}/models/artifacts/${runId}`;
  Deno.mkdirSync(dir, { recursive: true });
  Deno.writeTextFileSync(`${dir}/model.bin`, "weights");
  await p.store.logArtifact(runId, "model", dir);
  await p.store.endRun(runId, "FINISHED");
  await assert.rejects(
    p.registry.register({ runId, name: "churn" }),
    /version 3 would not be a model artifact/,
  );
  assert.equal(await p.registry.maxVersion("churn"), 2);
});

Deno.test("register lists an input-signature change and refuses it; --allow-schema-change registers it and records the change", async () => {
  await using p = await project();
  const runId = await modelRun(
    p.store,
    p.root,
    variant(BASE, (r) => {
      const { signup: _, ...rest } = r;
      return { ...rest, region: Number(r.tenure) % 2 ? "north" : "south" };
    }),
    "churned",
  );
  await assert.rejects(
    p.registry.register({ runId, name: "churn", alias: "champion" }),
    refused(
      "churn: version 2 would change the input signature (added region; removed signup); " +
        "update its callers, then register it with --allow-schema-change",
    ),
  );
  await onlyVersion1(p);

  const r = await p.registry.register({ runId, name: "churn", allowSchemaChange: true });
  assert.equal(r.version, 2);
  assert.deepEqual(r.schema_change, {
    added: ["region"],
    removed: ["signup"],
    retyped: [],
    reordered: false,
  });
  const register = (await p.registry.events("churn")).find((e) =>
    e.action === "register" && e.version === 2
  )!;
  assert.equal(register.reason, "input signature changed (added region; removed signup)");
  assert.match(
    registerSummary(r),
    /\n {2}inputs {3}changed \(--allow-schema-change\): added region; removed signup/,
  );
  // the next version is compared with version 2, the latest
  const again = await modelRun(p.store, p.root, variant(BASE, (r) => r), "churned");
  await assert.rejects(
    p.registry.register({ runId: again, name: "churn" }),
    /version 3 would change the input signature \(added signup; removed region\); update/,
  );
});

// ---------------------------------------------------------------- the task as a process

const repo = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));

async function registerTask(cwd: string, args: string[]) {
  const tasks = JSON.parse(Deno.readTextFileSync(repo("deno.json"))).tasks as Record<
    string,
    { command: string }
  >;
  const flags = tasks.register.command.split(/\s+/).slice(2).filter((w) => w.startsWith("--"));
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--config", repo("deno.json"), ...flags, repo("tasks/register.ts"), ...args],
    cwd,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("deno task register: a mismatch is one line and exit 2; --allow-schema-change prints the change", async () => {
  const root = await Deno.makeTempDir({ prefix: "orchard-compat-cli-" });
  try {
    Deno.writeTextFileSync(
      `${root}/params.yaml`,
      "tracking:\n  store: models/orchard.db\n  experiment: churn\nregistry:\n  model_name: churn\n",
    );
    const ids: string[] = [];
    {
      await using store = await TrackingStore.open(`${root}/models/orchard.db`);
      const telecom = variant(BASE, rename).map((r) => ({ ...r, extra: Number(r.tenure) > 30 }));
      for (
        const [rows, target] of [[BASE, "churned"], [telecom, "churn"], [
          variant(BASE, (r) => ({ ...r, extra: 1.5 * Number(r.tenure) })),
          "churned",
        ]] as const
      ) {
        const id = await modelRun(store, root, rows as Row[], target);
        // logged relative to the project, as the train stage does
        await store.db.run("UPDATE artifacts SET path = ? WHERE run_id = ?", [`models/artifacts/${id}`, id]);
        ids.push(id);
      }
    }
    let o = await registerTask(root, ["--run", ids[0], "--alias", "champion"]);
    assert.equal(o.code, 0, o.stderr);
    o = await registerTask(root, ["--run", ids[1], "--alias", "champion"]);
    assert.equal(o.code, 2, o.stdout + o.stderr);
    assert.equal(
      o.stderr.trim(),
      "register: churn: version 2 would change the target from 'churned' to 'churn'; register it under another name " +
        "(its inputs differ too: added extra)",
    );
    o = await registerTask(root, ["--run", ids[2]]);
    assert.equal(o.code, 2);
    assert.match(
      o.stderr,
      /added extra\); update its callers, then register it with --allow-schema-change\n$/,
    );
    o = await registerTask(root, ["--run", ids[2], "--allow-schema-change"]);
    assert.equal(o.code, 0, o.stderr);
    assert.match(o.stdout, /registered churn version 2 /);
    assert.match(o.stdout, /\n {2}inputs {3}changed \(--allow-schema-change\): added extra\n/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("register refuses a run whose model artifact no longer matches its own checksums (a file truncated or removed), naming the file", async () => {
  await using p = await project();
  const retrain = await modelRun(p.store, p.root, churnRows(200, 9), "churned");
  const dir = `${p.root}/models/artifacts/${retrain}`;
  const victim = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n !== "artifact.json").sort()[0];
  const original = Deno.readFileSync(`${dir}/${victim}`);
  Deno.writeFileSync(`${dir}/${victim}`, original.subarray(0, 10));
  await assert.rejects(
    p.registry.register({ runId: retrain, name: "churn", alias: "champion" }),
    (e: unknown) => {
      assert.ok(e instanceof UserError, String(e));
      assert.match(e.message, new RegExp(`^run ${retrain}: .*${victim}: checksum mismatch`));
      return true;
    },
  );
  await onlyVersion1(p);
  Deno.removeSync(`${dir}/${victim}`);
  await assert.rejects(
    p.registry.register({ runId: retrain, name: "churn" }),
    new RegExp(`${victim}: missing`),
  );
  await onlyVersion1(p);
  // a manifest cut short is a damaged artifact, said so: not "no Orchard artifact.json"
  Deno.writeFileSync(`${dir}/${victim}`, original);
  const manifest = Deno.readTextFileSync(`${dir}/artifact.json`);
  Deno.writeTextFileSync(`${dir}/artifact.json`, manifest.slice(0, manifest.length / 2));
  await assert.rejects(
    p.registry.register({ runId: retrain, name: "churn" }),
    (e: unknown) =>
      e instanceof UserError && /artifact\.json: not valid JSON \(truncated or edited\)$/.test(e.message),
  );
  await onlyVersion1(p);
  // restored, it registers
  Deno.writeTextFileSync(`${dir}/artifact.json`, manifest);
  assert.equal((await p.registry.register({ runId: retrain, name: "churn" })).version, 2);
});
