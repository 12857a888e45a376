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
