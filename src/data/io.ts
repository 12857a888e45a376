/**
 * Reading any table a user brings (CSV, JSON array, NDJSON, Parquet — chosen by
 * extension), with the bad inputs users really have turned into one-line
 * UserErrors that name the file: missing, empty, no header, wrong delimiter,
 * non-UTF-8 bytes, missing required columns, unparseable content.
 *
 * This is the one reader of table files: train --data, predict --input and
 * drift's two sides all come here, so they read a file the same way. CSV
 * follows the `data.read` settings and the detection rules of csv.ts
 * (delimiter, decimal mark, thousands separators, mostly-numeric columns),
 * each rule applied reported in one stderr line.
 */
import pl from "nodejs-polars";
import { Buffer } from "node:buffer";
import { UserError } from "../core/errors.ts";
import { isPermissionError } from "../core/fs_errors.ts";
import { log as stderrLog } from "../core/progress.ts";
import {
  configuredDelimiter,
  delimiterName,
  detectDelimiter,
  MISSING_TOKENS,
  type ReadSettings,
  splitCsvText,
  typeTextColumns,
} from "./csv.ts";

export { MISSING_TOKENS, type ReadSettings } from "./csv.ts";

export type TableFormat = "csv" | "json" | "ndjson" | "parquet";

export interface ReadOptions {
  format?: TableFormat;
  /** read every CSV column as text (prep validates and casts itself) */
  allStrings?: boolean;
  /** the CSV delimiter (overrides read.delimiter) */
  separator?: string;
  /** columns that must be present */
  required?: string[];
  /** the data.read settings of params.yaml (delimiter, decimal mark, encoding...) */
  read?: ReadSettings;
  /** where the reading notes go (default: one line each on stderr) */
  log?: (message: string) => void;
}

/** Every extension readTable knows, as the unsupported-type error lists them. */
export const TABLE_EXTENSIONS = [".csv", ".tsv", ".txt", ".json", ".ndjson", ".jsonl", ".parquet", ".pq"];

export function formatOf(path: string): TableFormat {
  const name = path.toLowerCase().split(/[\\/]/).pop() ?? "";
  const ext = name.includes(".") ? name.split(".").pop()! : "";
  if (ext === "parquet" || ext === "pq") return "parquet";
  if (ext === "ndjson" || ext === "jsonl") return "ndjson";
  if (ext === "json") return "json";
  if (ext === "csv" || ext === "tsv" || ext === "txt") return "csv";
  throw new UserError(
    `${path}: ${ext ? `unsupported file type '.${ext}'` : "no file extension"} (use ${
      TABLE_EXTENSIONS.slice(0, -1).join(", ")
    } or ${TABLE_EXTENSIONS.at(-1)})`,
  );
}

/** Runs a file-system call on `path`, turning its failures into one-line UserErrors. */
function onFile<T>(path: string, call: () => T): T {
  try {
    return call();
  } catch (e) {
    if (e instanceof UserError) throw e;
    if (e instanceof Deno.errors.NotFound) throw new UserError(`${path}: file not found`);
    if (isPermissionError(e)) {
      throw new UserError(`${path}: permission denied`);
    }
    throw new UserError(`${path}: cannot read file (${(e as Error).message.split(":")[0]})`);
  }
}

/** The size of a regular file (a directory or a missing file is a UserError). */
function fileSize(path: string): number {
  return onFile(path, () => {
    const info = Deno.statSync(path);
    if (info.isDirectory) throw new UserError(`${path}: is a directory, expected a file`);
    return info.size;
  });
}

function readBytes(path: string): Uint8Array {
  fileSize(path);
  return onFile(path, () => Deno.readFileSync(path));
}

/**
 * Checks that bytes are UTF-8 without building one big string: decodes in
 * 16 MB chunks (streaming, so a character split across chunks is fine).
 */
function assertUtf8(path: string, bytes: Uint8Array): void {
  const CHUNK = 16 << 20;
  const dec = new TextDecoder("utf-8", { fatal: true });
  let off = 0;
  try {
    for (; off < bytes.length; off += CHUNK) {
      dec.decode(bytes.subarray(off, Math.min(bytes.length, off + CHUNK)), {
        stream: off + CHUNK < bytes.length,
      });
    }
  } catch {
    // find the first bad byte's offset within the failing chunk for a useful message
    const chunk = bytes.subarray(off, Math.min(bytes.length, off + CHUNK + 4));
    let lo = 0, hi = chunk.length;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      try {
        new TextDecoder("utf-8", { fatal: true }).decode(chunk.subarray(0, mid), { stream: true });
        lo = mid;
      } catch {
        hi = mid;
      }
    }
    throw new UserError(
      `${path}: not UTF-8 text (invalid byte near offset ${
        off + lo
      }); re-save it as UTF-8, or set data.read.encoding: latin-1`,
    );
  }
}

