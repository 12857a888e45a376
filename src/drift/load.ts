/**
 * Reading the two sides of a drift check: any table file (CSV, JSON, NDJSON,
 * Parquet) or a directory of them, with the prediction log's nested `inputs`
 * flattened into columns. Large CSVs go straight to polars' multi-threaded
 * reader; on any failure the shared readTable produces the one-line error.
 */
import pl from "nodejs-polars";
import { join } from "node:path";
import { UserError } from "../core/errors.ts";
import { formatOf, MISSING_TOKENS, readTable } from "../data/io.ts";

const TABLE_EXT = /\.(csv|tsv|json|ndjson|jsonl|parquet|pq)$/i;

/** Table files under a directory (recursive, sorted by path). */
function tableFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of [...Deno.readDirSync(d)].sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(d, e.name);
      if (e.isDirectory) walk(p);
      else if (e.isFile && TABLE_EXT.test(e.name) && !e.name.includes(".tmp-")) out.push(p);
    }
  };
  walk(dir);
  return out;
}

function readOne(path: string): pl.DataFrame {
  if (formatOf(path) === "csv" && !path.toLowerCase().endsWith(".tsv")) {
    try {
      const info = Deno.statSync(path);
      if (info.isFile && info.size > 0) {
        const df = pl.readCSV(path, {
          nullValues: MISSING_TOKENS,
          inferSchemaLength: 10_000,
          hasHeader: true,
        });
        if (df.width > 1) return df;
      }
    } catch { /* fall through: readTable explains what is wrong */ }
  }
  return readTable(path);
}

/** Flattens prediction-log records: `inputs.*` become columns, `probabilities` is dropped. */
function flattenLog(df: pl.DataFrame): pl.DataFrame {
  let out = df;
  if (
    out.columns.includes("inputs") &&
    String(out.getColumn("inputs").dtype).replace(/^DataType\(/, "").startsWith("Struct")
  ) {
    const inner = out.select(pl.col("inputs")).unnest("inputs").columns;
    const clash = inner.filter((c) => c !== "inputs" && out.columns.includes(c));
    if (clash.length) out = out.drop(clash);
    out = out.unnest("inputs");
  }
  if (out.columns.includes("probabilities")) out = out.drop("probabilities");
  return out;
}

/** Reads a file or every table file of a directory into one frame (columns unioned). */
export function readInput(path: string, label: string): pl.DataFrame {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new UserError(`${label} ${path}: file not found`);
    throw new UserError(`${label} ${path}: cannot read (${(e as Error).message.split(":")[0]})`);
  }
  let df: pl.DataFrame;
  if (info.isDirectory) {
    const files = tableFiles(path);
    if (files.length === 0) {
      throw new UserError(`${label} ${path}: no .csv/.json/.ndjson/.parquet files in directory`);
    }
    const frames = files.map((f) => flattenLog(readOne(f)));
    try {
      df = frames.length === 1 ? frames[0] : pl.concat(frames, { how: "diagonalRelaxed" });
    } catch (e) {
      throw new UserError(
        `${label} ${path}: files do not share compatible columns (${String(e).split("\n")[0]})`,
      );
    }
  } else {
    df = flattenLog(readOne(path));
  }
  return df;
}

/** The newest `date=YYYY-MM-DD` partition of the prediction log, or undefined. */
export function lastLogDay(predictionsDir: string): { date: string; dir: string } | undefined {
  let days: string[];
  try {
    days = [...Deno.readDirSync(predictionsDir)]
      .filter((e) => e.isDirectory && /^date=\d{4}-\d{2}-\d{2}$/.test(e.name))
      .map((e) => e.name)
      .sort();
  } catch {
    return undefined;
  }
  for (let i = days.length - 1; i >= 0; i--) {
    const dir = join(predictionsDir, days[i]);
    if (tableFiles(dir).length) return { date: days[i].slice(5), dir };
  }
  return undefined;
}
