/**
 * Preprocessing: turns raw records (any table a user brings) into the numeric
 * matrix the engines see. Fitted on the training rows only, saved as JSON with
 * the model, and applied by one encoder per column (`encoderOf`) whether the
 * input is a whole table or the single record the service receives, so
 * training and serving cannot disagree.
 *
 * - Column kinds are inferred: numeric, boolean, datetime (ISO text or Date:
 *   becomes year/month/day/weekday[/hour] parts), categorical (anything else).
 * - ID-like columns (every value unique text, or a unique integer column named
 *   like an id) and all-missing columns are dropped, with the reason kept; so
 *   are the columns excluded with a reason (the configured id column, the
 *   split column), so every column that is not an input is listed with why.
 * - Numbers are imputed with the training median; a column that had missing
 *   values also gets a `<col>.missing` 0/1 indicator.
 * - Categoricals: one-hot of the most frequent `maxCategories` levels plus an
 *   `=__other__` bucket for the rest and for levels unseen in training, and
 *   `=__missing__` when training had missing values; or ordinal codes
 *   (level index by frequency; other/unseen = number of levels; missing = -1).
 */
import { type Matrix, matrix, type SignatureColumn } from "../types.ts";
import {
  categoryOf,
  isMissing,
  looksBoolean,
  looksDate,
  looksNumber,
  MISSING_TEXT,
  parseDate,
  toBoolean,
  toNumber,
} from "./values.ts";

export * from "./values.ts";

export type Encoding = "onehot" | "ordinal";

export interface PreprocessOptions {
  /** how categoricals become numbers (default onehot) */
  encoding?: Encoding;
  /** one-hot keeps at most this many levels per column, the rest go to "other" (default 20) */
  maxCategories?: number;
  /**
   * columns never used as inputs: a name is left out silently (the target), a
   * {name, reason} is left out and listed in `dropped` when the table has it
   * (the configured id column, the split column)
   */
  exclude?: readonly Exclusion[];
  /** detect and drop ID-like columns (default true) */
  dropIdLike?: boolean;
}

export type DatePart = "year" | "month" | "day" | "weekday" | "hour";

export type ColumnSpec =
  | { name: string; kind: "numeric" | "boolean"; median: number; indicator: boolean; nullable: boolean }
  | {
    name: string;
    kind: "categorical";
    encoding: Encoding;
    levels: string[];
    /** one-hot: whether an "other" column exists (levels beyond the cap were seen) */
    other: boolean;
    /** one-hot: whether a "missing" column exists */
    missingLevel: boolean;
    nullable: boolean;
  }
  | { name: string; kind: "datetime"; parts: DatePart[]; medians: number[]; nullable: boolean };

export interface DroppedColumn {
  name: string;
  reason: string;
}

/** A column kept out of the inputs: by name (silently), or with the reason it is listed under. */
export type Exclusion = string | DroppedColumn;

/** The column name of an exclusion. */
export const excludedName = (e: Exclusion): string => (typeof e === "string" ? e : e.name);

export interface PreprocessState {
  version: 1;
  columns: ColumnSpec[];
  dropped: DroppedColumn[];
  featureNames: string[];
}

/** A table by column: name -> values (all the same length). */
export type Columns = Record<string, ArrayLike<unknown>>;

/** The rows `idx` of every column, in that order (a fold, a split, a sample). */
export function takeRows(cols: Columns, idx: ArrayLike<number>): Columns {
  const out: Columns = {};
  for (const [name, values] of Object.entries(cols)) {
    const v = new Array(idx.length);
    for (let i = 0; i < idx.length; i++) v[i] = values[idx[i]];
    out[name] = v;
  }
  return out;
}

export function columnsFromRecords(records: Record<string, unknown>[], names?: string[]): Columns {
  const keys = names ?? [...new Set(records.flatMap((r) => Object.keys(r)))];
  const out: Columns = {};
  for (const k of keys) out[k] = records.map((r) => r[k]);
  return out;
}

/** The number of rows of a columns object (its first column's length; 0 with no columns). */
export function rowCount(cols: Columns): number {
  const first = Object.values(cols)[0];
  return first ? first.length : 0;
}

