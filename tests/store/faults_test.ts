/**
 * Fault injection on both backends: a registration killed with SIGKILL
 * before the copy, after it, before and after the commit, and a killed
 * train. The store then opens consistent: every earlier version intact with
 * valid checksums, no version without files, the next register gap-free,
 * and a killed run marked FAILED.
 */
import assert from "node:assert/strict";
import { fileURLToPath as fromFileUrl } from "node:url";
import { backendTest } from "../_support/backends.ts";
import { TrackingStore } from "../../src/tracking/store.ts";
import { ModelRegistry } from "../../src/registry/registry.ts";
import { artifactRun as makeRun } from "./_artifact_run.ts";

const FAULT = fromFileUrl(new URL("./_fault.ts", import.meta.url));

async function killed(args: string[]): Promise<{ code: number; signal: string | null; stdout: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", FAULT, ...args],
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  return { code: out.code, signal: out.signal, stdout: new TextDecoder().decode(out.stdout).trim() };
}

for (const point of ["before-copy", "after-copy", "before-commit", "after-commit"] as const) {
  backendTest(
    `a register killed -9 ${point} leaves the store consistent and the next version gap-free`,
    async (b) => {
      const modelsDir = `${b.root}/models`;
      let store = await TrackingStore.open(b.location);
      let registry = await ModelRegistry.open(store, { modelsDir });
      const runs = [];
      for (let i = 0; i < 3; i++) runs.push(await makeRun(store, b.root, { roc_auc: 0.8 + i / 100 }));
      await registry.register({ runId: runs[0], name: "m" });
      await registry.register({ runId: runs[1], name: "m" });
      await store.close();

      const r = await killed([b.location, modelsDir, runs[2], point]);
      assert.equal(r.signal, "SIGKILL", `the registration was not killed: ${r.stdout}`);

      store = await TrackingStore.open(b.location);
      try {
        registry = await ModelRegistry.open(store, { modelsDir });
        const committed = point === "after-commit";
        const versions = (await registry.listVersions("m")).map((v) => v.version);
        assert.deepEqual(versions, committed ? [1, 2, 3] : [1, 2]);
        for (const v of versions) await registry.verify("m", v); // files intact, checksums valid
        const next = await registry.register({ runId: runs[2], name: "m" });
        assert.equal(next.version, committed ? 4 : 3);
        await registry.verify("m", next.version);
        const left = [...Deno.readDirSync(`${modelsDir}/m`)].map((e) => e.name).filter((n) =>
          n.startsWith(".tmp-")
        );
        assert.deepEqual(left, [], "a crashed registration's temp folder survived the next register");
      } finally {
        await store.close();
      }
    },
  );
}

backendTest("a train killed -9 is marked FAILED ('process ended') when the store next opens", async (b) => {
  await (await TrackingStore.open(b.location)).close();
  const r = await killed([b.location, `${b.root}/models`, "-", "train"]);
  assert.equal(r.signal, "SIGKILL");
  const runId = r.stdout;
  const store = await TrackingStore.open(b.location);
  try {
    const run = await store.getRun(runId);
    assert.equal(run.status, "FAILED");
    assert.equal(run.tags["orchard.failure"], "process ended");
    assert.ok(run.endTime !== null);
    assert.equal(run.params.max_depth, "3"); // what it logged before dying is kept
  } finally {
    await store.close();
  }
});

backendTest("a RUNNING run of a live process is left RUNNING", async (b) => {
  const store = await TrackingStore.open(b.location);
  try {
    const { runId } = await store.startRun({ experiment: "e" });
    const other = await TrackingStore.open(b.location);
    await other.close();
    assert.equal((await store.getRun(runId)).status, "RUNNING");
    assert.deepEqual(await store.failEndedRuns(), []);
  } finally {
    await store.close();
  }
});
