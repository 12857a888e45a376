/**
 * Validates and cleans one raw source against its declared schema, as polars
 * expressions collected once: every row is either kept (typed, trimmed,
 * categories lower-cased, duplicates by key dropped) or rejected with the first
 * reason it breaks. Nothing is dropped silently: kept + rejected = rows in.
 */
import pl from "nodejs-polars";
import { UserError } from "../core/errors.ts";
import { type ColumnSpec, DATE_FORMAT, DATE_PATTERN, type SourceSchema } from "./schemas.ts";

export interface SchemaViolation {
  column: string;
  /** "missing column" | "unexpected column" | "malformed" | "non-numeric" | "non-integer" | "negative" | "below minimum" | "unknown level" | "invalid binary" */
  check: string;
  rows: number;
}

export interface SourceReport {
  path: string;
  rows_in: number;
  kept: number;
  rejected: number;
  rejected_by_reason: Record<string, number>;
  /** share of missing values per kept column, after cleaning */
  missing_share: Record<string, number>;
  schema_violations: SchemaViolation[];
}

export interface ValidateResult {
  /** typed, cleaned rows (schema columns only, in schema order) */
  kept: pl.DataFrame;
  /** the raw (text) columns of every rejected row, plus `reason` */
  rejected: pl.DataFrame;
  report: SourceReport;
}

/** Extra per-row checks run after the schema's, e.g. "is this customer known". */
export interface ExtraCheck {
  /** true where the row fails; evaluated on the cleaned (typed) columns */
  fails: pl.Expr;
  reason: string;
}

const RAW = (name: string) => `__raw_${name}`;
const PRESENT = (name: string) => `__present_${name}`;
const CHECK = (i: number) => `__check_${i}`;
const REASON = "reason";

function isTextual(dtype: pl.DataType): boolean {
  return String(dtype) === "String" || String(dtype) === "Utf8";
}

/** The cleaned (typed) expression of one column, from its raw text. */
function cleanExpr(spec: ColumnSpec): pl.Expr {
  const text = pl.col(RAW(spec.name)).str.strip();
  // empty after trimming means missing
  const t = pl.when(text.str.lengths().eq(0)).then(pl.lit(null)).otherwise(text);
  switch (spec.type) {
    case "string":
      return t.alias(spec.name);
    case "category":
      return t.str.toLowerCase().alias(spec.name);
    case "number":
      return t.cast(pl.Float64, false).alias(spec.name);
    case "integer":
    case "binary":
      // parse as a float, check integrality in the reasons, then cast
      return t.cast(pl.Float64, false).alias(spec.name);
    case "date":
      // strptime alone accepts "17-05-2023" as year 17: demand the ISO shape first
      return pl.when(t.str.contains(DATE_PATTERN)).then(t.str.strptime(pl.Date, DATE_FORMAT))
        .otherwise(pl.lit(null).cast(pl.Date)).alias(spec.name);
  }
}

/** Every check of the schema, column by column: [fails, reason, column, check name]. */
function schemaChecks(schema: SourceSchema): { checks: [pl.Expr, string, string, string][] } {
  // [fails, reason, column, check]
  const checks: [pl.Expr, string, string, string][] = [];
  for (const spec of schema.columns) {
    const rawPresent = pl.col(PRESENT(spec.name));
    const v = pl.col(spec.name);
    if (spec.required) checks.push([rawPresent.not(), `missing ${spec.name}`, spec.name, "missing"]);
    switch (spec.type) {
      case "date":
        checks.push([rawPresent.and(v.isNull()), `malformed ${spec.name}`, spec.name, "malformed"]);
        break;
      case "number":
      case "integer":
      case "binary":
        checks.push([rawPresent.and(v.isNull()), `non-numeric ${spec.name}`, spec.name, "non-numeric"]);
        if (spec.type === "integer") {
          checks.push([
            v.isNotNull().and(v.floor().neq(v)),
            `non-integer ${spec.name}`,
            spec.name,
            "non-integer",
          ]);
        }
        if (spec.type === "binary") {
          checks.push([
            v.isNotNull().and(v.eq(0).or(v.eq(1)).not()),
            `invalid ${spec.name}`,
            spec.name,
            "invalid binary",
          ]);
        }
        if (spec.min !== undefined) {
          const check = spec.min === 0 ? "negative" : "below minimum";
          checks.push([v.isNotNull().and(v.lt(spec.min)), `${check} ${spec.name}`, spec.name, check]);
        }
        break;
      case "category":
        if (spec.levels) {
          checks.push([
            v.isNotNull().and(v.isIn([...spec.levels]).not()),
            `unknown ${spec.name}`,
            spec.name,
            "unknown level",
          ]);
        }
        break;
      case "string":
        break;
    }
  }
  return { checks };
}

