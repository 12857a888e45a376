/**
 * Batch scoring for `deno task predict`: a file in, a file out, through the
 * same model resolution, validation and predictRecords as the service. The
 * output is the input plus `prediction` and one `probability_<class>` column
 * per class. With `explain`, each record also gets its SHAP base value and its
 * `top` largest contributions as flat columns (one row stays one row, and a
 * spreadsheet reads them as they are):
 *
 *   shap_base_value, shap_top1_column, shap_top1_value, shap_top1_contribution, ...shap_top<N>_*
 *
 * `_value` is the record's value of the column as text (empty when missing),
 * and a record with fewer contributing columns leaves the later ones empty.
 */
import pl from "nodejs-polars";
import { UserError } from "../core/errors.ts";
import { isFolder } from "../core/fs_errors.ts";
import { writeFrameAtomic } from "../core/atomic.ts";
import { type ReadSettings, readTable } from "../data/io.ts";
import { prepare } from "./holder.ts";
import { HttpError } from "./http.ts";
import { registryLoader } from "../registry/loader.ts";
import { isRegressor, scoreRecords } from "./scoring.ts";
import { DEFAULT_TOP, explainRecords, explainRefusal, MAX_TOP } from "./explain.ts";
import type { ExplainScale } from "../models/types.ts";

export interface PredictFileOptions {
  modelUri: string;
  input: string;
  output: string;
  store: string;
  modelsDir: string;
  /** records scored per call (bounds memory) */
  chunk?: number;
  /** add each record's SHAP base value and top contributions (shap_* columns) */
  explain?: boolean;
  /** with explain: contributions per record (default 5) */
  explainTop?: number;
  /** how the input file is read (params.yaml data.read), as train --data reads it */
  read?: ReadSettings;
  /** replace an existing output that is not an earlier prediction output (one with a `prediction` column) */
  overwrite?: boolean;
}

export interface PredictFileResult {
  model: string;
  version: string;
  input: string;
  output: string;
  rows: number;
  /** predicted class -> count (classification; empty for a regressor) */
  counts: Record<string, number>;
  /** a regressor's predicted values: their range and mean */
  values?: { min: number; mean: number; max: number };
  seconds: number;
  /** with explain: contributions per record, and the scale they are on */
  explained?: { top: number; scale: ExplainScale };
}

function plain(v: unknown): unknown {
  if (typeof v === "bigint") return Number(v);
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
  if (typeof v === "number" && Number.isNaN(v)) return null;
  return v;
}

export async function predictFile(opts: PredictFileOptions): Promise<PredictFileResult> {
  const t0 = performance.now();
  const top = opts.explainTop ?? DEFAULT_TOP;
  if (!(Number.isInteger(top) && top >= 1 && top <= MAX_TOP)) {
    throw new UserError(`explain top: expected a whole number from 1 to ${MAX_TOP}, got ${top}`);
  }
  guardOutput(opts);
  const m = prepare(await registryLoader({ store: opts.store, modelsDir: opts.modelsDir })(opts.modelUri));
  const refusal = opts.explain ? explainRefusal(m) : null;
  if (refusal) throw new UserError(refusal);
  const df = readTable(opts.input, { read: opts.read });
  const columns = df.columns;
  const names = m.validator.columns.map((c) => c.name);
  const missing = names.filter((n) => !columns.includes(n));
  if (missing.length) {
    throw new UserError(
      `${opts.input}: missing column${missing.length > 1 ? "s" : ""} the model needs: ${missing.join(", ")}`,
    );
  }
  const added = new Set(["prediction", ...m.classLabels.map((c) => `probability_${c}`)]);
  const taken = columns.filter((c) => added.has(c) || (opts.explain && c.startsWith("shap_")));
  if (taken.length) {
    throw new UserError(
      `${opts.input}: column${taken.length > 1 ? "s" : ""} ${
        taken.join(", ")
      } would be replaced by the scores; ` +
        "rename or drop them first",
    );
  }
  const chunk = opts.chunk ?? 10_000;
  const labels: unknown[] = [];
  const probs = new Map<string, number[]>(m.classLabels.map((c) => [c, []]));
  const counts: Record<string, number> = {};
  const regressor = isRegressor(m);
  const src = names.map((n) => df.getColumn(n).toArray() as unknown[]);
  const shap = opts.explain ? new ShapColumns(top) : undefined;
  for (let start = 0; start < df.height; start += chunk) {
    const end = Math.min(df.height, start + chunk);
    const raw = new Array<Record<string, unknown>>(end - start);
    for (let i = start; i < end; i++) {
      const rec: Record<string, unknown> = {};
      for (let j = 0; j < names.length; j++) rec[names[j]] = plain(src[j][i]);
      raw[i - start] = rec;
    }
    let predictions, records;
    try {
      ({ predictions, records } = scoreRecords(m, raw, chunk));
    } catch (e) {
      if (e instanceof HttpError && e.details?.length) {
        const shown = e.details.slice(0, 5).map((d) =>
          `row ${(d.record ?? 0) + start + 1} ${d.field}: ${d.message}`
        );
        throw new UserError(
          `${opts.input}: ${e.details.length}${e.details.length >= 100 ? "+" : ""} invalid values: ${
            shown.join("; ")
          }`,
        );
      }
      throw e;
    }
    for (const p of predictions) {
      labels.push(p.prediction);
      // a class count per distinct value would be one entry per row of a regressor
      if (!regressor) {
        const key = String(p.prediction);
        counts[key] = (counts[key] ?? 0) + 1;
      }
      for (const [cls, arr] of probs) arr.push(p.probabilities?.[cls] ?? NaN);
    }
    shap?.add(explainRecords(m, records, top));
  }
  const extra = [
    // integer class labels stay integers (polars would infer Float64 from JS numbers); a value stays a float
    regressor
      ? pl.Series("prediction", labels as number[], pl.Float64)
      : labels.every((l) => Number.isInteger(l))
      ? pl.Series("prediction", labels as number[], pl.Int64)
      : pl.Series("prediction", labels as (string | number | boolean)[]),
    ...[...probs].map(([cls, arr]) => pl.Series(`probability_${cls}`, arr, pl.Float64)),
    ...(shap?.series() ?? []),
  ];
  const out = df.withColumns(...extra);
  writeFrameAtomic(out, opts.output);
  return {
    model: m.name,
    version: m.version,
    input: opts.input,
    output: opts.output,
    rows: df.height,
    counts,
    ...(regressor ? { values: valueSummary(labels as number[]) } : {}),
    seconds: (performance.now() - t0) / 1000,
    ...(shap ? { explained: { top, scale: shap.scale ?? "value" } } : {}),
  };
}

