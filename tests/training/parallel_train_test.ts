/**
 * 8 trains at once, as 8 processes of `tasks/train.ts` on one store, on
 * SQLite and on PostgreSQL: 8 complete runs (FINISHED, with their params,
 * metrics, datasets and model artifact), nothing lost or mixed up.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { backendTest } from "../_support/backends.ts";
import { churnRows, toCsv } from "../models/_data.ts";
import { TrackingStore } from "../../src/tracking/store.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const TRAINS = 8;

backendTest(`${TRAINS} parallel trains give ${TRAINS} complete runs`, async (b) => {
  const rows = churnRows(300, 5);
  Deno.writeTextFileSync(join(b.root, "train.csv"), toCsv(rows.slice(0, 240)));
  Deno.writeTextFileSync(join(b.root, "valid.csv"), toCsv(rows.slice(240)));
  Deno.writeTextFileSync(
    join(b.root, "params.yaml"),
    "model:\n  algorithm: forest\n  n_estimators: 10\n  n_jobs: 1\n",
  );
  const outs = await Promise.all(Array.from({ length: TRAINS }, (_, i) =>
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        `--config=${join(ROOT, "deno.json")}`,
        join(ROOT, "tasks/train.ts"),
        "--data=train.csv",
        "--validation=valid.csv",
        "--target=churned",
        `--run-name=parallel-${i}`,
        "--no-report",
        "--json",
      ],
      cwd: b.root,
      env: { ORCHARD_TRACKING_URI: b.kind === "postgres" ? b.location : "", ORCHARD_DEBUG: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output()));
  const ids = outs.map((o) => {
    assert.equal(o.code, 0, new TextDecoder().decode(o.stderr));
    return JSON.parse(new TextDecoder().decode(o.stdout)).run_id as string;
  });
  assert.equal(new Set(ids).size, TRAINS);
  const store = await TrackingStore.open(
    b.kind === "postgres" ? b.location : join(b.root, "models/orchard.db"),
  );
  try {
    const runs = await store.searchRuns({ filter: "attributes.run_name LIKE 'parallel-%'" });
    assert.deepEqual(runs.map((r) => r.runId).sort(), [...ids].sort());
    for (const r of runs) {
      assert.equal(r.status, "FINISHED");
      assert.ok(r.metrics.roc_auc > 0 && r.metrics.roc_auc <= 1, `${r.runName}: ${r.metrics.roc_auc}`);
      assert.equal(r.params.n_estimators, "10");
      assert.deepEqual(r.datasets.map((d) => d.name), ["train", "validation"]);
      assert.ok(Deno.statSync(join(b.root, r.artifacts.model, "artifact.json")).isFile);
    }
  } finally {
    await store.close();
  }
});
