/**
 * Which test each column gets, as Evidently chooses by default, and the
 * overrides from params (drift.per_column > drift.num_test / drift.cat_test >
 * default). Thresholds: p-value tests drift when p <= threshold (0.05);
 * distances drift when the distance >= threshold (0.1; PSI 0.2).
 */
import { UserError } from "../core/errors.ts";
import type { DriftConfig } from "../config/schema.ts";

export type TestName = "ks" | "wasserstein" | "psi" | "chisquare" | "jensenshannon" | "z";
export type ColumnType = "numeric" | "categorical";

const P_VALUE_TESTS: ReadonlySet<TestName> = new Set(["ks", "chisquare", "z"]);
const NUMERIC_ONLY: ReadonlySet<TestName> = new Set(["ks", "wasserstein"]);

/** Above this many reference rows, Evidently switches from hypothesis tests to distances. */
const SMALL_REFERENCE_ROWS = 1000;
/** A numeric column with at most this many distinct values is tested as categories. */
export const FEW_VALUES = 5;

/**
 * Evidently's default choice. `refRows` counts non-missing reference values;
 * `nUnique` counts distinct non-missing values over both sides.
 * - <= 1000 rows: numeric with > 5 values: KS; <= 2 values: Z-test; else chi-square
 * - more rows: numeric with > 5 values: Wasserstein (normed); else Jensen–Shannon
 */
export function defaultTest(type: ColumnType, refRows: number, nUnique: number): TestName {
  const manyValues = type === "numeric" && nUnique > FEW_VALUES;
  if (refRows <= SMALL_REFERENCE_ROWS) {
    if (manyValues) return "ks";
    if (nUnique <= 2) return "z";
    return "chisquare";
  }
  return manyValues ? "wasserstein" : "jensenshannon";
}

function defaultThreshold(test: TestName, cfg: Pick<DriftConfig, "psi_threshold">): number {
  if (P_VALUE_TESTS.has(test)) return 0.05;
  if (test === "psi") return cfg.psi_threshold;
  return 0.1;
}

export interface Choice {
  test: TestName;
  threshold: number;
  /** where the choice came from: "default", "drift.num_test", "drift.per_column.<col>" */
  source: string;
}

export function chooseTest(
  column: string,
  type: ColumnType,
  refRows: number,
  nUnique: number,
  cfg: DriftConfig,
): Choice {
  let test = defaultTest(type, refRows, nUnique);
  let source = "default";
  const forced = type === "numeric" ? cfg.num_test : cfg.cat_test;
  if (forced) {
    test = forced;
    source = type === "numeric" ? "drift.num_test" : "drift.cat_test";
  }
  const own = cfg.per_column[column];
  if (own) {
    test = own;
    source = `drift.per_column.${column}`;
  }
  if (type === "categorical" && NUMERIC_ONLY.has(test)) {
    throw new UserError(`${source}=${test}: '${column}' is categorical; ${test} needs a numeric column`);
  }
  const threshold = cfg.thresholds[column] ?? defaultThreshold(test, cfg);
  return { test, threshold, source };
}

/** Whether a score crosses its threshold for this test. */
export function isDrift(test: TestName, score: number, threshold: number): boolean {
  if (Number.isNaN(score)) return false;
  return P_VALUE_TESTS.has(test) ? score <= threshold : score >= threshold;
}

/**
 * Severity for sorting: how far past (> 1) or short of (< 1) its threshold a
 * column is, comparable across tests.
 */
export function severity(test: TestName, score: number, threshold: number): number {
  if (Number.isNaN(score)) return 0;
  if (P_VALUE_TESTS.has(test)) {
    if (score <= 0) return Infinity;
    return Math.log(score) / Math.log(threshold); // p = threshold -> 1, smaller p -> larger
  }
  return threshold > 0 ? score / threshold : Infinity;
}
