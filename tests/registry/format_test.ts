import assert from "node:assert/strict";
import { gateLine, keyMetrics, modelsListing, registerSummary } from "../../src/registry/format.ts";
import type { GateRecord, ModelVersion, RegisterResult } from "../../src/registry/registry.ts";

const failed: GateRecord = {
  target: "alias:champion",
  passed: false,
  forced: false,
  reason: null,
  baselineVersion: 1,
  reasons: ["recall 0.5 not >= threshold 0.7"],
  checks: [],
  time: 0,
};

Deno.test("gate lines say passed, failed with reasons, or forced with the reason", () => {
  assert.equal(gateLine(null), "not checked");
  assert.equal(gateLine({ ...failed, passed: true, reasons: [] }), "passed vs champion v1");
  assert.equal(gateLine(failed), "failed vs champion v1: recall 0.5 not >= threshold 0.7");
  assert.match(gateLine({ ...failed, forced: true, reason: "hotfix" }), /^FORCED vs champion v1 \(hotfix\)/);
  // a check for the Production stage compares with Production's version, not the champion
  assert.equal(
    gateLine({ ...failed, target: "stage:Production" }),
    "failed vs Production v1: recall 0.5 not >= threshold 0.7",
  );
});

Deno.test("register summary shows promotions, refusals with the force hint, and --if-new no-ops", () => {
  const base: RegisterResult = {
    name: "churn",
    version: 2,
    run_id: "abcdef0123456789",
    path: "models/churn/2",
    sha256: "f".repeat(64),
    stage: "None",
    aliases: [],
    status: "candidate",
    gates: failed,
    promotions: [{
      target: "alias:champion",
      applied: false,
      gated: true,
      gates: failed,
      previousVersion: 1,
    }],
    existing: false,
  };
  const text = registerSummary(base);
  assert.match(text, /registered churn version 2 from run abcdef01 -> models\/churn\/2/);
  assert.match(text, /@champion: NOT promoted, version 2 stays a candidate: recall 0\.5/);
  assert.match(text, /--force --reason/);
  const ok = registerSummary({
    ...base,
    promotions: [{ target: "stage:Production", applied: true, gated: true, gates: null, previousVersion: 1 }],
  });
  assert.match(ok, /stage Production -> version 2 \(was v1\)/);
  assert.match(
    registerSummary({ ...base, existing: true, aliases: ["champion"] }),
    /already churn version 2 \(@champion/,
  );
});

Deno.test("models listing shows gated metrics first", () => {
  const v = (version: number, metrics: Record<string, number>): ModelVersion => ({
    name: "churn",
    version,
    runId: "r".repeat(32),
    source: "s",
    path: "p",
    sha256: "0".repeat(64),
    files: {},
    stage: "None",
    aliases: version === 1 ? ["champion"] : [],
    status: "candidate",
    metrics,
    params: {},
    created: 0,
    gates: null,
  });
  const versions = [v(1, { roc_auc: 0.9, recall: 0.8, brier: 0.1 }), v(2, { roc_auc: 0.8, recall: 0.6 })];
  assert.deepEqual(keyMetrics(versions, ["recall"]), ["recall", "roc_auc"]);
  const text = modelsListing([{ name: "churn", created: 0, versions }], ["recall"]);
  assert.match(text, /^churn \(2 versions\)/);
  assert.match(text, /version\s+aliases\s+stage\s+status\s+run_id\s+created\s+recall\s+roc_auc\s+gates/);
  assert.match(text, /1\s+@champion\s+None/);
  assert.equal(modelsListing([], []), "models: no registered models yet (deno task register)");
});
