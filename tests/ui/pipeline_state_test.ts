/**
 * The status page's pipeline stages: each pipeline:* task of deno.json with
 * its declared inputs (`files` globs) and outputs, judged by file times:
 * never run (an output missing), stale (an input newer than the oldest
 * output), or up to date (deno task would skip it while the inputs' content
 * is unchanged).
 */
import assert from "node:assert/strict";
import { globFiles, pipelineStages } from "../../src/ui/pipeline_state.ts";

function project(): string {
  const root = Deno.makeTempDirSync({ prefix: "orchard-stages-" });
  const tasks = {
    "pipeline:prep": {
      description: "prep",
      command: "deno task prep",
      files: ["data/raw/*.csv", "src/**", "params.yaml"],
      output: ["data/processed/train.csv", "data/processed/quality.json"],
    },
    "pipeline:train": {
      command: "deno task train",
      dependencies: ["pipeline:prep"],
      files: ["data/processed/train.csv"],
      output: ["models/pipeline_run.txt"],
    },
    "pipeline:register": { command: "deno task register", dependencies: ["pipeline:train"] },
    pipeline: { command: "echo done", dependencies: ["pipeline:register"] },
    test: { command: "deno test" },
  };
  Deno.writeTextFileSync(`${root}/deno.json`, JSON.stringify({ tasks }));
  return root;
}

function write(root: string, rel: string, at: number): void {
  const path = `${root}/${rel}`;
  Deno.mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  Deno.writeTextFileSync(path, rel);
  Deno.utimeSync(path, at / 1000, at / 1000);
}

Deno.test("globs: a plain path, * within a segment, ** for a whole tree", () => {
  const root = project();
  try {
    write(root, "data/raw/a.csv", 1000);
    write(root, "data/raw/b.json", 1000);
    write(root, "src/x/y/z.ts", 1000);
    write(root, "src/top.ts", 1000);
    assert.deepEqual(globFiles(root, "data/raw/*.csv"), ["data/raw/a.csv"]);
    assert.deepEqual(globFiles(root, "src/**").sort(), ["src/top.ts", "src/x/y/z.ts"]);
    assert.deepEqual(globFiles(root, "data/raw/b.json"), ["data/raw/b.json"]);
    assert.deepEqual(globFiles(root, "nothing/**"), []);
    assert.deepEqual(globFiles(root, "../outside/*"), [], "nothing outside the project");
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("stages in dependency order: never run, then up to date, then stale after an input changes", () => {
  const root = project();
  try {
    write(root, "data/raw/customers.csv", 1_000_000);
    write(root, "src/a.ts", 1_000_000);
    write(root, "params.yaml", 1_000_000);
    let stages = pipelineStages(root);
    assert.deepEqual(stages.map((s) => s.task), ["pipeline:prep", "pipeline:train", "pipeline:register"]);
    assert.equal(stages[0].state, "never run");
    assert.deepEqual(stages[0].missingOutputs, ["data/processed/train.csv", "data/processed/quality.json"]);
    assert.equal(stages[2].state, "not cached", "a stage without files runs every time");

    write(root, "data/processed/train.csv", 2_000_000);
    write(root, "data/processed/quality.json", 2_000_500);
    write(root, "models/pipeline_run.txt", 3_000_000);
    stages = pipelineStages(root);
    assert.equal(stages[0].state, "up to date");
    assert.equal(stages[0].lastRun, 2_000_500, "the newest output's time");
    assert.equal(stages[0].inputs, 3);
    assert.equal(stages[1].state, "up to date");

    // an input edited after the outputs: prep is stale; train's input (prep's output) is not newer yet
    write(root, "src/a.ts", 2_500_000);
    stages = pipelineStages(root);
    assert.equal(stages[0].state, "stale");
    assert.deepEqual(stages[0].newerInputs, ["src/a.ts"]);
    assert.equal(stages[1].state, "up to date");
    // prep re-ran: its output is newer than train's
    write(root, "data/processed/train.csv", 3_500_000);
    write(root, "data/processed/quality.json", 3_500_000);
    stages = pipelineStages(root);
    assert.equal(stages[0].state, "up to date");
    assert.equal(stages[1].state, "stale");
    assert.deepEqual(stages[1].newerInputs, ["data/processed/train.csv"]);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("no deno.json, or one without pipeline tasks: no stages (and no error)", () => {
  const root = Deno.makeTempDirSync({ prefix: "orchard-stages-" });
  try {
    assert.deepEqual(pipelineStages(root), []);
    Deno.writeTextFileSync(`${root}/deno.json`, "{ not json");
    assert.deepEqual(pipelineStages(root), []);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("this repository's own pipeline stages are all found, with their declared inputs", () => {
  const repo = new URL("../../", import.meta.url).pathname;
  const stages = pipelineStages(repo);
  const names = stages.map((s) => s.task);
  for (const t of ["pipeline:prep", "pipeline:features", "pipeline:train"]) assert.ok(names.includes(t), t);
  const prep = stages.find((s) => s.task === "pipeline:prep")!;
  assert.ok(prep.inputs > 10, "src/** globs expand to files");
});
