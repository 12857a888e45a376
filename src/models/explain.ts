/**
 * Explanations of a fitted model (its preprocessing and its engine together)
 * per source column, shared by `Model.explain`, the service's
 * `/predict?explain=true`, batch `predict --explain` and the training report,
 * so all four give the same numbers for the same row.
 *
 * Engines attribute their raw output to the encoded features (SHAP values:
 * exact TreeSHAP for the forest and boosting, linear SHAP for the logistic
 * regression); a source column's parts (one-hot levels, date parts, a missing
 * indicator) are summed back to it. SHAP values are additive, so the sum is
 * again the column's SHAP value, and for every row
 *
 *   bias + sum of the column contributions = the raw output, on `scale`
 *
 * (the forest's class probability, a log-odds or logit for boosting and the
 * logistic regression, a regressor's value).
 */
import { UserError } from "../core/errors.ts";
import { Rng } from "../core/random.ts";
import type { Label } from "./artifact.ts";
import {
  categoryOf,
  type Columns,
  isMissing,
  parseDate,
  type Preprocessor,
  rowCount,
  takeRows,
} from "./preprocess/index.ts";
import type { ColumnKind, Estimator, ExplainScale, Matrix } from "./types.ts";

/** What explaining needs of a model: a `Model`, or an artifact as `loadArtifact` returns it (plus its engine). */
export interface Explainable {
  engine: string;
  task: "classification" | "regression";
  classes?: readonly Label[];
  positiveClass?: Label;
  preprocessor: Preprocessor;
  estimator: Estimator;
}

/** Per-row SHAP values per source column: bias + sum of contributions = the raw output (`values`). */
export interface Explanation {
  /** the input columns (before encoding), in the order of each row's contributions */
  columns: string[];
  /** what bias + contributions add up to: "probability", "log_odds", "logit" or "value" */
  scale: ExplainScale;
  /** classification: per row, the class whose output is explained */
  classes?: Label[];
  /** per row: the base value, the model's expected output over its training data (no column known) */
  bias: number[];
  /** per row, per column: what the column's value added to (or took from) the row's output */
  contributions: number[][];
  /** per row: bias + contributions, the model's raw output for the explained class (or the value) */
  values: number[];
}

export interface ExplainOptions {
  /**
   * classification: the class whose output to explain, for every row
   * (default: the positive class for a binary model, each row's predicted class otherwise)
   */
  class?: Label;
}

/** The scale an estimator's explain attributes (the contract's default when it does not say). */
export function explainScaleOf(estimator: Estimator): ExplainScale {
  return estimator.explainScale ?? (estimator.kind === "classifier" ? "probability" : "value");
}

/** Whether the model's engine computes SHAP values. */
export function canExplain(m: Pick<Explainable, "estimator">): boolean {
  return typeof m.estimator?.explain === "function";
}

/** The one message for an engine without explanations (CLI line, 4xx body, library error). */
export function notExplainable(engine: string): UserError {
  return new UserError(`explain: the ${engine} engine does not compute SHAP values`);
}

/** The engine's output index explained for each row (classification), or undefined (regression). */
function explainedClasses(m: Explainable, X: Matrix, opts: ExplainOptions): Int32Array | undefined {
  if (m.task !== "classification") {
    if (opts.class !== undefined) {
      throw new UserError("explain: option class applies to classification models only");
    }
    return undefined;
  }
  const classes = m.classes ?? [];
  let fixed = -1;
  if (opts.class !== undefined) {
    fixed = classes.findIndex((c) => String(c) === String(opts.class));
    if (fixed < 0) {
      throw new UserError(
        `explain: class ${JSON.stringify(opts.class)} is not one the model knows (${
          classes.map(String).join(", ")
        })`,
      );
    }
  } else if (classes.length === 2) fixed = classes.findIndex((c) => c === m.positiveClass);
  // the most probable class otherwise, as predict takes it
  return fixed >= 0 ? new Int32Array(X.rows).fill(fixed) : Int32Array.from(m.estimator.predict(X));
}

