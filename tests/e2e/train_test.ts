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
  Deno.writeTextFileSync(
    join(dir, "params.yaml"),
    "model:\n  algorithm: forest\n  n_estimators: 25\n  n_jobs: 2\n",
  );
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
      "--run-file",
      "models/pipeline_run.txt",
    ]);
    assertEquals(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assertEquals(Deno.readTextFileSync(join(dir, "models/pipeline_run.txt")), out.run_id);
    assertEquals(Object.keys(out).sort(), [
      "artifact",
      "features",
      "metrics",
      "per_class",
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

Deno.test("bad input exits 2 with one line on stderr, no stack, and writes no artifact", async () => {
  const { dir } = setup();
  try {
    const files: Record<string, string | Uint8Array> = {
      "single.csv": "a,b,y\n1,2,x\n3,4,x\n5,6,x\n7,8,x\n",
      "tiny.csv": "a,b,y\n1,2,x\n3,4,z\n5,6,x\n",
      "words.csv": "a,b,y\n1,2,lo\n3,4,hi\n5,6,lo\n7,8,hi\n",
      "empty.csv": "",
      "latin1.csv": new Uint8Array([...new TextEncoder().encode("a,y\n1,caf"), 0xe9, 0x0a]),
      "fake.parquet": new Uint8Array([0x50, 0x4b, 3, 4, 0, 0, 0, 0]),
    };
    for (const [name, content] of Object.entries(files)) {
      if (typeof content === "string") Deno.writeTextFileSync(join(dir, name), content);
      else Deno.writeFileSync(join(dir, name), content);
    }
    Deno.mkdirSync(join(dir, "folder.csv"));
    const cases: [string[], RegExp][] = [
      [["--data", "train.csv", "--target", "nope"], /^train: train\.csv: target column 'nope' not found/],
      [["--data", "single.csv", "--target", "y"], /^train: target 'y' has a single class \("x"\)/],
      [
        ["--data", "tiny.csv", "--target", "y"],
        /^train: tiny\.csv: too small to split: class "z" has only 1 row/,
      ],
      [
        ["--data", "words.csv", "--target", "y", "--set", "model.task=regression"],
        /^train: target 'y' is not numeric \(training row \d+: "(lo|hi)"\); regression needs numbers/,
      ],
      [["--data", "missing.csv", "--target", "churned"], /^train: missing\.csv: file not found$/],
      [["--data", "empty.csv", "--target", "y"], /^train: empty\.csv: file is empty$/],
      [["--data", "latin1.csv", "--target", "y"], /^train: latin1\.csv: not UTF-8/],
      [["--data", "fake.parquet", "--target", "y"], /^train: fake\.parquet: not a readable Parquet file/],
      [["--data", "folder.csv", "--target", "y"], /^train: folder\.csv: is a directory/],
      [
        ["--data", "train.csv", "--validation", "nowhere.csv", "--target", "churned"],
        /^train: nowhere\.csv: file not found$/,
      ],
      [["--validation", "valid.csv"], /^train: --validation needs --data/],
      [["--data", "train.csv", "--target", "churned", "--set", "model.n_estimators=0"], /model.n_estimators/],
      [["--data", "train.csv", "--target", "churned", "--set", "model.max_depth=-3"], /model.max_depth/],
    ];
    for (const [args, re] of cases) {
      const r = await runTrain(dir, args);
      assertEquals(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      const lines = r.stderr.trimEnd().split("\n");
      assertEquals(lines.length, 1, `${args.join(" ")}: one line, got:\n${r.stderr}`);
      assert.match(lines[0], re);
      assertEquals(r.stdout, "");
    }
    // nothing half-written: no artifact, no report
    for (const sub of ["models/artifacts", "reports"]) {
      let entries: string[] = [];
      try {
        entries = [...Deno.readDirSync(join(dir, sub))].map((e) => e.name);
      } catch { /* not created at all */ }
      assertEquals(entries, [], sub);
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
