/** Unit tests of src/registry/compat.ts: which models may follow which (issue 12, defect 4). */
import assert from "node:assert/strict";
import {
  compareShapes,
  describeSchemaChange,
  type ModelShape,
  schemaChange,
  shapeFromArtifact,
  shapeFromSignature,
  swapRefusal,
  versionFitError,
} from "../../src/registry/compat.ts";

const INPUTS = [
  { name: "tenure", kind: "numeric" },
  { name: "plan", kind: "categorical" },
  { name: "autopay", kind: "boolean" },
];
const CHURN: ModelShape = { task: "binary", target: "churned", classes: ["no", "yes"], inputs: INPUTS };

Deno.test("compat: the shape of an artifact comes from artifact.json (task, classes) and signature.json (target, inputs)", () => {
  const signature = {
    inputs: [{ name: "tenure", kind: "numeric", nullable: false }, {
      name: "plan",
      kind: "categorical",
      categories: ["a"],
      nullable: true,
    }],
    target: { name: "churned", kind: "classification", classes: ["no", "yes"] },
  };
  const manifest = {
    format: "orchard-model",
    format_version: 1,
    task: "classification",
    classes: ["no", "yes"],
  };
  assert.deepEqual(shapeFromArtifact(manifest, signature), {
    task: "binary",
    target: "churned",
    classes: ["no", "yes"],
    inputs: [{ name: "tenure", kind: "numeric" }, { name: "plan", kind: "categorical" }],
  });
  assert.equal(shapeFromArtifact({ ...manifest, classes: ["a", "b", "c"] }, signature)!.task, "multiclass");
  const reg = shapeFromArtifact({ format: "orchard-model", task: "regression" }, {
    inputs: [],
    target: { name: "y", kind: "regression" },
  });
  assert.deepEqual(reg, { task: "regression", target: "y", classes: [], inputs: [] });
  // not an Orchard model's manifest: nothing to compare with
  assert.equal(shapeFromArtifact({ format: 1, engine: "fake" }, signature), null);
  assert.equal(shapeFromArtifact(null, signature), null);
  assert.equal(shapeFromArtifact(manifest, undefined), null);
  // a loaded model's signature gives the same shape
  assert.deepEqual(shapeFromSignature(signature), shapeFromArtifact(manifest, signature));
  assert.deepEqual(shapeFromSignature(signature, ["no", "yes", "maybe"]).task, "multiclass");
});

Deno.test("compat: the same shape is compatible; the categories a column saw do not matter", () => {
  assert.deepEqual(compareShapes(CHURN, structuredClone(CHURN)), { differences: [], schema: null });
  assert.deepEqual(compareShapes(CHURN, { ...CHURN, classes: ["yes", "no"] }), {
    differences: [],
    schema: null,
  });
  assert.equal(versionFitError("churn", 2, compareShapes(CHURN, CHURN)), null);
  assert.equal(swapRefusal(CHURN, CHURN), null);
});

Deno.test("compat: another target, task or class set is another model", () => {
  const target = compareShapes(CHURN, { ...CHURN, target: "churn" });
  assert.deepEqual(target.differences, ["the target from 'churned' to 'churn'"]);
  assert.equal(
    versionFitError("churn", 3, target),
    "churn: version 3 would change the target from 'churned' to 'churn'; register it under another name",
  );
  // the schema flag does not make another target acceptable
  assert.match(versionFitError("churn", 3, target, true)!, /register it under another name$/);

  const task = compareShapes(CHURN, { ...CHURN, task: "regression", classes: [] });
  assert.deepEqual(task.differences, ["the task from 'binary' to 'regression'"]);
  const multi = compareShapes(CHURN, { ...CHURN, task: "multiclass", classes: ["no", "yes", "maybe"] });
  assert.deepEqual(
    multi.differences,
    ["the task from 'binary' to 'multiclass'"],
    "classes follow from the task",
  );

  const classes = compareShapes(CHURN, { ...CHURN, classes: ["0", "1"] });
  assert.deepEqual(classes.differences, [`the classes from ["no","yes"] to ["0","1"]`]);
  // 1 and "1" answer differently, so they are different classes
  const typed = compareShapes({ ...CHURN, classes: ["0", "1"] }, { ...CHURN, classes: [0, 1] });
  assert.equal(typed.differences.length, 1);

  const all = compareShapes(CHURN, {
    task: "regression",
    target: "amount",
    classes: [],
    inputs: [...INPUTS, { name: "region", kind: "categorical" }],
  });
  assert.equal(
    versionFitError("churn", 2, all),
    "churn: version 2 would change the task from 'binary' to 'regression' and the target from 'churned' to 'amount'; " +
      "register it under another name (its inputs differ too: added region)",
  );
});

Deno.test("compat: input signature changes are listed: added, removed, retyped, reordered", () => {
  const after = [
    { name: "autopay", kind: "boolean" },
    { name: "tenure", kind: "categorical" },
    { name: "region", kind: "categorical" },
  ];
  const change = schemaChange(INPUTS, after)!;
  assert.deepEqual(change, {
    added: ["region"],
    removed: ["plan"],
    retyped: [{ name: "tenure", from: "numeric", to: "categorical" }],
    reordered: true,
  });
  assert.equal(
    describeSchemaChange(change),
    "added region; removed plan; retyped tenure numeric -> categorical; reordered columns",
  );
  // a column removed keeps the others' order
  assert.deepEqual(schemaChange(INPUTS, [INPUTS[0], INPUTS[2]]), {
    added: [],
    removed: ["plan"],
    retyped: [],
    reordered: false,
  });
  assert.equal(schemaChange(INPUTS, structuredClone(INPUTS)), null);
  // long lists are cut short
  const many = Array.from({ length: 19 }, (_, i) => ({ name: `c${i}`, kind: "numeric" }));
  assert.equal(
    describeSchemaChange(schemaChange([], many)!),
    "added c0, c1, c2, c3, c4, c5, c6, c7 and 11 more",
  );
});

Deno.test("compat: a signature change needs allowSchemaChange to be registered, and is never hot-swapped", () => {
  const next = { ...CHURN, inputs: [...INPUTS, { name: "region", kind: "categorical" }] };
  const c = compareShapes(CHURN, next);
  assert.deepEqual(c.differences, []);
  assert.equal(
    versionFitError("churn", 2, c),
    "churn: version 2 would change the input signature (added region); update its callers, then register it with --allow-schema-change",
  );
  assert.equal(versionFitError("churn", 2, c, true), null);
  assert.equal(swapRefusal(CHURN, next), "it would change the input signature (added region)");
  assert.equal(
    swapRefusal(CHURN, { ...next, target: "churn" }),
    "it would change the target from 'churned' to 'churn' and the input signature (added region)",
  );
});
