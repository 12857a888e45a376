/**
 * The reading rules of delimited text that need no DataFrame: the data.read
 * settings, delimiter detection, one cell as a number, one CSV body split into
 * cells. The service's text/csv body uses these (its hot path never loads
 * polars); csv.ts applies the same number formats to whole polars columns.
 */

/** The `data.read` settings (params.yaml); every field optional. */
export interface ReadSettings {
  /** "auto" (default), or one character; "tab" is accepted for a tab */
  delimiter?: string;
  /** the quote character (default `"`) */
  quote?: string;
  /** "auto" (default), "." or "," */
  decimal?: "auto" | "." | ",";
  /** "auto" (default), "none", or one of , . space ' */
  thousands?: "auto" | "none" | "," | "." | " " | "'";
  /** cells read as missing (default MISSING_TOKENS) */
  null_tokens?: string[];
  /** "utf-8" (default; a BOM is stripped), "latin-1" or "windows-1252" */
  encoding?: "utf-8" | "latin-1" | "windows-1252";
  /** the share of non-missing cells that must be numbers for a text column to be read as numeric (default 0.95) */
  numeric_share?: number;
}

/** Tokens read as missing in every text source (the default of data.read.null_tokens). */
export const MISSING_TOKENS = ["", "NA", "NaN", "nan", "null", "NULL", "None", "N/A"];

export const DEFAULT_NUMERIC_SHARE = 0.95;

const CANDIDATES = [",", ";", "\t", "|"] as const;

export const delimiterName = (d: string) => (d === "\t" ? "tab" : `'${d}'`);

/** The configured delimiter as a character, or undefined for "auto". */
export function configuredDelimiter(s: ReadSettings | undefined): string | undefined {
  const d = s?.delimiter;
  if (d === undefined || d === "auto") return undefined;
  return d === "tab" || d === "\\t" ? "\t" : d;
}

/** Counts each candidate delimiter outside quotes, per record, in the first records of `text`. */
function delimiterCounts(text: string, quote: string, maxRecords = 30): number[][] {
  const rows: number[][] = [];
  let counts = CANDIDATES.map(() => 0);
  let quoted = false;
  let blank = true;
  for (let i = 0; i < text.length && rows.length < maxRecords; i++) {
    const ch = text[i];
    if (ch === quote) {
      quoted = !quoted;
      blank = false;
    } else if (!quoted && (ch === "\n" || ch === "\r")) {
      if (!blank) rows.push(counts);
      counts = CANDIDATES.map(() => 0);
      blank = true;
    } else if (!quoted) {
      const k = CANDIDATES.indexOf(ch as typeof CANDIDATES[number]);
      if (k >= 0) counts[k]++;
      if (ch !== " ") blank = false;
    }
  }
  // the last record only counts when the text ends there (not cut mid-record)
  if (!blank && !quoted && rows.length < maxRecords && text.length < 1 << 16) rows.push(counts);
  return rows;
}

/**
 * The delimiter of a text table: the candidate that occurs in the header and
 * as often in at least 90% of the following records; among those, the one
 * seen most in the header (comma first on a tie). Comma when nothing fits.
 */
export function detectDelimiter(text: string, quote = '"'): string {
  const rows = delimiterCounts(text.replace(/^\uFEFF/, ""), quote);
  if (rows.length === 0) return ",";
  const header = rows[0];
  let best = -1, bestCount = 0;
  for (let k = 0; k < CANDIDATES.length; k++) {
    const n = header[k];
    if (n === 0) continue;
    const rest = rows.slice(1);
    const same = rest.filter((r) => r[k] === n).length;
    if (rest.length > 0 && same < 0.9 * rest.length) continue;
    if (n > bestCount) [best, bestCount] = [k, n];
  }
  if (best === -1) {
    // nothing consistent: the one most frequent in the header, if any
    for (let k = 0; k < CANDIDATES.length; k++) if (header[k] > bestCount) [best, bestCount] = [k, header[k]];
  }
  return best === -1 ? "," : CANDIDATES[best];
}

