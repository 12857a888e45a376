/**
 * Linear SHAP for the logistic regression: bias + contributions = the logit of
 * each explained class, missing values contribute nothing, the bias is the
 * score at the training means, and a hand-made model by hand.
 */
import assert from "node:assert/strict";
import { LogisticRegression } from "../../../src/models/engines/logistic.ts";
import { linearShap, logisticLinearModel, logisticShap } from "../../../src/models/shap/linear.ts";
import { blobs, linear } from "../engines/forest/helpers.ts";

const logit = (p: number) => Math.log(p / (1 - p));

function rowSum(bias: Float64Array, c: Float64Array, p: number, i: number): number {
  let s = bias[i];
  for (let f = 0; f < p; f++) s += c[i * p + f];
  return s;
}

Deno.test("linear SHAP by hand: coef x (x - mean), base = the score at the mean", () => {
  const X = { data: Float64Array.from([1, 2, NaN, 4]), rows: 2, cols: 2 };
  const { bias, contributions } = linearShap({ coef: [2, -1], intercept: 0.5, mean: [0, 3] }, X);
  assert.deepEqual(Array.from(bias), [-2.5, -2.5]);
  assert.deepEqual(Array.from(contributions), [2, 1, 0, -1]);
});

Deno.test("binary logistic regression: bias + contributions = the logit of class 1 (and of class 0)", async () => {
  const tr = linear(300, 4, 1), te = linear(50, 4, 2);
  const data = Float64Array.from(te.X.data);
  for (let i = 0; i < data.length; i += 7) data[i] = NaN;
  const X = { data, rows: te.X.rows, cols: 4 };
  const m = new LogisticRegression();
  await m.fit(tr.X, tr.y);
  const P = m.predictProba(X);
  const one = logisticShap(m, X), zero = logisticShap(m, X, 0);
  for (let i = 0; i < X.rows; i++) {
    const z = logit(P[i * 2 + 1]);
    assert.ok(Math.abs(rowSum(one.bias, one.contributions, 4, i) - z) < 1e-8, `row ${i}`);
    assert.ok(Math.abs(rowSum(zero.bias, zero.contributions, 4, i) + z) < 1e-8, `row ${i} class 0`);
  }
  // missing reads as the mean: no contribution
  for (let i = 0; i < data.length; i++) if (Number.isNaN(data[i])) assert.equal(one.contributions[i], 0);
  // the bias is the standardized intercept (the logit at the training means)
  assert.ok(Math.abs(one.bias[0] - m.coefficients.intercept[0]) < 1e-9);
  // the training mean of the contributions is 0
  const train = logisticShap(m, tr.X);
  for (let f = 0; f < 4; f++) {
    let s = 0;
    for (let i = 0; i < tr.X.rows; i++) s += train.contributions[i * 4 + f];
    assert.ok(Math.abs(s / tr.X.rows) < 1e-9, `feature ${f}`);
  }
});

Deno.test("multiclass logistic regression: each class's one-versus-rest logit; another background", async () => {
  const tr = blobs(300, 3, 3), te = blobs(30, 3, 4);
  const m = new LogisticRegression();
  await m.fit(tr.X, tr.y);
  const p = tr.X.cols;
  for (let k = 0; k < 3; k++) {
    const lm = logisticLinearModel(m, k);
    const { bias, contributions } = logisticShap(m, te.X, k);
    for (let i = 0; i < te.X.rows; i++) {
      let z = lm.intercept;
      for (let f = 0; f < p; f++) z += lm.coef[f] * te.X.data[i * p + f];
      assert.ok(Math.abs(rowSum(bias, contributions, p, i) - z) < 1e-9);
    }
    const other = logisticShap(m, te.X, k, new Float64Array(p));
    assert.ok(Math.abs(other.bias[0] - lm.intercept) < 1e-12);
  }
  assert.throws(() => logisticShap(m, te.X, 3), /out of range/);
});
