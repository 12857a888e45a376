/**
 * The training report: reports/train_<run>.html (self-contained: inline SVG
 * charts and CSS, opens offline) and reports/train_<run>.md beside it, a short
 * Markdown summary for CI comments.
 *
 * Its explanations section is SHAP values of a seeded sample of the
 * validation rows (`reportShap`): a summary (beeswarm) chart, dependence
 * charts of the top columns, and global importance by mean |SHAP| beside the
 * engine's own (impurity) importance. An engine without SHAP values gets one
 * line saying so instead.
 */
import { join } from "node:path";
import { formatValue } from "../core/format.ts";
import { UserError } from "../core/errors.ts";
import { writeTextAtomic } from "../core/atomic.ts";
import type { Lineage } from "../models/artifact.ts";
import type { Evaluation } from "../models/evaluate.ts";
import type { Model, ShapSummary } from "../models/model.ts";
import type { Columns } from "../models/preprocess/index.ts";
import type { TrainResult } from "./types.ts";
import {
  calibrationChart,
  confusionChart,
  importanceChart,
  prChart,
  residualChart,
  rocChart,
  shapDependenceChart,
  shapSummaryChart,
} from "../report/charts.ts";
import { escapeHtml, htmlPage, htmlTable } from "../report/html.ts";
import { mdCode, mdText } from "../report/markdown.ts";

export interface TrainReportInput {
  /** the stage's result; which model and experiment it was for are optional here (a report renders without them) */
  result:
    & Omit<TrainResult, "report" | "summary" | "model_name" | "experiment">
    & Partial<Pick<TrainResult, "model_name" | "experiment">>;
  evaluation: Evaluation;
  params: Record<string, unknown>;
  importances?: { name: string; importance: number }[];
  /** SHAP values of a sample of the validation rows (reportShap), or why there are none */
  shap?: ReportShap;
  lineage: Lineage;
}

/** The report's SHAP section: a summary of sampled rows, or the one line saying why it is left out. */
export type ReportShap = { summary: ShapSummary; note?: string } | { omitted: string };

/** SHAP rows in the report at most, and at least while the model's size allows more (a beeswarm of fewer says little). */
export const SHAP_REPORT_ROWS = 500;
const SHAP_MIN_ROWS = 50;
/**
 * Exact TreeSHAP visits every node of every tree for each row, so its cost per
 * row grows with the model: measured on forests of 100 trees (28k to 476k
 * nodes), 2 to 4 ns per byte of the serialized model per row. Rows x model
 * bytes stays under this (about 1 to 1.5 s), so a deep forest explains fewer
 * rows and the report stays fast; no fewer than SHAP_MIN_ROWS.
 */
const SHAP_BUDGET = 4e8;
/**
 * The same for gradient boosting, whose many shallow trees cost the same per
 * byte (measured: 2 ns a byte a row, 600 trees of 31 leaves in 1.2 MB) but
 * whose fits take seconds, not minutes: its sample stays under about 0.3 s.
 */
const SHAP_BUDGET_BOOSTING = 1.5e8;

/**
 * SHAP values of a seeded sample of the validation rows for the report: at
 * most SHAP_REPORT_ROWS, fewer for a large model (see SHAP_BUDGET); the same
 * seed gives the same rows. An engine without SHAP values (or a model that
 * cannot be explained) is `{ omitted }` with the reason.
 */
export function reportShap(
  model: Pick<Model, "explainable" | "engine" | "estimator" | "shapSummary">,
  validation: Columns,
  seed: number,
): ReportShap {
  if (!model.explainable) return { omitted: `the ${model.engine} engine does not compute SHAP values` };
  const bytes = model.estimator.toBytes().length;
  const cap = Math.max(
    SHAP_MIN_ROWS,
    Math.min(
      SHAP_REPORT_ROWS,
      Math.floor((model.engine === "boosting" ? SHAP_BUDGET_BOOSTING : SHAP_BUDGET) / Math.max(1, bytes)),
    ),
  );
  try {
    const summary = model.shapSummary(validation, { sample: cap, seed });
    const note = cap < SHAP_REPORT_ROWS && summary.of > cap
      ? `${cap} rows rather than ${SHAP_REPORT_ROWS}: exact TreeSHAP's cost grows with the model's size (${
        (bytes / 1e6).toFixed(1)
      } MB)`
      : undefined;
    return note ? { summary, note } : { summary };
  } catch (e) {
    if (e instanceof UserError) return { omitted: e.message.replace(/^[a-z ]+: /, "") };
    throw e;
  }
}