const ID_NAME_RE = /(^id$|^id[_ -]|[_ -]id$|^uuid|^guid|_key$|^key$)/i;
const looksIdName = (name: string) => ID_NAME_RE.test(name) || /[a-z]Id$/.test(name);

/**
 * The median, as a sorted copy gives it (Float64Array order: -0 before 0),
 * found by selection: sorting 200,000 values took 24 ms a column.
 */
export function median(values: number[]): number {
  const n = values.length;
  if (n === 0) return 0;
  const a = Float64Array.from(values);
  let neg = 0, negZero = 0;
  for (let i = 0; i < n; i++) {
    const v = a[i];
    if (v !== v) return medianBySort(a); // NaN: sorted last
    if (v < 0) neg++;
    else if (v === 0 && 1 / v < 0) negZero++;
  }
  const m = n >> 1;
  // the value of sorted rank r, with the sign a sort gives a zero
  const signed = (v: number, r: number) => (v === 0 ? (r < neg + negZero ? -0 : 0) : v);
  const hi = signed(select(a, m), m);
  if (n % 2) return hi;
  // after select, a[0..m) holds the m smallest: the largest of them is rank m - 1
  let lo = a[0];
  for (let i = 1; i < m; i++) if (a[i] > lo) lo = a[i];
  return (signed(lo, m - 1) + hi) / 2;
}

function medianBySort(a: Float64Array): number {
  const s = a.sort(), m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Hoare's selection in place: a[k] becomes the k-th smallest, smaller-or-equal values before it. */
function select(a: Float64Array, k: number): number {
  let l = 0, r = a.length - 1;
  while (r > l) {
    // median of three as the pivot keeps sorted and constant input linear
    const mid = (l + r) >> 1;
    const x = a[l], y = a[mid], z = a[r];
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : (x < z ? x : y < z ? z : y);
    let i = l, j = r;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) r = j;
    else if (k >= i) l = i;
    else break;
  }
  return a[k];
}

function dateParts(ms: number, parts: DatePart[], out: Float64Array | number[], offset: number): void {
  const d = new Date(ms);
  for (let j = 0; j < parts.length; j++) {
    if (Number.isNaN(ms)) {
      out[offset + j] = NaN;
      continue;
    }
    switch (parts[j]) {
      case "year":
        out[offset + j] = d.getUTCFullYear();
        break;
      case "month":
        out[offset + j] = d.getUTCMonth() + 1;
        break;
      case "day":
        out[offset + j] = d.getUTCDate();
        break;
      case "weekday":
        out[offset + j] = d.getUTCDay();
        break;
      case "hour":
        out[offset + j] = d.getUTCHours();
        break;
    }
  }
}

/** Fits one column's spec from its training values, or says why it is dropped. */
function fitColumn(
  name: string,
  values: ArrayLike<unknown>,
  opts: Required<Omit<PreprocessOptions, "exclude">>,
): ColumnSpec | DroppedColumn {
  const present: unknown[] = [];
  for (let i = 0; i < values.length; i++) if (!isMissing(values[i])) present.push(values[i]);
  const nullable = present.length < values.length;
  if (present.length === 0) return { name, reason: "all values missing" };

  if (present.every((v) => typeof v === "boolean") || present.every(looksBoolean)) {
    const nums = present.map(toBoolean);
    return { name, kind: "boolean", median: median(nums), indicator: nullable, nullable };
  }
  if (present.every(looksNumber)) {
    const nums = present.map(toNumber);
    if (
      opts.dropIdLike && looksIdName(name) && nums.every(Number.isInteger) &&
      new Set(nums).size === nums.length
    ) {
      return { name, reason: "ID-like (unique integers, named like an id)" };
    }
    return { name, kind: "numeric", median: median(nums), indicator: nullable, nullable };
  }
  if (present.every(looksDate)) {
    const ms = present.map(parseDate);
    const hasTime = ms.some((t) => t % 86_400_000 !== 0);
    const parts: DatePart[] = ["year", "month", "day", "weekday", ...(hasTime ? ["hour" as const] : [])];
    const buf = new Float64Array(parts.length);
    const perPart: number[][] = parts.map(() => []);
    for (const t of ms) {
      dateParts(t, parts, buf, 0);
      for (let j = 0; j < parts.length; j++) perPart[j].push(buf[j]);
    }
    return { name, kind: "datetime", parts, medians: perPart.map(median), nullable };
  }
  // categorical
  const counts = new Map<string, number>();
  for (const v of present) {
    const k = categoryOf(v);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  if (opts.dropIdLike && present.length >= 20 && counts.size >= 0.95 * present.length) {
    return { name, reason: `ID-like (${counts.size} distinct values in ${present.length} rows)` };
  }
  const byFreq = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([k]) => k);
  const levels = byFreq.slice(0, opts.maxCategories);
  return {
    name,
    kind: "categorical",
    encoding: opts.encoding,
    levels,
    other: opts.encoding === "onehot" && byFreq.length > levels.length,
    missingLevel: opts.encoding === "onehot" && nullable,
    nullable,
  };
}

