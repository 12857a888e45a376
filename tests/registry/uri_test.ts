import assert from "node:assert/strict";
import { UserError } from "../../src/core/errors.ts";
import { ModelRegistry } from "../../src/registry/registry.ts";
import { formatModelUri, parseModelUri, resolveModelUri } from "../../src/registry/uri.ts";
import { makeRun, tempProject } from "./_fixtures.ts";
import { backendTest } from "../_support/backends.ts";

const isUserError = (re: RegExp) => (e: unknown) =>
  e instanceof UserError && re.test(e.message) && !e.message.includes("\n");

Deno.test("parseModelUri: versions, aliases, stages, latest, paths", () => {
  assert.deepEqual(parseModelUri("models:/churn/3"), { kind: "version", name: "churn", version: 3 });
  assert.deepEqual(parseModelUri("models:/churn@champion"), {
    kind: "alias",
    name: "churn",
    alias: "champion",
  });
  assert.deepEqual(parseModelUri("models:/my.model-2@blue_green"), {
    kind: "alias",
    name: "my.model-2",
    alias: "blue_green",
  });
  assert.deepEqual(parseModelUri("models:/churn/Production"), {
    kind: "stage",
    name: "churn",
    stage: "Production",
  });
  assert.deepEqual(parseModelUri("models:/churn/staging"), {
    kind: "stage",
    name: "churn",
    stage: "Staging",
  });
  assert.deepEqual(parseModelUri("models:/churn/latest"), { kind: "latest", name: "churn" });
  assert.deepEqual(parseModelUri("models/churn/3"), { kind: "path", path: "models/churn/3" });
  assert.deepEqual(parseModelUri(" ./artifacts/x "), { kind: "path", path: "./artifacts/x" });
  for (
    const uri of [
      "models:/churn/3",
      "models:/churn@champion",
      "models:/churn/Archived",
      "models:/churn/latest",
      "a/b",
    ]
  ) {
    assert.equal(formatModelUri(parseModelUri(uri)), uri);
  }
});

Deno.test("parseModelUri: malformed URIs are one-line UserErrors", () => {
  const bad: [string, RegExp][] = [
    ["models:/", /model name is missing|must follow the name/],
    ["models:/churn", /must follow the name/],
    ["models:/churn/", /version is missing/],
    ["models:/churn/0", /versions start at 1/],
    ["models:/churn/-1", /not a version number/],
    ["models:/churn/1.5", /not a version number/],
    ["models:/churn/Prod", /not a version number, a stage/],
    ["models:/churn/3/extra", /too many/],
    ["models:/churn@", /alias after '@' is missing/],
    ["models:/churn@a/b", /not an alias/],
    ["models:/@champion", /model name is missing/],
    ["models:/bad name/1", /not a model name/],
    ["models://churn/1", /one slash/],
    ["models:churn/1", /must start with 'models:\/'/],
    ["", /empty model URI/],
  ];
  for (const [uri, re] of bad) assert.throws(() => parseModelUri(uri), isUserError(re), uri);
});

