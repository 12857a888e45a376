/**
 * End-to-end checks of tasks/register.ts, tasks/models.ts and tasks/runs.ts as
 * processes, with the permissions their deno.json tasks grant, in a temp
 * project directory: 16-way concurrent registration, interrupted
 * registrations, one-line exit-2 errors, and the --json forms.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { TrackingStore } from "../../src/tracking/store.ts";
import { ModelRegistry } from "../../src/registry/registry.ts";
import { dirDigest } from "../../src/store/checksum.ts";
import { makeRun } from "./_fixtures.ts";
import { type Backend, backendTest } from "../_support/backends.ts";

const repo = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));
const DENO_JSON = repo("deno.json");
const decoder = new TextDecoder();

interface Out {
  code: number;
  stdout: string;
  stderr: string;
}

/** The task's own `deno run` flags from deno.json, so the test runs with exactly the permissions users get. */
function taskFlags(name: string): string[] {
  const tasks = JSON.parse(Deno.readTextFileSync(DENO_JSON)).tasks as Record<string, { command: string }>;
  const words = tasks[name].command.split(/\s+/);
  assert.deepEqual(words.slice(0, 2), ["deno", "run"]);
  assert.ok(
    !words.includes("-A") && !words.includes("--allow-all"),
    `${name} must not ask for all permissions`,
  );
  return words.slice(2).filter((w) => w.startsWith("--"));
}

async function task(cwd: string, script: string, args: string[]): Promise<Out> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--config", DENO_JSON, ...taskFlags(script), repo(`tasks/${script}.ts`), ...args],
    cwd,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/**
 * A project in the backend's temp root: params.yaml names the backend's store
 * (the SQLite file models/orchard.db, or the PostgreSQL URI as tracking.uri),
 * with `runs` finished runs whose artifacts are logged with paths relative to
 * the project, as the train stage does.
 */
async function project(b: Backend, runs: number, metrics = { recall: 0.8, f1: 0.7, roc_auc: 0.85 }) {
  const root = b.root;
  Deno.writeTextFileSync(
    `${root}/params.yaml`,
    "tracking:\n  store: models/orchard.db\n" +
      (b.kind === "postgres" ? `  uri: ${JSON.stringify(b.location)}\n` : "") +
      "  experiment: churn\nregistry:\n  model_name: churn\n  gates:\n" +
      "    recall: { threshold: 0.7 }\n    f1: { threshold: 0.6 }\n",
  );
  await using store = await TrackingStore.open(b.location);
  const ids: string[] = [];
  for (let i = 0; i < runs; i++) {
    const id = await makeRun(store, root, metrics);
    await store.db.run("UPDATE artifacts SET path = ? WHERE run_id = ?", [`models/artifacts/${id}`, id]);
    ids.push(id);
  }
  return { root, ids };
}

backendTest(
  "16 parallel register processes get versions 1..16 exactly once, with no corrupt rows",
  async (b) => {
    const { root, ids } = await project(b, 16);
    const outs = await Promise.all(
      ids.map((id) => task(root, "register", ["--run", id, "--name", "churn", "--json"])),
    );
    for (const o of outs) assert.equal(o.code, 0, o.stderr);
    const results = outs.map((o) => JSON.parse(o.stdout));
    assert.deepEqual(
      results.map((r) => r.version).sort((x, y) => x - y),
      Array.from({ length: 16 }, (_, i) => i + 1),
    );
    assert.deepEqual(results.map((r) => r.run_id).sort(), [...ids].sort());
    await using store = await TrackingStore.open(b.location);
    const registry = await ModelRegistry.open(store, { modelsDir: `${root}/models` });
    const versions = await registry.listVersions("churn");
    assert.equal(versions.length, 16);
    assert.deepEqual(versions.map((v) => v.version), Array.from({ length: 16 }, (_, i) => i + 1));
    assert.equal(new Set(versions.map((v) => v.runId)).size, 16);
    for (const v of versions) {
      await registry.verify("churn", v.version);
      assert.equal(
        dirDigest(`${root}/models/artifacts/${v.runId}`).sha256,
        v.sha256,
        "each version holds its own run",
      );
    }
    if (b.kind === "sqlite") {
      const integrity = await store.db.get<Record<string, string>>("PRAGMA integrity_check");
      assert.equal(integrity?.integrity_check, "ok");
    }
    assert.deepEqual(
      [...Deno.readDirSync(`${root}/models/churn`)].map((e) => e.name).filter((n) =>
        n.startsWith(".") && n !== ".orchard-store"
      ),
      [],
      "no temp dirs left",
    );
  },
);

/** Runs _crash.ts: a registration of `runId` as `name` that exits (code 9) around the rename. */
async function crash(b: Backend, runId: string, when: "before-rename" | "after-rename", name: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--config",
      DENO_JSON,
      repo("tests/registry/_crash.ts"),
      b.location,
      `${b.root}/models`,
      runId,
      when,
      name,
    ],
    cwd: b.root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 9, decoder.decode(out.stderr));
  assert.equal(decoder.decode(out.stdout).trim(), "", "the registration did not finish");
}

