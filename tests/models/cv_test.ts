import { assert, assertEquals, assertThrows } from "./_assert.ts";
import { SplitError, stratifiedKFold, trainValidationSplit } from "../../src/models/cv.ts";

const labels = Int32Array.from({ length: 100 }, (_, i) => (i % 4 === 0 ? 1 : 0)); // 25 positives

Deno.test("train/validation split: disjoint, complete, stratified, seeded", () => {
  const a = trainValidationSplit(100, 0.2, 7, labels);
  const b = trainValidationSplit(100, 0.2, 7, labels);
  const c = trainValidationSplit(100, 0.2, 8, labels);
  assertEquals(a, b);
  assert.notDeepStrictEqual(a.validation, c.validation);
  assertEquals([...a.train, ...a.validation].sort((x, y) => x - y), Array.from({ length: 100 }, (_, i) => i));
  assertEquals(a.validation.length, 20);
  assertEquals(a.validation.filter((i) => labels[i] === 1).length, 5); // 25 * 0.2
});

Deno.test("split keeps one row of each class on each side, and refuses what cannot split", () => {
  const s = trainValidationSplit(4, 0.1, 1, [0, 0, 1, 1]);
  assertEquals(s.validation.length, 2);
  assertThrows(() => trainValidationSplit(3, 0.25, 1, [0, 0, 1]), SplitError);
  assertThrows(() => trainValidationSplit(2, 0.5, 1), SplitError);
});

Deno.test("stratified k-fold: each row tested once, class counts per fold differ by at most one", () => {
  const folds = stratifiedKFold(100, 3, 5, labels);
  assertEquals(folds.length, 3);
  const seen = new Int32Array(100);
  for (const f of folds) {
    for (const i of f.test) seen[i]++;
    assertEquals(f.train.length + f.test.length, 100);
    assert.ok(!f.test.some((i) => f.train.includes(i)));
  }
  assert.ok(seen.every((v) => v === 1));
  const pos = folds.map((f) => f.test.filter((i) => labels[i] === 1).length);
  assert.ok(Math.max(...pos) - Math.min(...pos) <= 1, `positives per fold ${pos}`);
  const sizes = folds.map((f) => f.test.length);
  assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `fold sizes ${sizes}`);
  assertEquals(stratifiedKFold(100, 3, 5, labels), folds);
  assertThrows(() => stratifiedKFold(2, 3, 1), SplitError);
});

Deno.test("split and k-fold on 500,000 rows (no call-stack limit on large classes)", () => {
  // Spreading a large class into push() exceeded the call stack at ~400,000 rows (issue 12, defect 8).
  const n = 500_000;
  const big = Int32Array.from({ length: n }, (_, i) => (i % 5 === 0 ? 1 : 0));
  for (const lab of [big, undefined]) {
    const s = trainValidationSplit(n, 0.2, 11, lab);
    assertEquals(s.train.length + s.validation.length, n);
    assertEquals(s.validation.length, 100_000);
    const seen = new Uint8Array(n);
    for (const i of s.train) seen[i]++;
    for (const i of s.validation) seen[i]++;
    assert.ok(seen.every((v) => v === 1), "each row on exactly one side");
  }
  const folds = stratifiedKFold(n, 3, 5, big);
  assertEquals(folds.map((f) => f.train.length + f.test.length), [n, n, n]);
});

Deno.test("the split's indices are unchanged for the same labels and seed", () => {
  // pinned: a change of the dealing order would silently change every seeded run's split
  const labels3 = Int32Array.from({ length: 1000 }, (_, i) => (i * 7) % 3);
  assertEquals(
    trainValidationSplit(1000, 0.2, 42, labels3).validation.slice(0, 12),
    [1, 10, 21, 23, 34, 37, 40, 41, 46, 49, 51, 55],
  );
  assertEquals(
    trainValidationSplit(1000, 0.25, 3).validation.slice(0, 12),
    [8, 10, 11, 12, 14, 15, 18, 21, 23, 29, 31, 41],
  );
});
