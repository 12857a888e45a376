import assert from "node:assert/strict";
import {
  compareRuns,
  comparisonTable,
  fmtNumber,
  formatTable,
  listingMetrics,
  runsListing,
} from "../../src/tracking/format.ts";
import type { Run } from "../../src/tracking/store.ts";

function run(id: string, over: Partial<Run>): Run {
  return {
    runId: id.padEnd(32, "0"),
    experiment: "churn",
    runName: null,
    status: "FINISHED",
    startTime: Date.UTC(2024, 0, 2, 3, 4, 5),
    endTime: Date.UTC(2024, 0, 2, 3, 4, 7),
    parentRunId: null,
    params: {},
    metrics: {},
    metricHistory: {},
    tags: {},
    datasets: [],
    artifacts: {},
    ...over,
  };
}

Deno.test("formatTable aligns columns and right-aligns numeric ones", () => {
  const t = formatTable(["name", "n"], [["a", "1"], ["long", "10.5"]]).split("\n");
  assert.deepEqual(t, ["name     n", "----  ----", "a        1", "long  10.5"]);
});

Deno.test("fmtNumber: integers, fixed digits, tiny and huge values, NaN and missing", () => {
  assert.equal(fmtNumber(3), "3");
  assert.equal(fmtNumber(0.123456), "0.1235");
  assert.equal(fmtNumber(0.00001234), "1.234e-5");
  assert.equal(fmtNumber(NaN), "-"); // one placeholder for missing and NaN (core/format.ts)
  assert.equal(fmtNumber(undefined), "-");
});

Deno.test("runs listing and comparison mark what differs", () => {
  const a = run("aaaa", {
    params: { max_depth: "8" },
    metrics: { roc_auc: 0.8, f1: 0.5 },
    tags: { "git.commit": "x" },
  });
  const b = run("bbbb", {
    params: { max_depth: "12" },
    metrics: { roc_auc: 0.8 },
    tags: { "git.commit": "x" },
    datasets: [{ name: "train", path: "p", sha256: "c".repeat(64), rows: 10 }],
  });
  assert.deepEqual(listingMetrics([a, b], 6, ["f1", "missing"]), ["f1", "roc_auc"]);
  const text = runsListing([a, b], ["roc_auc"], ["max_depth"]);
  assert.match(text, /^run_id\s+experiment\s+name\s+status\s+started\s+duration\s+max_depth\s+roc_auc/);
  assert.match(text, /aaaa0000\s+churn\s+FINISHED\s+2024-01-02 03:04:05\s+2\.0s\s+8\s+0\.8000/);
  const rows = compareRuns([a, b]);
  const by = Object.fromEntries(rows.map((r) => [r.field, r]));
  assert.equal(by["params.max_depth"].differs, true);
  assert.equal(by["metrics.roc_auc"].differs, false);
  assert.deepEqual(by["metrics.f1"].values, [0.5, null]);
  assert.equal(by["tags.git.commit"].differs, false);
  assert.deepEqual(by["datasets.train"].values, [null, "cccccccccccc (10 rows)"]);
  const table = comparisonTable([a, b], rows);
  assert.match(table, /\*\s+params\.max_depth\s+8\s+12/);
  assert.doesNotMatch(table, /\*\s+metrics\.roc_auc/);
});
