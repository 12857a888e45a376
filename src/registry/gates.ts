/**
 * Promotion gates, with MLflow's MetricThreshold semantics. For each gated
 * metric:
 *
 * - `threshold`: the candidate's value must be >= threshold (<= when
 *   greater_is_better is false).
 * - `min_absolute_change`: candidate >= champion + change (<= champion - change).
 * - `min_relative_change`: (candidate - champion) / |champion| >= change
 *   ((champion - candidate) / |champion| when lower is better). MLflow divides
 *   by the signed baseline; dividing by |champion| gives the same answer for
 *   positive metrics and the intended one for negative metrics (e.g. negated
 *   losses).
 * - A champion value of 0 cannot carry a relative change: as MLflow does, the
 *   check falls back to "strictly better than the champion" (candidate >= 1e-10,
 *   or <= -1e-10 when lower is better).
 * - A candidate without the metric (or NaN) fails. When a champion exists but
 *   lacks the metric, the comparison checks fail (MLflow's missing baseline).
 *   With no champion at all (the first version), comparison checks are skipped.
 *
 * - Without `greater_is_better`, the direction follows the metric's name:
 *   the losses (rmse, mae, mse, log_loss, brier, and cv_mean_<loss>) are
 *   lower-is-better, every other metric higher-is-better, so `rmse:
 *   { threshold: 5 }` means "at most 5", as a reader expects.
 *
 * Comparisons allow a 1e-12 relative tolerance so that, e.g., 0.1 + 0.2 counts
 * as reaching 0.3 (MLflow uses Decimal arithmetic for the same reason).
 */
import { formatNumber } from "../core/format.ts";
import type { MetricThreshold } from "../config/schema.ts";

export type GateSpec = Omit<MetricThreshold, "greater_is_better"> & { greater_is_better?: boolean };

export type CheckKind =
  | "threshold"
  | "min_absolute_change"
  | "min_relative_change"
  | "missing_candidate"
  | "missing_baseline";

export interface GateCheck {
  metric: string;
  kind: CheckKind;
  passed: boolean;
  candidate: number | null;
  baseline: number | null;
  /** the value the candidate had to reach (or, for relative change, the required change) */
  required: number | null;
  message: string;
}

export interface GateReport {
  passed: boolean;
  /** the champion version compared against, or null when there is none */
  baselineVersion: number | null;
  checks: GateCheck[];
  /** one line per failed check */
  reasons: string[];
}

const ZERO_BASELINE_EPSILON = 1e-10;

/** The metrics the evaluator and cross-validation report where lower is better. */
const LOSSES = new Set(["rmse", "mae", "mse", "log_loss", "brier"]);

/** Whether a higher value of `metric` is better, when a gate does not say. */
export function greaterIsBetter(metric: string): boolean {
  // a cross-validation mean is as its metric: cv_mean_<metric> (and the older cv_<metric>_mean)
  const base = metric.replace(/^cv_mean_(.*)$/, "$1").replace(/^cv_(.*)_mean$/, "$1");
  return !LOSSES.has(base);
}

/** Gate messages quote values exactly enough to compare by eye: 6 significant digits. */
function fmt(v: number | null): string {
  return formatNumber(v, { style: "significant", digits: 6 });
}

function atLeast(a: number, b: number): boolean {
  return a >= b - 1e-12 * Math.max(1, Math.abs(a), Math.abs(b));
}

/** a is at least as good as b in the given direction, with the tolerance. */
function reaches(a: number, b: number, greater: boolean): boolean {
  return greater ? atLeast(a, b) : atLeast(-a, -b);
}

function value(metrics: Record<string, number> | null | undefined, key: string): number | null {
  const v = metrics?.[key];
  return typeof v === "number" && !Number.isNaN(v) ? v : null;
}

/**
 * Checks a candidate's metrics against the gates and (when given) the current
 * holder's metrics: the champion's, or Production's for a Production move
 * (`baseline.label`, default "champion", names it in the reasons). Pure: no IO.
 */
export function evaluateGates(
  gates: Record<string, GateSpec>,
  candidate: Record<string, number>,
  baseline?: { version: number; metrics: Record<string, number>; label?: string } | null,
): GateReport {
  const checks: GateCheck[] = [];
  for (const [metric, spec] of Object.entries(gates)) {
    const greater = spec.greater_is_better ?? greaterIsBetter(metric);
    const cmp = greater ? ">=" : "<=";
    const c = value(candidate, metric);
    if (c === null) {
      checks.push({
        metric,
        kind: "missing_candidate",
        passed: false,
        candidate: null,
        baseline: null,
        required: null,
        message: `${metric}: the candidate has no value for this gated metric`,
      });
      continue;
    }
    if (spec.threshold !== undefined) {
      const passed = reaches(c, spec.threshold, greater);
      checks.push({
        metric,
        kind: "threshold",
        passed,
        candidate: c,
        baseline: null,
        required: spec.threshold,
        message: `${metric} ${fmt(c)} ${passed ? cmp : "not " + cmp} threshold ${fmt(spec.threshold)}`,
      });
    }
    const compares = spec.min_absolute_change !== undefined || spec.min_relative_change !== undefined;
    if (!compares || !baseline) continue;
    const b = value(baseline.metrics, metric);
    const vs = `${baseline.label ?? "champion"} v${baseline.version}`;
    if (b === null) {
      checks.push({
        metric,
        kind: "missing_baseline",
        passed: false,
        candidate: c,
        baseline: null,
        required: null,
        message: `${metric}: ${vs} has no value to compare against`,
      });
      continue;
    }
    if (spec.min_absolute_change !== undefined) {
      const target = greater ? b + spec.min_absolute_change : b - spec.min_absolute_change;
      const passed = reaches(c, target, greater);
      checks.push({
        metric,
        kind: "min_absolute_change",
        passed,
        candidate: c,
        baseline: b,
        required: target,
        message: `${metric} ${fmt(c)} ${passed ? cmp : "not " + cmp} ${fmt(target)} (${vs} ${fmt(b)} ${
          greater ? "+" : "-"
        } min_absolute_change ${fmt(spec.min_absolute_change)})`,
      });
    }
    if (spec.min_relative_change !== undefined) {
      if (b === 0) {
        const target = greater ? ZERO_BASELINE_EPSILON : -ZERO_BASELINE_EPSILON;
        const passed = greater ? c >= target : c <= target;
        checks.push({
          metric,
          kind: "min_relative_change",
          passed,
          candidate: c,
          baseline: b,
          required: target,
          message: `${metric} ${fmt(c)} ${passed ? "is" : "is not"} ${
            greater ? "above" : "below"
          } ${vs}'s 0 (a relative change from 0 is undefined, so any improvement passes)`,
        });
      } else {
        const change = (greater ? c - b : b - c) / Math.abs(b);
        const passed = atLeast(change, spec.min_relative_change);
        checks.push({
          metric,
          kind: "min_relative_change",
          passed,
          candidate: c,
          baseline: b,
          required: spec.min_relative_change,
          message: `${metric} ${fmt(c)} vs ${vs} ${fmt(b)}: relative ${greater ? "gain" : "reduction"} ${
            fmt(change)
          } ${passed ? ">=" : "<"} min_relative_change ${fmt(spec.min_relative_change)}`,
        });
      }
    }
  }
  const reasons = checks.filter((c) => !c.passed).map((c) => c.message);
  return { passed: reasons.length === 0, baselineVersion: baseline?.version ?? null, checks, reasons };
}
