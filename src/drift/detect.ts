/**
 * The whole dataset check as one function: profile both sides once, pick a
 * test per column, compute it with PSI beside it, decide dataset drift from the
 * share of drifted columns, run the quality checks, and keep only aggregates
 * (chart bins, per-column stats) for the outputs.
 */
import type pl from "nodejs-polars";
import { UserError } from "../core/errors.ts";
import type { DriftConfig } from "../config/schema.ts";
import {
  type ColumnProfile,
  countDistinctUnion,
  datesAsDays,
  distinctCounts,
  isNumericDtype,
  type NumericProfile,
  profileFrame,
} from "./profile.ts";
import { type QualityCheck, qualityChecks } from "./quality.ts";
import { chooseTest, type ColumnType, FEW_VALUES, isDrift, severity, type TestName } from "./select.ts";
import {
  binCountsSorted,
  chiSquareCounts,
  jensenShannon,
  ks2samp,
  meanStd,
  psi,
  quantileEdges,
  quantileSorted,
  type TestValue,
  wassersteinNormed,
  zTestProportions,
} from "./stats.ts";

export interface ColumnDrift {
  column: string;
  type: ColumnType;
  /** "feature", or "prediction" for the model's output */
  role: "feature" | "prediction";
  test: TestName;
  statistic: number;
  p_value: number | null;
  /** the value compared with the threshold: the p-value for ks/chisquare/z, else the distance */
  score: number;
  threshold: number;
  drifted: boolean;
  psi: number;
  psi_drifted: boolean;
  /** where the test choice came from */
  source: string;
  reference_rows: number;
  current_rows: number;
}

export interface ChartBin {
  label: string;
  /** numeric bins: left and right edges */
  x0?: number;
  x1?: number;
  reference: number;
  current: number;
}
export interface ColumnChart {
  column: string;
  type: ColumnType;
  bins: ChartBin[];
}

export interface ColumnStats {
  type: ColumnType;
  rows: number;
  missing: number;
  missing_share: number;
  min?: number;
  max?: number;
  mean?: number;
  std?: number;
  quantiles?: Record<string, number>;
  unique?: number;
  top?: { value: string; count: number }[];
}

export interface DriftResult {
  dataset_drift: boolean;
  drift_share: number;
  drift_share_threshold: number;
  drifted_columns: string[];
  columns: ColumnDrift[];
  quality: QualityCheck[];
  notes: string[];
  charts: ColumnChart[];
  current_stats: Record<string, ColumnStats>;
  reference_rows: number;
  current_rows: number;
}

export interface DetectOptions {
  config: DriftConfig;
  /** columns never tested (ids, split) */
  exclude?: string[];
  /** the label column: kept out of feature drift (used for performance) */
  target?: string;
  /** the model-output column tested as prediction drift when both sides have it */
  predictionColumn?: string;
  /** current-side columns that are log metadata, not model inputs */
  currentMetadata?: string[];
  chartBins?: number;
  maxCategories?: number;
}

export const LOG_METADATA = ["ts", "request_id", "model", "version", "prediction", "probabilities"];

type Counts = { keys: string[]; ref: Float64Array; cur: Float64Array };

function alignCounts(r: Map<string, number>, k: Map<string, number>): Counts {
  const keys = [...new Set([...r.keys(), ...k.keys()])].sort();
  return {
    keys,
    ref: Float64Array.from(keys, (x) => r.get(x) ?? 0),
    cur: Float64Array.from(keys, (x) => k.get(x) ?? 0),
  };
}

function binned(r: NumericProfile, k: NumericProfile, bins: number): Counts {
  const edges = quantileEdges(r.sorted, bins);
  const keys = Array.from({ length: edges.length + 1 }, (_, i) => `bin${i}`);
  return { keys, ref: binCountsSorted(r.sorted, edges), cur: binCountsSorted(k.sorted, edges) };
}

function categoricalTest(test: TestName, c: Counts): TestValue {
  if (test === "chisquare") return chiSquareCounts(c.ref, c.cur);
  if (test === "jensenshannon") return { statistic: jensenShannon(c.ref, c.cur), pValue: null };
  if (test === "psi") return { statistic: psi(c.ref, c.cur), pValue: null };
  if (test === "z") {
    const refN = c.ref.reduce((a, b) => a + b, 0), curN = c.cur.reduce((a, b) => a + b, 0);
    return zTestProportions(c.ref[0], refN, c.cur[0], curN);
  }
  throw new Error(`categoricalTest: ${test}`);
}

