/**
 * The progress bar and timings go to stderr (stdout stays clean for --json). Off a
 * terminal the bar prints a few plain lines, at most one per quarter, and always the end.
 */
import assert from "node:assert/strict";

const progress = new URL("../../src/core/progress.ts", import.meta.url).href;

async function stderrOf(code: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", `import { ProgressBar, timed, log } from "${progress}";\n${code}`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("progress bar off a terminal: quarter steps and the end, on stderr only", async () => {
  const r = await stderrOf(
    `const bar = new ProgressBar("trees", 10); for (let i = 0; i < 10; i++) bar.tick();`,
  );
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "");
  assert.deepEqual(r.stderr.trim().split("\n"), [
    "trees: 3/10 (30%)",
    "trees: 6/10 (60%)",
    "trees: 9/10 (90%)",
    "trees: 10/10 (100%)",
  ]);
});

Deno.test("an empty job reports 100% at once; timed logs its label and seconds", async () => {
  const r = await stderrOf(`new ProgressBar("none", 0).tick(0); await timed("step", () => 1); log("plain");`);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines[0], "none: 0/0 (100%)");
  assert.match(lines[1], /^step: \d+\.\d\d s$/);
  assert.equal(lines[2], "plain");
});

Deno.test("a job that ends before its total (early stopping) says where it stopped, not 100%", async () => {
  const r = await stderrOf(
    `const bar = new ProgressBar("trees", 1000); bar.tick(20); bar.tick(8); bar.stoppedAt("early stopping");`,
  );
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.at(-1), "trees: 28/1000, stopped by early stopping");
  assert.ok(!r.stderr.includes("1000/1000"), r.stderr);
});
