/**
 * The one way Orchard prints a value for people: metric tables, run listings,
 * gate messages, drift scores and report cells all come through here, so a
 * missing value reads the same everywhere (MISSING) and a metric keeps the same
 * digits on the CLI, in the HTML report and in the Markdown summary.
 * Wire formats (Prometheus, JSON, CSV) keep their own exact encodings.
 */

/** How any missing value prints: null, undefined and NaN (a metric that could not be computed). */
export const MISSING = "-";

export interface NumberFormat {
  /** "fixed": `digits` decimals (default); "significant": `digits` significant digits, trailing zeros dropped */
  style?: "fixed" | "significant";
  /** decimals (fixed) or significant digits (significant); default 4 */
  digits?: number;
  /** significant digits after the point in exponent form, used for |v| < 1e-3 and |v| >= 1e6 (fixed style); default digits - 1 */
  exponentDigits?: number;
  /** print integers with decimals too (test statistics); default false: integers print as integers */
  fixedIntegers?: boolean;
  /** what a missing value prints as; default MISSING */
  missing?: string;
}

export function formatNumber(v: number | null | undefined, format: NumberFormat = {}): string {
  const { style = "fixed", digits = 4, missing = MISSING } = format;
  if (v === null || v === undefined || Number.isNaN(v)) return missing;
  if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
  if (style === "significant") return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(digits)));
  if (Number.isInteger(v) && !format.fixedIntegers) return String(v);
  const abs = Math.abs(v);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e6)) return v.toExponential(format.exponentDigits ?? digits - 1);
  return v.toFixed(digits);
}

/** Any cell value: numbers through formatNumber, strings as they are, anything else as JSON. */
export function formatValue(v: unknown, format: NumberFormat = {}): string {
  if (v === null || v === undefined) return format.missing ?? MISSING;
  if (typeof v === "number") return formatNumber(v, format);
  if (typeof v === "bigint") return String(v);
  if (typeof v === "string") return v;
  if (v instanceof Date) return v.toISOString();
  return JSON.stringify(v);
}
