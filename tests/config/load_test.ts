import assert from "node:assert/strict";
import { applyOverrides, loadConfig, typedValue } from "../../src/config/load.ts";
import { UserError, UserErrors } from "../../src/cli/errors.ts";

Deno.test("defaults validate from an empty config", () => {
  const dir = Deno.makeTempDirSync();
  Deno.writeTextFileSync(`${dir}/p.yaml`, "");
  const cfg = loadConfig({ path: `${dir}/p.yaml` });
  assert.equal(cfg.model.n_estimators, 100);
  assert.equal(cfg.registry.gates.recall.threshold, 0.7);
});

Deno.test("overrides are typed by the schema", () => {
  assert.equal(typedValue(["model", "n_estimators"], "300"), 300);
  assert.equal(typedValue(["model", "max_depth"], "null"), null);
  assert.equal(typedValue(["model", "bootstrap"], "false"), false);
  // a string-only key keeps the text as written
  assert.equal(typedValue(["data", "target"], "007"), "007");
  assert.equal(typedValue(["model", "max_features"], "sqrt"), "sqrt");
  assert.equal(typedValue(["model", "max_features"], "0.5"), 0.5);
  const cfg = applyOverrides({ model: { n_estimators: 10 } }, [
    "model.n_estimators=300",
    "drift.per_column.age=ks",
  ]);
  assert.deepEqual(cfg, { model: { n_estimators: 300 }, drift: { per_column: { age: "ks" } } });
});

Deno.test("unknown keys and malformed overrides are user errors", () => {
  assert.throws(() => applyOverrides({}, ["model.n_trees=3"]), /unknown config key 'model.n_trees'/);
  assert.throws(() => applyOverrides({}, ["model.n_estimators"]), UserError);
});

Deno.test("bad values give one line per problem naming key, value and expectation", () => {
  try {
    loadConfig({ path: "/nonexistent-dir/none.yaml" });
    assert.fail("should throw");
  } catch (e) {
    assert.ok(e instanceof UserError);
    assert.match(e.message, /none\.yaml: cannot read config/);
  }
  try {
    loadConfig({ sets: ["model.n_estimators=-3", "model.max_depth=abc"] });
    assert.fail("should throw");
  } catch (e) {
    assert.ok(e instanceof UserErrors);
    assert.equal(e.problems.length, 2);
    assert.match(e.problems[0], /model\.n_estimators = -3: .*expected number to be >0/);
    assert.match(e.problems[1], /model\.max_depth = "abc": .*expected number/);
  }
});

Deno.test("invalid YAML and unknown top-level sections are reported", () => {
  const dir = Deno.makeTempDirSync();
  Deno.writeTextFileSync(`${dir}/bad.yaml`, "model: [unclosed\n");
  assert.throws(() => loadConfig({ path: `${dir}/bad.yaml` }), /bad\.yaml: invalid YAML/);
  Deno.writeTextFileSync(`${dir}/extra.yaml`, "modle:\n  n_estimators: 3\n");
  assert.throws(() => loadConfig({ path: `${dir}/extra.yaml` }), /unknown key 'modle'/);
});