/** The first bytes as text (for header checks), tolerant of a cut character. */
function prefixText(bytes: Uint8Array, max = 1 << 16): string {
  return new TextDecoder("utf-8").decode(bytes.subarray(0, max));
}

const isBlank = (b: number) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

function firstNonBlank(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) if (!isBlank(bytes[i])) return bytes[i];
  return -1;
}

/**
 * Turns a JSON array of records into NDJSON in place (same length, no copy):
 * the outer brackets and line breaks inside records become spaces and the
 * commas between top-level records become newlines. polars reads NDJSON in
 * parallel and far leaner than a JSON array (5M rows: ~2 s and 1 GB instead of
 * 15 s and 5 GB). Returns false when the bytes are not one array (left as is).
 */
function jsonArrayToLinesInPlace(bytes: Uint8Array): boolean {
  let depth = 0, opened = false, closed = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === 0x22) {
      // jump to the closing quote natively (most bytes are inside strings)
      let j = i;
      for (;;) {
        j = bytes.indexOf(0x22, j + 1);
        if (j === -1) return false;
        let slashes = 0;
        while (bytes[j - 1 - slashes] === 0x5c) slashes++;
        if (slashes % 2 === 0) break;
      }
      i = j;
      continue;
    }
    switch (b) {
      case 0x5b: // [
      case 0x7b: // {
        if (depth === 0) {
          if (b !== 0x5b || opened) return false;
          opened = true;
          bytes[i] = 0x20;
        }
        depth++;
        break;
      case 0x5d: // ]
      case 0x7d: // }
        depth--;
        if (depth === 0) {
          if (b !== 0x5d) return false;
          closed = true;
          bytes[i] = 0x20;
        } else if (depth < 0) return false;
        break;
      case 0x2c: // ,
        if (depth === 1) bytes[i] = 0x0a;
        break;
      case 0x0a:
      case 0x0d:
        if (depth >= 1) bytes[i] = 0x20;
        break;
      default:
        if (depth === 0 && !isBlank(b)) return false;
    }
  }
  return opened && closed && depth === 0;
}

/**
 * The fast path of jsonArrayToLinesInPlace for the common layout: "[" on its
 * own line, one record a line ("{...}," and a last "{...}"), "]" on the last
 * line. Checks the layout first and changes nothing unless it holds; then
 * blanks the brackets and the commas that end lines. Line-by-line with native
 * indexOf, several times faster than scanning every byte.
 */
function simpleJsonArrayToLinesInPlace(bytes: Uint8Array): boolean {
  const n = bytes.length;
  let i = 0;
  while (i < n && isBlank(bytes[i])) i++;
  if (bytes[i] !== 0x5b) return false;
  const open = i;
  const lineEnd = bytes.indexOf(0x0a, i);
  for (let k = i + 1; k < (lineEnd === -1 ? n : lineEnd); k++) if (!isBlank(bytes[k])) return false;
  const commas: number[] = [];
  let close = -1, sawLast = false;
  let start = lineEnd === -1 ? n : lineEnd + 1;
  while (start < n) {
    let end = bytes.indexOf(0x0a, start);
    if (end === -1) end = n;
    let a = start, b = end - 1;
    while (a <= b && isBlank(bytes[a])) a++;
    while (b >= a && isBlank(bytes[b])) b--;
    if (a <= b) {
      if (close !== -1) return false; // text after the closing bracket
      if (a === b && bytes[a] === 0x5d) close = a;
      else if (sawLast || bytes[a] !== 0x7b) return false;
      else if (bytes[b] === 0x7d) sawLast = true;
      else if (bytes[b] === 0x2c && bytes[b - 1] === 0x7d && b - 1 > a) commas.push(b);
      else return false;
    }
    start = end + 1;
  }
  if (close === -1 || (!sawLast && commas.length > 0)) return false;
  bytes[open] = 0x20;
  bytes[close] = 0x20;
  for (const c of commas) bytes[c] = 0x20;
  return true;
}

