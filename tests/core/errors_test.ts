import assert from "node:assert/strict";
import { errorLine, isUserError, UserError, UserErrors } from "../../src/core/errors.ts";

Deno.test("UserError: exit code 2 by default, or the one given", () => {
  assert.equal(new UserError("bad flag").exitCode, 2);
  assert.equal(new UserError("drift", 1).exitCode, 1);
  assert.ok(isUserError(new UserError("x")));
  assert.ok(!isUserError(new Error("x")));
});

Deno.test("UserErrors: every problem kept, one line each", () => {
  const e = new UserErrors(["a: expected number", "b: required"]);
  assert.ok(isUserError(e));
  assert.deepEqual(e.problems, ["a: expected number", "b: required"]);
  assert.equal(e.message, "a: expected number\nb: required");
});

Deno.test("errorLine: the first line of any thrown value, never a stack", () => {
  assert.equal(errorLine(new Error("one\ntwo")), "one");
  assert.equal(errorLine("plain"), "plain");
  assert.equal(errorLine(42), "42");
});