function realPath(path: string): string | undefined {
  try {
    return Deno.realPathSync(path);
  } catch {
    return undefined;
  }
}

/** The columns of an existing table file, read from its header or schema (not its rows where it can). */
function columnsOf(path: string): string[] {
  const ext = path.toLowerCase().split(".").pop();
  try {
    if (ext === "parquet") return pl.scanParquet(path).columns;
    if (ext === "csv") return pl.scanCSV(path).columns;
    if (ext === "ndjson" || ext === "jsonl") return pl.scanJson(path).columns;
    return readTable(path).columns;
  } catch {
    return []; // unreadable as a table: certainly not an earlier output
  }
}

/**
 * Refuses, before the model loads, an output that would destroy data: the input
 * itself, a folder, or an existing file that no earlier predict wrote (it has no
 * `prediction` column) unless `overwrite`. Re-running predict onto its own
 * earlier output replaces it, as a user expects.
 */
function guardOutput(opts: PredictFileOptions): void {
  const target = realPath(opts.output);
  if (target === undefined) return; // a new file
  if (target === realPath(opts.input)) {
    throw new UserError(`output ${opts.output} is the input file; write the scores to another file`);
  }
  if (isFolder(target)) {
    throw new UserError(`output ${opts.output} is a folder; name a file`);
  }
  if (!opts.overwrite && !columnsOf(opts.output).includes("prediction")) {
    throw new UserError(
      `output ${opts.output} exists and is not an earlier prediction output (no prediction column); ` +
        "pass --overwrite to replace it",
    );
  }
}

/** The shap_* output columns, filled a chunk of explanations at a time. */
class ShapColumns {
  scale: ExplainScale | undefined;
  private readonly base: number[] = [];
  private readonly column: (string | null)[][];
  private readonly value: (string | null)[][];
  private readonly contribution: (number | null)[][];

  constructor(private readonly top: number) {
    this.column = Array.from({ length: top }, () => []);
    this.value = Array.from({ length: top }, () => []);
    this.contribution = Array.from({ length: top }, () => []);
  }

  add(explanations: ReturnType<typeof explainRecords>): void {
    for (const e of explanations) {
      this.scale ??= e.scale;
      this.base.push(e.base_value);
      for (let k = 0; k < this.top; k++) {
        const c = e.top[k];
        this.column[k].push(c ? c.column : null);
        this.value[k].push(c && c.value !== null ? String(c.value) : null);
        this.contribution[k].push(c ? c.contribution : null);
      }
    }
  }

  series(): pl.Series[] {
    const out: pl.Series[] = [pl.Series("shap_base_value", this.base, pl.Float64)];
    for (let k = 0; k < this.top; k++) {
      const at = `shap_top${k + 1}`;
      out.push(
        pl.Series(`${at}_column`, this.column[k], pl.Utf8),
        pl.Series(`${at}_value`, this.value[k], pl.Utf8),
        pl.Series(`${at}_contribution`, this.contribution[k], pl.Float64),
      );
    }
    return out;
  }
}

/** min, mean and max of a regressor's predictions (NaN-free: a prediction is always a number). */
function valueSummary(values: number[]): { min: number; mean: number; max: number } {
  let min = Infinity, max = -Infinity, sum = 0;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  return values.length ? { min, mean: sum / values.length, max } : { min: NaN, mean: NaN, max: NaN };
}
