/**
 * Issue 12 defects 1 and 2: a store owns its model folders, and artifacts are
 * plain files. Before the fix, registering through a second store deleted
 * the first store's version folders above its own highest version, a 0-byte
 * store file read as an empty store, and symlinks were copied into versions.
 */
import assert from "node:assert/strict";
import { backendTest } from "../_support/backends.ts";
import { UserError } from "../../src/core/errors.ts";
import { TrackingStore } from "../../src/tracking/store.ts";
import { ModelRegistry } from "../../src/registry/registry.ts";
import { artifactRun } from "./_artifact_run.ts";

const isUserError = (re: RegExp) => (e: unknown) => e instanceof UserError && re.test(e.message);

async function storeWithVersions(location: string, root: string, n: number) {
  const store = await TrackingStore.open(location);
  const registry = await ModelRegistry.open(store, { modelsDir: `${root}/models` });
  for (let i = 0; i < n; i++) {
    await registry.register({ runId: await artifactRun(store, root), name: "churn" });
  }
  return { store, registry };
}

function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const e of Deno.readDirSync(`${dir}/${rel}`)) {
      const child = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory) walk(child);
      else out[child] = Deno.readTextFileSync(`${dir}/${child}`);
    }
  };
  walk("");
  return out;
}

backendTest(
  "a second store never touches, and refuses to register into, a model folder of another store",
  async (b) => {
    const main = await storeWithVersions(b.location, b.root, 5);
    const before = snapshot(`${b.root}/models/churn`);
    const other = await TrackingStore.open(b.another());
    try {
      const registry = await ModelRegistry.open(other, { modelsDir: `${b.root}/models` });
      const runId = await artifactRun(other, b.root);
      await assert.rejects(
        () => registry.register({ runId, name: "churn" }),
        isUserError(/belongs to another store/),
      );
      assert.deepEqual(snapshot(`${b.root}/models/churn`), before, "the other store's folder was changed");
      for (let v = 1; v <= 5; v++) await main.registry.verify("churn", v);
      // the first store still registers there, gap-free
      assert.equal(
        (await main.registry.register({ runId: await artifactRun(main.store, b.root), name: "churn" }))
          .version,
        6,
      );
    } finally {
      await other.close();
      await main.store.close();
    }
  },
);

backendTest("a folder made before folders were marked is adopted by its own store only", async (b) => {
  const main = await storeWithVersions(b.location, b.root, 3);
  Deno.removeSync(`${b.root}/models/churn/.orchard-store`); // as an older Orchard left it
  const before = snapshot(`${b.root}/models/churn`);
  const other = await TrackingStore.open(b.another());
  try {
    const registry = await ModelRegistry.open(other, { modelsDir: `${b.root}/models` });
    await assert.rejects(
      async () => registry.register({ runId: await artifactRun(other, b.root), name: "churn" }),
      isUserError(/holds 1, 2, 3, which this store .* did not register; it is left untouched/),
    );
    assert.deepEqual(snapshot(`${b.root}/models/churn`), before);
    const v = await main.registry.register({ runId: await artifactRun(main.store, b.root), name: "churn" });
    assert.equal(v.version, 4);
    assert.equal(Deno.readTextFileSync(`${b.root}/models/churn/.orchard-store`).trim(), main.store.storeId);
  } finally {
    await other.close();
    await main.store.close();
  }
});

backendTest("an artifact holding a symlink, or a symlink loop, is refused with one line", async (b) => {
  const store = await TrackingStore.open(b.location);
  try {
    const registry = await ModelRegistry.open(store, { modelsDir: `${b.root}/models` });
    const runId = await artifactRun(store, b.root);
    const dir = (await store.getRun(runId)).artifacts.model;
    Deno.symlinkSync("/etc/passwd", `${dir}/x`);
    await assert.rejects(
      () => registry.register({ runId, name: "m" }),
      isUserError(/x: is a symbolic link; an artifact must hold plain files only/),
    );
    Deno.removeSync(`${dir}/x`);
    Deno.symlinkSync(`${dir}/loop`, `${dir}/loop`);
    await assert.rejects(
      () => registry.register({ runId, name: "m" }),
      isUserError(/loop: is a symbolic link/),
    );
    Deno.removeSync(`${dir}/loop`);
    // the artifact folder itself may not be a link either
    const runId2 = await artifactRun(store, b.root);
    const real = (await store.getRun(runId2)).artifacts.model;
    Deno.renameSync(real, `${real}-real`);
    Deno.symlinkSync(`${real}-real`, real);
    await assert.rejects(
      () => registry.register({ runId: runId2, name: "m" }),
      isUserError(/is a symbolic link/),
    );
    assert.equal(await registry.hasModel("m"), false, "nothing was registered");
    // a symlink planted in a registered version fails its verification
    const ok = await registry.register({ runId: await artifactRun(store, b.root), name: "m" });
    Deno.symlinkSync("/etc/passwd", `${ok.path}/planted`);
    await assert.rejects(() => registry.verify("m", ok.version), isUserError(/planted: is a symbolic link/));
  } finally {
    await store.close();
  }
});

backendTest("a 0-byte store file is refused, not read as an empty store", async (b) => {
  Deno.mkdirSync(`${b.root}/models`, { recursive: true });
  Deno.writeFileSync(b.location, new Uint8Array());
  const before = new Date(Date.now() - 60_000); // emptied a while ago (a fresh one may be another process's new store)
  Deno.utimeSync(b.location, before, before);
  await assert.rejects(
    () => TrackingStore.open(b.location),
    isUserError(/the store file is empty \(0 bytes\)/),
  );
  assert.equal(Deno.statSync(b.location).size, 0, "the file was left as it was");
}, { only: "sqlite" });
