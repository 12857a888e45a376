/**
 * A feature view's rows, read lazily from its source (Parquet or CSV, then its
 * SQL query or TypeScript transform) into one shape the joins rely on: the join
 * key, `__ts` and `__created` as epoch milliseconds (Int64), and the features
 * cast to their declared types. A source that lacks a declared column (it was
 * renamed or dropped upstream) is a user error naming the view, the file and
 * the column, found from the schema alone, before any row is read.
 */
import pl from "nodejs-polars";
import { extname } from "node:path";
import { UserError, UserErrors } from "../core/errors.ts";
import type { Definitions, FeatureType, FeatureView } from "./definitions.ts";

export const TS = "__ts";
export const CREATED = "__created";

const POLARS_TYPE: Record<FeatureType, pl.DataType> = {
  float64: pl.Float64,
  int64: pl.Int64,
  string: pl.Utf8,
  bool: pl.Bool,
};

export function polarsType(t: FeatureType): pl.DataType {
  return POLARS_TYPE[t];
}

/**
 * A CSV source, its text columns kept as text: polars infers "00042" and "01234" as the integers 42 and
 * 1234, so the view's string-typed columns (a string join key, string features) are read as Utf8.
 */
function scanCsv(path: string, text: Set<string>): pl.LazyDataFrame {
  const inferred = pl.scanCSV(path);
  if (text.size === 0) return inferred;
  const schema = inferred.limit(0).collectSync().schema as Record<string, pl.DataType>;
  if (!Object.keys(schema).some((c) => text.has(c))) return inferred;
  const full: Record<string, pl.DataType> = {};
  for (const [c, t] of Object.entries(schema)) full[c] = text.has(c) ? pl.Utf8 : t;
  return pl.scanCSV(path, { schema: full } as Parameters<typeof pl.scanCSV>[1]);
}

/** The view's columns that are text by its definition: its string features, and its key when the entity's is a string. */
function textColumns(defs: Definitions, view: FeatureView): Set<string> {
  const entity = defs.entities.get(view.entity);
  return new Set([
    ...view.features.filter((f) => f.dtype === "string").map((f) => f.name),
    ...(entity && entity.dtype !== "int64" ? [entity.join_key] : []),
  ]);
}

