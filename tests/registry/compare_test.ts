import { deepEqual } from "node:assert/strict";
import { compareVersions } from "../../src/registry/compare.ts";
import type { ModelVersion } from "../../src/registry/types.ts";

function version(v: number, metrics: Record<string, number>, params: Record<string, string>): ModelVersion {
  return {
    name: "churn",
    version: v,
    runId: `run${v}`,
    source: "s",
    path: "p",
    sha256: "0".repeat(64),
    files: {},
    stage: "None",
    aliases: v === 1 ? ["champion"] : [],
    status: "candidate",
    metrics,
    params,
    created: 0,
    gates: null,
  };
}

Deno.test("compareVersions lines up metrics with deltas and params with equality over the union of keys", () => {
  const c = compareVersions(
    version(1, { f1: 0.5, auc: 0.8 }, { depth: "4", n: "10" }),
    version(2, { f1: 0.75 }, { depth: "6", n: "10" }),
  );
  deepEqual(c.versions, [1, 2]);
  deepEqual(c.runs, ["run1", "run2"]);
  deepEqual(c.aliases, [["champion"], []]);
  deepEqual(c.metrics, [
    { key: "auc", values: [0.8, null], delta: null },
    { key: "f1", values: [0.5, 0.75], delta: 0.25 },
  ]);
  deepEqual(c.params, [
    { key: "depth", values: ["4", "6"], same: false },
    { key: "n", values: ["10", "10"], same: true },
  ]);
});
