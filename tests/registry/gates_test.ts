import assert from "node:assert/strict";
import { evaluateGates } from "../../src/registry/gates.ts";

const kinds = (r: ReturnType<typeof evaluateGates>) =>
  r.checks.map((c) => `${c.metric}:${c.kind}:${c.passed}`);

Deno.test("absolute thresholds: >= when greater is better, <= otherwise, inclusive", () => {
  const gates = {
    recall: { threshold: 0.7 },
    f1: { threshold: 0.6 },
    log_loss: { threshold: 0.5, greater_is_better: false },
  };
  assert.equal(evaluateGates(gates, { recall: 0.7, f1: 0.6, log_loss: 0.5 }).passed, true);
  const r = evaluateGates(gates, { recall: 0.69, f1: 0.61, log_loss: 0.51 });
  assert.equal(r.passed, false);
  assert.deepEqual(kinds(r), ["recall:threshold:false", "f1:threshold:true", "log_loss:threshold:false"]);
  assert.equal(r.reasons.length, 2);
  assert.match(r.reasons[0], /recall 0\.69 not >= threshold 0\.7/);
  assert.match(r.reasons[1], /log_loss 0\.51 not <= threshold 0\.5/);
  assert.equal(r.baselineVersion, null);
});

Deno.test("a missing or NaN candidate metric fails; no gates always passes", () => {
  const r = evaluateGates({ recall: { threshold: 0.1 } }, { f1: 1 });
  assert.deepEqual(kinds(r), ["recall:missing_candidate:false"]);
  assert.equal(evaluateGates({ recall: { threshold: 0.1 } }, { recall: NaN }).passed, false);
  assert.equal(evaluateGates({}, {}).passed, true);
});

Deno.test("min_absolute_change against the champion, both directions, with float tolerance", () => {
  const up = { auc: { min_absolute_change: 0.05 } };
  const base = { version: 3, metrics: { auc: 0.8 } };
  assert.equal(evaluateGates(up, { auc: 0.85 }, base).passed, true, "exactly the required change passes");
  assert.equal(evaluateGates(up, { auc: 0.8499 }, base).passed, false);
  assert.equal(
    evaluateGates({ x: { min_absolute_change: 0.2 } }, { x: 0.3 }, { version: 1, metrics: { x: 0.1 } })
      .passed,
    true,
    "0.1 + 0.2 reaches 0.3",
  );
  const down = { rmse: { min_absolute_change: 1, greater_is_better: false } };
  assert.equal(evaluateGates(down, { rmse: 9 }, { version: 1, metrics: { rmse: 10 } }).passed, true);
  const fail = evaluateGates(down, { rmse: 9.5 }, { version: 1, metrics: { rmse: 10 } });
  assert.equal(fail.passed, false);
  assert.equal(fail.baselineVersion, 1);
  assert.equal(fail.checks[0].required, 9);
  assert.match(fail.reasons[0], /rmse 9\.5 not <= 9 \(champion v1 10 - min_absolute_change 1\)/);
});

Deno.test("min_relative_change: share of |champion|, both directions, negative baselines", () => {
  const g = { f1: { min_relative_change: 0.1 } };
  assert.equal(
    evaluateGates(g, { f1: 0.66 }, { version: 1, metrics: { f1: 0.6 } }).passed,
    true,
    "+10% exactly",
  );
  assert.equal(evaluateGates(g, { f1: 0.65 }, { version: 1, metrics: { f1: 0.6 } }).passed, false);
  const loss = { loss: { min_relative_change: 0.2, greater_is_better: false } };
  assert.equal(evaluateGates(loss, { loss: 0.8 }, { version: 1, metrics: { loss: 1 } }).passed, true);
  assert.equal(evaluateGates(loss, { loss: 0.81 }, { version: 1, metrics: { loss: 1 } }).passed, false);
  // a negated loss: -0.9 is a 10% gain over -1.0 (dividing by the signed baseline would call it a loss)
  const neg = { neg_loss: { min_relative_change: 0.1 } };
  assert.equal(
    evaluateGates(neg, { neg_loss: -0.9 }, { version: 1, metrics: { neg_loss: -1 } }).passed,
    true,
  );
  assert.equal(
    evaluateGates(neg, { neg_loss: -1.05 }, { version: 1, metrics: { neg_loss: -1 } }).passed,
    false,
  );
});

Deno.test("baseline of zero: relative change falls back to 'strictly better than 0'", () => {
  const g = { recall: { min_relative_change: 0.5 } };
  const zero = { version: 2, metrics: { recall: 0 } };
  assert.equal(evaluateGates(g, { recall: 0.01 }, zero).passed, true);
  const same = evaluateGates(g, { recall: 0 }, zero);
  assert.equal(same.passed, false, "equal to a zero baseline is not an improvement");
  assert.match(same.reasons[0], /relative change from 0 is undefined/);
  assert.equal(evaluateGates(g, { recall: -0.1 }, zero).passed, false);
  const lower = { err: { min_relative_change: 0.5, greater_is_better: false } };
  assert.equal(evaluateGates(lower, { err: -0.01 }, { version: 1, metrics: { err: 0 } }).passed, true);
  assert.equal(evaluateGates(lower, { err: 0 }, { version: 1, metrics: { err: 0 } }).passed, false);
  // the absolute change is well defined from zero
  const abs = { recall: { min_absolute_change: 0.1 } };
  assert.equal(evaluateGates(abs, { recall: 0.1 }, zero).passed, true);
  assert.equal(evaluateGates(abs, { recall: 0.09 }, zero).passed, false);
  // no division by zero anywhere
  for (const c of evaluateGates(g, { recall: 0.3 }, zero).checks) assert.ok(Number.isFinite(c.required!));
});

Deno.test("comparisons are skipped without a champion and fail when the champion lacks the metric", () => {
  const g = { auc: { threshold: 0.7, min_absolute_change: 0.01 } };
  const first = evaluateGates(g, { auc: 0.75 }, null);
  assert.equal(first.passed, true);
  assert.deepEqual(kinds(first), ["auc:threshold:true"]);
  const missing = evaluateGates(g, { auc: 0.75 }, { version: 4, metrics: { f1: 0.5 } });
  assert.equal(missing.passed, false);
  assert.deepEqual(kinds(missing), ["auc:threshold:true", "auc:missing_baseline:false"]);
  assert.match(missing.reasons[0], /champion v4 has no value/);
  const both = evaluateGates({ auc: { threshold: 0.9, min_relative_change: 0.01 } }, { auc: 0.8 }, {
    version: 1,
    metrics: { auc: 0.85 },
  });
  assert.equal(both.reasons.length, 2, "every failed check gets a reason");
});