function whenChain(checks: [pl.Expr, string][]): pl.Expr {
  if (checks.length === 0) return pl.lit(null).cast(pl.Utf8);
  // deno-lint-ignore no-explicit-any
  let chain: any = pl.when(checks[0][0]).then(pl.lit(checks[0][1]));
  for (const [fails, reason] of checks.slice(1)) chain = chain.when(fails).then(pl.lit(reason));
  return (chain.otherwise(pl.lit(null).cast(pl.Utf8)) as pl.Expr).cast(pl.Utf8);
}

function finalType(spec: ColumnSpec): pl.Expr {
  const c = pl.col(spec.name);
  if (spec.type === "integer" || spec.type === "binary") return c.cast(pl.Int64);
  return c;
}

export interface ValidateOptions {
  path: string;
  /** checks after the schema's (in order), before duplicates */
  extra?: ExtraCheck[];
}

/**
 * Validates `raw` (any column types: all are read as text first) against
 * `schema`. Throws UserError naming the file when a required column is absent.
 */
export function validateSource(
  raw: pl.DataFrame,
  schema: SourceSchema,
  opts: ValidateOptions,
): ValidateResult {
  const present = new Set(raw.columns);
  const missingRequired = schema.columns.filter((c) => c.required && !present.has(c.name)).map((c) => c.name);
  if (missingRequired.length) {
    const list = missingRequired.map((c) => `'${c}'`).join(", ");
    throw new UserError(
      `${opts.path}: missing required column${missingRequired.length > 1 ? "s" : ""} ${list}`,
    );
  }
  const structural: SchemaViolation[] = [];
  const known = new Set(schema.columns.map((c) => c.name));
  for (const c of raw.columns) {
    if (!known.has(c)) structural.push({ column: c, check: "unexpected column", rows: raw.height });
  }
  for (const c of schema.columns) {
    if (!present.has(c.name)) structural.push({ column: c.name, check: "missing column", rows: raw.height });
  }

  const rawCols = schema.columns.map((c) =>
    present.has(c.name)
      ? (isTextual(raw.getColumn(c.name).dtype) ? pl.col(c.name) : pl.col(c.name).cast(pl.Utf8)).alias(
        RAW(c.name),
      )
      : pl.lit(null).cast(pl.Utf8).alias(RAW(c.name))
  );
  const { checks } = schemaChecks(schema);
  const extra = opts.extra ?? [];
  // every check is computed once, as a boolean column; reason = the first that fails
  const flags: [pl.Expr, string][] = [
    ...checks.map(([fails, reason]) => [fails, reason] as [pl.Expr, string]),
    ...extra.map((e) => [e.fails, e.reason] as [pl.Expr, string]),
  ];
  const lf = raw.lazy()
    .select(...rawCols)
    .withColumns(
      ...schema.columns.map(cleanExpr),
      ...schema.columns.map((c) => {
        const r = pl.col(RAW(c.name));
        return r.isNotNull().and(r.str.strip().str.lengths().gt(0)).alias(PRESENT(c.name));
      }),
    )
    .withColumns(...flags.map(([fails], i) => fails.fillNull(false).alias(CHECK(i))))
    .withColumns(whenChain(flags.map(([, reason], i) => [pl.col(CHECK(i)), reason])).alias(REASON));
  let all = lf.collectSync();
  if (schema.key && all.height > 0) {
    const key = pl.col(schema.key);
    // distinct count is cheap; the first-occurrence pass runs only when some key repeats
    const distinct = Number(all.select(key.nUnique().alias("n")).getColumn("n").toArray()[0]);
    if (distinct < all.height) {
      // among rows that pass every check, a key seen before is a duplicate
      const keyed = pl.when(pl.col(REASON).isNull()).then(key).otherwise(pl.lit(null));
      all = all.withColumns(
        pl.when(pl.col(REASON).isNull().and(keyed.isFirstDistinct().not()))
          .then(pl.lit(`duplicate ${schema.key}`))
          .otherwise(pl.col(REASON))
          .alias(REASON),
      );
    }
  }
  // violation counts per check (every failing value, not only each row's first reason)
  const counted = checks.map((c, i) => [c, i] as const).filter(([[, , , check]]) => check !== "missing");
  const schemaViolations: SchemaViolation[] = [...structural];
  if (counted.length) {
    const sums = all.select(...counted.map(([, i]) => pl.col(CHECK(i)).cast(pl.Int64).sum().alias(CHECK(i))))
      .toRecords()[0] as Record<string, number>;
    for (const [[, , column, check], i] of counted) {
      const n = Number(sums[CHECK(i)]);
      if (n > 0) schemaViolations.push({ column, check, rows: n });
    }
  }

  const kept = all.filter(pl.col(REASON).isNull()).select(...schema.columns.map(finalType));
  const rejected = all.filter(pl.col(REASON).isNotNull()).select(
    ...schema.columns.map((c) => pl.col(RAW(c.name)).alias(c.name)),
    pl.col(REASON),
  );
  const byReason: Record<string, number> = {};
  if (rejected.height) {
    const counts = rejected.groupBy(REASON).agg(pl.len().alias("n")).sort(REASON);
    const rs = counts.getColumn(REASON).toArray() as string[];
    const ns = counts.getColumn("n").toArray() as number[];
    rs.forEach((r, i) => (byReason[r] = Number(ns[i])));
  }
  return {
    kept,
    rejected,
    report: {
      path: opts.path,
      rows_in: raw.height,
      kept: kept.height,
      rejected: rejected.height,
      rejected_by_reason: byReason,
      missing_share: missingShare(kept),
      schema_violations: schemaViolations,
    },
  };
}

