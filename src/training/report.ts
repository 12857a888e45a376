/**
 * The training report: reports/train_<run>.html (self-contained: inline SVG
 * charts and CSS, opens offline) and reports/train_<run>.md beside it, a short
 * Markdown summary for CI comments.
 */
import { join } from "node:path";
import { formatValue } from "../core/format.ts";
import { writeTextAtomic } from "../core/atomic.ts";
import type { Lineage } from "../models/artifact.ts";
import type { Evaluation } from "../models/evaluate.ts";
import type { TrainResult } from "./types.ts";
import {
  calibrationChart,
  confusionChart,
  importanceChart,
  prChart,
  residualChart,
  rocChart,
} from "../report/charts.ts";
import { escapeHtml, htmlPage, htmlTable } from "../report/html.ts";

export interface TrainReportInput {
  /** the stage's result; which model and experiment it was for are optional here (a report renders without them) */
  result:
    & Omit<TrainResult, "report" | "summary" | "model_name" | "experiment">
    & Partial<Pick<TrainResult, "model_name" | "experiment">>;
  evaluation: Evaluation;
  params: Record<string, unknown>;
  importances?: { name: string; importance: number }[];
  lineage: Lineage;
}

const METRIC_ORDER = [
  "roc_auc",
  "pr_auc",
  "accuracy",
  "precision",
  "recall",
  "f1",
  "macro_precision",
  "macro_recall",
  "macro_f1",
  "log_loss",
  "brier",
  "rmse",
  "mae",
  "r2",
];

const fmt = (v: unknown): string => formatValue(v);
/** A param's value as set: null is a setting here ("no limit"), not a missing value. */
const fmtParam = (v: unknown): string => (v === null ? "null" : formatValue(v));

function headlineMetrics(metrics: Record<string, number>): [string, number][] {
  return METRIC_ORDER.filter((k) => k in metrics).map((k) => [k, metrics[k]]);
}

export function renderTrainHtml(input: TrainReportInput): string {
  const { result: r, evaluation: ev } = input;
  const charts: string[] = [];
  if (ev.roc) charts.push(rocChart(ev.roc, r.metrics.roc_auc));
  if (ev.pr) {
    const { tp, fn } = r.metrics;
    const base = r.validation_rows && tp !== undefined && fn !== undefined
      ? (tp + fn) / r.validation_rows
      : undefined;
    charts.push(prChart(ev.pr, { ap: r.metrics.pr_auc, baseline: base }));
  }
  if (ev.confusion && r.classes) {
    const threshold = r.classes.length === 2 ? input.params.threshold : undefined;
    charts.push(
      confusionChart(ev.confusion, r.classes.map(String), {
        threshold: typeof threshold === "number" ? threshold : undefined,
      }),
    );
  }
  if (ev.calibration?.length) charts.push(calibrationChart(ev.calibration));
  if (ev.residuals?.length) charts.push(residualChart(ev.residuals));
  const importance = input.importances?.length ? importanceChart(input.importances) : "";

  const metricsRows = headlineMetrics(r.metrics).map(([k, v]) => [k, v]);
  const cvRows = r.cv ? Object.keys(r.cv.mean).map((k) => [k, r.cv!.mean[k], r.cv!.std[k]]) : [];
  const body = `
<h1>Training run ${escapeHtml(r.run_id)}</h1>
<p class="muted">${escapeHtml(r.algorithm)} · ${escapeHtml(r.task)}${
    r.task === "classification" ? ` · positive class <b>${escapeHtml(String(r.positive_class))}</b>` : ""
  } · ${r.rows} training rows, ${r.validation_rows} validation rows · ${r.features} features from ${r.input_columns} columns · fit in ${
    r.train_seconds.toFixed(2)
  } s</p>
<h2>Validation metrics</h2>
${htmlTable(["metric", "value"], metricsRows)}
${
    r.cv
      ? `<h2>Cross-validation (${escapeHtml(String(input.params.cv_folds ?? ""))} folds)</h2>${
        htmlTable(["metric", "mean", "std"], cvRows)
      }`
      : ""
  }
<h2>Charts</h2>
<div class="grid">${charts.map((c) => `<figure>${c}</figure>`).join("\n")}</div>
${importance ? `<figure>${importance}</figure>` : ""}
<h2>Params</h2>
${htmlTable(["param", "value"], Object.entries(input.params).map(([k, v]) => [k, fmtParam(v)]))}
${
    r.dropped.length
      ? `<h2>Dropped columns</h2>${htmlTable(["column", "reason"], r.dropped.map((d) => [d.name, d.reason]))}`
      : ""
  }
<h2>Lineage</h2>
${
    htmlTable(["item", "value"], [
      ["artifact", r.artifact],
      ["train data", `${input.lineage.data.train.path} (${input.lineage.data.train.rows} rows)`],
      ["train sha256", input.lineage.data.train.sha256],
      ...(input.lineage.data.validation
        ? [
          [
            "validation data",
            `${input.lineage.data.validation.path} (${input.lineage.data.validation.rows} rows)`,
          ],
          ["validation sha256", input.lineage.data.validation.sha256],
        ]
        : []),
      [
        "git commit",
        `${input.lineage.code_version.commit ?? "unknown"}${
          input.lineage.code_version.dirty ? " (dirty)" : ""
        }`,
      ],
    ])
  }
`;
  return htmlPage(`Training run ${r.run_id}`, body);
}

