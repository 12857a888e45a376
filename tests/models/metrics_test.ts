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
  multiclassClassificationMetrics,
  multiclassLogLoss,
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
  // rows truth, columns prediction
  const m = [
    [5, 1, 0], // class 0: 6 rows
    [2, 3, 1], // class 1: 6 rows
    [0, 0, 4], // class 2: 4 rows
  ];
  const r = multiclassMetrics(m);
  assertAlmostEquals(r.accuracy, 12 / 16);
  // class 0: p 5/7 r 5/6; class 1: tp 3, predicted 4, actual 6 -> p 3/4 r 1/2 f1 0.6; class 2: p 4/5 r 1
  assertAlmostEquals(r.macro_precision, (5 / 7 + 3 / 4 + 4 / 5) / 3);
  assertAlmostEquals(r.macro_recall, (5 / 6 + 1 / 2 + 1) / 3);
  const f = (p: number, q: number) => (2 * p * q) / (p + q);
  assertAlmostEquals(r.macro_f1, (f(5 / 7, 5 / 6) + 0.6 + f(4 / 5, 1)) / 3);
  // weighted: by support 6, 6, 4
  assertAlmostEquals(r.weighted_recall, (6 * 5 / 6 + 6 * 1 / 2 + 4 * 1) / 16);
  assertAlmostEquals(r.weighted_f1, (6 * f(5 / 7, 5 / 6) + 6 * 0.6 + 4 * f(4 / 5, 1)) / 16);
  // no "positive class" metric for a multiclass target
  assertEquals("f1" in r || "precision" in r || "recall" in r, false);
});

Deno.test("multiclass P/R/F1: a class absent from truth and predictions is left out of macro (labels=None)", () => {
  // class 2 has no row and is never predicted: macro over classes 0 and 1 only
  const r = multiclassMetrics([[2, 1, 0], [0, 3, 0], [0, 0, 0]]);
  // class 0: p 1, r 2/3, f1 0.8; class 1: p 3/4, r 1, f1 6/7
  assertAlmostEquals(r.macro_precision, (1 + 3 / 4) / 2);
  assertAlmostEquals(r.macro_f1, (0.8 + 6 / 7) / 2);
  // predicted but absent: it counts, with precision 0 and recall 0 (zero_division=0), as scikit-learn
  const q = multiclassMetrics([[2, 0, 1], [0, 3, 0], [0, 0, 0]]);
  assertAlmostEquals(q.macro_precision, (1 + 1 + 0) / 3);
  assertAlmostEquals(q.macro_recall, (2 / 3 + 1 + 0) / 3);
});

Deno.test("one-vs-rest macro/weighted ROC AUC by hand, a class absent from the truth skipped", () => {
  // 3 classes, 4 rows, class 2 has no row. Column 0: truth [1,1,0,0], scores [.6,.5,.3,.2] -> AUC 1.
  const y = [0, 0, 1, 1];
  const P = [
    [0.6, 0.3, 0.1],
    [0.5, 0.45, 0.05],
    [0.3, 0.4, 0.3],
    [0.2, 0.7, 0.1],
  ].flat();
  // column 1 positives .4, .7 vs negatives .3, .45: .4 < .45 loses -> 3/4
  const r = multiclassClassificationMetrics(y, P, 3, [0, 0, 1, 1]);
  assertEquals(r.absent, [2]);
  assertEquals(r.perClass.map((c) => c.support), [2, 2, 0]);
  assertAlmostEquals(r.perClass[0].roc_auc, 1);
  assertAlmostEquals(r.perClass[1].roc_auc, 0.75);
  assertEquals(Number.isNaN(r.perClass[2].roc_auc), true);
  assertAlmostEquals(r.metrics.macro_roc_auc, (1 + 0.75) / 2);
  assertAlmostEquals(r.metrics.weighted_roc_auc, (2 * 1 + 2 * 0.75) / 4);
  // log loss: -mean log p(true) = -(log .6 + log .5 + log .4 + log .7) / 4
  assertAlmostEquals(
    r.metrics.log_loss,
    -(Math.log(0.6) + Math.log(0.5) + Math.log(0.4) + Math.log(0.7)) / 4,
  );
  assertAlmostEquals(multiclassLogLoss([1], [0, 1, 0], 3), 0);
  assertEquals("roc_auc" in r.metrics, false);
});

/**
 * The raw scores of the scikit-learn cross-checks: integers from a fixed
 * formula, normalized per row; the same formula is in the Python script that
 * computed the expected values (scikit-learn 1.2.1, once, while developing):
 *
 *   y[i] = (i * mul + i // 3) % k, moved to the next class when it is `absent`
 *   raw[i][j] = ((i*7 + j*13 + i*j) % 17) + 1 + (12 if j == y[i] and i % 4 != 0 else 0)
 *
 *   macro/weighted_roc_auc = roc_auc_score(Y[:, present], P[:, present], average=...)  (equal to
 *     roc_auc_score(y, P, multi_class="ovr", average=...) when every class is present; with a class
 *     absent that call raises "Only one class present in y_true")
 *   macro/weighted_pr_auc = average_precision_score(Y[:, present], P[:, present], average=...)
 *   log_loss(y, P, labels=range(k)); f1/precision/recall_score(y, P.argmax(1), average=..., zero_division=0)
 *   brier = mean(sum((P - Y)**2, axis=1))
 */
