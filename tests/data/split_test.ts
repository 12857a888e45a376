import assert from "node:assert/strict";
import pl from "nodejs-polars";
import { stratifiedSplit } from "../../src/data/split.ts";

const n = 1000;
const ids = Array.from({ length: n }, (_, i) => `C${String(i).padStart(4, "0")}`);
const y = ids.map((_, i) => (i % 5 === 0 ? 1 : 0)); // 20% positive
const df = pl.DataFrame({ customer_id: ids, churned: y });
const opts = {
  idColumn: "customer_id",
  target: "churned",
  validationFraction: 0.25,
  stratify: true,
  seed: 42,
};
const valid = (d: pl.DataFrame) =>
  d.filter(pl.col("split").eq(pl.lit("validation"))).getColumn("customer_id").toArray() as string[];

Deno.test("split: stratified, sized, deterministic, independent of row order", () => {
  const a = stratifiedSplit(df, opts);
  assert.equal(a.height, n);
  const v = a.filter(pl.col("split").eq(pl.lit("validation")));
  assert.equal(v.height, 250);
  assert.equal(Number(v.getColumn("churned").sum()), 50); // exactly 25% of each class
  assert.deepEqual(valid(stratifiedSplit(df, opts)), valid(a));
  const shuffled = df.sort("customer_id", true);
  assert.deepEqual(valid(stratifiedSplit(shuffled, opts)).sort(), valid(a).sort());
  assert.notDeepEqual(valid(stratifiedSplit(df, { ...opts, seed: 7 })), valid(a));
});

Deno.test("split: without stratification the size still holds", () => {
  const a = stratifiedSplit(df, { ...opts, stratify: false, validationFraction: 0.1 });
  assert.equal(valid(a).length, 100);
});
