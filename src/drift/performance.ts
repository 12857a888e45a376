/**
 * Performance drift: the model's metrics on the current data's labels beside
 * its validation metrics (metrics.json), for whatever the model is: binary
 * (accuracy, precision, recall, F1 of the positive class), multiclass
 * (accuracy, macro and weighted F1) or regression (RMSE, MAE, R²). Which kind,
 * which column holds the labels and which class is positive come from the
 * model (its signature and manifest), never from params.yaml.
 */
import type { TaskKind } from "../registry/settings.ts";
import { accuracy, f1, mae, precision, r2, recall, rmse } from "../models/metrics.ts";

export interface PerformanceResult {
  status: "measured" | "skipped";
  note: string;
  /** each metric now, and the model's validation value (null when metrics.json has none) */
  metrics?: Record<string, { current: number; validation: number | null; degraded: boolean }>;
  degraded?: boolean;
}

export interface PerformanceInput {
  kind: TaskKind;
  /** the label column's name (for the note) */
  target: string;
  truth: unknown[];
  predicted: unknown[];
  /** binary: the positive class */
  positive?: string;
  validation: Record<string, number>;
  tolerance: number;
}

/** Metrics where lower is better: degraded when more than `tolerance` (relative) above validation. */
const LOWER_IS_BETTER = new Set(["rmse", "mae"]);

const text = (v: unknown) => (v === null || v === undefined ? null : String(v));

/** Macro and weighted F1 over the labels seen in either truth or prediction (scikit-learn's zero_division=0). */
function multiclassF1(y: string[], p: string[]): { macro: number; weighted: number } {
  const labels = [...new Set([...y, ...p])];
  let macro = 0, weighted = 0;
  for (const c of labels) {
    let tp = 0, fp = 0, fn = 0;
    for (let i = 0; i < y.length; i++) {
      if (p[i] === c && y[i] === c) tp++;
      else if (p[i] === c) fp++;
      else if (y[i] === c) fn++;
    }
    const f = tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
    macro += f;
    weighted += f * (tp + fn);
  }
  return { macro: macro / labels.length, weighted: weighted / y.length };
}

function currentMetrics(input: PerformanceInput): { rows: number; values: Record<string, number> } {
  const { truth, predicted } = input;
  if (input.kind === "regression") {
    const y: number[] = [], p: number[] = [];
    for (let i = 0; i < truth.length; i++) {
      const a = Number(truth[i]), b = Number(predicted[i]);
      if (truth[i] === null || predicted[i] === null || !Number.isFinite(a) || !Number.isFinite(b)) continue;
      y.push(a);
      p.push(b);
    }
    return { rows: y.length, values: y.length ? { rmse: rmse(y, p), mae: mae(y, p), r2: r2(y, p) } : {} };
  }
  const y: string[] = [], p: string[] = [];
  for (let i = 0; i < truth.length; i++) {
    const a = text(truth[i]), b = text(predicted[i]);
    if (a === null || b === null) continue;
    y.push(a);
    p.push(b);
  }
  if (y.length === 0) return { rows: 0, values: {} };
  if (input.kind === "multiclass") {
    const ok = y.reduce((n, v, i) => n + (v === p[i] ? 1 : 0), 0);
    const { macro, weighted } = multiclassF1(y, p);
    return { rows: y.length, values: { accuracy: ok / y.length, macro_f1: macro, weighted_f1: weighted } };
  }
  const pos = input.positive ?? "1";
  const yb = y.map((v) => (v === pos ? 1 : 0)), pb = p.map((v) => (v === pos ? 1 : 0));
  return {
    rows: y.length,
    values: {
      accuracy: accuracy(yb, pb),
      precision: precision(yb, pb),
      recall: recall(yb, pb),
      f1: f1(yb, pb),
    },
  };
}

/** Measures the current metrics and compares each with the model's validation value. */
export function measurePerformance(input: PerformanceInput): PerformanceResult {
  const { rows, values } = currentMetrics(input);
  if (rows === 0) {
    return { status: "skipped", note: `no rows with both a '${input.target}' label and a prediction` };
  }
  const tol = input.tolerance;
  const metrics: NonNullable<PerformanceResult["metrics"]> = {};
  for (const [k, v] of Object.entries(values)) {
    const ref = input.validation[k];
    const validation = typeof ref === "number" && Number.isFinite(ref) ? ref : null;
    const degraded = validation !== null && Number.isFinite(v) &&
      (LOWER_IS_BETTER.has(k) ? v > validation * (1 + tol) : v < validation - tol);
    metrics[k] = { current: v, validation, degraded };
  }
  const compared = Object.values(metrics).some((m) => m.validation !== null);
  const rule = input.kind === "regression"
    ? `degraded when R² falls more than ${tol} below validation, or RMSE/MAE rise more than ${
      tol * 100
    }% above it`
    : `degraded when more than ${tol} below validation`;
  return {
    status: "measured",
    note: `${rows} labelled rows of '${input.target}' (${input.kind}${
      input.kind === "binary" ? `, positive class ${JSON.stringify(input.positive)}` : ""
    }); ${compared ? rule : "the model's metrics.json has none of these metrics to compare with"}`,
    metrics,
    degraded: Object.values(metrics).some((m) => m.degraded),
  };
}
