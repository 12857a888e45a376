/**
 * Per-column aggregates of one side of a drift check, computed once: numeric
 * columns become one sorted Float64Array (polars sorts every column in one
 * parallel select; missing values sort last as NaN and are cut off), other
 * columns become category counts. Every test, quality check, statistic and
 * chart works from these, never from raw rows again.
 */
import pl from "nodejs-polars";
import { isoDateMs } from "../core/dates.ts";
import { MISSING_TEXT } from "../models/preprocess/values.ts";

export interface NumericProfile {
  kind: "numeric";
  /** non-missing values, ascending */
  sorted: Float64Array;
  rows: number;
  missing: number;
}

export interface CategoricalProfile {
  kind: "categorical";
  /** category -> count, missing excluded */
  counts: Map<string, number>;
  rows: number;
  missing: number;
}

export type ColumnProfile = NumericProfile | CategoricalProfile;

const NUMERIC = /^(Int|UInt|Float|Decimal)/;

export function isNumericDtype(dtype: unknown): boolean {
  return NUMERIC.test(String(dtype).replace(/^DataType\(/, ""));
}

const DAY_MS = 86_400_000;
const DATE_DTYPE = /^(Date|Datetime)/;

/**
 * A column's values as days since 1970-01-01 (fractions for a time of day) when
 * it holds dates: a Date or Datetime column, or text whose every non-empty value
 * is ISO 8601 (how training reads a date); otherwise undefined. A sample of the
 * first values decides early for the text columns that are not dates.
 */
function dateDays(s: pl.Series): Float64Array | undefined {
  const dtype = String(s.dtype).replace(/^DataType\(/, "");
  if (DATE_DTYPE.test(dtype)) {
    const dates = s.toArray() as unknown as (Date | null)[];
    return Float64Array.from(dates, (d) => d === null ? NaN : d.getTime() / DAY_MS);
  }
  if (!/^(Utf8|String)/.test(dtype)) return undefined;
  // a category column is told at its first values, before the whole column is copied out of polars
  const head = s.dropNulls().head(64).toArray() as string[];
  if (head.some((v) => !MISSING_TEXT.has(v.trim()) && Number.isNaN(isoDateMs(v)))) return undefined;
  const values = s.toArray() as (string | null)[];
  const out = new Float64Array(values.length);
  let dates = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || MISSING_TEXT.has(v.trim())) {
      out[i] = NaN;
      continue;
    }
    const ms = isoDateMs(v);
    if (Number.isNaN(ms)) return undefined;
    out[i] = ms / DAY_MS;
    dates++;
  }
  return dates > 0 ? out : undefined;
}

/**
 * The two sides with every one of `columns` that holds dates on both (see
 * dateDays) as Float64 days since 1970, so a date column is tested as a number,
 * as training reads it, not as thousands of categories that drift on any split.
 * Returns the frames and the columns it converted.
 */
export function datesAsDays(
  reference: pl.DataFrame,
  current: pl.DataFrame,
  columns: string[],
): { reference: pl.DataFrame; current: pl.DataFrame; dates: string[] } {
  const refDays: pl.Series[] = [], curDays: pl.Series[] = [], dates: string[] = [];
  for (const c of columns) {
    const r = dateDays(reference.getColumn(c));
    const k = r && dateDays(current.getColumn(c));
    if (!r || !k) continue;
    refDays.push(pl.Series(c, r, pl.Float64));
    curDays.push(pl.Series(c, k, pl.Float64));
    dates.push(c);
  }
  if (dates.length === 0) return { reference, current, dates };
  return { reference: reference.withColumns(...refDays), current: current.withColumns(...curDays), dates };
}

/** First index holding NaN in an array sorted with NaN last. */
function firstNaN(a: Float64Array): number {
  let lo = 0, hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (Number.isNaN(a[mid])) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * Profiles `columns` of df. `asCategorical` forces columns to categories
 * (e.g. when the two sides disagree on a column's type).
 */
export function profileFrame(
  df: pl.DataFrame,
  columns: string[],
  asCategorical: Set<string> = new Set(),
): Map<string, ColumnProfile> {
  const out = new Map<string, ColumnProfile>();
  const rows = df.height;
  const numeric = columns.filter((c) => !asCategorical.has(c) && isNumericDtype(df.getColumn(c).dtype));
  if (numeric.length) {
    const sorted = df.select(
      ...numeric.map((c) =>
        pl.col(c).cast(pl.Float64).fillNull(NaN).sort({ descending: false, nullsLast: true })
      ),
    );
    for (const c of numeric) {
      const arr = sorted.getColumn(c).toTypedArray() as Float64Array;
      const values = Float64Array.from(arr.subarray(0, firstNaN(arr)));
      out.set(c, { kind: "numeric", sorted: values, rows, missing: rows - values.length });
    }
  }
  for (const c of columns) {
    if (out.has(c)) continue;
    const s = df.getColumn(c).cast(pl.Utf8);
    const vc = s.valueCounts();
    const names = vc.getColumn(vc.columns[0]).toArray() as (string | null)[];
    const counts = vc.getColumn(vc.columns[1]).toArray() as number[];
    const map = new Map<string, number>();
    let missing = 0;
    names.forEach((name, i) => {
      // as training reads a category: trimmed, and "NA", "null", "" ... are missing (the prediction log
      // keeps a request's text as sent, where a file's reader may already have made it null)
      const key = name === null ? "" : name.trim();
      if (MISSING_TEXT.has(key)) missing += Number(counts[i]);
      else map.set(key, (map.get(key) ?? 0) + Number(counts[i]));
    });
    out.set(c, { kind: "categorical", counts: map, rows, missing });
  }
  return out;
}

/** Category counts of a numeric profile's distinct values (for columns with few of them). */
export function distinctCounts(sorted: Float64Array): Map<string, number> {
  const m = new Map<string, number>();
  let i = 0;
  while (i < sorted.length) {
    const v = sorted[i];
    let j = i;
    while (j < sorted.length && sorted[j] === v) j++;
    m.set(String(v), j - i);
    i = j;
  }
  return m;
}

/** Distinct values across two sorted arrays, stopping early past `cap`. */
export function countDistinctUnion(a: Float64Array, b: Float64Array, cap = Infinity): number {
  let i = 0, j = 0, n = 0;
  while (i < a.length || j < b.length) {
    const v = j >= b.length || (i < a.length && a[i] <= b[j]) ? a[i] : b[j];
    while (i < a.length && a[i] === v) i++;
    while (j < b.length && b[j] === v) j++;
    n++;
    if (n > cap) return n;
  }
  return n;
}
