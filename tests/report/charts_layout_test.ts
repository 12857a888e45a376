/**
 * Chart layout in headless Chromium: every chart the training and drift
 * reports draw, at 2, 9 and 30 classes and with values up to 1e7, rendered into
 * one page; the browser asserts that no two <text> boxes of an SVG intersect
 * and that no <text> reaches outside its SVG's viewBox. Screenshots go to a
 * temp dir (printed). Skips, saying so, where /usr/bin/chromium is absent.
 */
import assert from "node:assert/strict";
import {
  calibrationChart,
  confusionChart,
  importanceChart,
  prChart,
  residualChart,
  rocChart,
  type ShapColumn,
  shapDependenceChart,
  shapSummaryChart,
} from "../../src/report/charts.ts";
import pl from "nodejs-polars";
import { DriftSchema } from "../../src/config/schema.ts";
import { detectDrift } from "../../src/drift/detect.ts";
import { driftChart, renderDriftReport } from "../../src/drift/report.ts";
import { renderTrainHtml, type TrainReportInput } from "../../src/training/report.ts";
import { type ChartCase, CHROMIUM, describe, hasChromium, launch, layoutPage, measure } from "./_browser.ts";
import { integerTicks, utcTickFormat } from "../../src/report/plot.ts";
import { axisEnds, stepChart } from "../../src/ui/charts.ts";

/** A deterministic PRNG (mulberry32), so the cases are the same every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NAMES = [
  "no",
  "yes",
  "setosa",
  "versicolor",
  "Enterprise customers on the annual plan",
  "virginica",
  "B",
  "class_with_a_rather_long_identifier_name",
  "other_thing",
  "Z",
];
function classNames(n: number): string[] {
  return Array.from({ length: n }, (_, i) => (i < NAMES.length ? NAMES[i] : `class_${i}`));
}

/** An n-class confusion matrix: mostly on the diagonal, counts up to about `scale`. */
function confusion(n: number, scale: number, seed = n): number[][] {
  const r = rng(seed);
  return Array.from({ length: n }, (_, i) =>
    Array.from({ length: n }, (_, j) => {
      const base = i === j ? scale * (0.3 + 0.7 * r()) : scale * 0.05 * r() * r();
      return Math.round(base / (1 + i * 0.2));
    }));
}

function residuals(max: number, n = 300, seed = 7): { y: number; pred: number }[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => {
    const y = max * r();
    return { y, pred: Math.max(0, y + max * 0.1 * (r() - 0.5)) };
  });
}

function shapColumns(k: number, valueScale: number, seed = 3): ShapColumn[] {
  const r = rng(seed);
  return Array.from({ length: k }, (_, c) => {
    const n = 80;
    const categorical = c % 3 === 2;
    const values = Array.from({ length: n }, (_, i) => categorical ? classNames(9)[i % 9] : valueScale * r());
    const shap = values.map(() => (r() - 0.5) * (c + 1) * 0.1);
    return {
      name: c === 0 ? "monthly_recurring_revenue_in_local_currency" : `feature_${c}`,
      kind: categorical ? "categorical" as const : "numeric" as const,
      values,
      shap,
      importance: shap.reduce((s, v) => s + Math.abs(v), 0) / n,
    };
  });
}

function curve(n: number, seed = 5) {
  const r = rng(seed);
  const fpr = [0, ...Array.from({ length: n }, () => r()).sort(), 1];
  const tpr = fpr.map((x) => Math.min(1, Math.sqrt(x) + 0.05 * r()));
  return { fpr, tpr };
}

function numericDrift(max: number) {
  const bins = Array.from({ length: 30 }, (_, i) => ({
    label: String(i),
    x0: (max * i) / 30,
    x1: (max * (i + 1)) / 30,
    reference: Math.exp(-((i - 12) ** 2) / 40) / 10,
    current: Math.exp(-((i - 16) ** 2) / 40) / 10,
  }));
  return { column: "annual_income", type: "numeric" as const, bins };
}

function categoricalDrift(k: number) {
  const names = classNames(k);
  return {
    column: "segment",
    type: "categorical" as const,
    bins: names.map((label, i) => ({ label, reference: 1 / k, current: (i % 3 + 1) / (2 * k) })),
  };
}

