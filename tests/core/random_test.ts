import assert from "node:assert/strict";
import { Rng } from "../../src/core/random.ts";

Deno.test("Rng: same seed, same sequence; another seed, another", () => {
  const a = new Rng(42), b = new Rng(42), c = new Rng(43);
  const xs = Array.from({ length: 100 }, () => a.next());
  assert.deepEqual(xs, Array.from({ length: 100 }, () => b.next()));
  assert.notDeepEqual(xs, Array.from({ length: 100 }, () => c.next()));
  assert.ok(xs.every((x) => x >= 0 && x < 1));
});

Deno.test("Rng: draws have the right ranges and rough moments", () => {
  const r = new Rng(1);
  const n = 20_000;
  let sum = 0, sq = 0, pois = 0;
  const ints = new Set<number>();
  for (let i = 0; i < n; i++) {
    const z = r.normal();
    sum += z;
    sq += z * z;
    pois += r.poisson(3);
    ints.add(r.int(5));
  }
  assert.ok(Math.abs(sum / n) < 0.05, `normal mean ${sum / n}`);
  assert.ok(Math.abs(sq / n - 1) < 0.05, `normal variance ${sq / n}`);
  assert.ok(Math.abs(pois / n - 3) < 0.1, `poisson mean ${pois / n}`);
  assert.deepEqual([...ints].sort(), [0, 1, 2, 3, 4]);
  assert.equal(r.poisson(0), 0);
  const picks = { a: 0, b: 0 };
  for (let i = 0; i < 10_000; i++) picks[r.pick(["a", "b"] as const, [0.9, 0.1])]++;
  assert.ok(picks.a > 8700 && picks.a < 9300, `weighted pick ${picks.a}`);
});
