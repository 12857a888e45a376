/**
 * The reading rules for delimited text, shared by every reader of a CSV
 * (train --data, predict --input, drift's two sides through io.ts readTable,
 * and the service's text/csv body through the plain-JS helpers at the end), so
 * a file that one command accepts every other command reads the same way.
 *
 * - Delimiter: set, or detected from the first lines (comma, semicolon, tab,
 *   pipe: the candidate found the same number of times, outside quotes, in
 *   most lines; the most frequent such one wins; a `.tsv` file is tab).
 * - Numbers in text columns: a column polars left as text is read as numbers
 *   when at least `numeric_share` (default 95%) of its non-missing cells are
 *   numbers under one format (decimal mark `.` or `,`, optional thousands
 *   separator `,` `.` space `'` in groups of three). The cells that are not
 *   numbers become missing and are reported (count and examples); a column
 *   under the share stays text (categorical).
 * - Decimal mark (auto): decided once per file, by the columns whose values
 *   only parse with one of the two marks ("2,5", "1.234,56" vote for comma);
 *   on a tie, comma in a semicolon file and point otherwise.
 */
import pl from "nodejs-polars";
import {
  DEFAULT_NUMERIC_SHARE,
  delimiterName,
  formatPattern,
  formatsFor,
  type NumberFormat,
  type ReadSettings,
} from "./csv_text.ts";

export {
  configuredDelimiter,
  DEFAULT_NUMERIC_SHARE,
  delimiterName,
  detectDelimiter,
  MISSING_TOKENS,
  numberFromText,
  type ReadSettings,
  splitCsvText,
} from "./csv_text.ts";

const isText = (dt: pl.DataType) => /^(DataType\()?(String|Utf8)\)?$/.test(String(dt));

export interface TypedColumns {
  df: pl.DataFrame;
  /** report lines (one per finding), for stderr */
  notes: string[];
  /** the decimal mark the file was read with */
  decimal: "." | ",";
}

/** How many of a text column's cells match each format (one pass of polars expressions). */
function matchCounts(df: pl.DataFrame, names: string[], formats: NumberFormat[]): number[][] {
  if (names.length === 0) return [];
  const exprs = names.flatMap((n, i) =>
    formats.map((f, j) =>
      pl.col(n).str.strip().str.contains(formatPattern(f)).cast(pl.UInt32).sum().alias(`m${i}_${j}`)
    )
  );
  const row = df.select(...exprs).row(0) as unknown[];
  return names.map((_, i) => formats.map((_, j) => Number(row[i * formats.length + j] ?? 0)));
}

const quoteCell = (v: unknown) => JSON.stringify(String(v));

/**
 * Reads as numbers the text columns that are numbers (at least the numeric
 * share of their non-missing cells, under one format), with thousands
 * separators and a decimal comma; cells that are not numbers become missing.
 * `where` names the file in the report lines.
 */