/** Share of nulls per column (0 for an empty frame). */
export function missingShare(df: pl.DataFrame): Record<string, number> {
  if (df.height === 0) return Object.fromEntries(df.columns.map((c) => [c, 0]));
  const row = df.select(...df.columns.map((c) => pl.col(c).isNull().cast(pl.Float64).mean().alias(c)))
    .toRecords()[0] as Record<string, number>;
  return Object.fromEntries(df.columns.map((c) => [c, Number(row[c])]));
}

/**
 * Casts an already-clean text table (e.g. prep's CSV outputs read back as
 * text) to the schema's types. Columns not in the schema are kept as they are.
 */
export function castToSchema(df: pl.DataFrame, schema: SourceSchema): pl.DataFrame {
  const specs = new Map(schema.columns.map((c) => [c.name, c]));
  return df.select(...df.columns.map((name) => {
    const spec = specs.get(name);
    const col = pl.col(name);
    if (!spec) return col;
    const dtype = String(df.getColumn(name).dtype);
    const text = dtype === "String" || dtype === "Utf8";
    switch (spec.type) {
      case "number":
        return col.cast(pl.Float64);
      case "integer":
      case "binary":
        return col.cast(pl.Float64).cast(pl.Int64);
      case "date":
        return text ? col.str.strptime(pl.Date, DATE_FORMAT).alias(name) : col.cast(pl.Date);
      default:
        return text ? col : col.cast(pl.Utf8);
    }
  }));
}
