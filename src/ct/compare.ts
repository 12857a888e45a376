/**
 * The candidate against the champion, as numbers: which metric decides
 * "worse", the metrics table with deltas, and the verdict. Pure functions;
 * the gates themselves are the registry's (src/registry/gates.ts).
 *
 * "Worse" is judged on one primary metric per task kind, threshold-free where
 * there is one (so a moved decision threshold cannot fake a gain):
 * binary roc_auc, multiclass macro_roc_auc, regression rmse (lower is
 * better). The candidate is worse when its value is below the champion's
 * (above, for rmse) on the same validation rows, beyond a 1e-12 relative
 * tolerance; `--primary-metric` names another.
 */
import { UserError } from "../core/errors.ts";
import { greaterIsBetter } from "../registry/gates.ts";
import type { TaskKind } from "../registry/settings.ts";

export const PRIMARY_METRIC: Readonly<Record<TaskKind, string>> = {
  binary: "roc_auc",
  multiclass: "macro_roc_auc",
  regression: "rmse",
};

/** The metric that decides a regression, and its direction. */
export interface Primary {
  metric: string;
  greaterIsBetter: boolean;
}

export function primaryMetric(kind: TaskKind, override?: string): Primary {
  const metric = override?.trim() || PRIMARY_METRIC[kind];
  if (!/^[A-Za-z0-9_.-]+$/.test(metric)) {
    throw new UserError(`--primary-metric: '${override}' is not a metric name`);
  }
  return { metric, greaterIsBetter: greaterIsBetter(metric) };
}

/** One row of the metrics table: champion null when there is none (or it lacks the metric). */
export interface MetricRow {
  metric: string;
  candidate: number | null;
  champion: number | null;
  /** candidate - champion */
  delta: number | null;
  greaterIsBetter: boolean;
  /** better, worse or equal for the candidate; null without both values */
  change: "better" | "worse" | "equal" | null;
}

const value = (m: Record<string, number> | null | undefined, k: string) => {
  const v = m?.[k];
  return typeof v === "number" && Number.isFinite(v) ? v : null;
};

function changeOf(c: number | null, b: number | null, greater: boolean): MetricRow["change"] {
  if (c === null || b === null) return null;
  const tol = 1e-12 * Math.max(1, Math.abs(c), Math.abs(b));
  if (Math.abs(c - b) <= tol) return "equal";
  return (c > b) === greater ? "better" : "worse";
}

/** Metrics a confusion count or a timing: shown, but never "better" or "worse". */
const NOT_SCORES = new Set(["tp", "fp", "tn", "fn", "train_seconds"]);

/**
 * The metrics table: the primary metric first, then the gated ones, then
 * every other metric both sides report (confusion counts and timings last,
 * without a verdict).
 */
export function metricRows(
  candidate: Record<string, number>,
  champion: Record<string, number> | null,
  primary: Primary,
  gated: string[] = [],
): MetricRow[] {
  const rest = Object.keys(candidate).filter((k) => !/^(cv_fold_|trial_)/.test(k)).sort();
  const scores = rest.filter((k) => !NOT_SCORES.has(k) && !/^cv_/.test(k));
  const order = [
    ...new Set([primary.metric, ...gated, ...scores, ...rest.filter((k) => !scores.includes(k))]),
  ];
  return order.filter((k) => k in candidate || (champion && k in champion)).map((metric) => {
    const c = value(candidate, metric), b = value(champion, metric);
    const greater = metric === primary.metric ? primary.greaterIsBetter : greaterIsBetter(metric);
    return {
      metric,
      candidate: c,
      champion: b,
      delta: c !== null && b !== null ? c - b : null,
      greaterIsBetter: greater,
      change: NOT_SCORES.has(metric) ? null : changeOf(c, b, greater),
    };
  });
}

/** The verdict on the primary metric: worse means a regression (exit 1 under --fail-on-regression). */
export interface Verdict {
  primary: Primary;
  candidate: number | null;
  champion: number | null;
  /** true when a champion was scored and the candidate is worse on the primary metric */
  regression: boolean;
  message: string;
}

export function verdict(
  candidate: Record<string, number>,
  champion: { label: string; metrics: Record<string, number> } | null,
  primary: Primary,
): Verdict {
  const c = value(candidate, primary.metric);
  if (c === null) {
    throw new UserError(
      `the candidate has no value for the primary metric '${primary.metric}' (metrics: ${
        Object.keys(candidate).slice(0, 12).join(", ")
      }); pass --primary-metric`,
    );
  }
  if (!champion) {
    return {
      primary,
      candidate: c,
      champion: null,
      regression: false,
      message: `no champion to compare with: ${primary.metric} ${c.toFixed(4)}`,
    };
  }
  const b = value(champion.metrics, primary.metric);
  const change = changeOf(c, b, primary.greaterIsBetter);
  const word = change === null ? "not comparable (the champion has no value)" : change;
  return {
    primary,
    candidate: c,
    champion: b,
    regression: change === "worse",
    message:
      `${primary.metric} ${c.toFixed(4)} vs ${champion.label} ${b === null ? "-" : b.toFixed(4)}: ${word}` +
      ` (${primary.greaterIsBetter ? "higher" : "lower"} is better)`,
  };
}
