/**
 * Reading one raw cell: what counts as missing, as a number, a boolean, a
 * date. Shared by type inference (fit) and encoding (transform), so a value is
 * read the same way at training and serving time.
 */
import { isoDateMs } from "../../core/dates.ts";

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

export { ISO_DATE } from "../../core/dates.ts";

export function looksDate(v: unknown): boolean {
  if (v instanceof Date) return !Number.isNaN(v.getTime());
  return typeof v === "string" && !Number.isNaN(isoDateMs(v));
}

/** Milliseconds since the epoch (UTC; a date-time without zone is read as UTC), or NaN. */
export function parseDate(v: unknown): number {
  if (v instanceof Date) return v.getTime();
  if (typeof v === "number") return v;
  return typeof v === "string" ? isoDateMs(v) : NaN;
}

/** Category key of a value: trimmed text; numbers and booleans by their text. */
export function categoryOf(v: unknown): string {
  if (typeof v === "string") return v.trim();
  if (v instanceof Date) return v.toISOString();
  return String(v);
}
