/**
 * `deno task ct` with its deno.json permissions, in a temp project: the job
 * runs, the native rasteriser loads (--allow-ffi) and writes the PNG charts,
 * and a reports folder outside its write permission is one line, exit 2,
 * before any work.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { exists, filesUnder, runTask, tempProject } from "../permissions/_project.ts";

const CT = ["--data", "train.csv", "--target", "churned"];

Deno.test("ct under its deno.json permissions: report, report.json and PNG charts under reports/ct/<run>", async () => {
  const p = tempProject();
  try {
    const r = await runTask(p.dir, "ct", [...CT, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.champion, null);
    const files = filesUnder(join(p.dir, "reports", "ct", out.candidate.run_id));
    assert.deepEqual(files, ["confusion.png", "report.json", "report.md", "roc.png"]);
  } finally {
    p.cleanup();
  }
});

Deno.test("ct with paths.reports outside its write permission: one line, exit 2, no run trained", async () => {
  const p = tempProject();
  try {
    const r = await runTask(p.dir, "ct", [...CT, "--set", "paths.reports=../elsewhere"]);
    assert.equal(r.code, 2, r.stderr);
    const lines = r.stderr.split("\n").filter((l) => l.trim());
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /^ct: .*elsewhere/);
    assert.ok(!exists(join(p.dir, "models", "orchard.db")), "refused before training");
  } finally {
    p.cleanup();
  }
});
