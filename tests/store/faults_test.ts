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

backendTest(
  "a process's lease ends with its last run: no lease files pile up, and a later run takes a new one",
  async (b) => {
    const store = await TrackingStore.open(b.location);
    const leaseFiles = () => {
      if (b.kind !== "sqlite") return [];
      try {
        // a held lease has its SQLite journal beside it; count the leases
        return [...Deno.readDirSync(`${b.location}.leases`)].map((e) => e.name).filter((n) =>
          n.endsWith(".lock")
        );
      } catch {
        return [];
      }
    };
    try {
      const first = await store.startRun({ experiment: "e" });
      const second = await store.startRun({ experiment: "e" });
      if (b.kind === "sqlite") {
        assert.equal(leaseFiles().length, 1, `one lease for the process: ${leaseFiles()}`);
      }
      await store.endRun(first.runId);
      if (b.kind === "sqlite") assert.equal(leaseFiles().length, 1, "held while a run is RUNNING");
      await store.endRun(second.runId);
      assert.deepEqual(leaseFiles(), [], "released with the last run");
      // a new run is protected again: another process sees its lease held
      const third = await store.startRun({ experiment: "e" });
      const probe = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", FAULT, b.location, `${b.root}/models`, "-", "fail-ended"],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(
        new TextDecoder().decode(probe.stdout).trim(),
        "[]",
        new TextDecoder().decode(probe.stderr),
      );
      assert.equal((await store.getRun(third.runId)).status, "RUNNING");
      await store.endRun(third.runId, "KILLED");
      assert.deepEqual(leaseFiles(), []);
    } finally {
      await store.close();
    }
  },
);

Deno.test("SQLite: an old lease file nobody holds (its process ended) is removed when a lease is next taken", async () => {
  const root = Deno.makeTempDirSync({ prefix: "orchard-leases-" });
  try {
    const location = `${root}/models/orchard.db`;
    const store = await TrackingStore.open(location);
    try {
      Deno.mkdirSync(`${location}.leases`, { recursive: true });
      const old = `${location}.leases/p1-deadbeef.lock`, fresh = `${location}.leases/p2-cafef00d.lock`;
      Deno.writeTextFileSync(old, "");
      Deno.writeTextFileSync(`${old}-journal`, "");
      Deno.writeTextFileSync(fresh, "");
      const hourAgo = new Date(Date.now() - 3600_000);
      Deno.utimeSync(old, hourAgo, hourAgo);
      const { runId } = await store.startRun({ experiment: "e" });
      const names = [...Deno.readDirSync(`${location}.leases`)].map((e) => e.name);
      assert.ok(!names.includes("p1-deadbeef.lock"), "the abandoned lease was removed");
      assert.ok(!names.includes("p1-deadbeef.lock-journal"), "and its journal");
      assert.ok(names.includes("p2-cafef00d.lock"), "a fresh one may be a holder about to lock it: kept");
      await store.endRun(runId);
    } finally {
      await store.close();
    }
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});
