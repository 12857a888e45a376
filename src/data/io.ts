/**
 * Reading any table a user brings (CSV, JSON array, NDJSON, Parquet — chosen by
 * extension), with the bad inputs users really have turned into one-line
 * UserErrors that name the file: missing, empty, no header, wrong delimiter,
 * non-UTF-8 bytes, missing required columns, unparseable content.
 */
import pl from "nodejs-polars";
import { Buffer } from "node:buffer";
import { UserError } from "../cli/errors.ts";

export type TableFormat = "csv" | "json" | "ndjson" | "parquet";

/** Tokens read as missing in every text source. */
export const MISSING_TOKENS = ["", "NA", "NaN", "nan", "null", "NULL", "None", "N/A"];

export interface ReadOptions {
  format?: TableFormat;
  /** read every CSV column as text (prep validates and casts itself) */
  allStrings?: boolean;
  separator?: string;
  /** columns that must be present */
  required?: string[];
}

export function formatOf(path: string): TableFormat {
  const ext = path.toLowerCase().split(".").pop() ?? "";
  if (ext === "parquet" || ext === "pq") return "parquet";
  if (ext === "ndjson" || ext === "jsonl") return "ndjson";
  if (ext === "json") return "json";
  if (ext === "csv" || ext === "tsv" || ext === "txt") return "csv";
  throw new UserError(`${path}: unsupported file type '.${ext}' (use .csv, .json, .ndjson or .parquet)`);
}

function readBytes(path: string): Uint8Array {
  try {
    const info = Deno.statSync(path);
    if (info.isDirectory) throw new UserError(`${path}: is a directory, expected a file`);
    return Deno.readFileSync(path);
  } catch (e) {
    if (e instanceof UserError) throw e;
    if (e instanceof Deno.errors.NotFound) throw new UserError(`${path}: file not found`);
    if (e instanceof Deno.errors.PermissionDenied || (e as Error).name === "NotCapable") {
      throw new UserError(`${path}: permission denied`);
    }
    throw new UserError(`${path}: cannot read file (${(e as Error).message.split(":")[0]})`);
  }
}

const fatalDecoder = new TextDecoder("utf-8", { fatal: true });

function decodeUtf8(path: string, bytes: Uint8Array): string {
  try {
    return fatalDecoder.decode(bytes);
  } catch {
    // find the first bad byte's offset for a useful message
    let lo = 0, hi = bytes.length;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      try {
        new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(0, mid));
        lo = mid;
      } catch {
        hi = mid;
      }
    }
    throw new UserError(`${path}: not UTF-8 text (invalid byte near offset ${lo}); re-save it as UTF-8`);
  }
}

const looksNumeric = (s: string) => s.trim() !== "" && !Number.isNaN(Number(s.trim()));

/** Header checks that polars would not make: no header row, wrong delimiter. */
function checkCsvHeader(path: string, text: string, separator: string): void {
  const firstLine = text.slice(0, text.search(/\r?\n|$/)).replace(/^\uFEFF/, "");
  if (firstLine.trim() === "") throw new UserError(`${path}: first line is empty, expected a header row`);
  const cells = firstLine.split(separator);
  if (cells.length === 1) {
    for (const [sep, name] of [[";", "';'"], ["\t", "tab"], ["|", "'|'"]] as const) {
      if (sep !== separator && firstLine.includes(sep)) {
        throw new UserError(
          `${path}: wrong delimiter: the header looks ${name}-separated, expected '${separator}'`,
        );
      }
    }
  }
  const unnamed = cells.filter((c) => c.trim() === "").length;
  const numeric = cells.filter(looksNumeric).length;
  if (numeric > 0 && numeric + unnamed === cells.length) {
    throw new UserError(`${path}: no header row (the first line holds values, not column names)`);
  }
  const seen = new Set<string>();
  for (const c of cells.map((c) => c.trim().replace(/^"|"$/g, ""))) {
    if (seen.has(c)) throw new UserError(`${path}: duplicate column name '${c}' in the header`);
    seen.add(c);
  }
}

function polarsLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split("\n")[0].slice(0, 200);
}

export function readTable(path: string, opts: ReadOptions = {}): pl.DataFrame {
  const format = opts.format ?? formatOf(path);
  const bytes = readBytes(path);
  if (bytes.length === 0) throw new UserError(`${path}: file is empty`);
  let df: pl.DataFrame;
  if (format === "parquet") {
    try {
      df = pl.readParquet(path);
    } catch (e) {
      throw new UserError(`${path}: not a readable Parquet file (${polarsLine(e)})`);
    }
  } else {
    const text = decodeUtf8(path, bytes);
    if (text.trim() === "") throw new UserError(`${path}: file is empty`);
    if (format === "csv") df = readCsvText(path, text, opts);
    else df = readJsonText(path, text, format);
  }
  if (df.width === 0) throw new UserError(`${path}: no columns`);
  if (opts.required) requireColumns(df, opts.required, path);
  return df;
}

function readCsvText(path: string, text: string, opts: ReadOptions): pl.DataFrame {
  const separator = opts.separator ?? (path.toLowerCase().endsWith(".tsv") ? "\t" : ",");
  checkCsvHeader(path, text, separator);
  const base = { sep: separator, nullValues: MISSING_TOKENS, hasHeader: true };
  try {
    if (opts.allStrings) return pl.readCSV(text, { ...base, inferSchemaLength: 0 });
    return pl.readCSV(text, { ...base, inferSchemaLength: 10_000 });
  } catch (e) {
    if (!opts.allStrings) {
      // a late value broke type inference: read as text, then cast what casts cleanly
      try {
        return castNumericColumns(pl.readCSV(text, { ...base, inferSchemaLength: 0 }));
      } catch { /* fall through to the error below */ }
    }
    throw new UserError(`${path}: cannot parse as CSV (${polarsLine(e)})`);
  }
}

function readJsonText(path: string, text: string, format: TableFormat): pl.DataFrame {
  const trimmed = text.trimStart();
  const lines = format === "ndjson" || !trimmed.startsWith("[");
  try {
    // polars reads NDJSON only from a Buffer, not from a string body
    const body = lines ? Buffer.from(text) : text;
    return pl.readJSON(body, { format: lines ? "lines" : "json", inferSchemaLength: 10_000 });
  } catch (e) {
    throw new UserError(
      `${path}: cannot parse as ${lines ? "NDJSON" : "a JSON array of records"} (${polarsLine(e)})`,
    );
  }
}

/** Casts each text column whose non-missing values all parse as numbers. */
export function castNumericColumns(df: pl.DataFrame): pl.DataFrame {
  const exprs = df.columns.map((name) => {
    const s = df.getColumn(name);
    if (s.dtype.equals(pl.Utf8) || String(s.dtype) === "String") {
      const cast = s.cast(pl.Float64, false);
      if (cast.nullCount() === s.nullCount()) return pl.col(name).cast(pl.Float64);
    }
    return pl.col(name);
  });
  return df.select(...exprs);
}

export function requireColumns(df: pl.DataFrame, required: string[], path: string): void {
  const have = new Set(df.columns);
  const missing = required.filter((c) => !have.has(c));
  if (missing.length === 1) {
    throw new UserError(`${path}: missing required column '${missing[0]}'`);
  }
  if (missing.length > 1) {
    throw new UserError(`${path}: missing required columns ${missing.map((c) => `'${c}'`).join(", ")}`);
  }
}