/** Every chart the training report and the drift report draw, over the sizes that broke. */
export function chartCases(): ChartCase[] {
  const cases: ChartCase[] = [];
  for (const n of [2, 9, 30]) {
    cases.push({ name: `confusion ${n} classes`, html: confusionChart(confusion(n, 500), classNames(n)) });
  }
  cases.push({
    name: "confusion 9 classes, counts to 1e7",
    html: confusionChart(confusion(9, 1e7), classNames(9)),
  });
  cases.push({
    name: "confusion 30 classes, counts to 1e7",
    html: confusionChart(confusion(30, 1e7), classNames(30)),
  });
  cases.push({
    name: "confusion 50 classes (folded)",
    html: confusionChart(confusion(50, 2000), classNames(50)),
  });
  cases.push({
    name: "confusion 50 classes (all)",
    html: confusionChart(confusion(50, 2000), classNames(50), { maxClasses: 50 }),
  });
  cases.push({
    name: "confusion binary threshold",
    html: confusionChart([[5, 1], [2, 7]], ["no", "yes"], { threshold: 0.5 }),
  });
  for (const max of [1, 1e3, 1e5, 1e7]) {
    cases.push({ name: `residual to ${max}`, html: residualChart(residuals(max)) });
  }
  cases.push({
    name: "residual to 1.23e7, 180 px wide",
    html: residualChart(residuals(1.23e7), { width: 180, height: 160 }),
  });
  cases.push({ name: "drift numeric to 1e7, 200 px wide", html: driftChart(numericDrift(1e7), 200, 150) });
  cases.push({ name: "roc", html: rocChart(curve(50), 0.87) });
  cases.push({
    name: "pr",
    html: prChart({ precision: curve(50).tpr.map((t) => 1 - t / 2), recall: curve(50).fpr }, {
      ap: 0.7,
      baseline: 0.2,
    }),
  });
  cases.push({
    name: "calibration",
    html: calibrationChart(Array.from({ length: 10 }, (_, i) => ({
      predicted: (i + 0.5) / 10,
      observed: (i + 0.3) / 10,
      count: 10 + i * 1e5,
    }))),
  });
  const cols = shapColumns(12, 1e7);
  cases.push({
    name: "importance",
    html: importanceChart(cols.map((c) => ({ name: c.name, importance: c.importance * 1e7 }))),
  });
  cases.push({ name: "shap summary", html: shapSummaryChart(cols, { output: "P(yes)" }) });
  cases.push({
    name: "shap dependence numeric to 1e7",
    html: shapDependenceChart(cols[0], { output: "P(yes)" }),
  });
  cases.push({
    name: "shap dependence, a very long column name",
    html: shapDependenceChart({
      ...cols[0],
      name: "monthly_recurring_revenue_after_discounts_and_taxes_rolling_90_days",
    }),
  });
  cases.push({
    name: "shap dependence datetime",
    html: shapDependenceChart({
      ...cols[1],
      name: "signup_date",
      kind: "datetime",
      values: cols[1].values.map((_, i) => new Date(Date.UTC(2020, 0, 1) + i * 9 * 86_400_000)),
    }),
  });
  cases.push({
    name: "shap dependence categorical",
    html: shapDependenceChart(cols[2], { output: "P(yes)" }),
  });
  for (const max of [1, 1e7]) {
    cases.push({ name: `drift numeric to ${max}`, html: driftChart(numericDrift(max)) });
  }
  for (const k of [2, 9, 20]) {
    cases.push({ name: `drift categorical ${k}`, html: driftChart(categoricalDrift(k)) });
  }
  return cases;
}

const SHOT_ALONE = new Set([
  "confusion 9 classes",
  "confusion 30 classes, counts to 1e7",
  "residual to 10000000",
]);

async function render(cases: ChartCase[] | string, shot?: string) {
  const browser = await launch();
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.setContent(typeof cases === "string" ? cases : layoutPage(cases));
    const problems = await measure(page);
    if (shot) {
      await page.screenshot({ path: `${shot}/all.png`, fullPage: true });
      // the whole page, and the charts that broke one by one (each screenshot costs about a second)
      const named = typeof cases === "string" ? [] : cases.filter((c) => SHOT_ALONE.has(c.name));
      for (const c of named) {
        const file = c.name.replace(/[^a-z0-9]+/gi, "_");
        await page.locator(`section[data-chart="${c.name}"]`).screenshot({ path: `${shot}/${file}.png` });
      }
    }
    return problems;
  } finally {
    await browser.close();
  }
}

const skip = !hasChromium();
const skipped = skip ? ` [skipped: ${CHROMIUM} not found; apt-get install chromium]` : "";
if (skip) console.log(`chart layout tests skipped: ${CHROMIUM} not found (install Debian's chromium)`);

Deno.test({
  name: "chart layout (Chromium): a 9-class confusion matrix has no overlapping numbers or axis labels" +
    skipped,
  ignore: skip,
  async fn() {
    const problems = await render([{
      name: "confusion 9",
      html: confusionChart(confusion(9, 500), classNames(9)),
    }]);
    assert.equal(problems.length, 0, describe(problems));
  },
});

