import { assertAlmostEquals, assertEquals, assertThrows } from "./_assert.ts";
import {
  accuracy,
  binaryMetrics,
  brier,
  calibrationBins,
  confusion,
  confusionMatrix,
  f1,
  logLoss,
  mae,
  multiclassMetrics,
  prAuc,
  prCurve,
  precision,
  r2,
  recall,
  regressionMetrics,
  rmse,
  rocAuc,
  rocCurve,
} from "../../src/models/metrics.ts";

// Worked by hand: truth and scores, threshold 0.5 -> predictions [1,1,1,0,0,0]
const y = [1, 0, 1, 1, 0, 0];
const s = [0.9, 0.8, 0.7, 0.4, 0.3, 0.2];
const pred = [1, 1, 1, 0, 0, 0];

Deno.test("confusion counts: tp=2 fp=1 fn=1 tn=2", () => {
  assertEquals(confusion(y, pred), { tp: 2, fp: 1, tn: 2, fn: 1 });
});

Deno.test("accuracy, precision, recall, f1 by hand", () => {
  assertAlmostEquals(accuracy(y, pred), 4 / 6);
  assertAlmostEquals(precision(y, pred), 2 / 3);
  assertAlmostEquals(recall(y, pred), 2 / 3);
  assertAlmostEquals(f1(y, pred), 2 / 3);
  // asymmetric case: tp=1, fp=3, fn=0 -> precision 1/4, recall 1, f1 2/5
  assertAlmostEquals(precision([1, 0, 0, 0], [1, 1, 1, 1]), 0.25);
  assertAlmostEquals(recall([1, 0, 0, 0], [1, 1, 1, 1]), 1);
  assertAlmostEquals(f1([1, 0, 0, 0], [1, 1, 1, 1]), 0.4);
});

Deno.test("precision/recall/f1 are 0 when undefined (zero_division=0)", () => {
  assertEquals(precision([1, 0], [0, 0]), 0);
  assertEquals(recall([0, 0], [1, 0]), 0);
  assertEquals(f1([0, 0], [0, 0]), 0);
});

Deno.test("ROC AUC: 7 of 9 positive-negative pairs ordered right", () => {
  assertAlmostEquals(rocAuc(y, s), 7 / 9);
  assertEquals(rocAuc([1, 1, 0, 0], [0.9, 0.8, 0.2, 0.1]), 1);
  assertEquals(rocAuc([0, 0, 1, 1], [0.9, 0.8, 0.2, 0.1]), 0);
});

Deno.test("ROC AUC: ties count half", () => {
  assertEquals(rocAuc([1, 0], [0.5, 0.5]), 0.5);
  // pos {0.5, 0.9}, neg {0.5, 0.1}: pairs 0.5=0.5 -> 0.5, 0.5>0.1, 0.9>both -> 3.5/4
  assertAlmostEquals(rocAuc([1, 1, 0, 0], [0.5, 0.9, 0.5, 0.1]), 3.5 / 4);
});

Deno.test("ROC curve starts at (0,0), ends at (1,1), one point per distinct score", () => {
  const c = rocCurve(y, s);
  assertEquals(c.fpr[0], 0);
  assertEquals(c.tpr[0], 0);
  assertEquals(c.fpr.at(-1), 1);
  assertEquals(c.tpr.at(-1), 1);
  assertEquals(c.fpr.length, 7);
  assertEquals(rocCurve([1, 0, 1], [0.5, 0.5, 0.5]).fpr.length, 2);
});

Deno.test("PR AUC is average precision: 1/3*1 + 1/3*2/3 + 1/3*3/4 = 29/36", () => {
  assertAlmostEquals(prAuc(y, s), 29 / 36);
  assertEquals(prAuc([1, 1, 0], [0.9, 0.8, 0.1]), 1);
});

Deno.test("log loss and Brier by hand", () => {
  const expected =
    -(Math.log(0.9) + Math.log(0.2) + Math.log(0.7) + Math.log(0.4) + Math.log(0.7) + Math.log(0.8)) / 6;
  assertAlmostEquals(logLoss(y, s), expected, 1e-12);
  assertAlmostEquals(logLoss(y, s), 0.5945971, 1e-6);
  assertAlmostEquals(brier(y, s), 1.23 / 6, 1e-12);
  // a confident wrong answer is clipped, not infinite
  assertEquals(Number.isFinite(logLoss([1], [0])), true);
  assertAlmostEquals(logLoss([1], [0]), -Math.log(1e-15), 1e-6);
});