/** Past this many classes the confusion matrix gets a full row of the report's chart grid. */
const WIDE_CONFUSION_CLASSES = 6;

/** Dependence charts for this many top columns. */
const SHAP_DEPENDENCE = 4;

function shapSection(shap: ReportShap | undefined, importances: TrainReportInput["importances"]): string {
  if (!shap) return "";
  if ("omitted" in shap) {
    return `<h2>Explanations (SHAP)</h2>\n<p class="muted">No SHAP charts: ${escapeHtml(shap.omitted)}.</p>`;
  }
  const s = shap.summary;
  const impurity = new Map((importances ?? []).map((d) => [d.name, d.importance]));
  const rows = s.features.map((f, i) => [
    i + 1,
    f.name,
    f.importance,
    impurity.has(f.name) ? impurity.get(f.name) : null,
  ]);
  const deps = s.features.slice(0, SHAP_DEPENDENCE).filter((f) => f.importance > 0);
  return `<h2>Explanations (SHAP)</h2>
<p class="muted">Exact SHAP values of ${s.rows} of the ${s.of} validation rows (a seeded sample), on the ${
    escapeHtml(s.scale.replace("_", "-"))
  } scale: for every row, ${
    s.base_values
      ? `the base value of the class it explains (${
        escapeHtml(s.base_values.map((b) => `${String(b.class)} ${fmt(b.base_value)}`).join(", "))
      })`
      : `the base value ${escapeHtml(fmt(s.base_value))}`
  } plus its columns' contributions is ${
    escapeHtml(s.output)
  }. One-hot levels, date parts and missing indicators are summed back to their column.${
    shap.note ? ` ${escapeHtml(shap.note)}.` : ""
  }</p>
<figure>${shapSummaryChart(s.features, { output: s.output })}</figure>
<div class="grid">${
    deps.map((f) => `<figure>${shapDependenceChart(f, { output: s.output })}</figure>`).join("\n")
  }</div>
<h3>Global importance</h3>
${htmlTable(["rank", "column", `mean |SHAP| (${s.scale})`, "impurity importance"], rows)}`;
}