function numericChart(column: string, r: NumericProfile, k: NumericProfile, nBins: number): ColumnChart {
  const lo = Math.min(quantileSorted(r.sorted, 0.005), quantileSorted(k.sorted, 0.005));
  let hi = Math.max(quantileSorted(r.sorted, 0.995), quantileSorted(k.sorted, 0.995));
  if (!(hi > lo)) hi = lo + 1;
  const width = (hi - lo) / nBins;
  const edges = Float64Array.from({ length: nBins - 1 }, (_, i) => lo + width * (i + 1));
  const rc = binCountsSorted(r.sorted, edges), kc = binCountsSorted(k.sorted, edges);
  const rn = r.sorted.length || 1, kn = k.sorted.length || 1;
  const bins: ChartBin[] = [];
  for (let i = 0; i < nBins; i++) {
    const x0 = lo + width * i, x1 = lo + width * (i + 1);
    bins.push({
      label: `${x0.toPrecision(4)}–${x1.toPrecision(4)}`,
      x0,
      x1,
      reference: rc[i] / rn,
      current: kc[i] / kn,
    });
  }
  return { column, type: "numeric", bins };
}

function categoryChart(column: string, type: ColumnType, c: Counts, maxCategories: number): ColumnChart {
  const rs = c.ref.reduce((a, b) => a + b, 0) || 1, cs = c.cur.reduce((a, b) => a + b, 0) || 1;
  const rows = c.keys.map((key, i) => ({ label: key, reference: c.ref[i] / rs, current: c.cur[i] / cs }));
  rows.sort((a, b) => b.reference + b.current - (a.reference + a.current) || a.label.localeCompare(b.label));
  if (rows.length <= maxCategories) return { column, type, bins: rows };
  const top = rows.slice(0, maxCategories - 1);
  const rest = rows.slice(maxCategories - 1);
  top.push({
    label: `(${rest.length} others)`,
    reference: rest.reduce((a, b) => a + b.reference, 0),
    current: rest.reduce((a, b) => a + b.current, 0),
  });
  return { column, type, bins: top };
}

function columnStats(p: ColumnProfile): ColumnStats {
  const base = { rows: p.rows, missing: p.missing, missing_share: p.rows ? p.missing / p.rows : 0 };
  if (p.kind === "numeric") {
    const s = p.sorted;
    if (s.length === 0) return { type: "numeric", ...base };
    const { mean, std } = meanStd(s);
    const quantiles: Record<string, number> = {};
    for (const q of [0.05, 0.25, 0.5, 0.75, 0.95]) {
      quantiles[`p${Math.round(q * 100)}`] = quantileSorted(s, q);
    }
    return { type: "numeric", ...base, min: s[0], max: s[s.length - 1], mean, std, quantiles };
  }
  const top = [...p.counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 10)
    .map(([value, count]) => ({ value, count }));
  return { type: "categorical", ...base, unique: p.counts.size, top };
}

function sideType(df: pl.DataFrame, c: string): ColumnType {
  return isNumericDtype(df.getColumn(c).dtype) ? "numeric" : "categorical";
}

