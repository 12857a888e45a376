import assert from "node:assert/strict";
import { RandomForestClassifier as MlRf } from "ml-random-forest";
import { MlRandomForestClassifier } from "../../../src/models/engines/mlrf.ts";
import { RandomForestClassifier } from "../../../src/models/engines/forest/index.ts";
import { UserError } from "../../../src/core/errors.ts";
import { accuracy, blobs, linear, xor } from "./forest/helpers.ts";

Deno.test("the package's predictProbability really skips the first tree's vote", () => {
  // 3 trees, each trained on one constant label; votes per tree are known
  const X = [[0], [1], [2], [3], [4], [5]];
  const y = [1, 1, 1, 1, 1, 1];
  const rf = new MlRf({ nEstimators: 3, seed: 1, maxFeatures: 1.0, noOOB: true });
  rf.train(X, y);
  // every tree votes 1, so the true share of votes for label 1 is 1
  const votes = rf.predictionValues([[0]]);
  assert.deepEqual([votes.get(0, 0), votes.get(0, 1), votes.get(0, 2)], [1, 1, 1]);
  const pkg = rf.predictProbability([[0]], 1)[0];
  // the package starts the sum at the first tree's label (1) and adds 1/3 for the other two: not 1
  assert.notEqual(pkg, 1);
  const ours = new MlRandomForestClassifier({ n_estimators: 3, random_state: 1 });
  return ours.fit({ data: Float64Array.from(X.flat()), rows: 6, cols: 1 }, Float64Array.from(y)).then(() => {
    // (single class: class index 1 means 2 classes, class 0 never seen)
    const p = ours.predictProba({ data: Float64Array.from([0]), rows: 1, cols: 1 });
    assert.deepEqual([...p], [0, 1]);
  });
});

Deno.test("adapter: probabilities are every tree's vote share and sum to 1", async () => {
  const tr = blobs(90, 3, 1);
  const m = new MlRandomForestClassifier({ n_estimators: 7, random_state: 3 });
  await m.fit(tr.X, tr.y);
  const p = m.predictProba(tr.X);
  for (let i = 0; i < tr.X.rows; i++) {
    const row = [p[i * 3], p[i * 3 + 1], p[i * 3 + 2]];
    assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-12);
    for (const v of row) assert.ok(Number.isInteger(Math.round(v * 7 * 1e9) / 1e9), "a multiple of 1/7");
  }
  assert.ok(accuracy(m.predict(tr.X), tr.y) > 0.95);
});

Deno.test("adapter: serialization round-trips the predictions", async () => {
  const tr = xor(120, 2);
  const m = new MlRandomForestClassifier({ n_estimators: 5, random_state: 4, max_depth: 6 });
  await m.fit(tr.X, tr.y);
  const back = MlRandomForestClassifier.fromBytes(m.toBytes());
  assert.deepEqual(back.predictProba(tr.X), m.predictProba(tr.X));
  assert.throws(() => MlRandomForestClassifier.fromBytes(new TextEncoder().encode("{}")), UserError);
});

Deno.test("adapter: missing values and bad params are UserErrors", async () => {
  const m = new MlRandomForestClassifier({ n_estimators: 2 });
  await assert.rejects(
    () => m.fit({ data: Float64Array.from([1, NaN]), rows: 2, cols: 1 }, Float64Array.from([0, 1])),
    UserError,
  );
  assert.throws(() => new MlRandomForestClassifier({ n_estimators: -1 }), UserError);
});

Deno.test("our forest is at least as accurate as ml-random-forest on the same data", async () => {
  for (
    const [name, tr, te] of [
      ["xor + noise", xor(300, 5, 3), xor(300, 6, 3)],
      ["linear", linear(300, 6, 7), linear(300, 6, 8)],
    ] as const
  ) {
    // the same settings for both: 25 trees, every feature considered
    const ours = new RandomForestClassifier({
      n_estimators: 25,
      n_jobs: 1,
      random_state: 1,
      max_features: null,
    });
    const theirs = new MlRandomForestClassifier({ n_estimators: 25, random_state: 1, max_features: 1.0 });
    await ours.fit(tr.X, tr.y);
    await theirs.fit(tr.X, tr.y);
    const a = accuracy(ours.predict(te.X), te.y), b = accuracy(theirs.predict(te.X), te.y);
    assert.ok(a >= b - 0.01, `${name}: ours ${a}, ml-random-forest ${b}`);
  }
});