function scan(defs: Definitions, view: FeatureView): pl.LazyDataFrame {
  const { path } = view.source;
  const format = view.source.format ?? (extname(path).toLowerCase() === ".csv" ? "csv" : "parquet");
  let exists = true;
  if (!/[*?[]/.test(path)) {
    try {
      Deno.statSync(path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) exists = false;
      else throw e;
    }
  }
  if (!exists) throw new UserError(`feature view ${view.name}: source ${path} does not exist`);
  let lf = format === "csv" ? scanCsv(path, textColumns(defs, view)) : pl.scanParquet(path);
  if (view.source.query) {
    try {
      lf = pl.SQLContext({ source: lf }).execute(view.source.query);
    } catch (e) {
      throw new UserError(`feature view ${view.name}: source.query: ${String(e).split("\n")[0]}`);
    }
  }
  if (view.transform) lf = view.transform(lf);
  return lf;
}

/** The schema of a lazy frame (no rows read). */
export function schemaOf(lf: pl.LazyDataFrame): Record<string, pl.DataType> {
  return lf.limit(0).collectSync().schema as Record<string, pl.DataType>;
}

/**
 * How a time finer than a millisecond becomes epoch ms: a label's (the time a row is "as of") down, a
 * feature row's (the time its value became known) up, so a value 0.4 ms after a label is never joined to it.
 */
export type MsRounding = "floor" | "ceil";

/** A Datetime expression of `unit` as whole epoch ms, rounded by `rounding` (exact: Int64 arithmetic only). */
function wholeMs(dt: pl.Expr, unit: string | undefined, rounding: MsRounding): pl.Expr {
  const ms = dt.cast(pl.Datetime("ms")).cast(pl.Int64);
  const perMs = unit === "ns" ? 1_000_000 : unit === "us" ? 1000 : 1;
  if (perMs === 1) return ms;
  // what the cast to ms dropped (its sign depends on how the cast rounds: either way is handled)
  // (Int64 literals: a JS number is a Float64 literal, which would make the sums inexact floats)
  const int = (n: number) => pl.lit(n).cast(pl.Int64);
  const rest = dt.cast(pl.Int64).minus(ms.mul(int(perMs)));
  return rounding === "ceil"
    ? pl.when(rest.gt(int(0))).then(ms.plus(int(1))).otherwise(ms)
    : pl.when(rest.lt(int(0))).then(ms.minus(int(1))).otherwise(ms);
}

// polars parses to µs (digits past the sixth are cut), then to ms as the rounding says
const isoMs = (c: pl.Expr, fmt: string, rounding: MsRounding) =>
  wholeMs(c.str.strptime(pl.Datetime("ms"), fmt).cast(pl.Datetime("us")), "us", rounding);

const DATE = "\\d{4}-\\d{2}-\\d{2}";
/** date-times as normalized below: `T`, seconds always, then nothing or a `+hh:mm` zone */
const PLAIN_TIME = `^${DATE}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?$`;
const ZONED_TIME = `^${DATE}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?[+-]\\d{2}:\\d{2}$`;

/**
 * ISO 8601 text to epoch ms. polars' strptime matches a prefix ("%Y-%m-%d" reads
 * "2024-03-01T10:00" as midnight, "%Y-%m-%dT%H:%M" drops a "+02:00"), so each
 * value is first brought to one of three whole shapes (space to T, seconds
 * added, Z and +hhmm to +hh:mm) and parsed by the one format that shape has;
 * text of none of them is null.
 */
function isoText(c: pl.Expr, rounding: MsRounding = "floor"): pl.Expr {
  const t = c.str.replace(`^(${DATE}) `, "${1}T")
    .str.replace(`^(${DATE}T\\d{2}:\\d{2})($|[Zz+-])`, "${1}:00${2}")
    .str.replace("[Zz]$", "+00:00")
    .str.replace("([+-]\\d{2})(\\d{2})$", "${1}:${2}");
  return pl.when(t.str.contains(ZONED_TIME)).then(isoMs(t, "%+", rounding))
    .when(t.str.contains(PLAIN_TIME)).then(isoMs(t, "%Y-%m-%dT%H:%M:%S%.f", rounding))
    .when(t.str.contains(`^${DATE}$`)).then(
      t.str.strptime(pl.Date, "%Y-%m-%d").cast(pl.Datetime("ms")).cast(pl.Int64),
    )
    .otherwise(pl.lit(null).cast(pl.Int64));
}

/** An expression turning a timestamp column of any supported type into epoch milliseconds (Int64). */
export function epochMs(
  column: string,
  dtype: pl.DataType,
  what: string,
  rounding: MsRounding = "floor",
): pl.Expr {
  const c = pl.col(column);
  switch (dtype.variant) {
    case "Datetime":
      return wholeMs(c, (dtype as { timeUnit?: string }).timeUnit, rounding);
    case "Date":
      return c.cast(pl.Datetime("ms")).cast(pl.Int64);
    case "Int8":
    case "Int16":
    case "Int32":
    case "Int64":
    case "UInt8":
    case "UInt16":
    case "UInt32":
    case "UInt64":
      return c.cast(pl.Int64);
    case "Utf8":
    case "String":
      // ISO 8601 with a zone, without one (T or a space; UTC), or a date; a string none fits is null
      return isoText(c, rounding);
    default:
      throw new UserError(
        `${what}: column ${column} is ${dtype.variant}, not a timestamp (datetime, date, ISO string or epoch ms)`,
      );
  }
}

/** How many rows of a text timestamp column plan samples: enough to see a column that holds no timestamps. */
const TIME_SAMPLE_ROWS = 10_000;

/**
 * A view's text timestamp columns whose values are not ISO 8601 (a wrong column, 03/01/2024), one line
 * each: their rows would be dropped from every join and materialization without a word. Read from a
 * sample of rows, so plan and apply check it (checkSources), not every read of the view. An empty value is
 * a row skipped, as a null. Call it on a view whose schema has no problems (sourceProblems).
 */
export function timestampProblems(defs: Definitions, view: FeatureView): string[] {
  const lf = scan(defs, view);
  const schema = schemaOf(lf);
  const out: string[] = [];
  for (const c of [view.timestamp_field, view.created_timestamp_field]) {
    const bad = c ? unreadableTimes(lf, view, c, schema[c]) : null;
    if (bad) out.push(bad);
  }
  return out;
}

function unreadableTimes(
  lf: pl.LazyDataFrame,
  view: FeatureView,
  column: string,
  dtype: pl.DataType,
): string | null {
  if (dtype.variant !== "Utf8" && dtype.variant !== "String") return null;
  const sample = lf.select(pl.col(column).alias("t"))
    .filter(pl.col("t").isNotNull().and(pl.col("t").str.strip().neq(pl.lit(""))))
    .limit(TIME_SAMPLE_ROWS).collectSync();
  if (sample.height === 0) return null;
  const bad = sample.filter(isoText(pl.col("t")).isNull());
  if (bad.height === 0) return null;
  const example = String(bad.getColumn("t").get(0));
  return `feature view ${view.name}: ${bad.height} of ${sample.height} values of ${column} ${
    sample.height === TIME_SAMPLE_ROWS ? "sampled " : ""
  }are not timestamps (ISO 8601, e.g. 2024-03-01T10:00:00Z), such as '${example.slice(0, 40)}'`;
}

/**
 * A view's features whose sampled source values its declared dtype cannot hold, one line each: the cast
 * that reads the view turns them into nulls (text under int64) or drops their fractions (1.5 under
 * int64), and training would drop the feature as all missing without a word. Sampled like the
 * timestamps, by plan and apply; call it on a view whose schema has no problems (sourceProblems).
 */
export function dtypeProblems(defs: Definitions, view: FeatureView): string[] {
  const lf = scan(defs, view);
  const schema = schemaOf(lf);
  const out: string[] = [];
  for (const f of view.features) {
    if (f.dtype === "string") continue; // any value reads as text
    const source = pl.col(f.name);
    const cast = source.cast(POLARS_TYPE[f.dtype]);
    const lost = f.dtype === "int64" && /^Float/.test(schema[f.name].variant)
      ? source.neq(source.floor()) // a fraction the int64 cast would truncate
      : cast.isNull();
    const bad = lf.select(source.alias("v"), lost.alias("lost"))
      .filter(pl.col("v").isNotNull()).limit(TIME_SAMPLE_ROWS)
      .filter(pl.col("lost")).collectSync();
    if (bad.height === 0) continue;
    const variant = schema[f.name].variant;
    const holds = variant === "Utf8" || variant === "String" ? "text (str)" : variant;
    out.push(
      `feature view ${view.name}: feature ${f.name} is declared ${f.dtype} but source column '${f.name}' ` +
        `holds ${holds} such as '${String(bad.getColumn("v").get(0)).slice(0, 40)}'; declare its dtype as ` +
        `${variant === "Utf8" || variant === "String" ? "string" : "float64"} or fix the source`,
    );
  }
  return out;
}

/** Problems with a view's source schema, one line each (empty when it fits the definition). */
export function sourceProblems(defs: Definitions, view: FeatureView): string[] {
  let schema: Record<string, pl.DataType>;
  try {
    schema = schemaOf(scan(defs, view));
  } catch (e) {
    if (e instanceof UserError) return [e.message];
    return [
      `feature view ${view.name}: cannot read source ${view.source.path} (${String(e).split("\n")[0]})`,
    ];
  }
  const key = defs.entities.get(view.entity)!.join_key;
  const need: [string, string][] = [
    [key, "its join key"],
    [view.timestamp_field, "its timestamp_field"],
    ...(view.created_timestamp_field
      ? [[view.created_timestamp_field, "its created_timestamp_field"] as [string, string]]
      : []),
    ...view.features.map((f) => [f.name, `feature ${f.name}`] as [string, string]),
  ];
  const problems = need.filter(([c]) => !(c in schema)).map(([c, what]) =>
    `feature view ${view.name}: source ${view.source.path} has no column '${c}' (${what})`
  );
  for (const c of [view.timestamp_field, view.created_timestamp_field]) {
    if (c && c in schema) {
      try {
        epochMs(c, schema[c], `feature view ${view.name}`);
      } catch (e) {
        problems.push((e as Error).message);
      }
    }
  }
  return problems;
}

/**
 * The view's rows as [join key, __ts, __created, ...features] (Int64 ms
 * timestamps, features cast to their types), lazily. `__created` is 0 where
 * the view has no created timestamp (every row ties; the event timestamp decides).
 */
export function readView(defs: Definitions, view: FeatureView, features?: string[]): pl.LazyDataFrame {
  const problems = sourceProblems(defs, view);
  if (problems.length) throw new UserErrors(problems);
  const lf = scan(defs, view);
  const schema = schemaOf(lf);
  const key = defs.entities.get(view.entity)!.join_key;
  const keyType = defs.entities.get(view.entity)!.dtype === "int64" ? pl.Int64 : pl.Utf8;
  const wanted = features ?? view.features.map((f) => f.name);
  const types = new Map(view.features.map((f) => [f.name, f.dtype]));
  return lf.select(
    pl.col(key).cast(keyType),
    // a value is known from its event time on: rounded up, so no label before it sees it
    epochMs(view.timestamp_field, schema[view.timestamp_field], `feature view ${view.name}`, "ceil").alias(
      TS,
    ),
    view.created_timestamp_field
      ? epochMs(
        view.created_timestamp_field,
        schema[view.created_timestamp_field],
        `feature view ${view.name}`,
      )
        .alias(CREATED)
      : pl.lit(0).cast(pl.Int64).alias(CREATED),
    ...wanted.map((f) => pl.col(f).cast(POLARS_TYPE[types.get(f)!])),
  );
}
