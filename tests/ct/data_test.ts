import assert from "node:assert/strict";
import { join } from "node:path";
import { ConfigSchema } from "../../src/config/schema.ts";
import { fileSha256 } from "../../src/core/digest.ts";
import { runsTrainingSetDrift, trainingSetDrift } from "../../src/ct/data.ts";
import { trainingSetDriftText } from "../../src/ct/drift_text.ts";
import type { Run } from "../../src/tracking/store.ts";
import { churnRows, toCsv } from "../models/_data.ts";

const config = ConfigSchema.parse({ data: { target: "churned" } });

function file(dir: string, name: string, rows: ReturnType<typeof churnRows>) {
  const path = join(dir, name);
  Deno.writeTextFileSync(path, toCsv(rows));
  return { path, sha256: fileSha256(path), rows: rows.length };
}

Deno.test("trainingSetDrift: same data none, shifted data some, by the drift stage's tests", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const a = file(dir, "a.csv", churnRows(400, 1));
    const same = trainingSetDrift(config, a, file(dir, "b.csv", churnRows(400, 1)), "churned");
    assert.ok(same.measured && same.share === 0 && !same.dataset_drift, JSON.stringify(same));
    // tenure and spend shifted: the drift stage flags them
    const shifted = churnRows(400, 2).map((r) => ({ ...r, tenure: (r.tenure as number) + 40, spend: 500 }));
    const d = trainingSetDrift(config, a, file(dir, "c.csv", shifted), "churned");
    assert.ok(d.measured, JSON.stringify(d));
    assert.ok(
      d.drifted_columns.includes("tenure") && d.drifted_columns.includes("spend"),
      d.drifted_columns.join(),
    );
    assert.ok(d.share > 0);
    assert.ok(!d.drifted_columns.includes("churned"), "the label is not a feature here");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("trainingSetDrift: a rewritten or missing training file is not the champion's data: not measured, says why", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const a = file(dir, "a.csv", churnRows(100, 1));
    const b = file(dir, "b.csv", churnRows(100, 2));
    Deno.writeTextFileSync(a.path, toCsv(churnRows(100, 3)));
    const changed = trainingSetDrift(config, a, b, "churned");
    assert.ok(
      !changed.measured && /has changed since it was trained/.test(changed.note),
      JSON.stringify(changed),
    );
    const gone = trainingSetDrift(config, { ...b, path: join(dir, "nope.csv") }, b, "churned");
    assert.ok(!gone.measured && /is gone/.test(gone.note));
    const none = trainingSetDrift(config, null, b, "churned");
    assert.ok(!none.measured && /no champion/.test(none.note));
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("runsTrainingSetDrift (runs diff A B): B's recorded training set against A's, on B's target; says why when it cannot", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const a = file(dir, "a.csv", churnRows(400, 1));
    const shifted = churnRows(400, 2).map((r) => ({ ...r, tenure: (r.tenure as number) + 40 }));
    const b = file(dir, "b.csv", shifted);
    const run = (id: string, train: typeof a | null) =>
      ({
        runId: id,
        params: { target: "churned" },
        datasets: train ? [{ name: "train", ...train }] : [],
      }) as unknown as Run;
    const d = runsTrainingSetDrift(config, run("aaaaaaaa11", a), run("bbbbbbbb22", b));
    assert.ok(d.measured && d.drifted_columns.includes("tenure"), JSON.stringify(d));
    assert.match(trainingSetDriftText(d), /share 0\.\d{3} of \d+ columns.*drifted: .*tenure/);
    const none = runsTrainingSetDrift(config, run("aaaaaaaa11", a), run("bbbbbbbb22", null));
    assert.ok(
      !none.measured && /run bbbbbbbb recorded no training set/.test(none.note),
      JSON.stringify(none),
    );
    const gone = runsTrainingSetDrift(
      config,
      run("aaaaaaaa11", { ...a, path: join(dir, "x.csv") }),
      run("b", b),
    );
    assert.ok(
      !gone.measured && /run aaaaaaaa's training data .* is gone/.test(gone.note),
      JSON.stringify(gone),
    );
    assert.match(trainingSetDriftText(gone), /^Drift between the training sets: not measured \(run aaaaaaaa/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