/** SHAP values of an encoded matrix (`m.preprocessor`'s output), per source column. */
export function explainMatrix(m: Explainable, X: Matrix, opts: ExplainOptions = {}): Explanation {
  if (!canExplain(m)) throw notExplainable(m.engine);
  const outputs = explainedClasses(m, X, opts);
  const { bias, contributions } = m.estimator.explain!(X, outputs);
  const w = X.cols;
  const rows = new Array<number[]>(X.rows), values = new Array<number>(X.rows);
  for (let i = 0; i < X.rows; i++) {
    const parts = m.preprocessor.columnImportances(contributions.subarray(i * w, (i + 1) * w));
    const row = new Array<number>(parts.length);
    let sum = bias[i];
    for (let j = 0; j < parts.length; j++) sum += row[j] = parts[j].importance;
    rows[i] = row;
    values[i] = sum;
  }
  return {
    columns: m.preprocessor.columns.map((c) => c.name),
    scale: explainScaleOf(m.estimator),
    ...(outputs ? { classes: Array.from(outputs, (k) => m.classes![k]) } : {}),
    bias: Array.from(bias),
    contributions: rows,
    values,
  };
}

/** SHAP values of a table by column (missing columns read as missing values). */
export function explainColumns(m: Explainable, cols: Columns, opts: ExplainOptions = {}): Explanation {
  if (!canExplain(m)) throw notExplainable(m.engine);
  return explainMatrix(m, m.preprocessor.transform(cols, rowCount(cols)), opts);
}

/** One column's share of a row's explanation. */
export interface Contribution {
  column: string;
  /** the row's value of the column, as given (null when missing) */
  value: unknown;
  contribution: number;
}

/**
 * The `top` largest contributions of row `i` by absolute value (ties in column
 * order), leaving out columns that contributed exactly nothing; `value` reads
 * the row's value of a column.
 */
export function topContributions(
  e: Explanation,
  i: number,
  top: number,
  value: (column: string) => unknown,
): Contribution[] {
  const c = e.contributions[i];
  const order: number[] = [];
  for (let j = 0; j < c.length; j++) if (c[j] !== 0) order.push(j);
  order.sort((a, b) => Math.abs(c[b]) - Math.abs(c[a]) || a - b);
  return order.slice(0, top).map((j) => {
    const v = value(e.columns[j]);
    return { column: e.columns[j], value: v === undefined || isMissing(v) ? null : v, contribution: c[j] };
  });
}

/** Global importance: the mean |SHAP value| of each source column over the explained rows, largest first. */
export function meanAbsShap(e: Explanation): { name: string; importance: number }[] {
  const n = e.contributions.length;
  const out = e.columns.map((name, j) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += Math.abs(e.contributions[i][j]);
    return { name, importance: n ? s / n : 0 };
  });
  return out.sort((a, b) => b.importance - a.importance);
}

/** `n` row indices out of `rows`, drawn without replacement with a seeded stream, in ascending order. */
export function sampleRows(rows: number, n: number, seed: number): Int32Array {
  if (n >= rows) return Int32Array.from({ length: rows }, (_, i) => i);
  const idx = Int32Array.from({ length: rows }, (_, i) => i);
  const rng = new Rng(seed);
  for (let i = 0; i < n; i++) { // partial Fisher-Yates: the first n places are the sample
    const j = i + rng.int(rows - i);
    const t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
  }
  return idx.subarray(0, n).sort();
}

/** One source column over the sampled rows: its values and SHAP values, for the summary and dependence charts. */
export interface ShapFeature {
  name: string;
  kind: ColumnKind;
  /** per row: a number (numeric), a Date (datetime), text (categorical, boolean), or null when missing */
  values: (number | string | Date | null)[];
  /** per row: the column's SHAP value */
  shap: number[];
  /** mean |SHAP value| over the rows */
  importance: number;
}