const entries = (dir: string) => [...Deno.readDirSync(dir)].map((e) => e.name).sort();

backendTest("an interrupted registration leaves no partial version", async (b) => {
  const { root, ids } = await project(b, 5);
  const first = await task(root, "register", ["--run", ids[0], "--name", "m", "--json"]);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(JSON.parse(first.stdout).version, 1);
  let storeId = "";
  for (const when of ["before-rename", "after-rename"] as const) {
    await crash(b, ids[1], when, "m");
    await using store = await TrackingStore.open(b.location);
    storeId = store.storeId;
    const registry = await ModelRegistry.open(store, { modelsDir: `${root}/models` });
    assert.deepEqual((await registry.listVersions("m")).map((v) => v.version), [1], `${when}: no row`);
    await registry.verify("m", 1);
    // the crash did leave its temp dir (marked with this store's id) or an orphan version dir on disk
    const left = entries(`${root}/models/m`);
    if (when === "before-rename") {
      assert.ok(left.some((n) => n.startsWith(`.tmp-${storeId.slice(0, 8)}-`)), left.join(", "));
    } else {
      assert.ok(left.includes("2"), left.join(", "));
    }
  }
  // the next registration is the next gap-free version; the earlier one is intact
  const ok = await task(root, "register", ["--run", ids[2], "--name", "m", "--json"]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(JSON.parse(ok.stdout).version, 2);
  assert.deepEqual(entries(`${root}/models/m`), [".orchard-store", "1", "2"], "leftovers cleaned");
  assert.equal(Deno.readTextFileSync(`${root}/models/m/.orchard-store`).trim(), storeId);
  {
    await using store = await TrackingStore.open(b.location);
    const registry = await ModelRegistry.open(store, { modelsDir: `${root}/models` });
    for (const [v, id] of [[1, ids[0]], [2, ids[2]]] as const) {
      await registry.verify("m", v);
      assert.equal(
        (await registry.getVersion("m", v)).sha256,
        dirDigest(`${root}/models/artifacts/${id}`).sha256,
        `version ${v} holds its own run`,
      );
    }
  }
  // a crash in a model's very first registration leaves no model at all
  await crash(b, ids[3], "after-rename", "fresh");
  {
    await using store = await TrackingStore.open(b.location);
    const registry = await ModelRegistry.open(store, { modelsDir: `${root}/models` });
    assert.equal(await registry.hasModel("fresh"), false, "no model row");
  }
  assert.ok(entries(`${root}/models/fresh`).includes("1"), "the orphan version dir is on disk");
  const fresh = await task(root, "register", ["--run", ids[4], "--name", "fresh", "--json"]);
  assert.equal(fresh.code, 0, fresh.stderr);
  assert.equal(JSON.parse(fresh.stdout).version, 1);
  assert.deepEqual(entries(`${root}/models/fresh`), [".orchard-store", "1"], "leftovers cleaned");
});

backendTest(
  "bad input exits 2 with one line: unknown run, unknown model, malformed URI, tampered artifact",
  async (b) => {
    const { root, ids } = await project(b, 2);
    assert.equal((await task(root, "register", ["--run", ids[0], "--alias", "champion"])).code, 0);
    const cases: [string, string[], RegExp][] = [
      ["register", ["--run", "0123456789abcdef"], /^register: unknown run '0123456789abcdef'$/],
      ["register", ["--run", ids[1], "--stage", "Prod"], /^register: unknown stage 'Prod'/],
      ["register", ["--run", ids[1], "--force"], /^register: --force needs --reason/],
      [
        "register",
        ["--run-file", "models/none.txt"],
        /^register: --run-file models\/none.txt: not there \(run train --run-file models\/none.txt first\)$/,
      ],
      ["models", ["promote", "nope", "1"], /^models: unknown model 'nope' \(registered: churn\)$/],
      ["models", ["show", "models:/churn"], /^models: malformed model URI 'models:\/churn'/],
      ["models", ["show", "models:/churn@gone"], /^models: model 'churn' has no alias 'gone'$/],
      ["models", ["compare", "churn", "1", "7"], /^models: unknown version 7 of model 'churn'/],
      ["models", ["frobnicate"], /^models: unknown subcommand 'frobnicate'/],
      ["runs", ["compare", ids[0]], /^runs: runs compare needs at least two run ids$/],
      ["runs", ["--filter", "metrics.f1 >> 2"], /^runs: filter: expected a number/],
      ["runs", ["--limit", "0"], /^runs: --limit must be a positive integer/],
    ];
    for (const [script, args, re] of cases) {
      const o = await task(root, script, args);
      assert.equal(o.code, 2, `${script} ${args.join(" ")}: ${o.stderr}`);
      assert.equal(o.stderr.trim().split("\n").length, 1, o.stderr);
      assert.match(o.stderr.trim(), re);
    }
    // --run-file registers exactly the run written there (as the scheduled retrain does)
    Deno.writeTextFileSync(`${root}/models/run.txt`, ids[1] + "\n");
    const byFile = await task(root, "register", ["--run-file", "models/run.txt", "--json"]);
    assert.equal(byFile.code, 0, byFile.stderr);
    assert.equal(JSON.parse(byFile.stdout).run_id, ids[1]);
    Deno.writeTextFileSync(`${root}/models/churn/1/model.bin`, "tampered");
    const t = await task(root, "models", ["show", "models:/churn@champion"]);
    assert.equal(t.code, 2);
    assert.match(
      t.stderr.trim(),
      /^models: models:\/churn\/1: artifact checksum mismatch \(model\.bin changed\)/,
    );
    assert.equal(t.stderr.trim().split("\n").length, 1);
  },
);

backendTest("models --json, promote/rollback and runs --json through the CLI", async (b) => {
  const { root, ids } = await project(b, 2);
  const r1 = await task(root, "register", ["--run", ids[0], "--alias", "champion", "--json"]);
  assert.equal(r1.code, 0, r1.stderr);
  const weak = await makeRunIn(b, { recall: 0.5, f1: 0.5 });
  const r2 = await task(root, "register", ["--run", weak, "--alias", "champion"]);
  assert.equal(r2.code, 0, "a gate failure is not an error: the version is a candidate");
  assert.match(r2.stdout, /NOT promoted, version 2 stays a candidate: recall 0\.5 not >= threshold 0\.7/);
  const again = await task(root, "register", ["--run", weak, "--alias", "champion", "--if-new", "--json"]);
  assert.equal(JSON.parse(again.stdout).existing, true);

  const list = JSON.parse((await task(root, "models", ["--json"])).stdout);
  assert.equal(list.models.length, 1);
  const m = list.models[0];
  assert.equal(m.name, "churn");
  assert.deepEqual(m.versions.map((v: { version: number }) => v.version), [1, 2]);
  for (const key of ["version", "aliases", "stage", "metrics", "run_id", "sha256", "gates", "status"]) {
    assert.ok(key in m.versions[0], key);
  }
  assert.deepEqual(m.versions[0].aliases, ["champion"]);
  assert.equal(m.versions[1].status, "candidate");
  assert.equal(m.versions[1].gates.passed, false);
  assert.equal(m.versions[0].metrics.recall, 0.8);

  const refused = await task(root, "models", ["promote", "models:/churn/2"]);
  assert.equal(refused.code, 2);
  const forced = await task(root, "models", [
    "promote",
    "churn",
    "2",
    "--force",
    "--reason",
    "demo",
    "--json",
  ]);
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(JSON.parse(forced.stdout).outcome.gates.forced, true);
  // show lists every gate check of the version, oldest first: the refusals and the forced promotion
  const shown = JSON.parse((await task(root, "models", ["show", "models:/churn/2", "--json"])).stdout);
  const history = shown.gate_history as { target: string; passed: boolean; forced: boolean }[];
  assert.ok(history.length >= 2, JSON.stringify(history));
  assert.deepEqual(history.at(-1), { ...history.at(-1)!, target: "alias:champion", forced: true });
  assert.ok(history.slice(0, -1).every((g) => !g.passed && !g.forced));
  const showText = (await task(root, "models", ["show", "models:/churn/2"])).stdout;
  assert.equal(showText.match(/^ {4}(register|@champion|stage \w+): /gm)?.length, history.length, showText);
  assert.match(showText, /^ {4}@champion: FORCED vs champion v1 \(demo\)/m);
  const back = JSON.parse((await task(root, "models", ["rollback", "churn", "--json"])).stdout);
  assert.deepEqual([back.from, back.to], [2, 1]);
  const cmp = await task(root, "models", ["compare", "churn", "1", "2"]);
  assert.match(cmp.stdout, /metrics\.recall\s+0\.8000\s+0\.5000\s+-0\.3000/);

  const runs = JSON.parse((await task(root, "runs", ["--filter", "metrics.recall >= 0.8", "--json"])).stdout);
  assert.equal(runs.count, 2);
  assert.ok(runs.runs.every((r: { metrics: { recall: number } }) => r.metrics.recall >= 0.8));
  const sorted = JSON.parse(
    (await task(root, "runs", ["--sort", "metrics.recall", "--limit", "1", "--json"])).stdout,
  );
  assert.equal(sorted.runs[0].runId, weak);
  const compare = JSON.parse(
    (await task(root, "runs", ["compare", ids[0], weak.slice(0, 8), "--json"])).stdout,
  );
  const recall = compare.rows.find((r: { field: string }) => r.field === "metrics.recall");
  assert.deepEqual([recall.values, recall.differs], [[0.8, 0.5], true]);
  const text = await task(root, "runs", ["compare", ids[0], ids[1]]);
  assert.match(text.stdout, /fields differ \(marked \*\)/);
});

async function makeRunIn(b: Backend, metrics: Record<string, number>): Promise<string> {
  await using store = await TrackingStore.open(b.location);
  const id = await makeRun(store, b.root, metrics);
  await store.db.run("UPDATE artifacts SET path = ? WHERE run_id = ?", [`models/artifacts/${id}`, id]);
  return id;
}
