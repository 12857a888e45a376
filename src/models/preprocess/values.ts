/**
 * Reading one raw cell: what counts as missing, as a number, a boolean, a
 * date. Shared by type inference (fit) and encoding (transform), so a value is
 * read the same way at training and serving time.
 */

/** Text read as missing (compared after trimming, case-sensitive like pandas' na_values). */
export const MISSING_TEXT = new Set(["", "NA", "N/A", "NaN", "nan", "null", "NULL", "None", "none"]);

export function isMissing(v: unknown): boolean {
  if (v === null || v === undefined) return true;
  if (typeof v === "number") return Number.isNaN(v);
  if (typeof v === "string") return MISSING_TEXT.has(v.trim());
  if (v instanceof Date) return Number.isNaN(v.getTime());
  return false;
}

/** A number, or NaN for missing or unparseable values. Booleans read as 0/1. */
export function toNumber(v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "string") {
    const t = v.trim();
    if (MISSING_TEXT.has(t)) return NaN;
    const n = Number(t);
    return Number.isFinite(n) ? n : NaN;
  }
  return NaN;
}

export function looksNumber(v: unknown): boolean {
  if (typeof v === "number" || typeof v === "bigint") return true;
  if (typeof v === "string") return Number.isFinite(Number(v.trim())) && v.trim() !== "";
  return false;
}

const TRUE_TEXT = new Set(["true", "yes", "y", "t", "1"]);
const FALSE_TEXT = new Set(["false", "no", "n", "f", "0"]);

/** Strict: only values that are plainly booleans (used to infer a boolean column). */
export function looksBoolean(v: unknown): boolean {
  if (typeof v === "boolean") return true;
  if (typeof v === "string") {
    const t = v.trim().toLowerCase();
    return t === "true" || t === "false";
  }
  return false;
}

/** 1, 0, or NaN for missing/unreadable; accepts true/false, yes/no, 1/0. */
export function toBoolean(v: unknown): number {
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "number") return v === 1 ? 1 : v === 0 ? 0 : NaN;
  if (typeof v === "string") {
    const t = v.trim().toLowerCase();
    if (TRUE_TEXT.has(t)) return 1;
    if (FALSE_TEXT.has(t)) return 0;
  }
  return NaN;
}

/** ISO 8601 dates and date-times: 2024-03-01, 2024-03-01T10:00, 2024-03-01 10:00:00.5Z, ... */
export const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

export function looksDate(v: unknown): boolean {
  if (v instanceof Date) return !Number.isNaN(v.getTime());
  return typeof v === "string" && ISO_DATE.test(v.trim()) && !Number.isNaN(parseDate(v));
}

/** Milliseconds since the epoch (UTC; a date-time without zone is read as UTC), or NaN. */
export function parseDate(v: unknown): number {
  if (v instanceof Date) return v.getTime();
  if (typeof v === "number") return v;
  if (typeof v !== "string") return NaN;
  const t = v.trim();
  if (!ISO_DATE.test(t)) return NaN;
  let s = t.replace(" ", "T");
  if (s.length === 10) s += "T00:00:00Z";
  else if (!/(Z|[+-]\d{2}:?\d{2})$/.test(s)) s += "Z";
  const ms = Date.parse(s);
  // Date.parse takes any day up to 31 in any month (2023-02-30 is 2023-03-02): a day its month does not have is no date
  return ms === ms && Number(t.slice(8, 10)) > daysInMonth(Number(t.slice(0, 4)), Number(t.slice(5, 7)))
    ? NaN
    : ms;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Whether text is an ISO 8601 date or date-time (as written, untrimmed) of a day the calendar has. */
export function isIsoDate(text: string): boolean {
  return ISO_DATE.test(text) && !Number.isNaN(parseDate(text));
}

/** Category key of a value: trimmed text; numbers and booleans by their text. */
export function categoryOf(v: unknown): string {
  if (typeof v === "string") return v.trim();
  if (v instanceof Date) return v.toISOString();
  return String(v);
}