/** Files up to this size are UTF-8-checked up front; bigger ones only when polars fails. */
const EAGER_UTF8_LIMIT = 64 << 20;

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

/** The UTF-8 BOM (EF BB BF): dropped from the front of any text file. */
function withoutBom(bytes: Uint8Array): Uint8Array {
  return bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
}

/** The text file's bytes as UTF-8 without a BOM: checked, or decoded from Latin-1 / Windows-1252. */
function utf8Bytes(path: string, bytes: Uint8Array, encoding: ReadSettings["encoding"]): Uint8Array {
  if (encoding === "latin-1" || encoding === "windows-1252") {
    // WHATWG: "latin1" is windows-1252, a superset of ISO-8859-1's printable characters
    const text = new TextDecoder("windows-1252").decode(bytes).replace(/^\uFEFF/, "");
    return new TextEncoder().encode(text);
  }
  bytes = withoutBom(bytes);
  if (bytes.length <= EAGER_UTF8_LIMIT) assertUtf8(path, bytes);
  return bytes;
}

export function readTable(path: string, opts: ReadOptions = {}): pl.DataFrame {
  // a folder, a missing file or a denied read says so before its name's extension is judged
  fileSize(path);
  const format = opts.format ?? formatOf(path);
  let df: pl.DataFrame;
  if (format === "parquet") {
    // polars reads the file itself: only its size is needed here
    if (fileSize(path) === 0) throw new UserError(`${path}: file is empty`);
    try {
      df = pl.readParquet(path);
    } catch (e) {
      throw new UserError(`${path}: not a readable Parquet file (${polarsLine(e)})`);
    }
  } else {
    const raw = readBytes(path);
    if (raw.length === 0) throw new UserError(`${path}: file is empty`);
    const bytes = utf8Bytes(path, raw, opts.read?.encoding);
    if (firstNonBlank(bytes) === -1) throw new UserError(`${path}: file is empty`);
    try {
      if (format === "csv") df = readCsvBytes(path, bytes, opts);
      else df = readJsonBytes(path, bytes, format, opts.read?.encoding);
    } catch (e) {
      if (bytes.length > EAGER_UTF8_LIMIT && (opts.read?.encoding ?? "utf-8") === "utf-8") {
        assertUtf8(path, bytes);
      }
      throw e;
    }
  }
  if (df.width === 0) throw new UserError(`${path}: no columns`);
  if (opts.required) requireColumns(df, opts.required, path);
  return df;
}

const asBuffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** The CSV delimiter: set, by extension (.tsv), or detected (reported when not a comma). */
function csvDelimiter(path: string, text: string, opts: ReadOptions, say: (m: string) => void): string {
  const set = opts.separator ?? configuredDelimiter(opts.read);
  if (set !== undefined) return set;
  if (path.toLowerCase().endsWith(".tsv")) return "\t";
  const found = detectDelimiter(text, opts.read?.quote ?? '"');
  if (found !== ",") {
    say(`${path}: detected delimiter ${delimiterName(found)} (set data.read.delimiter to change)`);
  }
  return found;
}