/** The output column names a spec produces, in order. */
function specFeatureNames(spec: ColumnSpec): string[] {
  switch (spec.kind) {
    case "numeric":
    case "boolean":
      return spec.indicator ? [spec.name, `${spec.name}.missing`] : [spec.name];
    case "datetime":
      return spec.parts.map((p) => `${spec.name}.${p}`);
    case "categorical":
      if (spec.encoding === "ordinal") return [spec.name];
      return [
        ...spec.levels.map((l) => `${spec.name}=${l}`),
        ...(spec.other ? [`${spec.name}=__other__`] : []),
        ...(spec.missingLevel ? [`${spec.name}=__missing__`] : []),
      ];
  }
}

/** Categorical columns with at most this many levels find a value's level by comparison, not by hash. */
const SCAN_LEVELS = 8;

/** A level's index by comparing it with each level in turn (undefined: not a level). */
function scanFinder(levels: string[]): (t: string) => number | undefined {
  return (t) => {
    for (let i = 0; i < levels.length; i++) if (levels[i] === t) return i;
    return undefined;
  };
}

/** A level's index from a Map of the levels (undefined: not a level). */
function mapFinder(levels: string[]): (t: string) => number | undefined {
  const index = new Map(levels.map((l, i) => [l, i]));
  return (t) => index.get(t);
}

/** Writes one raw value's encoded features into `out` at `offset`. */
type CellEncoder = (value: unknown, out: Float64Array, offset: number) => void;

/**
 * The encoder of one column: the only place a raw value becomes numbers
 * (batch, by-position and single-record transforms all call it). One closure
 * per column, built once, so each call site sees one kind of spec and one
 * shape of value (a spec switch per cell made every cell a polymorphic
 * lookup: 200 ns a cell on the serving path).
 */
function encoderOf(spec: ColumnSpec): CellEncoder {
  switch (spec.kind) {
    case "numeric":
    case "boolean": {
      const { median, indicator } = spec;
      const read = spec.kind === "numeric" ? toNumber : toBoolean;
      return (value, out, offset) => {
        // a number is itself (NaN is missing); anything else is read as at fit time
        const x = typeof value === "number" && spec.kind === "numeric"
          ? value
          : isMissing(value)
          ? NaN
          : read(value);
        const miss = x !== x;
        out[offset] = miss ? median : x;
        if (indicator) out[offset + 1] = miss ? 1 : 0;
      };
    }
    case "datetime": {
      const { parts, medians } = spec;
      return (value, out, offset) => {
        const ms = isMissing(value) ? NaN : parseDate(value);
        dateParts(ms, parts, out, offset);
        if (Number.isNaN(ms)) { for (let j = 0; j < parts.length; j++) out[offset + j] = medians[j]; }
      };
    }
    case "categorical": {
      const levels = spec.levels, nLevels = levels.length;
      // a few levels are found by comparing strings: a Map hashes each value first (a record's text
      // from JSON.parse has no hash yet), which costs more than a handful of comparisons
      const find = nLevels <= SCAN_LEVELS ? scanFinder(levels) : mapFinder(levels);
      /** the level of a value: its index, -1 missing, -2 unseen (text: trimmed once, looked up once) */
      const levelOf = (value: unknown): number => {
        if (typeof value === "string") {
          // a fitted level is never missing text, so a found level is not missing
          const t = value.trim(), i = find(t);
          return i !== undefined ? i : MISSING_TEXT.has(t) ? -1 : -2;
        }
        return isMissing(value) ? -1 : (find(categoryOf(value)) ?? -2);
      };
      if (spec.encoding === "ordinal") {
        return (value, out, offset) => {
          const idx = levelOf(value);
          out[offset] = idx >= 0 ? idx : idx === -1 ? -1 : nLevels; // unseen: one past the levels
        };
      }
      const { other, missingLevel } = spec;
      const width = nLevels + (other ? 1 : 0) + (missingLevel ? 1 : 0);
      return (value, out, offset) => {
        const idx = levelOf(value), miss = idx === -1;
        for (let j = 0; j < width; j++) out[offset + j] = 0;
        if (idx >= 0) out[offset + idx] = 1;
        else if (miss) {
          if (missingLevel) out[offset + width - 1] = 1;
        } else if (other) out[offset + nLevels] = 1; // unseen or beyond the cap
      };
    }
  }
}

