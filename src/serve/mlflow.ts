/**
 * MLflow's scoring protocol for POST /invocations, so clients of
 * `mlflow models serve` work unchanged: JSON with exactly one of
 * dataframe_split, dataframe_records, instances or inputs (plus optional
 * params), or text/csv with a header row. Everything becomes plain records;
 * the signature validator then checks them like /predict does.
 */
import type { SignatureColumn } from "../models/types.ts";
import { HttpError } from "./http.ts";
import { cellFromText } from "./validation.ts";
import { detectDelimiter, splitCsvText } from "../data/csv_text.ts";

const KEYS = ["dataframe_split", "dataframe_records", "instances", "inputs"] as const;

type Rec = Record<string, unknown>;

const isObject = (v: unknown): v is Rec => v !== null && typeof v === "object" && !Array.isArray(v);

function bad(message: string): never {
  throw new HttpError(400, message);
}

/** Rows given as arrays are read in the signature's column order (or `columns`). */
function rowsToRecords(rows: unknown[], columns: readonly string[], what: string): Rec[] {
  return rows.map((row, i) => {
    if (isObject(row)) return row;
    if (!Array.isArray(row)) bad(`${what}[${i}]: expected a row (array or object)`);
    if (row.length !== columns.length) {
      bad(`${what}[${i}]: ${row.length} values for ${columns.length} columns`);
    }
    const rec: Rec = {};
    for (let j = 0; j < columns.length; j++) rec[columns[j]] = row[j];
    return rec;
  });
}

/** {col: [v0, v1, ...]} -> records; all columns must have the same length. */
function columnarToRecords(cols: Rec, what: string): Rec[] {
  const names = Object.keys(cols);
  if (names.length === 0) bad(`${what}: no columns`);
  const lengths = new Set(names.map((n) => (Array.isArray(cols[n]) ? (cols[n] as unknown[]).length : -1)));
  if (lengths.has(-1)) {
    // a single record given as {col: value}
    return [cols];
  }
  if (lengths.size !== 1) bad(`${what}: columns have different lengths`);
  const n = [...lengths][0];
  const out: Rec[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const rec: Rec = {};
    for (const name of names) rec[name] = (cols[name] as unknown[])[i];
    out[i] = rec;
  }
  return out;
}

/** Parses an MLflow JSON body into records. */
export function parseMlflowJson(body: unknown, columns: readonly string[]): Rec[] {
  if (!isObject(body)) bad(`expected a JSON object with one of: ${KEYS.join(", ")}`);
  const present = KEYS.filter((k) => k in body);
  if (present.length !== 1) {
    bad(
      present.length === 0
        ? `expected one of: ${KEYS.join(", ")}`
        : `expected exactly one of ${KEYS.join(", ")}, got ${present.join(", ")}`,
    );
  }
  const extra = Object.keys(body).filter((k) => k !== present[0] && k !== "params");
  if (extra.length) bad(`unexpected key${extra.length > 1 ? "s" : ""}: ${extra.slice(0, 5).join(", ")}`);
  const key = present[0];
  const v = body[key];
  switch (key) {
    case "dataframe_split": {
      if (!isObject(v)) bad("dataframe_split: expected an object with columns and data");
      const data = v.data;
      if (!Array.isArray(data)) bad("dataframe_split.data: expected an array of rows");
      const cols = v.columns ?? columns;
      if (!Array.isArray(cols) || !cols.every((c) => typeof c === "string")) {
        bad("dataframe_split.columns: expected an array of column names");
      }
      return rowsToRecords(data, cols as string[], "dataframe_split.data");
    }
    case "dataframe_records":
      if (!Array.isArray(v)) bad("dataframe_records: expected an array of records");
      return rowsToRecords(v, columns, "dataframe_records");
    default:
      if (Array.isArray(v)) return rowsToRecords(v, columns, key);
      if (isObject(v)) return columnarToRecords(v, key);
      return bad(`${key}: expected an array of records or an object of columns`);
  }
}

/**
 * Splits CSV text into rows of cells (RFC 4180: quotes, doubled quotes, CRLF),
 * by the reading rules of table files (src/data/csv_text.ts): a BOM dropped, the
 * delimiter detected (comma, semicolon, tab, pipe) unless given.
 */
export function parseCsv(text: string, delimiter = detectDelimiter(text.slice(0, 1 << 16))): string[][] {
  try {
    return splitCsvText(text, delimiter);
  } catch {
    return bad("text/csv: unterminated quoted field");
  }
}

/** Parses a text/csv body (header row first) into records typed by the signature. */
export function parseMlflowCsv(text: string, columns: readonly SignatureColumn[]): Rec[] {
  const delimiter = detectDelimiter(text.slice(0, 1 << 16));
  const rows = parseCsv(text, delimiter);
  if (rows.length === 0) bad("text/csv: empty body, expected a header row");
  const header = rows[0].map((h) => h.trim());
  if (new Set(header).size !== header.length) bad("text/csv: duplicate column names in the header");
  const byName = new Map(columns.map((c) => [c.name, c]));
  const out: Rec[] = [];
  for (let r = 1; r < rows.length; r++) {
    const cells = rows[r];
    if (cells.length !== header.length) {
      bad(`text/csv: line ${r + 1} has ${cells.length} cells, the header has ${header.length}`);
    }
    const rec: Rec = {};
    for (let j = 0; j < header.length; j++) {
      const col = byName.get(header[j]);
      if (col) rec[header[j]] = cellFromText(col, cells[j], delimiter);
    }
    out.push(rec);
  }
  return out;
}