const METRIC_ORDER = [
  "roc_auc",
  "macro_roc_auc",
  "weighted_roc_auc",
  "pr_auc",
  "macro_pr_auc",
  "weighted_pr_auc",
  "accuracy",
  "precision",
  "recall",
  "f1",
  "macro_precision",
  "macro_recall",
  "macro_f1",
  "weighted_precision",
  "weighted_recall",
  "weighted_f1",
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

const PER_CLASS_HEADERS = [
  "class",
  "support",
  "precision",
  "recall",
  "f1",
  "roc_auc (vs rest)",
  "pr_auc (vs rest)",
];

/** The per-class table's rows (a class without validation rows has no AUC: the missing symbol). */
function perClassRows(r: TrainReportInput["result"]): unknown[][] {
  return (r.per_class ?? []).map((
    c,
  ) => [String(c.class), c.support, c.precision, c.recall, c.f1, c.roc_auc, c.pr_auc]);
}

/** One sentence on what a multiclass report's averages are, and which classes they leave out. */
function multiclassNote(r: TrainReportInput["result"]): string {
  const k = r.classes?.length ?? 0;
  if (r.task !== "classification" || k <= 2) return "";
  const absent = r.absent_classes ?? [];
  return `${k} classes: ROC and PR AUC are one-vs-rest, macro (unweighted mean over classes) and weighted (by support); ` +
    `precision, recall and F1 are per class, then averaged the same way; log loss and Brier are multiclass.` +
    (absent.length
      ? ` ${absent.length} class${absent.length === 1 ? " has" : "es have"} no validation rows (${
        absent.map((c) => JSON.stringify(c)).join(", ")
      }): no AUC is defined for ${absent.length === 1 ? "it" : "them"}, so the macro AUC averages leave ${
        absent.length === 1 ? "it" : "them"
      } out.`
      : "");
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
  // a confusion matrix of many classes takes a whole row of the grid, else the page shrinks it unreadably
  let wideChart = -1;
  if (ev.confusion && r.classes) {
    const threshold = r.classes.length === 2 ? input.params.threshold : undefined;
    if (r.classes.length > WIDE_CONFUSION_CLASSES) wideChart = charts.length;
    charts.push(
      confusionChart(ev.confusion, r.classes.map(String), {
        threshold: typeof threshold === "number" ? threshold : undefined,
      }),
    );
  }
  if (ev.calibration?.length) charts.push(calibrationChart(ev.calibration));
  if (ev.residuals?.length) charts.push(residualChart(ev.residuals));
  const importance = input.importances?.length ? importanceChart(input.importances) : "";

  // metric cells formatted here: a missing metric prints MISSING, as on the CLI and in the Markdown
  // (htmlTable leaves a blank for a missing data cell)
  const metricsRows = headlineMetrics(r.metrics).map(([k, v]) => [k, fmt(v)]);
  const cvRows = r.cv ? Object.keys(r.cv.mean).map((k) => [k, fmt(r.cv!.mean[k]), fmt(r.cv!.std[k])]) : [];
  const body = `
<h1>Training run ${escapeHtml(r.run_id)}</h1>
<p class="muted">${escapeHtml(r.algorithm)} · ${escapeHtml(r.task)}${
    r.positive_class !== undefined ? ` · positive class <b>${escapeHtml(String(r.positive_class))}</b>` : ""
  } · ${r.rows} training rows, ${r.validation_rows} validation rows · ${r.features} features from ${r.input_columns} columns · fit in ${
    r.train_seconds.toFixed(2)
  } s</p>
<h2>Validation metrics</h2>
${multiclassNote(r) ? `<p class="muted">${escapeHtml(multiclassNote(r))}</p>\n` : ""}${
    htmlTable(["metric", "value"], metricsRows)
  }
${
    r.per_class?.length
      ? `<h2>Per class</h2>\n${htmlTable(PER_CLASS_HEADERS, perClassRows(r).map((row) => row.map(fmt)))}`
      : ""
  }
${
    r.cv
      ? `<h2>Cross-validation (${escapeHtml(String(input.params.cv_folds ?? ""))} folds)</h2>${
        htmlTable(["metric", "mean", "std"], cvRows)
      }`
      : ""
  }
<h2>Charts</h2>
<div class="grid">${
    charts.map((c, i) => i === wideChart ? `<figure class="wide">${c}</figure>` : `<figure>${c}</figure>`)
      .join("\n")
  }</div>
${importance ? `<figure>${importance}</figure>` : ""}
${shapSection(input.shap, input.importances)}
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
      r.positive_class !== undefined ? `, positive class ${mdCode(r.positive_class)}` : ""
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
  const note = multiclassNote(r);
  if (note) lines.push("", note);
  if (r.per_class?.length) {
    lines.push(
      "",
      `| ${PER_CLASS_HEADERS.join(" | ")} |`,
      `| --- | ${PER_CLASS_HEADERS.slice(1).map(() => "---:").join(" | ")} |`,
    );
    for (const row of perClassRows(r)) {
      lines.push(`| ${row.map((v, i) => (i === 0 ? `**${mdText(v)}**` : fmt(v))).join(" | ")} |`);
    }
  }
  if (r.cv) {
    lines.push("", "| cross-validation | mean | std |", "| --- | ---: | ---: |");
    for (const k of ["roc_auc", "macro_roc_auc", "f1", "macro_f1", "accuracy", "rmse", "r2"]) {
      if (k in r.cv.mean) lines.push(`| ${k} | ${fmt(r.cv.mean[k])} | ${fmt(r.cv.std[k])} |`);
    }
  }
  if (input.evaluation.confusion && r.classes) {
    const labels = r.classes.map(mdText);
    lines.push("", `Confusion matrix (rows actual, columns predicted):`, "");
    lines.push(`| | ${labels.join(" | ")} |`, `| --- | ${labels.map(() => "---:").join(" | ")} |`);
    input.evaluation.confusion.forEach((row, i) => lines.push(`| **${labels[i]}** | ${row.join(" | ")} |`));
  }
  const shap = input.shap;
  if (shap && "summary" in shap) {
    const top = shap.summary.features.slice(0, 5).map((f) => `${mdCode(f.name)} ${fmt(f.importance)}`);
    lines.push(
      "",
      `Top columns by mean |SHAP| (${shap.summary.scale}, ${shap.summary.rows} rows): ${top.join(", ")}`,
    );
  } else if (shap) lines.push("", `No SHAP values: ${mdText(shap.omitted)}`);
  if (r.dropped.length) {
    lines.push(
      "",
      `Dropped columns: ${r.dropped.map((d) => `${mdCode(d.name)} (${mdText(d.reason)})`).join(", ")}`,
    );
  }
  lines.push("", `Artifact: ${mdCode(r.artifact)}`, "");
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
