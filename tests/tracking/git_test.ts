import assert from "node:assert/strict";
import { commitFromFiles, gitInfo, gitTags } from "../../src/tracking/git.ts";

function git(cwd: string, ...args: string[]): string {
  const out = new Deno.Command("git", {
    args: ["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false", ...args],
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout).trim();
}

Deno.test("gitInfo: commit and dirty flag of a repository, from git and from .git files", () => {
  const dir = Deno.makeTempDirSync();
  git(dir, "init", "-q");
  Deno.writeTextFileSync(`${dir}/a.txt`, "one");
  git(dir, "add", "a.txt");
  git(dir, "commit", "-q", "-m", "first");
  const head = git(dir, "rev-parse", "HEAD");
  assert.deepEqual(gitInfo(dir), { commit: head, dirty: false });
  Deno.writeTextFileSync(`${dir}/a.txt`, "two");
  assert.deepEqual(gitInfo(dir), { commit: head, dirty: true });
  Deno.mkdirSync(`${dir}/sub`);
  assert.equal(commitFromFiles(`${dir}/sub`), head, "found from a subfolder via .git/HEAD and refs");
  git(dir, "pack-refs", "--all");
  assert.equal(commitFromFiles(dir), head, "packed refs");
  assert.deepEqual(gitTags({ commit: head, dirty: true }), { "git.commit": head, "git.dirty": "true" });
});

Deno.test("gitInfo outside a repository: commit null, tags say unknown", () => {
  const dir = Deno.makeTempDirSync();
  const info = gitInfo(dir);
  assert.equal(info.commit, null);
  assert.equal(commitFromFiles(dir), null);
  assert.deepEqual(gitTags({ commit: null, dirty: null }), {
    "git.commit": "unknown",
    "git.dirty": "unknown",
  });
});
