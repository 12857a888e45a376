/**
 * Issue 12, defect 7: a write the task's permissions do not cover is one line
 * naming the path, exit 2, checked before any work (nothing written), for the
 * output flags of predict, drift and train and for a paths.models outside the
 * project. Each task runs as a process with its deno.json permissions.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { denoRunTasks, exists, filesUnder, type Out, runTask, tempProject } from "./_project.ts";

/** The one stderr line of a refused task (progress lines aside), with no stack. */
function oneLine(r: Out, task: string): string {
  const lines = r.stderr.split("\n").filter((l) => l.trim() !== "");
  assert.equal(lines.length, 1, `one line, got:\n${r.stderr}`);
  assert.ok(!r.stderr.includes("    at "), `no stack trace:\n${r.stderr}`);
  assert.ok(!/internal error/.test(lines[0]), lines[0]);
  assert.ok(lines[0].startsWith(`${task}: `), lines[0]);
  return lines[0];
}

const TRAIN = ["--data", "train.csv", "--target", "churned", "--no-report"];

Deno.test("every deno run task grants ORCHARD_DEBUG in --allow-env", () => {
  const missing = Object.entries(denoRunTasks()).filter(([, t]) =>
    !t.flags.some((f) => f === "--allow-env" || /^--allow-env=(.*,)?ORCHARD_DEBUG(,|$)/.test(f))
  ).map(([name]) => name);
  assert.deepEqual(missing, []);
});

Deno.test("predict --output outside its write permission: one line naming it, exit 2, nothing scored or written", async () => {
  const p = tempProject();
  try {
    const trained = await runTask(p.dir, "train", [...TRAIN, "--json"]);
    assert.equal(trained.code, 0, trained.stderr);
    const artifact = JSON.parse(trained.stdout).artifact as string;
    const before = filesUnder(p.dir);

    const r = await runTask(p.dir, "predict", [
      "--model",
      artifact,
      "--input",
      "score.csv",
      "--output",
      "../out.csv",
    ]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(oneLine(r, "predict"), /\.\.\/out\.csv/);
    assert.equal(r.stdout, "", "nothing scored");
    assert.ok(!exists(join(p.root, "out.csv")));
    assert.deepEqual(filesUnder(p.dir), before);

    // the same run with an output the task may write
    const ok = await runTask(p.dir, "predict", [
      "--model",
      artifact,
      "--input",
      "score.csv",
      "--output",
      "data/out.csv",
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.ok(exists(join(p.dir, "data/out.csv")));
  } finally {
    p.cleanup();
  }
});

Deno.test("drift --output outside its write permission: one line naming it, exit 2, nothing written", async () => {
  const p = tempProject();
  try {
    const outside = join(p.root, "drift-reports");
    const r = await runTask(p.dir, "drift", [
      "--reference",
      "train.csv",
      "--current",
      "score.csv",
      "--output",
      outside,
    ]);
    assert.equal(r.code, 2, r.stderr);
    assert.ok(oneLine(r, "drift").includes(outside));
    assert.ok(!exists(outside));
    assert.deepEqual(filesUnder(p.dir), ["params.yaml", "score.csv", "train.csv"]);
  } finally {
    p.cleanup();
  }
});

Deno.test("train --run-file outside its write permission: refused before the run is logged", async () => {
  const p = tempProject();
  try {
    const r = await runTask(p.dir, "train", [...TRAIN, "--run-file", "../run.txt"]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(oneLine(r, "train"), /\.\.\/run\.txt/);
    assert.ok(!r.stderr.includes("training trees"), "refused before training");
    assert.ok(!exists(join(p.root, "run.txt")));
    assert.deepEqual(filesUnder(p.dir), ["params.yaml", "score.csv", "train.csv"], "no run, no artifact");
  } finally {
    p.cleanup();
  }
});

Deno.test("train with paths.models outside its write permission: one line naming it, exit 2, nothing written", async () => {
  const p = tempProject();
  try {
    const elsewhere = join(p.root, "elsewhere");
    const r = await runTask(p.dir, "train", [...TRAIN, "--set", `paths.models=${elsewhere}`]);
    assert.equal(r.code, 2, r.stderr);
    assert.ok(oneLine(r, "train").includes(elsewhere));
    assert.ok(!exists(elsewhere));
    assert.deepEqual(filesUnder(p.dir), ["params.yaml", "score.csv", "train.csv"]);
  } finally {
    p.cleanup();
  }
});

Deno.test("ORCHARD_DEBUG=1: the same one line first, then a stack; still exit 2", async () => {
  const p = tempProject();
  try {
    const r = await runTask(p.dir, "train", [...TRAIN, "--run-file", "../run.txt"], { ORCHARD_DEBUG: "1" });
    assert.equal(r.code, 2, r.stderr);
    const [first, ...rest] = r.stderr.split("\n");
    assert.match(first, /^train: .*\.\.\/run\.txt/);
    assert.ok(rest.some((l) => l.includes("    at ")), `a stack with ORCHARD_DEBUG=1:\n${r.stderr}`);
  } finally {
    p.cleanup();
  }
});

Deno.test("a module refused while a task loads (polars' native addon outside --allow-read) is one line and exit 2, not a stack", async () => {
  const root = new URL("../../", import.meta.url).pathname;
  // every read the task needs except node_modules, where nodejs-polars' native module lives
  const reads = ["src", "tasks", "deno.json", "params.yaml", "data"].map((p) => join(root, p)).join(",");
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      `--allow-read=${reads}`,
      "--allow-env",
      "--allow-ffi",
      "--allow-sys",
      join(root, "tasks/features_plan.ts"),
    ],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ORCHARD_DEBUG: "" },
  }).output();
  const r = {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
  assert.equal(r.code, 2, r.stderr);
  assert.match(
    oneLine(r, "features:plan"),
    /permission denied: requires read access to ".*nodejs-polars.*\.node"/,
  );
});
