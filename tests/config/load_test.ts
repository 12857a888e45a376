import assert from "node:assert/strict";
import { applyOverrides, describeExpected, loadConfig, schemaAt, typedValue } from "../../src/config/load.ts";
import { UserError, UserErrors } from "../../src/core/errors.ts";

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
  assert.equal(typedValue(["model", "max_depth"], "None"), null); // scikit-learn spelling
  assert.equal(typedValue(["model", "max_depth"], "none"), null);
  assert.equal(typedValue(["data", "target"], "None"), "None"); // a string-only key keeps it
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
    // an override's problem names the --set that gave it (key and value), then the expectation
    assert.equal(e.problems[0], "--set model.n_estimators=-3: too small: expected number to be >0");
    assert.equal(e.problems[1], "--set model.max_depth=abc: expected one of an integer > 0 or null");
  }
});

Deno.test("every problem is reported at once: bad file values, unknown and bad overrides", () => {
  const dir = Deno.makeTempDirSync();
  Deno.writeTextFileSync(`${dir}/p.yaml`, "model:\n  max_features: cube\nsplit:\n  validation_fraction: 2\n");
  try {
    loadConfig({
      path: `${dir}/p.yaml`,
      sets: ["model.n_trees=3", "split.seed=x", "nokey", "model.algorithm=x y"],
    });
    assert.fail("should throw");
  } catch (e) {
    assert.ok(e instanceof UserErrors);
    assert.deepEqual(e.problems.slice(0, 2), [
      "--set model.n_trees=3: unknown config key 'model.n_trees'",
      "--set nokey: expected dotted.key=value",
    ]);
    const rest = e.problems.slice(2).sort();
    assert.equal(rest.length, 4, e.problems.join("\n"));
    // which engines exist is the engine registry's to say (plugins load later); the name's shape is checked here
    assert.match(rest[0], /^--set model\.algorithm=x y: must be an engine name/);
    assert.equal(rest[1], "--set split.seed=x: expected an integer >= 0");
    assert.equal(
      rest[2],
      `${dir}/p.yaml: model.max_features = "cube": expected one of "sqrt", "log2", a number > 0 or null`,
    );
    assert.match(rest[3], new RegExp(`^${dir}/p\\.yaml: split\\.validation_fraction = 2: too big`));
  }
});

Deno.test("describeExpected words a schema node", () => {
  assert.equal(describeExpected(schemaAt(["model", "n_estimators"])!), "an integer > 0");
  assert.equal(describeExpected(schemaAt(["split", "validation_fraction"])!), "a number > 0 and < 1");
  assert.equal(describeExpected(schemaAt(["model", "bootstrap"])!), "true or false");
  assert.equal(
    describeExpected(schemaAt(["model", "encoding"])!),
    'one of "auto", "onehot" or "ordinal"',
  );
});

Deno.test("invalid YAML and unknown top-level sections are reported", () => {
  const dir = Deno.makeTempDirSync();
  Deno.writeTextFileSync(`${dir}/bad.yaml`, "model: [unclosed\n");
  assert.throws(() => loadConfig({ path: `${dir}/bad.yaml` }), /bad\.yaml: invalid YAML/);
  Deno.writeTextFileSync(`${dir}/extra.yaml`, "modle:\n  n_estimators: 3\n");
  assert.throws(() => loadConfig({ path: `${dir}/extra.yaml` }), /unknown key 'modle'/);
});