function sklearnCase(n: number, k: number, absent: number[], mul: number) {
  const y: number[] = [], P: number[] = [], pred: number[] = [];
  for (let i = 0; i < n; i++) {
    let c = (i * mul + Math.floor(i / 3)) % k;
    if (absent.includes(c)) c = (c + 1) % k;
    y.push(c);
    const raw = Array.from(
      { length: k },
      (_, j) => ((i * 7 + j * 13 + i * j) % 17) + 1 + (j === c && i % 4 !== 0 ? 12 : 0),
    );
    const sum = raw.reduce((a, b) => a + b, 0);
    P.push(...raw.map((r) => r / sum));
    let best = 0;
    for (let j = 1; j < k; j++) if (raw[j] > raw[best]) best = j; // argmax, first on ties (numpy)
    pred.push(best);
  }
  return { y, P, pred };
}

function assertMetrics(got: Record<string, number>, want: Record<string, number>) {
  for (const [key, value] of Object.entries(want)) assertAlmostEquals(got[key], value, 1e-12, key);
}

Deno.test("3 classes, all present: scikit-learn's ovr macro/weighted AUC, AP, log loss, F1", () => {
  const { y, P, pred } = sklearnCase(24, 3, [], 5);
  const r = multiclassClassificationMetrics(y, P, 3, pred);
  assertEquals(r.absent, []);
  assertMetrics(r.metrics, {
    macro_roc_auc: 0.8385416666666666,
    weighted_roc_auc: 0.8385416666666666,
    macro_pr_auc: 0.8041310541310541,
    weighted_pr_auc: 0.8041310541310541,
    log_loss: 0.8425027484942325,
    brier: 0.4587982625101967,
    accuracy: 0.7083333333333334,
    macro_f1: 0.700280112044818,
    macro_precision: 0.7037037037037037,
    macro_recall: 0.7083333333333334,
    weighted_f1: 0.700280112044818,
  });
  const per = [0.703125, 0.8203125, 0.9921875];
  r.perClass.forEach((c, i) => assertAlmostEquals(c.roc_auc, per[i], 1e-12));
});

Deno.test("3 classes, one absent from validation: skipped in the AUC averages (scikit-learn raises)", () => {
  const { y, P, pred } = sklearnCase(24, 3, [2], 5);
  const r = multiclassClassificationMetrics(y, P, 3, pred);
  assertEquals(r.absent, [2]);
  assertMetrics(r.metrics, {
    macro_roc_auc: 0.76171875,
    weighted_roc_auc: 0.7421875,
    macro_pr_auc: 0.797485483532878,
    weighted_pr_auc: 0.8172847757646351,
    log_loss: 0.8814252587130209,
    brier: 0.48662082303582715,
    accuracy: 0.7083333333333334,
    macro_f1: 0.4531024531024532, // class 2 is predicted once: it counts (F1 0), as in scikit-learn
    macro_precision: 0.47712418300653586,
    macro_recall: 0.4375,
    weighted_f1: 0.7157287157287158,
    weighted_precision: 0.7320261437908496,
    weighted_recall: 0.7083333333333334,
  });
  assertEquals(Number.isNaN(r.perClass[2].roc_auc) && Number.isNaN(r.perClass[2].pr_auc), true);
});

Deno.test("9 classes, one absent from validation: scikit-learn's values on the present classes", () => {
  const { y, P, pred } = sklearnCase(60, 9, [4], 7);
  const r = multiclassClassificationMetrics(y, P, 9, pred);
  assertEquals(r.absent, [4]);
  assertMetrics(r.metrics, {
    macro_roc_auc: 0.8407083032875605,
    weighted_roc_auc: 0.8255672199512779,
    macro_pr_auc: 0.699171781911331,
    weighted_pr_auc: 0.6764900705475313,
    log_loss: 1.7901007895331587,
    brier: 0.7662794337333554,
    accuracy: 0.6,
    macro_f1: 0.5506715506715507,
    macro_precision: 0.5708994708994708,
    macro_recall: 0.5529100529100529,
    weighted_f1: 0.6135836385836387,
    weighted_precision: 0.6532539682539683,
    weighted_recall: 0.6,
  });
  const auc = [
    0.7235576923076923,
    0.8441358024691358,
    0.8194070080862532,
    0.9012345679012346,
    NaN,
    0.7701863354037267,
    0.9166666666666667,
    0.7520215633423181,
    0.9984567901234568,
  ];
  const f1s = [
    0.5714285714285715,
    0.5,
    0.7692307692307692,
    0.6153846153846153,
    0.0,
    0.5833333333333334,
    0.6666666666666666,
    0.5,
    0.75,
  ];
  r.perClass.forEach((c, i) => {
    if (Number.isNaN(auc[i])) assertEquals(Number.isNaN(c.roc_auc), true);
    else assertAlmostEquals(c.roc_auc, auc[i], 1e-12);
    assertAlmostEquals(c.f1, f1s[i], 1e-12);
  });
  assertEquals(r.perClass.map((c) => c.support), [8, 6, 7, 6, 0, 14, 6, 7, 6]);
});

Deno.test("PR curve: one point per distinct score (ties one step), highest threshold first", () => {
  const c = prCurve([1, 0, 1, 0], [0.9, 0.5, 0.5, 0.1]);
  assertEquals(c.thresholds, [0.9, 0.5, 0.1]);
  assertEquals(c.precision, [1, 2 / 3, 0.5]);
  assertEquals(c.recall, [0.5, 1, 1]);
  assertThrows(() => prCurve([0, 0], [0.2, 0.1]));
});