backendTest("resolveModelUri finds the directory and verifies the checksum", async (b) => {
  await using p = await tempProject(b);
  const { root, store, modelsDir } = p;
  const registry = await ModelRegistry.open(store, { modelsDir, gates: {} });
  const runs: string[] = [];
  for (const auc of [0.7, 0.8, 0.9]) runs.push(await makeRun(store, root, { roc_auc: auc }));
  await registry.register({ runId: runs[0], name: "churn", stage: "Production" });
  await registry.register({ runId: runs[1], name: "churn", alias: "champion" });
  await registry.register({ runId: runs[2], name: "churn", alias: "challenger" });
  const opts = { store, modelsDir };
  const at = async (uri: string) => {
    const r = await resolveModelUri(uri, opts);
    return [r.name, r.version, r.dir, r.verified];
  };
  assert.deepEqual(await at("models:/churn/1"), ["churn", 1, `${modelsDir}/churn/1`, true]);
  assert.deepEqual(await at("models:/churn@champion"), ["churn", 2, `${modelsDir}/churn/2`, true]);
  assert.deepEqual(await at("models:/churn/production"), ["churn", 1, `${modelsDir}/churn/1`, true]);
  assert.deepEqual(await at("models:/churn/latest"), ["churn", 3, `${modelsDir}/churn/3`, true]);
  assert.deepEqual(
    await at(`${modelsDir}/churn/3`),
    ["churn", 3, `${modelsDir}/churn/3`, true],
    "a registry path is verified",
  );
  const outside = (await store.getRun(runs[0])).artifacts.model;
  assert.deepEqual(await at(outside), [undefined, undefined, outside, false]);
  assert.equal(
    (await resolveModelUri("models:/churn/2", opts)).sha256,
    (await registry.getVersion("churn", 2)).sha256,
  );

  await assert.rejects(
    () => resolveModelUri("models:/nope/1", opts),
    isUserError(/unknown model 'nope' \(registered: churn\)/),
  );
  await assert.rejects(() => resolveModelUri("models:/churn/9", opts), isUserError(/unknown version 9/));
  await assert.rejects(() => resolveModelUri("models:/churn@blue", opts), isUserError(/no alias 'blue'/));
  await assert.rejects(
    () => resolveModelUri("models:/churn/Staging", opts),
    isUserError(/no version in stage Staging/),
  );
  await assert.rejects(() => resolveModelUri(`${root}/missing`, opts), isUserError(/no model at/));
  await assert.rejects(() => resolveModelUri("models:/churn", opts), isUserError(/malformed model URI/));
  // a store given by path is opened and closed
  assert.equal(
    (await resolveModelUri("models:/churn@champion", { store: b.location, modelsDir })).version,
    2,
  );
});

backendTest("tamper detection: changed, added, removed or missing files are refused", async (b) => {
  await using p = await tempProject(b);
  const { root, store, modelsDir } = p;
  const registry = await ModelRegistry.open(store, { modelsDir, gates: {} });
  for (let i = 0; i < 4; i++) {
    await registry.register({ runId: await makeRun(store, root, { roc_auc: 0.8 }), name: "m" });
  }
  const opts = { store, modelsDir };
  Deno.writeTextFileSync(`${modelsDir}/m/1/model.bin`, "evil weights");
  await assert.rejects(
    () => resolveModelUri("models:/m/1", opts),
    isUserError(/checksum mismatch \(model\.bin changed\)/),
  );
  Deno.writeTextFileSync(`${modelsDir}/m/2/extra.py`, "import os");
  await assert.rejects(() => resolveModelUri("models:/m/2", opts), isUserError(/extra\.py was added/));
  Deno.removeSync(`${modelsDir}/m/3/sub/preprocess.json`);
  await assert.rejects(
    () => resolveModelUri("models:/m/3", opts),
    isUserError(/sub\/preprocess\.json is missing/),
  );
  Deno.removeSync(`${modelsDir}/m/4`, { recursive: true });
  await assert.rejects(() => resolveModelUri("models:/m/4", opts), isUserError(/directory .* is missing/));
  // verify: false skips the hashing (for cheap polling), the path is still returned
  assert.equal((await resolveModelUri("models:/m/1", { ...opts, verify: false })).dir, `${modelsDir}/m/1`);
  // a file replaced by a symbolic link is refused, even to identical bytes (links used to be followed)
  Deno.writeTextFileSync(`${root}/copy.bin`, Deno.readTextFileSync(`${modelsDir}/m/2/model.bin`));
  Deno.removeSync(`${modelsDir}/m/2/extra.py`);
  Deno.removeSync(`${modelsDir}/m/2/model.bin`);
  Deno.symlinkSync(`${root}/copy.bin`, `${modelsDir}/m/2/model.bin`);
  await assert.rejects(
    () => resolveModelUri("models:/m/2", opts),
    isUserError(/model\.bin: is a symbolic link/),
  );
  // a byte-identical restore passes again
  const original = (await store.getRun((await registry.getVersion("m", 1)).runId)).artifacts.model;
  Deno.copyFileSync(`${original}/model.bin`, `${modelsDir}/m/1/model.bin`);
  assert.equal((await resolveModelUri("models:/m/1", opts)).verified, true);
});
