import assert from "node:assert/strict";
import { atomically, withFileLock, writeJsonAtomic, writeTextAtomic } from "../../src/core/atomic.ts";
import { PermissionError } from "../../src/core/fs_errors.ts";
import { canMakeReadOnly, readOnlyFolder } from "../_support/readonly.ts";

Deno.test("atomic writes: the new file appears whole, creating its directory, with no temp left", async () => {
  const dir = await Deno.makeTempDir();
  try {
    writeTextAtomic(`${dir}/a/b/out.txt`, "hello");
    assert.equal(await Deno.readTextFile(`${dir}/a/b/out.txt`), "hello");
    writeJsonAtomic(`${dir}/x.json`, { k: [1, 2] });
    assert.deepEqual(JSON.parse(await Deno.readTextFile(`${dir}/x.json`)), { k: [1, 2] });
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), ["a", "x.json"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("atomic writes: a failed write keeps the old file and removes the temp", async () => {
  const dir = await Deno.makeTempDir();
  try {
    writeTextAtomic(`${dir}/keep.txt`, "old");
    assert.throws(() =>
      atomically(`${dir}/keep.txt`, (tmp) => {
        Deno.writeTextFileSync(tmp, "half");
        throw new Error("crash mid-write");
      }), /crash mid-write/);
    assert.equal(await Deno.readTextFile(`${dir}/keep.txt`), "old");
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["keep.txt"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("withFileLock: runs fn holding <path>.lock and removes it; a lock a dead process left is taken over", () => {
  const dir = Deno.makeTempDirSync({ prefix: "orchard-lock-" });
  try {
    const path = `${dir}/sub/state.csv`;
    assert.equal(withFileLock(path, "test", () => Deno.statSync(`${path}.lock`).isFile), true);
    assert.throws(() => Deno.statSync(`${path}.lock`), Deno.errors.NotFound);
    // a lock two minutes old: its process died
    Deno.writeTextFileSync(`${path}.lock`, "");
    const old = new Date(Date.now() - 120_000);
    Deno.utimeSync(`${path}.lock`, old, old);
    assert.equal(withFileLock(path, "test", () => 7), 7);
    assert.throws(() => Deno.statSync(`${path}.lock`), Deno.errors.NotFound);
    // fn's error passes through, and the lock is released
    assert.throws(() =>
      withFileLock(path, "test", () => {
        throw new Error("boom");
      }), /boom/);
    assert.throws(() => Deno.statSync(`${path}.lock`), Deno.errors.NotFound);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test({
  name:
    "atomic writes: a read-only folder is a PermissionError naming the target, not an internal temp or mark",
  ignore: !canMakeReadOnly,
  fn() {
    const ro = readOnlyFolder({ "keep.txt": "old" })!;
    try {
      assert.throws(
        () => writeTextAtomic(`${ro.path}/keep.txt`, "new"),
        (e: Error) =>
          e instanceof PermissionError && e.path === `${ro.path}/keep.txt` &&
          /(read-only file system|permission denied)$/.test(e.message) && !/\.tmp-|\.lock/.test(e.message),
      );
      assert.equal(Deno.readTextFileSync(`${ro.path}/keep.txt`), "old");
      assert.deepEqual([...Deno.readDirSync(ro.path)].map((e) => e.name), ["keep.txt"]);
    } finally {
      ro.release();
    }
  },
});
