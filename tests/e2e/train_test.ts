/**
 * End to end: `tasks/train.ts` as a user runs it (a subprocess with the task's
 * permissions), then the artifact reloaded here must reproduce the reported
 * validation metrics exactly and score one record as it scores a batch.
 */
import { join } from "node:path";
import { assert, assertEquals } from "../models/_assert.ts";
import { churnRows, toCsv } from "../models/_data.ts";
import { loadArtifact } from "../../src/models/artifact.ts";
import { rocAuc } from "../../src/models/metrics.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

async function runTrain(cwd: string, args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      `--allow-write=${cwd}`,
      "--allow-ffi",
      "--allow-sys",
      "--allow-run=git",
      "--allow-env=LOG_TOKENS,LOG_STREAM",
      `--config=${join(ROOT, "deno.json")}`,
      join(ROOT, "tasks/train.ts"),
      ...args,
    ],
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

function setup() {
  const dir = Deno.makeTempDirSync({ prefix: "orchard-e2e-train-" });
  const rows = churnRows(400, 11);
  Deno.writeTextFileSync(join(dir, "train.csv"), toCsv(rows.slice(0, 300)));
  Deno.writeTextFileSync(join(dir, "valid.csv"), toCsv(rows.slice(300)));
  Deno.writeTextFileSync(join(dir, "params.yaml"), "model:\n  n_estimators: 25\n  n_jobs: 2\n");
  return { dir, valid: rows.slice(300) };
}

Deno.test("train -> reload artifact -> identical predictions and metrics", async () => {
  const { dir, valid } = setup();
  try {
    const r = await runTrain(dir, [
      "--data",
      "train.csv",
      "--validation",
      "valid.csv",
      "--target",
      "churned",
      "--json",
    ]);
    assertEquals(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assertEquals(Object.keys(out).sort(), [
      "artifact",
      "features",
      "metrics",
      "positive_class",
      "report",
      "rows",
      "run_id",
      "train_seconds",
    ]);
    assertEquals(out.rows, 300);
    assert.ok(r.stderr.includes("training trees"), "progress on stderr");
    assert.ok(r.stderr.includes("dropped columns: customer_ref"), "dropped ID-like column is reported");
    assert.ok(Deno.statSync(join(dir, "models/orchard.db")).isFile);
    assert.ok(Deno.statSync(join(dir, out.report)).isFile);

    const model = loadArtifact(join(dir, out.artifact));
    const records = valid.map(({ churned: _t, ...rec }) => rec);
    const preds = model.predictRecords(records);
    const truth = valid.map((v) => (v.churned === out.positive_class ? 1 : 0));
    const score = preds.map((p) => p.probabilities![String(out.positive_class)]);
    assertEquals(rocAuc(truth, score), out.metrics.roc_auc); // exactly: same code path
    // one record at a time = the batch
    for (let i = 0; i < 10; i++) assertEquals(model.predictRecords([records[i]])[0], preds[i]);
    // a second load is identical, and so is the input example round trip
    const again = loadArtifact(join(dir, out.artifact));
    assertEquals(again.predictRecords(records), preds);
    assertEquals(again.predictRecords(again.inputExample).length, again.inputExample.length);
    // unseen category and missing values are handled, not errors
    const odd = model.predictRecords([{ plan: "enterprise", tenure: "NA" }])[0];
    assert.ok(["yes", "no"].includes(odd.prediction as string));
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("bad input exits 2 with one line on stderr and no stack", async () => {
  const { dir } = setup();
  try {
    const cases: [string[], RegExp][] = [
      [["--data", "train.csv", "--target", "nope"], /target column 'nope' not found/],
      [["--data", "missing.csv", "--target", "churned"], /file not found/],
      [["--data", "train.csv", "--target", "churned", "--set", "model.n_estimators=0"], /model.n_estimators/],
      [["--data", "train.csv", "--target", "churned", "--set", "model.max_depth=-3"], /model.max_depth/],
    ];
    for (const [args, re] of cases) {
      const r = await runTrain(dir, args);
      assertEquals(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.ok(!/\n\s+at /.test(r.stderr), "no stack trace");
      assertEquals(r.stdout, "");
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