export function renderTrainMarkdown(input: TrainReportInput): string {
  const r = input.result;
  const lines = [
    `### Training run \`${r.run_id}\``,
    "",
    `${r.algorithm} (${r.task}${
      r.task === "classification" ? `, positive class \`${String(r.positive_class)}\`` : ""
    }), ` +
    `${r.rows} training / ${r.validation_rows} validation rows, ${r.features} features, fit ${
      r.train_seconds.toFixed(2)
    } s` +
    (r.threshold !== undefined && (r.threshold !== 0.5 || r.threshold_auto)
      ? `, decision threshold ${fmt(r.threshold)}${
        r.threshold_auto ? " (auto: F1-optimal on validation)" : ""
      }`
      : ""),
    "",
    "| metric | value |",
    "| --- | ---: |",
    ...headlineMetrics(r.metrics).map(([k, v]) => `| ${k} | ${fmt(v)} |`),
  ];
  if (r.cv) {
    lines.push("", "| cross-validation | mean | std |", "| --- | ---: | ---: |");
    for (const k of ["roc_auc", "f1", "accuracy", "rmse", "r2"]) {
      if (k in r.cv.mean) lines.push(`| ${k} | ${fmt(r.cv.mean[k])} | ${fmt(r.cv.std[k])} |`);
    }
  }
  if (input.evaluation.confusion && r.classes) {
    const labels = r.classes.map(String);
    lines.push("", `Confusion matrix (rows actual, columns predicted):`, "");
    lines.push(`| | ${labels.join(" | ")} |`, `| --- | ${labels.map(() => "---:").join(" | ")} |`);
    input.evaluation.confusion.forEach((row, i) => lines.push(`| **${labels[i]}** | ${row.join(" | ")} |`));
  }
  if (r.dropped.length) {
    lines.push(
      "",
      `Dropped columns: ${r.dropped.map((d) => `\`${d.name}\` (${d.reason})`).join(", ")}`,
    );
  }
  lines.push("", `Artifact: \`${r.artifact}\``, "");
  return lines.join("\n");
}

/** Writes reports/train_<run>.html and .md atomically; returns their paths. */
export function writeTrainReport(dir: string, input: TrainReportInput): { html: string; markdown: string } {
  const html = join(dir, `train_${input.result.run_id}.html`);
  const markdown = join(dir, `train_${input.result.run_id}.md`);
  writeTextAtomic(html, renderTrainHtml(input));
  writeTextAtomic(markdown, renderTrainMarkdown(input));
  return { html, markdown };
}
