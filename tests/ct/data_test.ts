import assert from "node:assert/strict";
import { join } from "node:path";
import { ConfigSchema } from "../../src/config/schema.ts";
import { fileSha256 } from "../../src/core/digest.ts";
import { trainingSetDrift } from "../../src/ct/data.ts";
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