/** Runs the drift check of `current` against `reference`. Throws UserError on unusable input. */
export function detectDrift(
  reference: pl.DataFrame,
  current: pl.DataFrame,
  opts: DetectOptions,
): DriftResult {
  const cfg = opts.config;
  if (current.height === 0) throw new UserError("current data is empty (0 rows)");
  if (reference.height === 0) throw new UserError("reference data is empty (0 rows)");
  const pred = opts.predictionColumn ?? "prediction";
  const skip = new Set([...(opts.exclude ?? []), ...(opts.target ? [opts.target] : [])]);
  const meta = new Set([...(opts.currentMetadata ?? LOG_METADATA), pred]);
  const refCols = reference.columns.filter((c) => !skip.has(c) && c !== pred);
  const curCols = current.columns.filter((c) => !skip.has(c) && !meta.has(c));
  const curSet = new Set(current.columns);
  const shared = refCols.filter((c) => curSet.has(c));
  if (shared.length === 0) {
    throw new UserError(
      `no shared columns between reference (${refCols.slice(0, 5).join(", ")}) and current (${
        curCols.slice(0, 5).join(", ")
      })`,
    );
  }
  const notes: string[] = [];
  const tested = [...shared];
  const roles = new Map<string, "feature" | "prediction">(shared.map((c) => [c, "feature"]));
  if (reference.columns.includes(pred) && current.columns.includes(pred)) {
    tested.push(pred);
    roles.set(pred, "prediction");
  }
  const days = datesAsDays(reference, current, tested);
  ({ reference, current } = days);
  if (days.dates.length) notes.push(`dates tested as days since 1970-01-01: ${days.dates.join(", ")}`);
  const typeMismatches = new Map<string, [string, string]>();
  for (const c of tested) {
    const rt = sideType(reference, c), kt = sideType(current, c);
    if (rt !== kt) typeMismatches.set(c, [rt, kt]);
  }
  const forceCat = new Set(typeMismatches.keys());
  const refProfiles = profileFrame(reference, tested, forceCat);
  const curProfiles = profileFrame(current, tested, forceCat);

  const columns: ColumnDrift[] = [];
  const charts: ColumnChart[] = [];
  const nBins = opts.chartBins ?? 30, maxCats = opts.maxCategories ?? 20;
  for (const c of tested) {
    const r = refProfiles.get(c)!, k = curProfiles.get(c)!;
    const refN = r.kind === "numeric" ? r.sorted.length : [...r.counts.values()].reduce((a, b) => a + b, 0);
    const curN = k.kind === "numeric" ? k.sorted.length : [...k.counts.values()].reduce((a, b) => a + b, 0);
    if (refN === 0 || curN === 0) {
      notes.push(
        `'${c}': no non-missing values in the ${refN === 0 ? "reference" : "current"} data; not tested`,
      );
      continue;
    }
    let type: ColumnType, test: TestValue, psiValue: number, choice;
    if (r.kind === "numeric" && k.kind === "numeric") {
      type = "numeric";
      const nUnique = countDistinctUnion(r.sorted, k.sorted, FEW_VALUES + 1);
      choice = chooseTest(c, type, refN, nUnique, cfg);
      const counts = nUnique <= FEW_VALUES
        ? alignCounts(distinctCounts(r.sorted), distinctCounts(k.sorted))
        : binned(r, k, cfg.psi_bins);
      if (choice.test === "ks") test = ks2samp(r.sorted, k.sorted);
      else if (choice.test === "wasserstein") {
        test = { statistic: wassersteinNormed(r.sorted, k.sorted), pValue: null };
      } else test = categoricalTest(choice.test, counts);
      psiValue = psi(counts.ref, counts.cur);
      charts.push(
        nUnique <= FEW_VALUES ? categoryChart(c, type, counts, maxCats) : numericChart(c, r, k, nBins),
      );
    } else {
      type = "categorical";
      const rc = r.kind === "categorical" ? r.counts : distinctCounts(r.sorted);
      const kc = k.kind === "categorical" ? k.counts : distinctCounts(k.sorted);
      const counts = alignCounts(rc, kc);
      choice = chooseTest(c, type, refN, counts.keys.length, cfg);
      test = categoricalTest(choice.test, counts);
      psiValue = psi(counts.ref, counts.cur);
      charts.push(categoryChart(c, type, counts, maxCats));
    }
    const score = test.pValue ?? test.statistic;
    columns.push({
      column: c,
      type,
      role: roles.get(c)!,
      test: choice.test,
      statistic: test.statistic,
      p_value: test.pValue,
      score,
      threshold: choice.threshold,
      drifted: isDrift(choice.test, score, choice.threshold),
      psi: psiValue,
      psi_drifted: psiValue >= cfg.psi_threshold,
      source: choice.source,
      reference_rows: refN,
      current_rows: curN,
    });
  }
  columns.sort((a, b) =>
    Number(b.drifted) - Number(a.drifted) ||
    severity(b.test, b.score, b.threshold) - severity(a.test, a.score, a.threshold) ||
    a.column.localeCompare(b.column)
  );
  const order = new Map(columns.map((c, i) => [c.column, i]));
  charts.sort((a, b) => (order.get(a.column) ?? 0) - (order.get(b.column) ?? 0));
  const drifted = columns.filter((c) => c.drifted).map((c) => c.column);
  const share = columns.length ? drifted.length / columns.length : 0;

  const quality = qualityChecks({
    referenceColumns: refCols,
    currentColumns: curCols,
    typeMismatches,
    reference: refProfiles,
    current: curProfiles,
    missingTolerance: cfg.missing_tolerance,
    outOfRangeTolerance: cfg.out_of_range_tolerance,
  });
  const currentStats: Record<string, ColumnStats> = {};
  for (const [c, p] of curProfiles) currentStats[c] = columnStats(p);
  return {
    dataset_drift: columns.length > 0 && share >= cfg.drift_share,
    drift_share: share,
    drift_share_threshold: cfg.drift_share,
    drifted_columns: drifted,
    columns,
    quality,
    notes,
    charts,
    current_stats: currentStats,
    reference_rows: reference.height,
    current_rows: current.height,
  };
}
