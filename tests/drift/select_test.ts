import assert, { equal, throws } from "node:assert/strict";
import { DriftSchema } from "../../src/config/schema.ts";
import { UserError } from "../../src/core/errors.ts";
import { chooseTest, defaultTest, isDrift, severity } from "../../src/drift/select.ts";

const cfg = (over: Record<string, unknown> = {}) => DriftSchema.parse(over);

Deno.test("default tests follow Evidently's rules", () => {
  equal(defaultTest("numeric", 1000, 50), "ks");
  equal(defaultTest("numeric", 1001, 50), "wasserstein");
  equal(defaultTest("numeric", 500, 5), "chisquare"); // few values: categorical treatment
  equal(defaultTest("numeric", 500, 2), "z");
  equal(defaultTest("categorical", 500, 2), "z");
  equal(defaultTest("categorical", 500, 3), "chisquare");
  equal(defaultTest("categorical", 5000, 3), "jensenshannon");
  equal(defaultTest("categorical", 5000, 2), "jensenshannon");
  equal(defaultTest("numeric", 5000, 4), "jensenshannon");
});

Deno.test("num_test / cat_test force a test; per_column wins over both", () => {
  const c = cfg({ num_test: "ks", cat_test: "chisquare", per_column: { age: "psi" } });
  equal(chooseTest("x", "numeric", 1_000_000, 100, c).test, "ks");
  equal(chooseTest("x", "numeric", 1_000_000, 100, c).source, "drift.num_test");
  equal(chooseTest("plan", "categorical", 1_000_000, 3, c).test, "chisquare");
  const own = chooseTest("age", "numeric", 100, 100, c);
  equal(own.test, "psi");
  equal(own.threshold, 0.2);
  equal(own.source, "drift.per_column.age");
});

Deno.test("thresholds: defaults by test and per-column overrides", () => {
  equal(chooseTest("x", "numeric", 100, 100, cfg()).threshold, 0.05);
  equal(chooseTest("x", "numeric", 5000, 100, cfg()).threshold, 0.1);
  equal(chooseTest("x", "numeric", 5000, 100, cfg({ thresholds: { x: 0.3 } })).threshold, 0.3);
  equal(chooseTest("x", "numeric", 5000, 100, cfg({ num_test: "psi", psi_threshold: 0.25 })).threshold, 0.25);
});

Deno.test("a numeric-only test on a categorical column is a user error", () => {
  throws(() => chooseTest("plan", "categorical", 10, 3, cfg({ cat_test: "ks" })), UserError);
  throws(
    () => chooseTest("plan", "categorical", 10, 3, cfg({ per_column: { plan: "wasserstein" } })),
    /categorical/,
  );
});

Deno.test("drift direction: p-values at or below, distances at or above the threshold", () => {
  assert(isDrift("ks", 0.05, 0.05));
  assert(!isDrift("ks", 0.051, 0.05));
  assert(isDrift("wasserstein", 0.1, 0.1));
  assert(!isDrift("jensenshannon", 0.099, 0.1));
  assert(!isDrift("chisquare", NaN, 0.05));
  assert(severity("ks", 0.001, 0.05) > severity("wasserstein", 0.1, 0.1));
  assert(severity("wasserstein", 0.5, 0.1) > severity("ks", 0.01, 0.05));
});
