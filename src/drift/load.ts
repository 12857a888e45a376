/**
 * Reading the two sides of a drift check: any table file (CSV, JSON, NDJSON,
 * Parquet) or a directory of them, with the prediction log's nested `inputs`
 * flattened into columns. Every file goes through the shared readTable, so a
 * CSV is read by the same rules (data.read: delimiter, decimal mark,
 * thousands, encoding) as train --data and predict --input read it.
 *
 * The service logs one folder per model (model=<name>/date=<day>/, see
 * src/serve/predlog.ts), so the default current side of a drift check is the
 * last day of the checked model's folder. A log written before that layout
 * (date=<day>/ at the top, every model's records together) is still read: its
 * rows are filtered to the model, and the input columns only other models had
 * (all null once filtered) are dropped.
 */
import pl from "nodejs-polars";
import { join } from "node:path";
import { UserError } from "../core/errors.ts";
import { type ReadSettings, readTable } from "../data/io.ts";
import { modelFolder } from "../serve/predlog.ts";

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

function readOne(path: string, read: ReadSettings | undefined): pl.DataFrame {
  return readTable(path, { read });
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

/** A prediction-log file's rows of one model (by its `model` column), or the frame as it is without one. */
function onlyModel(df: pl.DataFrame, model: string | undefined): pl.DataFrame {
  if (model === undefined || !df.columns.includes("model")) return df;
  return df.filter(pl.col("model").cast(pl.Utf8).eq(pl.lit(model)));
}

/** Drops the columns no row has a value in: in a filtered legacy log, the inputs of other models. */
function dropEmptyInputs(df: pl.DataFrame, before: Set<string>): pl.DataFrame {
  if (df.height === 0) return df;
  const empty = df.columns.filter((c) => !before.has(c) && df.getColumn(c).nullCount() === df.height);
  return empty.length ? df.drop(empty) : df;
}

/**
 * Reads a file or every table file of a directory into one frame (columns
 * unioned). With `model`, only that model's rows of a prediction log.
 */
export function readInput(
  path: string,
  label: string,
  model?: string,
  read?: ReadSettings,
): pl.DataFrame {
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
    const frames = files.map((f) => flattenOne(readOne(f, read), model));
    try {
      df = frames.length === 1 ? frames[0] : pl.concat(frames, { how: "diagonalRelaxed" });
    } catch (e) {
      throw new UserError(
        `${label} ${path}: files do not share compatible columns (${String(e).split("\n")[0]})`,
      );
    }
  } else {
    df = flattenOne(readOne(path, read), model);
  }
  return df;
}

function flattenOne(raw: pl.DataFrame, model: string | undefined): pl.DataFrame {
  if (model === undefined) return flattenLog(raw);
  const kept = onlyModel(raw, model);
  return dropEmptyInputs(flattenLog(kept), new Set(kept.columns));
}

/** The newest `date=YYYY-MM-DD` partition with table files directly under `dir`, or undefined. */
function lastDayUnder(dir: string): { date: string; dir: string } | undefined {
  let days: string[];
  try {
    days = [...Deno.readDirSync(dir)]
      .filter((e) => e.isDirectory && /^date=\d{4}-\d{2}-\d{2}$/.test(e.name))
      .map((e) => e.name)
      .sort();
  } catch {
    return undefined;
  }
  for (let i = days.length - 1; i >= 0; i--) {
    const day = join(dir, days[i]);
    if (tableFiles(day).length) return { date: days[i].slice(5), dir: day };
  }
  return undefined;
}

/**
 * The newest day of the prediction log for `model`: its own folder
 * (model=<name>/date=<day>), else the older layout's top-level date=<day>,
 * whose rows then need filtering by model (`filter` says so). Without a
 * model: the top-level days, else the only model folder there is.
 */
export function lastLogDay(
  predictionsDir: string,
  model?: string,
): { date: string; dir: string; filter?: string } | undefined {
  if (model !== undefined) {
    const own = lastDayUnder(join(predictionsDir, modelFolder(model)));
    if (own) return own;
    const legacy = lastDayUnder(predictionsDir);
    return legacy && { ...legacy, filter: model };
  }
  const legacy = lastDayUnder(predictionsDir);
  if (legacy) return legacy;
  let folders: string[] = [];
  try {
    folders = [...Deno.readDirSync(predictionsDir)].filter((e) =>
      e.isDirectory && e.name.startsWith("model=")
    )
      .map((e) => e.name);
  } catch { /* no log */ }
  return folders.length === 1 ? lastDayUnder(join(predictionsDir, folders[0])) : undefined;
}