Deno.test({
  name: "chart layout (Chromium): predicted vs actual with values to 1e6 keeps its y-axis labels whole" +
    skipped,
  ignore: skip,
  async fn() {
    const problems = await render([{ name: "residual 1e6", html: residualChart(residuals(1e6)) }]);
    assert.equal(problems.length, 0, describe(problems));
  },
});

Deno.test({
  name: "chart layout (Chromium): every report chart at 2, 9 and 30 classes and values to 1e7, screenshots" +
    skipped,
  ignore: skip,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "orchard_charts_" });
    const cases = chartCases();
    const problems = await render(cases, dir);
    console.log(`chart screenshots: ${dir} (${cases.length} charts)`);
    assert.equal(problems.length, 0, describe(problems, 60));
  },
});

/** A training report's input: a 9-class classifier, or a regression with values to 1e6. */
function trainInput(task: "classification" | "regression"): TrainReportInput {
  const names = classNames(9);
  return {
    result: {
      run_id: "layout1",
      artifact: "models/artifacts/layout1",
      metrics: task === "regression" ? { rmse: 41_000, r2: 0.98 } : { accuracy: 0.63 },
      ...(task === "classification" ? { classes: names } : {}),
      task,
      algorithm: "boosting",
      train_seconds: 1,
      rows: 1000,
      validation_rows: 300,
      features: 12,
      input_columns: 12,
      dropped: [],
    },
    evaluation: task === "regression"
      ? { metrics: {}, residuals: residuals(1e6) }
      : { metrics: {}, confusion: confusion(9, 500) },
    params: {},
    importances: shapColumns(12, 1).map((c) => ({ name: c.name, importance: c.importance })),
    lineage: {
      run_id: "layout1",
      data: { train: { path: "t.csv", sha256: "f".repeat(64), rows: 1000 } },
      code_version: { commit: "deadbeef", dirty: false },
    },
  };
}

Deno.test({
  name: "chart layout (Chromium): the training report's pages (9 classes; regression to 1e6) as written" +
    skipped,
  ignore: skip,
  async fn() {
    for (const task of ["classification", "regression"] as const) {
      const problems = await render(renderTrainHtml(trainInput(task)));
      assert.equal(problems.length, 0, `${task}:\n${describe(problems)}`);
    }
  },
});

Deno.test({
  name: "chart layout (Chromium): the drift report's page with values to 1e7 and 20 long category names" +
    skipped,
  ignore: skip,
  async fn() {
    const names = classNames(20);
    const frame = (seed: number, shift: number) => {
      const r = rng(seed), n = 2000;
      return pl.DataFrame({
        annual_income: Array.from({ length: n }, () => 1e7 * r() * (1 + shift)),
        tiny_ratio: Array.from({ length: n }, () => r() * 1e-4),
        segment: Array.from({ length: n }, () => names[Math.floor(r() ** (1 + shift) * 20)]),
      });
    };
    const result = detectDrift(frame(1, 0), frame(2, 0.5), { config: DriftSchema.parse({}) });
    const html = renderDriftReport(result, {
      reference: "ref",
      current: "cur",
      runAt: "2026-01-01T00:00:00Z",
    });
    const problems = await render(html);
    assert.equal(problems.length, 0, describe(problems));
  },
});

Deno.test("axes: a step axis ticks whole numbers only; time ticks are UTC and 24-hour", () => {
  assert.deepEqual(integerTicks(0, 1), [0, 1]);
  assert.deepEqual(integerTicks(0, 4), [0, 1, 2, 3, 4]);
  assert.deepEqual(integerTicks(0, 99).length, 10);
  assert.ok(integerTicks(0.2, 0.8).every(Number.isInteger));
  const day = Date.UTC(2026, 0, 3, 23, 32);
  assert.equal(utcTickFormat([day - 3600_000, day])(new Date(day)), "23:32");
  assert.equal(utcTickFormat([day - 10 * 86_400_000, day])(new Date(day)), "2026-01-03");
  // in the step chart itself: folds 0..1 get ticks 0 and 1, no 0.5
  const svg = stepChart("roc_auc", { a: [{ step: 0, value: 0.8 }, { step: 1, value: 0.82 }] });
  assert.ok(!/>0\.5</.test(svg) && />1</.test(svg), "integer ticks");
});

Deno.test("parallel coordinates: an axis's ends are told apart, and one value is one label in the middle", () => {
  assert.deepEqual(axisEnds(0.9561, 0.9564), [{ y: 0, t: "0.9561" }, { y: 1, t: "0.9564" }]);
  assert.deepEqual(axisEnds(0.2, 0.8), [{ y: 0, t: "0.2" }, { y: 1, t: "0.8" }]);
  assert.deepEqual(axisEnds(0.977, 0.977), [{ y: 0.5, t: "0.977" }]);
});
