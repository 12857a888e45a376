/**
 * Issue 12 defect 6: a killed stage's temp files (`<file>.tmp-<pid>-<rand>`,
 * some of them 43 MB) survived later successful runs. A stage now removes
 * those of ended processes from its output folders when it starts.
 */
import assert from "node:assert/strict";
import { removeStaleTemps } from "../../src/core/atomic.ts";
import { executeTask, type TaskSpec } from "../../src/cli/task.ts";

/** A pid that is not running: beyond the kernel's pid_max. */
const DEAD = 99_999_999;

function plant(dir: string) {
  Deno.mkdirSync(`${dir}/artifacts`, { recursive: true });
  Deno.writeTextFileSync(`${dir}/train.csv.tmp-${DEAD}-abc123`, "half a file");
  Deno.mkdirSync(`${dir}/artifacts/0123abcd.tmp-${DEAD}-zz9`); // a killed artifact save
  Deno.writeTextFileSync(`${dir}/live.csv.tmp-${Deno.pid}-abc`, "being written now");
  Deno.writeTextFileSync(`${dir}/train.csv`, "kept");
  Deno.mkdirSync(`${dir}/m/.tmp-1a2b3c4d-${DEAD}-beef`, { recursive: true }); // the registry's, not ours
}

Deno.test("removeStaleTemps removes ended processes' temp files and folders, and nothing else", () => {
  const dir = Deno.makeTempDirSync();
  try {
    plant(dir);
    const removed = removeStaleTemps(dir).map((p) => p.slice(dir.length + 1)).sort();
    assert.deepEqual(removed, [`artifacts/0123abcd.tmp-${DEAD}-zz9`, `train.csv.tmp-${DEAD}-abc123`]);
    const left = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(left, ["artifacts", `live.csv.tmp-${Deno.pid}-abc`, "m", "train.csv"]);
    assert.ok(Deno.statSync(`${dir}/m/.tmp-1a2b3c4d-${DEAD}-beef`).isDirectory);
    assert.deepEqual(removeStaleTemps(`${dir}/missing`), []);
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
        sawTemp = [...Deno.readDirSync(dir)].some((e) => e.name.includes(`.tmp-${DEAD}-`));
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
