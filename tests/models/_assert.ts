/** node:assert/strict with the few helpers the model tests use. */
import assert from "node:assert/strict";

export function assertEquals(actual: unknown, expected: unknown, msg?: string): void {
  assert.deepStrictEqual(actual, expected, msg);
}

export function assertAlmostEquals(actual: number, expected: number, tol = 1e-9, msg?: string): void {
  assert.ok(
    Math.abs(actual - expected) <= tol,
    msg ?? `expected ${expected} ± ${tol}, got ${actual}`,
  );
}

export function assertThrows(fn: () => unknown, match?: RegExp | (new (...a: never[]) => Error)): Error {
  try {
    fn();
  } catch (e) {
    if (match instanceof RegExp) assert.match((e as Error).message, match);
    else if (match) assert.ok(e instanceof match, `expected ${match.name}, got ${(e as Error)?.name}`);
    return e as Error;
  }
  throw new assert.AssertionError({ message: "expected a throw" });
}

export async function assertRejects(
  fn: () => Promise<unknown>,
  match?: RegExp | (new (...a: never[]) => Error),
): Promise<Error> {
  try {
    await fn();
  } catch (e) {
    if (match instanceof RegExp) assert.match((e as Error).message, match);
    else if (match) assert.ok(e instanceof match, `expected ${match.name}, got ${(e as Error)?.name}`);
    return e as Error;
  }
  throw new assert.AssertionError({ message: "expected a rejection" });
}

export { assert };
