import { join } from "node:path";
import { assert, assertEquals, assertThrows } from "./_assert.ts";
import { UserError } from "../../src/core/errors.ts";
import { loadArtifact, scoreMatrix, writeArtifact } from "../../src/models/artifact.ts";
import { sha256Hex } from "../../src/core/digest.ts";
import { LogisticRegression } from "../../src/models/engines/logistic.ts";
import { columnsFromRecords, Preprocessor } from "../../src/models/preprocess/index.ts";

async function fitted() {
  const records = Array.from({ length: 40 }, (_, i) => ({ x: i, c: i % 2 ? "a" : "b" }));
  const y = Float64Array.from(records, (r) => (r.x > 20 ? 1 : 0));
  const pre = Preprocessor.fit(columnsFromRecords(records));
  const est = new LogisticRegression();
  await est.fit(pre.transformRecords(records), y);
  return { records, pre, est };
}

function content(pre: Preprocessor, est: LogisticRegression) {
  return {
    engine: "logistic",
    estimator: est,
    preprocessor: pre,
    signature: {
      inputs: pre.signatureInputs(),
      target: { name: "t", kind: "classification" as const, classes: ["lo", "hi"] },
    },
    inputExample: [{ x: 1, c: "a" }],
    metrics: { roc_auc: 1 },
    params: { C: 1 },
    lineage: {
      run_id: "r1",
      data: { train: { path: "t.csv", sha256: "0".repeat(64), rows: 40 } },
      code_version: { commit: null, dirty: null },
    },
    task: "classification" as const,
    classes: ["lo", "hi"],
    positiveClass: "hi",
    threshold: 0.5,
  };
}

Deno.test("write then load: files listed with sha256, same predictions", async () => {
  const { records, pre, est } = await fitted();
  const dir = Deno.makeTempDirSync();
  try {
    const path = writeArtifact(join(dir, "run1"), content(pre, est));
    const names = [...Deno.readDirSync(path)].map((e) => e.name).sort();
    assertEquals(names, [
      "artifact.json",
      "input_example.json",
      "lineage.json",
      "metrics.json",
      "model.bin",
      "params.json",
      "preprocess.json",
      "signature.json",
    ]);
    const m = loadArtifact(path);
    for (const [name, f] of Object.entries(m.manifest.files)) {
      assertEquals(sha256Hex(Deno.readFileSync(join(path, name))), f.sha256, name);
    }
    const expected = scoreMatrix(est, pre.transformRecords(records), {
      task: "classification",
      classes: ["lo", "hi"],
      positiveClass: "hi",
    });
    assertEquals(m.predictRecords(records), expected);
    assertEquals(m.predictRecords([{ x: 39, c: "a" }])[0].prediction, "hi");
    const p = m.predictRecords([{ x: 0 }])[0].probabilities!;
    assertEquals(Object.keys(p), ["lo", "hi"]);
    assert.ok(Math.abs(p.lo + p.hi - 1) < 1e-12);
    // no temp directories left behind
    assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), ["run1"]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("threshold and positive class decide the binary label", async () => {
  const { pre, est } = await fitted();
  const X = pre.transformRecords([{ x: 20, c: "a" }]);
  const p = est.predictProba(X)[1];
  const at = (threshold: number) =>
    scoreMatrix(est, X, { task: "classification", classes: ["lo", "hi"], positiveClass: "hi", threshold })[0]
      .prediction;
  assertEquals(at(Math.max(0.01, p - 0.01)), "hi");
  assertEquals(at(Math.min(0.99, p + 0.01)), "lo");
});

Deno.test("rewriting replaces the directory whole; a broken artifact is a UserError", async () => {
  const { pre, est } = await fitted();
  const dir = Deno.makeTempDirSync();
  try {
    const path = join(dir, "run1");
    writeArtifact(path, content(pre, est));
    Deno.writeTextFileSync(join(path, "stray.txt"), "x");
    writeArtifact(path, { ...content(pre, est), metrics: { roc_auc: 0.5 } });
    assert.ok(![...Deno.readDirSync(path)].some((e) => e.name === "stray.txt"));
    assertEquals(loadArtifact(path).metrics.roc_auc, 0.5);
    assertThrows(() => loadArtifact(join(dir, "nope")), UserError);
    Deno.removeSync(join(path, "model.bin"));
    assertThrows(
      () => loadArtifact(path),
      /run1\/model\.bin: missing \(the artifact was changed after it was saved\)/,
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
