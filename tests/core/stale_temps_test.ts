/**
 * Issue 12 defect 6: a killed stage's temp files (`<file>.tmp-<pid>-<rand>`,
 * some of them 43 MB) survived later successful runs. A stage now removes
 * them from its output folders when it starts, unless a live writer is
 * still writing them.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { atomically, removeStaleTemps } from "../../src/core/atomic.ts";
import { executeTask, type TaskSpec } from "../../src/cli/task.ts";

const ATOMIC = fileURLToPath(new URL("../../src/core/atomic.ts", import.meta.url));
const names = (dir: string) => [...Deno.readDirSync(dir)].map((e) => e.name).sort();
const HOURS_AGO = new Date(Date.now() - 3 * 3600_000);

/**
 * A writer in another process, stopped with SIGKILL in the middle of an
 * atomic write of `path` (its temp file written, not yet renamed). Resolves
 * once the temp file exists; the returned function kills it.
 */
async function writerMidWrite(path: string): Promise<() => Promise<void>> {
  const script = `import { atomically } from ${JSON.stringify(ATOMIC)};
    atomically(${JSON.stringify(path)}, (tmp) => {
      Deno.writeTextFileSync(tmp, "half of a big file");
      console.log("writing");
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);
    });`;
  const child = new Deno.Command(Deno.execPath(), { args: ["eval", script], stdout: "piped", stderr: "null" })
    .spawn();
  const reader = child.stdout.getReader();
  assert.match(new TextDecoder().decode((await reader.read()).value), /writing/);
  return async () => {
    child.kill("SIGKILL");
    await child.status;
    reader.releaseLock();
    await child.stdout.cancel();
  };
}

Deno.test("a live writer's temp file is left alone; once it is killed -9, it is removed", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    const kill = await writerMidWrite(`${dir}/train.parquet`);
    const temp = names(dir).find((n) => /^train\.parquet\.tmp-\d+-[0-9a-z]+$/.test(n))!;
    assert.ok(temp, String(names(dir)));
    assert.deepEqual(removeStaleTemps(dir), [], "a live writer's file was removed");
    await kill();
    assert.deepEqual(removeStaleTemps(dir), [`${dir}/${temp}`]);
    assert.deepEqual(names(dir), [], "its mark went with it");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("unmarked temp files (written before marks) go once an hour old; other files never", () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.mkdirSync(`${dir}/artifacts/0123abcd.tmp-4242-zz9`, { recursive: true }); // an old killed artifact save
    Deno.utimeSync(`${dir}/artifacts/0123abcd.tmp-4242-zz9`, HOURS_AGO, HOURS_AGO);
    Deno.writeTextFileSync(`${dir}/fresh.csv.tmp-4243-abc`, "maybe being written");
    Deno.writeTextFileSync(`${dir}/train.csv`, "kept");
    Deno.mkdirSync(`${dir}/m/.tmp-1a2b3c4d-4242-beef`, { recursive: true }); // the registry's own
    Deno.utimeSync(`${dir}/m/.tmp-1a2b3c4d-4242-beef`, HOURS_AGO, HOURS_AGO);
    assert.deepEqual(removeStaleTemps(dir), [`${dir}/artifacts/0123abcd.tmp-4242-zz9`]);
    assert.deepEqual(names(dir), ["artifacts", "fresh.csv.tmp-4243-abc", "m", "train.csv"]);
    assert.deepEqual(removeStaleTemps(`${dir}/missing`), []);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("an atomic write leaves only its target: no temp file, no mark", () => {
  const dir = Deno.makeTempDirSync();
  try {
    atomically(`${dir}/out.json`, (tmp) => Deno.writeTextFileSync(tmp, "{}"));
    assert.deepEqual(names(dir), ["out.json"]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a task cleans its output folders of a killed run's temp files before it runs", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    await (await writerMidWrite(`${dir}/big.parquet`))();
    let sawTemp = true;
    const spec: TaskSpec<number> = {
      name: "stage",
      description: "writes into a folder",
      writes: () => [{ path: dir, dir: true, source: "paths.x" }],
      run() {
        sawTemp = names(dir).some((n) => n.includes(".tmp-"));
        return 0;
      },
    };
    const log = console.log;
    console.log = () => {};
    try {
      assert.equal(await executeTask(spec, []), 0);
    } finally {
      console.log = log;
    }
    assert.equal(sawTemp, false, "the killed run's temp file was still there when the stage ran");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
