import assert from "node:assert/strict";
import { UserError } from "../../src/core/errors.ts";
import { encodeTarget, resolveTarget } from "../../src/models/target.ts";

Deno.test("resolveTarget: classes sorted, the minority class positive, labels encoded", () => {
  const t = resolveTarget(["no", "yes", "no", "no"], ["yes"], { task: "auto" });
  assert.equal(t.task, "classification");
  assert.deepEqual(t.classes, ["no", "yes"]);
  assert.equal(t.positiveClass, "yes");
  assert.deepEqual(Array.from(t.yTrain), [0, 1, 0, 0]);
  assert.deepEqual(Array.from(t.yValidation), [1]);
  const r = resolveTarget(Array.from({ length: 30 }, (_, i) => i + 0.5), [], { task: "auto" });
  assert.equal(r.task, "regression");
});

Deno.test("encodeTarget: new rows encoded with the classes fixed in training", () => {
  const t = encodeTarget(["b", "a", " b "], {
    task: "classification",
    classes: ["a", "b"],
    positiveClass: "a",
  });
  assert.deepEqual(Array.from(t.yValidation), [1, 0, 1]);
  assert.equal(t.positiveIndex, 0);
  const r = encodeTarget(["1.5", 2], { task: "regression" });
  assert.deepEqual(Array.from(r.yValidation), [1.5, 2]);
});

Deno.test("encodeTarget: an unknown class, a missing label or a non-number is a UserError naming the row", () => {
  const spec = { task: "classification" as const, classes: ["a", "b"] };
  assert.throws(
    () => encodeTarget(["a", "c"], spec, "y"),
    (e: Error) => e instanceof UserError && /row 2.*"c"/.test(e.message),
  );
  assert.throws(
    () => encodeTarget([null], spec, "y"),
    (e: Error) => e instanceof UserError && /row 1 is missing/.test(e.message),
  );
  assert.throws(
    () => encodeTarget(["x"], { task: "regression" }, "y"),
    (e: Error) => e instanceof UserError && /row 1/.test(e.message),
  );
});