/** SHAP values of a sample of rows, by column, largest mean |SHAP| first. */
export interface ShapSummary {
  scale: ExplainScale;
  /** rows explained (the sample) out of `of` */
  rows: number;
  of: number;
  /** the mean base value of the sampled rows (one value unless classes differ per row) */
  base_value: number;
  /**
   * when the rows explain different classes (multiclass: each row's predicted one), each class's base
   * value, in the model's class order: a row's contributions add to its own class's, not to the mean
   */
  base_values?: { class: Label; base_value: number }[];
  /** what a row's contributions explain, in words ("P(yes)", "log-odds of yes", "the predicted class's logit") */
  output: string;
  features: ShapFeature[];
}

export interface ShapSummaryOptions extends ExplainOptions {
  /** rows explained at most (default 500): a seeded sample of them when there are more */
  sample?: number;
  /** the sample's seed (default 0) */
  seed?: number;
}

function plainValue(kind: ColumnKind, v: unknown): number | string | Date | null {
  if (v === undefined || isMissing(v)) return null;
  if (kind === "numeric") {
    const n = typeof v === "bigint" ? Number(v) : typeof v === "number" ? v : Number(v);
    return Number.isFinite(n) ? n : null;
  }
  if (kind === "datetime") {
    const ms = parseDate(v);
    return Number.isFinite(ms) ? new Date(ms) : null;
  }
  return categoryOf(v);
}

/** What the explained output is, in words, for chart labels. */
export function outputLabel(e: Pick<Explanation, "scale" | "classes">): string {
  const classes = e.classes ?? [];
  const one = classes.length > 0 && classes.every((c) => c === classes[0]) ? String(classes[0]) : undefined;
  switch (e.scale) {
    case "probability":
      return one !== undefined ? `P(${one})` : "the predicted class's probability";
    case "log_odds":
      return one !== undefined ? `log-odds of ${one}` : "the predicted class's log-odds";
    case "logit":
      return one !== undefined ? `logit of ${one}` : "the predicted class's logit";
    default:
      return "the predicted value";
  }
}

/** SHAP values of up to `sample` rows of a table (seeded), gathered by source column for charts and tables. */
export function shapSummary(m: Explainable, cols: Columns, opts: ShapSummaryOptions = {}): ShapSummary {
  const sample = opts.sample ?? 500;
  if (!(Number.isInteger(sample) && sample >= 1)) {
    throw new UserError(`shap summary: sample must be a whole number >= 1, got ${sample}`);
  }
  const of = rowCount(cols);
  if (of === 0) throw new UserError("shap summary: no rows to explain");
  const picked = of > sample ? takeRows(cols, sampleRows(of, sample, opts.seed ?? 0)) : cols;
  const e = explainColumns(m, picked, opts);
  const n = e.contributions.length;
  const kinds = new Map(m.preprocessor.columns.map((c) => [c.name, c.kind]));
  const features = e.columns.map((name, j): ShapFeature => {
    const kind = kinds.get(name) ?? "numeric";
    const raw = picked[name];
    const shap = new Array<number>(n);
    let s = 0;
    for (let i = 0; i < n; i++) s += Math.abs(shap[i] = e.contributions[i][j]);
    return {
      name,
      kind,
      values: Array.from({ length: n }, (_, i) => plainValue(kind, raw?.[i])),
      shap,
      importance: n ? s / n : 0,
    };
  });
  features.sort((a, b) => b.importance - a.importance);
  // the base value is the class's (the same for every row explaining it): one per class explained
  const perClass = new Map<string, { class: Label; base_value: number }>();
  for (let i = 0; i < n; i++) {
    const c = e.classes?.[i];
    if (c !== undefined && !perClass.has(String(c))) {
      perClass.set(String(c), { class: c, base_value: e.bias[i] });
    }
  }
  const order = (m.classes ?? []).map(String);
  const baseValues = [...perClass.values()].sort((a, b) =>
    order.indexOf(String(a.class)) - order.indexOf(String(b.class))
  );
  return {
    scale: e.scale,
    rows: n,
    of,
    base_value: e.bias.reduce((a, b) => a + b, 0) / Math.max(1, n),
    ...(baseValues.length > 1 ? { base_values: baseValues } : {}),
    output: outputLabel(e),
    features,
  };
}