export function typeTextColumns(
  df: pl.DataFrame,
  s: ReadSettings,
  where: string,
  delimiter = ",",
): TypedColumns {
  const share = s.numeric_share ?? DEFAULT_NUMERIC_SHARE;
  const textCols = df.columns.filter((c) => isText(df.getColumn(c).dtype));
  // no evidence: polars' own reading (point decimals) stands
  const fallback: "." | "," = s.decimal === "," ? "," : ".";
  if (textCols.length === 0 || df.height === 0) return { df, notes: [], decimal: fallback };
  const nonMissing = new Map(textCols.map((c) => [c, df.height - df.getColumn(c).nullCount()]));
  // a cheap look at the first rows first: most text columns are plainly text
  const head = df.head(2_000);
  const all: NumberFormat[] = [
    { thousands: null, decimal: "." },
    { thousands: ",", decimal: "." },
    { thousands: null, decimal: "," },
    { thousands: ".", decimal: "," },
    ...(s.thousands && !["auto", "none", ",", "."].includes(s.thousands)
      ? [{ thousands: s.thousands, decimal: "." as const }, { thousands: s.thousands, decimal: "," as const }]
      : []),
  ];
  const headCounts = matchCounts(head, textCols, all);
  const plausible = textCols.filter((c, i) => {
    const n = head.height - head.getColumn(c).nullCount();
    return n > 0 && Math.max(...headCounts[i]) >= 0.5 * n;
  });
  if (plausible.length === 0) return { df, notes: [], decimal: fallback };
  const counts = matchCounts(df, plausible, all);
  const idx = (f: NumberFormat) =>
    all.findIndex((a) => a.thousands === f.thousands && a.decimal === f.decimal);

  // the decimal mark of the file: the columns that only parse with one of the two vote
  let decimal: "." | ",";
  if (s.decimal === "." || s.decimal === ",") decimal = s.decimal;
  else {
    let comma = 0, point = 0;
    for (const c of counts) {
      const p = Math.max(...formatsFor(s, ".").map((f) => c[idx(f)] ?? 0));
      const q = Math.max(...formatsFor(s, ",").map((f) => c[idx(f)] ?? 0));
      if (q > p) comma++;
      else if (p > q) point++;
    }
    decimal = comma > point ? "," : point > comma ? "." : delimiter === ";" ? "," : ".";
  }
  const formats = formatsFor(s, decimal);

  const notes: string[] = [];
  const exprs: pl.Expr[] = [];
  const grouped = new Map<string, string[]>();
  for (let i = 0; i < plausible.length; i++) {
    const name = plausible[i];
    let best = formats[0], bestN = -1;
    for (const f of formats) {
      const n = counts[i][idx(f)] ?? 0;
      if (n > bestN) [best, bestN] = [f, n]; // strictly more: the plainer format wins a tie
    }
    const total = nonMissing.get(name)!;
    if (bestN <= 0 || bestN < share * total) continue;
    // whole numbers only (each cell a number with either mark, no separator): nothing to report
    if ((counts[i][0] ?? 0) >= bestN && (counts[i][2] ?? 0) >= bestN) best = all[0];
    const pattern = formatPattern(best);
    let e = pl.col(name).str.strip();
    if (best.thousands !== null) e = e.str.replaceAll(best.thousands, "", true);
    if (best.decimal === ",") e = e.str.replace(",", ".", true);
    exprs.push(
      pl.when(pl.col(name).str.strip().str.contains(pattern)).then(e.cast(pl.Float64, false)).otherwise(
        pl.lit(null).cast(pl.Float64),
      ).alias(name),
    );
    if (best.thousands !== null || best.decimal === ",") {
      const key = [
        best.decimal === "," ? "a decimal comma" : "",
        best.thousands !== null ? `thousands separator ${delimiterName(best.thousands)}` : "",
      ].filter(Boolean).join(" and ");
      grouped.set(key, [...(grouped.get(key) ?? []), name]);
    }
    if (bestN < total) {
      const bad = df.select(pl.col(name)).filter(
        pl.col(name).isNotNull().and(pl.col(name).str.strip().str.contains(pattern).not()),
      ).getColumn(name);
      const examples = (bad.unique({ maintainOrder: true }).head(3).toArray() as unknown[]).map(quoteCell);
      const badN = total - bestN;
      notes.push(
        `${where}: column '${name}' is numeric except ${badN} of ${total} values, read as missing (e.g. ${
          examples.join(", ")
        })`,
      );
    }
  }
  if (grouped.size) {
    const found = [...grouped].map(([what, cols]) => `${what} in ${cols.join(", ")}`).join("; ");
    notes.unshift(
      `${where}: read numbers with ${found} (set data.read.decimal / data.read.thousands to change)`,
    );
  }
  if (exprs.length === 0) return { df, notes, decimal };
  return { df: df.withColumns(...exprs), notes, decimal };
}