function readCsvBytes(path: string, bytes: Uint8Array, opts: ReadOptions): pl.DataFrame {
  const say = opts.log ?? stderrLog;
  const read = opts.read ?? {};
  const prefix = prefixText(bytes);
  const separator = csvDelimiter(path, prefix, opts, say);
  checkCsvHeader(path, prefix, separator);
  const base = {
    sep: separator,
    quoteChar: read.quote ?? '"',
    nullValues: read.null_tokens ?? MISSING_TOKENS,
    hasHeader: true,
  };
  const body = asBuffer(bytes);
  const named = (d: pl.DataFrame) => withHeaderNames(d, prefix, separator, base.quoteChar);
  let df: pl.DataFrame;
  try {
    if (opts.allStrings) return named(pl.readCSV(body, { ...base, inferSchemaLength: 0 }));
    df = pl.readCSV(body, { ...base, inferSchemaLength: 10_000 });
  } catch (e) {
    if (opts.allStrings) throw new UserError(`${path}: cannot parse as CSV (${polarsLine(e)})`);
    // a late value broke type inference: read as text, then type the columns below
    try {
      df = pl.readCSV(body, { ...base, inferSchemaLength: 0 });
    } catch {
      throw new UserError(`${path}: cannot parse as CSV (${polarsLine(e)})`);
    }
  }
  let typed = typeTextColumns(df, read, path, separator);
  // with a decimal comma, polars read "1.500" as 1.5: such columns again from their text ("1.500" = 1500)
  const floats = typed.decimal === ","
    ? df.columns.filter((c) => /Float/.test(String(df.getColumn(c).dtype)))
    : [];
  if (floats.length) {
    const text = pl.readCSV(body, {
      ...base,
      inferSchemaLength: 10_000,
      dtypes: Object.fromEntries(floats.map((c) => [c, pl.Utf8])),
    });
    const again = typeTextColumns(text.select(...floats), { ...read, decimal: "," }, path, separator);
    // a column the comma rule does not read (real point decimals) keeps polars' reading
    const redone = floats.filter((c) => /Float/.test(String(again.df.getColumn(c).dtype)));
    if (redone.length) {
      typed = {
        ...typed,
        df: typed.df.withColumns(...redone.map((c) => again.df.getColumn(c))),
        notes: [...typed.notes, ...again.notes],
      };
    }
  }
  for (const note of typed.notes) say(note);
  return named(typed.df);
}

/**
 * The header's names as RFC 4180 reads them: polars keeps a quoted name's doubled quotes (`"a""b"` is
 * named `a""b`, where the cells of the same file read `a"b`), and a request keyed `a"b` would then match
 * no input of the model. Renames only the columns whose quotes were left doubled.
 */
function withHeaderNames(df: pl.DataFrame, prefix: string, separator: string, quote: string): pl.DataFrame {
  if (!df.columns.some((c) => c.includes(quote + quote))) return df;
  let header: string[] | undefined;
  try {
    // the first line (a header with a line break inside quotes is left as polars read it)
    header = splitCsvText(prefix.split(/\r?\n/)[0], separator, quote)[0];
  } catch {
    return df;
  }
  if (!header || header.length !== df.width) return df;
  const names = df.columns.map((
    c,
    i,
  ) => (c.replaceAll(quote + quote, quote) === header![i] ? header![i] : c));
  if (new Set(names).size !== names.length) return df;
  return df.rename(Object.fromEntries(df.columns.map((c, i) => [c, names[i]])));
}

function readJsonBytes(
  path: string,
  bytes: Uint8Array,
  format: TableFormat,
  encoding?: ReadSettings["encoding"],
): pl.DataFrame {
  // the bytes are ours (read for this call): changing them in place is safe
  const isArray = format === "json" && firstNonBlank(bytes) === 0x5b;
  if (isArray) {
    if (simpleJsonArrayToLinesInPlace(bytes)) {
      try {
        return pl.readJSON(asBuffer(bytes), { format: "lines", inferSchemaLength: 10_000 });
      } catch {
        // a record spanning lines fooled the layout check: redo it byte by byte
        bytes = utf8Bytes(path, readBytes(path), encoding);
      }
    }
    if (!jsonArrayToLinesInPlace(bytes)) {
      throw new UserError(
        `${path}: cannot parse as a JSON array of records (unbalanced brackets or text after it)`,
      );
    }
    if (firstNonBlank(bytes) === -1) throw new UserError(`${path}: empty JSON array, no records`);
  }
  const body = asBuffer(bytes);
  try {
    // polars reads NDJSON only from a Buffer, not from a string body
    return pl.readJSON(body, { format: "lines", inferSchemaLength: 10_000 });
  } catch (e) {
    try {
      // a late value of another type broke inference: scan every row for the schema
      return pl.readJSON(body, { format: "lines", inferSchemaLength: null });
    } catch { /* report the first error */ }
    throw new UserError(
      `${path}: cannot parse as ${isArray ? "a JSON array of records" : "NDJSON"} (${polarsLine(e)})`,
    );
  }
}

function requireColumns(df: pl.DataFrame, required: string[], path: string): void {
  const have = new Set(df.columns);
  const missing = required.filter((c) => !have.has(c));
  if (missing.length === 1) {
    throw new UserError(`${path}: missing required column '${missing[0]}'`);
  }
  if (missing.length > 1) {
    throw new UserError(`${path}: missing required columns ${missing.map((c) => `'${c}'`).join(", ")}`);
  }
}
