/**
 * Batch scoring for `deno task predict`: a file in, a file out, through the
 * same model resolution, validation and predictRecords as the service. The
 * output is the input plus `prediction` and one `probability_<class>` column
 * per class.
 */
import pl from "nodejs-polars";
import { UserError } from "../core/errors.ts";
import { writeFrameAtomic } from "../core/atomic.ts";
import { readTable } from "../data/io.ts";
import { prepare } from "./holder.ts";
import { HttpError } from "./http.ts";
import { registryLoader } from "../registry/loader.ts";
import { scoreRecords } from "./scoring.ts";

export interface PredictFileOptions {
  modelUri: string;
  input: string;
  output: string;
  store: string;
  modelsDir: string;
  /** records scored per call (bounds memory) */
  chunk?: number;
}

export interface PredictFileResult {
  model: string;
  version: string;
  input: string;
  output: string;
  rows: number;
  /** predicted class -> count (classification) */
  counts: Record<string, number>;
  seconds: number;
}

function plain(v: unknown): unknown {
  if (typeof v === "bigint") return Number(v);
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
  if (typeof v === "number" && Number.isNaN(v)) return null;
  return v;
}

export async function predictFile(opts: PredictFileOptions): Promise<PredictFileResult> {
  const t0 = performance.now();
  const m = prepare(await registryLoader({ store: opts.store, modelsDir: opts.modelsDir })(opts.modelUri));
  const df = readTable(opts.input);
  const columns = df.columns;
  const names = m.validator.columns.map((c) => c.name);
  const missing = names.filter((n) => !columns.includes(n));
  if (missing.length) {
    throw new UserError(
      `${opts.input}: missing column${missing.length > 1 ? "s" : ""} the model needs: ${missing.join(", ")}`,
    );
  }
  const chunk = opts.chunk ?? 10_000;
  const labels: unknown[] = [];
  const probs = new Map<string, number[]>(m.classLabels.map((c) => [c, []]));
  const counts: Record<string, number> = {};
  const src = names.map((n) => df.getColumn(n).toArray() as unknown[]);
  for (let start = 0; start < df.height; start += chunk) {
    const end = Math.min(df.height, start + chunk);
    const raw = new Array<Record<string, unknown>>(end - start);
    for (let i = start; i < end; i++) {
      const rec: Record<string, unknown> = {};
      for (let j = 0; j < names.length; j++) rec[names[j]] = plain(src[j][i]);
      raw[i - start] = rec;
    }
    let predictions;
    try {
      ({ predictions } = scoreRecords(m, raw, chunk));
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
      const key = String(p.prediction);
      counts[key] = (counts[key] ?? 0) + 1;
      for (const [cls, arr] of probs) arr.push(p.probabilities?.[cls] ?? NaN);
    }
  }
  const extra = [
    // integer class labels stay integers (polars would infer Float64 from JS numbers)
    labels.every((l) => Number.isInteger(l))
      ? pl.Series("prediction", labels as number[], pl.Int64)
      : pl.Series("prediction", labels as (string | number | boolean)[]),
    ...[...probs].map(([cls, arr]) => pl.Series(`probability_${cls}`, arr, pl.Float64)),
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
    seconds: (performance.now() - t0) / 1000,
  };
}