/**
 * What in `cols` the fitted columns cannot read, as one line, or null: a column the model needs that is
 * not there, or a present value its kind would read as missing (text in a numeric column, "maybe" in a
 * boolean one, a date that is none). The transform imputes those silently; the service and `deno task
 * predict` refuse them, and so does the library's Model, which calls this first.
 */
export function inputProblem(columns: readonly ColumnSpec[], cols: Columns): string | null {
  const missing = columns.filter((c) => !(c.name in cols)).map((c) => c.name);
  if (missing.length) {
    return `missing column${missing.length > 1 ? "s" : ""} the model needs: ${missing.join(", ")}`;
  }
  const readable: Partial<Record<ColumnSpec["kind"], [string, (v: unknown) => boolean]>> = {
    numeric: ["a number", looksNumber],
    boolean: ["true or false", (v) => !Number.isNaN(toBoolean(v))],
    datetime: ["an ISO 8601 date", (v) => !Number.isNaN(parseDate(v))],
  };
  for (const c of columns) {
    const check = readable[c.kind];
    const values = cols[c.name];
    // a typed array (a numeric DataFrame column) holds numbers only: nothing to look at one by one
    if (!check || (c.kind === "numeric" && ArrayBuffer.isView(values))) continue;
    const bad = firstMisfit(values, check[1]);
    if (bad) {
      return `row ${bad[0]} ${c.name}: expected ${check[0]}, got ${
        JSON.stringify(bad[1])?.slice(0, 60) ?? String(bad[1])
      }`;
    }
  }
  return null;
}

/** The first present value of `values` that `fits` refuses, with its row (1-based), if any. */
export function firstMisfit(
  values: ArrayLike<unknown>,
  fits: (v: unknown) => boolean,
): [number, unknown] | undefined {
  for (let i = 0; i < values.length; i++) {
    if (!isMissing(values[i]) && !fits(values[i])) return [i + 1, values[i]];
  }
  return undefined;
}

export class Preprocessor {
  readonly columns: ColumnSpec[];
  readonly dropped: DroppedColumn[];
  readonly featureNames: string[];
  private readonly offsets: number[];
  private readonly encoders: CellEncoder[];

  private constructor(state: PreprocessState) {
    this.columns = state.columns;
    this.dropped = state.dropped;
    this.featureNames = state.featureNames;
    this.offsets = [];
    let o = 0;
    for (const c of this.columns) {
      this.offsets.push(o);
      o += specFeatureNames(c).length;
    }
    this.encoders = this.columns.map(encoderOf);
  }

  /** Fits on the training table (the target and excluded columns must not be in `cols`, or be listed in exclude). */
  static fit(cols: Columns, options: PreprocessOptions = {}): Preprocessor {
    const opts = {
      encoding: options.encoding ?? "onehot",
      maxCategories: options.maxCategories ?? 20,
      dropIdLike: options.dropIdLike ?? true,
    };
    const exclude = new Set((options.exclude ?? []).map(excludedName));
    const columns: ColumnSpec[] = [];
    const dropped: DroppedColumn[] = [];
    for (const e of options.exclude ?? []) {
      if (typeof e !== "string" && e.name in cols && !dropped.some((d) => d.name === e.name)) {
        dropped.push({ name: e.name, reason: e.reason });
      }
    }
    for (const [name, values] of Object.entries(cols)) {
      if (exclude.has(name)) continue;
      const spec = fitColumn(name, values, opts);
      if ("reason" in spec) dropped.push(spec);
      else columns.push(spec);
    }
    return new Preprocessor({
      version: 1,
      columns,
      dropped,
      featureNames: columns.flatMap(specFeatureNames),
    });
  }