// ---------------------------------------------------------------- numbers in text

export interface NumberFormat {
  thousands: string | null;
  decimal: "." | ",";
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** A regex (valid for JS and polars/Rust) that matches a whole number in this format. */
export function formatPattern(f: NumberFormat): string {
  const d = escapeRe(f.decimal);
  const int = f.thousands === null ? "\\d+" : `(?:\\d{1,3}(?:${escapeRe(f.thousands)}\\d{3})+|\\d+)`;
  return `^[+-]?(?:${int}(?:${d}\\d*)?|${d}\\d+)(?:[eE][+-]?\\d+)?$`;
}

/** The number formats to consider under the settings, most preferred first. */
export function formatsFor(s: ReadSettings, decimal: "." | ","): NumberFormat[] {
  const t = s.thousands ?? "auto";
  if (t === "none") return [{ thousands: null, decimal }];
  if (t !== "auto") return t === decimal ? [{ thousands: null, decimal }] : [{ thousands: t, decimal }];
  return [{ thousands: null, decimal }, { thousands: decimal === "." ? "," : ".", decimal }];
}

/** The text as a number in the format, or null when it is not one. */
function parseIn(t: string, f: NumberFormat, re: RegExp): number | null {
  if (!re.test(t)) return null;
  let s = f.thousands === null ? t : t.split(f.thousands).join("");
  if (f.decimal === ",") s = s.replace(",", ".");
  const n = Number(s);
  return Number.isFinite(n) ? n : null;
}

const patternCache = new Map<string, RegExp>();
function regexOf(f: NumberFormat): RegExp {
  const key = `${f.thousands}|${f.decimal}`;
  let re = patternCache.get(key);
  if (!re) patternCache.set(key, re = new RegExp(formatPattern(f)));
  return re;
}

/**
 * One cell of text as a number under the reading rules (the service's text/csv
 * body: one record, no column to vote, so the first format that fits wins:
 * point decimal first, comma decimal first in a semicolon body), or null.
 */
export function numberFromText(text: string, s: ReadSettings = {}, delimiter = ","): number | null {
  const t = text.trim();
  if (t === "") return null;
  const decimals: ("." | ",")[] = s.decimal && s.decimal !== "auto"
    ? [s.decimal]
    : delimiter === ";"
    ? [",", "."]
    : [".", ","];
  for (const d of decimals) {
    for (const f of formatsFor(s, d).reverse()) {
      const n = parseIn(t, f, regexOf(f));
      if (n !== null) return n;
    }
  }
  return null;
}

// ---------------------------------------------------------------- one CSV text body (the service)

/**
 * Splits CSV text into rows of cells (RFC 4180: quotes, doubled quotes, CRLF,
 * a leading BOM dropped), with any one-character delimiter and quote. Throws
 * a plain Error on an unterminated quoted field (the caller words it).
 */
export function splitCsvText(text: string, delimiter = ",", quote = '"'): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let i = 0;
  let quoted = false;
  const n = text.length;
  if (text.charCodeAt(0) === 0xfeff) i = 1;
  while (i < n) {
    const ch = text[i];
    if (quoted) {
      if (ch === quote) {
        if (text[i + 1] === quote) {
          cell += quote;
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      cell += ch;
      i++;
      continue;
    }
    if (ch === quote && cell === "") {
      quoted = true;
      i++;
    } else if (ch === delimiter) {
      row.push(cell);
      cell = "";
      i++;
    } else if (ch === "\n" || ch === "\r") {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
      i += ch === "\r" && text[i + 1] === "\n" ? 2 : 1;
    } else {
      cell += ch;
      i++;
    }
  }
  if (quoted) throw new Error("unterminated quoted field");
  if (cell !== "" || row.length) {
    row.push(cell);
    rows.push(row);
  }
  return rows.filter((r) => !(r.length === 1 && r[0].trim() === ""));
}