Deno.test("regression metrics (scikit-learn's documented example)", () => {
  const t = [3, -0.5, 2, 7], p = [2.5, 0, 2, 8];
  assertAlmostEquals(rmse(t, p), Math.sqrt(0.375), 1e-12);
  assertAlmostEquals(mae(t, p), 0.5, 1e-12);
  assertAlmostEquals(r2(t, p), 0.9486081370449679, 1e-12);
  assertEquals(r2([1, 1], [1, 1]), 1);
  assertEquals(r2([1, 1], [2, 2]), 0);
  assertEquals(Object.keys(regressionMetrics(t, p)).sort(), ["mae", "r2", "rmse"]);
});

Deno.test("k-class confusion matrix: rows truth, columns prediction", () => {
  assertEquals(confusionMatrix([0, 1, 2, 2], [0, 2, 2, 1], 3), [[1, 0, 0], [0, 0, 1], [0, 1, 1]]);
});

Deno.test("binaryMetrics combines them at a threshold; AUC NaN with one class", () => {
  const m = binaryMetrics(y, s, 0.5);
  assertAlmostEquals(m.roc_auc, 7 / 9);
  assertAlmostEquals(m.f1, 2 / 3);
  const high = binaryMetrics(y, s, 0.85); // only 0.9 predicted positive
  assertAlmostEquals(high.precision, 1);
  assertAlmostEquals(high.recall, 1 / 3);
  assertEquals(Number.isNaN(binaryMetrics([1, 1], [0.2, 0.9]).roc_auc), true);
});

Deno.test("calibration bins hold mean prediction and observed share", () => {
  const bins = calibrationBins([1, 0, 1, 1], [0.05, 0.15, 0.92, 0.98], 10);
  assertEquals(bins.length, 3);
  assertAlmostEquals(bins[2].predicted, 0.95);
  assertEquals(bins[2].observed, 1);
  assertEquals(bins[1].observed, 0);
  assertEquals(bins.reduce((a, b) => a + b.count, 0), 4);
});

Deno.test("length mismatch throws", () => {
  assertThrows(() => accuracy([1, 0], [1]));
  assertThrows(() => rocAuc([1, 1], [0.1, 0.2]));
});

Deno.test("multiclass metrics from a confusion matrix, by hand", () => {
  // rows truth, columns prediction; class 1 is the positive class
  const m = [
    [5, 1, 0], // class 0: 6 rows
    [2, 3, 1], // class 1: 6 rows
    [0, 0, 4], // class 2: 4 rows
  ];
  const r = multiclassMetrics(m, 1);
  assertAlmostEquals(r.accuracy, 12 / 16);
  // class 1: tp 3, predicted 4 (column), actual 6 (row) -> p 3/4, r 1/2, f1 0.6
  assertAlmostEquals(r.precision, 0.75);
  assertAlmostEquals(r.recall, 0.5);
  assertAlmostEquals(r.f1, 0.6);
  // class 0: p 5/7 r 5/6; class 2: p 4/5 r 1
  assertAlmostEquals(r.macro_precision, (5 / 7 + 3 / 4 + 4 / 5) / 3);
  assertAlmostEquals(r.macro_recall, (5 / 6 + 1 / 2 + 1) / 3);
  const f = (p: number, q: number) => (2 * p * q) / (p + q);
  assertAlmostEquals(r.macro_f1, (f(5 / 7, 5 / 6) + 0.6 + f(4 / 5, 1)) / 3);
  // a class never predicted counts 0 precision (zero_division=0)
  assertEquals(multiclassMetrics([[1, 0, 0], [0, 1, 0], [1, 0, 0]], 2).precision, 0);
});

Deno.test("PR curve: one point per distinct score (ties one step), highest threshold first", () => {
  const c = prCurve([1, 0, 1, 0], [0.9, 0.5, 0.5, 0.1]);
  assertEquals(c.thresholds, [0.9, 0.5, 0.1]);
  assertEquals(c.precision, [1, 2 / 3, 0.5]);
  assertEquals(c.recall, [0.5, 1, 1]);
  assertThrows(() => prCurve([0, 0], [0.2, 0.1]));
});