  static fromJSON(state: PreprocessState): Preprocessor {
    if (state?.version !== 1 || !Array.isArray(state.columns)) {
      throw new Error("preprocess.json: unsupported or malformed preprocessing state");
    }
    return new Preprocessor(state);
  }

  toJSON(): PreprocessState {
    return { version: 1, columns: this.columns, dropped: this.dropped, featureNames: this.featureNames };
  }

  get width(): number {
    return this.featureNames.length;
  }

  /** Transforms a table by column; missing input columns read as missing values. */
  transform(cols: Columns, rows: number = rowCount(cols)): Matrix {
    return this.transformByPosition(this.columns.map((spec) => cols[spec.name]), rows);
  }

  /**
   * Transforms columns given by position: `values[c]` holds the raw values of
   * `columns[c]` (absent: missing). The serving path, which knows where each
   * column is and builds no object keyed by name.
   */
  transformByPosition(values: readonly (ArrayLike<unknown> | undefined)[], rows: number): Matrix {
    const w = this.width;
    const data = new Float64Array(rows * w);
    for (let c = 0; c < this.encoders.length; c++) {
      const encode = this.encoders[c], off = this.offsets[c], v = values[c];
      if (v) { for (let i = 0; i < rows; i++) encode(v[i], data, i * w + off); }
      else for (let i = 0; i < rows; i++) encode(undefined, data, i * w + off);
    }
    return matrix(rows, w, data);
  }

  /**
   * Row i of columns given by position (transformByPosition's input) into
   * `out` (width long): one record without allocating its matrix.
   */
  transformRowByPosition(
    values: readonly (ArrayLike<unknown> | undefined)[],
    i: number,
    out: Float64Array,
  ): Float64Array {
    for (let c = 0; c < this.encoders.length; c++) this.encoders[c](values[c]?.[i], out, this.offsets[c]);
    return out;
  }

  /** Transforms one record (the serving path) with the same per-cell code. */
  transformRecord(
    record: Record<string, unknown>,
    out: Float64Array = new Float64Array(this.width),
  ): Float64Array {
    for (let c = 0; c < this.columns.length; c++) {
      this.encoders[c](record[this.columns[c].name], out, this.offsets[c]);
    }
    return out;
  }

  /** Transforms many records into one matrix, row by row through transformRecord. */
  transformRecords(records: Record<string, unknown>[]): Matrix {
    const w = this.width;
    const data = new Float64Array(records.length * w);
    for (let i = 0; i < records.length; i++) {
      this.transformRecord(records[i], data.subarray(i * w, (i + 1) * w));
    }
    return matrix(records.length, w, data);
  }

  /** The input signature: the raw columns a record should have. */
  signatureInputs(): SignatureColumn[] {
    return this.columns.map((c) => ({
      name: c.name,
      kind: c.kind,
      ...(c.kind === "categorical" ? { categories: c.levels } : {}),
      nullable: c.nullable,
    }));
  }

  /** Per encoded feature: the input column it comes from. */
  featureSources(): string[] {
    return this.columns.flatMap((c) => specFeatureNames(c).map(() => c.name));
  }

  /** Per encoded feature: whether it holds a categorical column's ordinal codes (native categorical splits). */
  categoricalFeatures(): boolean[] {
    return this.columns.flatMap((c) =>
      specFeatureNames(c).map(() => c.kind === "categorical" && c.encoding === "ordinal")
    );
  }

  /** Maps per-feature importances back to input columns (sums over a column's features). */
  columnImportances(featureImportances: ArrayLike<number>): { name: string; importance: number }[] {
    return this.columns.map((c, i) => {
      let s = 0;
      const n = specFeatureNames(c).length;
      for (let j = 0; j < n; j++) s += featureImportances[this.offsets[i] + j] ?? 0;
      return { name: c.name, importance: s };
    });
  }
}
