/**
 * Issue 12 defect 6: a killed stage's temp files (`<file>.tmp-<pid>-<rand>`,
 * some of them 43 MB) survived later successful runs. A stage now removes
 * them from its output folders when it starts, unless another live writer
 * of that folder might still be writing them.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { joinWriters } from "../../src/core/atomic.ts";
import { executeTask, type TaskSpec } from "../../src/cli/task.ts";

function plant(dir: string) {
  Deno.mkdirSync(`${dir}/artifacts`, { recursive: true });
  Deno.writeTextFileSync(`${dir}/train.csv.tmp-4242-abc123`, "half a file");
  Deno.mkdirSync(`${dir}/artifacts/0123abcd.tmp-4242-zz9`); // a killed artifact save
  Deno.writeTextFileSync(`${dir}/train.csv`, "kept");
  Deno.mkdirSync(`${dir}/m/.tmp-1a2b3c4d-4242-beef`, { recursive: true }); // the registry's own, not ours
}

const names = (dir: string) => [...Deno.readDirSync(dir)].map((e) => e.name).sort();

/** A live writer of `dir` in another process, until the returned function stops it. */
async function liveWriter(dir: string): Promise<() => Promise<void>> {
  const atomic = fileURLToPath(new URL("../../src/core/atomic.ts", import.meta.url));
  const script = `import { joinWriters } from ${JSON.stringify(atomic)};
    joinWriters(${JSON.stringify(dir)}); console.log("joined"); setInterval(() => {}, 1000);`;
  const child = new Deno.Command(Deno.execPath(), { args: ["eval", script], stdout: "piped", stderr: "null" })
    .spawn();
  const reader = child.stdout.getReader();
  const { value } = await reader.read();
  assert.match(new TextDecoder().decode(value), /joined/);
  return async () => {
    child.kill("SIGKILL");
    await child.status;
    reader.releaseLock();
    await child.stdout.cancel();
  };
}

Deno.test("joining a folder removes the temp files killed writers left, and nothing else", () => {
  const dir = Deno.makeTempDirSync();
  try {
    plant(dir);
    const removed = joinWriters(dir).map((p) => p.slice(dir.length + 1)).sort();
    assert.deepEqual(removed, ["artifacts/0123abcd.tmp-4242-zz9", "train.csv.tmp-4242-abc123"]);
    assert.deepEqual(names(dir), [".orchard-writers.lock", "artifacts", "m", "train.csv"]);
    assert.ok(Deno.statSync(`${dir}/m/.tmp-1a2b3c4d-4242-beef`).isDirectory);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a live writer's temp files are left alone; once it is killed, the next writer removes them", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    const first = await liveWriter(dir);
    Deno.writeTextFileSync(`${dir}/big.parquet.tmp-999-abc`, "being written");
    const second = await liveWriter(dir); // a stage starting beside a live one
    assert.ok(Deno.statSync(`${dir}/big.parquet.tmp-999-abc`).isFile, "a live writer's file was removed");
    await first(); // kill -9: the OS drops their locks
    await second();
    const third = await liveWriter(dir); // the next run of the stage sweeps at start
    await third();
    assert.throws(() => Deno.statSync(`${dir}/big.parquet.tmp-999-abc`), Deno.errors.NotFound);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a task cleans its output folders of a killed run's temp files before it runs", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    plant(dir);
    let sawTemp = true;
    const spec: TaskSpec<number> = {
      name: "stage",
      description: "writes into a folder",
      writes: () => [{ path: dir, dir: true, source: "paths.x" }],
      run() {
        sawTemp = [...Deno.readDirSync(dir)].some((e) => e.name.includes(".tmp-4242-"));
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
    assert.equal(sawTemp, false, "the stale temp file was still there when the stage ran");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
