/**
 * One drift run end to end, as a function the task, the scheduler and tests
 * call: resolve the inputs (defaults: the champion's training rows vs the last
 * day of the prediction log), detect, measure performance when labels are
 * present, and write the report, the summary CSV and the input stats.
 */
import pl from "nodejs-polars";
import { basename, join } from "node:path";
import { UserError } from "../core/errors.ts";
import type { Config } from "../config/schema.ts";
import { trackingLocation } from "../config/paths.ts";
import { loadPlugins } from "../models/engines/registry.ts";
import { writeTextAtomic } from "../core/atomic.ts";
import { loadArtifact, type LoadedModel } from "../models/artifact.ts";
import { accuracy, f1, precision, recall } from "../models/metrics.ts";
import { resolveUri } from "../registry/loader.ts";
import { storeExists } from "../tracking/store.ts";
import { renderDriftReport } from "./report.ts";
import { detectDrift, type DriftResult, LOG_METADATA } from "./detect.ts";
import { lastLogDay, readInput } from "./load.ts";
import { modelFolder } from "../serve/predlog.ts";
import { parseModelUri } from "../registry/uri.ts";
import { isNumericDtype } from "./profile.ts";
import {
  appendSummaryCsv,
  type DriftJson,
  type PerformanceResult,
  toJson,
  writeInputStats,
} from "./outputs.ts";

export interface DriftRunOptions {
  config: Config;
  /** reference table (file or directory); default: the champion's training data */
  reference?: string;
  /** current table (file or directory); default: the last day of the prediction log */
  current?: string;
  /** report directory (default config paths.reports) */
  output?: string;
  /** model URI for prediction drift and performance; default models:/<registry.model_name>@champion; null: none */
  model?: string | null;
  /** the run time (tests pin it) */
  now?: Date;
}

export interface DriftRun {
  result: DriftResult;
  json: DriftJson;
  reportPath: string;
  summaryPath: string;
  statsPath: string;
  referenceSource: string;
  currentSource: string;
}

/** Rows of the reference scored for prediction drift at most (a seeded sample beyond). */
const MAX_SCORED_ROWS = 50_000;

/**
 * The model to score with. The default champion may be missing (drift then
 * reports on inputs only, with a note); a model the user named with --model
 * must load, so a tampered or unknown one is the user's error (exit 2).
 */
async function tryLoadModel(
  config: Config,
  uri: string,
  explicit: boolean,
): Promise<{ model?: LoadedModel; note?: string }> {
  const store = trackingLocation(config);
  if (uri.startsWith("models:") && !storeExists(store)) {
    if (explicit) throw new UserError(`--model ${uri}: no tracking store at ${store}`);
    return { note: `no tracking store at ${store}: no model` };
  }
  try {
    // the service's resolution: registry URIs and artifact directories, checksum-verified
    return { model: loadArtifact((await resolveUri(uri, { store, modelsDir: config.paths.models })).dir) };
  } catch (e) {
    if (explicit && e instanceof UserError) throw new UserError(`--model ${uri}: ${e.message}`);
    return { note: `model ${uri} unavailable: ${(e as Error).message.split("\n")[0]}` };
  }
}

const labelsOf = (s: pl.Series) => (s.toArray() as unknown[]).map((v) => (v === null ? null : String(v)));

/** Accuracy, precision, recall and F1 on current labels vs the model's validation metrics. */
function measurePerformance(
  truth: (string | null)[],
  predicted: (string | null)[],
  positive: string,
  validation: Record<string, number>,
  tolerance: number,
): PerformanceResult {
  const y: number[] = [], p: number[] = [];
  for (let i = 0; i < truth.length; i++) {
    if (truth[i] === null || predicted[i] === null) continue;
    y.push(truth[i] === positive ? 1 : 0);
    p.push(predicted[i] === positive ? 1 : 0);
  }
  if (y.length === 0) return { status: "skipped", note: "no rows with both a label and a prediction" };
  const current: Record<string, number> = {
    accuracy: accuracy(y, p),
    precision: precision(y, p),
    recall: recall(y, p),
    f1: f1(y, p),
  };
  const metrics: NonNullable<PerformanceResult["metrics"]> = {};
  for (const [k, v] of Object.entries(current)) {
    const ref = validation[k];
    if (typeof ref !== "number") continue;
    metrics[k] = { current: v, validation: ref, degraded: v < ref - tolerance };
  }
  if (Object.keys(metrics).length === 0) {
    return {
      status: "skipped",
      note: "the model's metrics.json has none of accuracy, precision, recall, f1",
    };
  }
  const degraded = Object.values(metrics).some((m) => m.degraded);
  return {
    status: "measured",
    note: `${y.length} labelled rows; degraded when more than ${tolerance} below validation`,
    metrics,
    degraded,
  };
}

/** The model name the service logs records under for a URI: the registered name, or a path's folder name. */
function servedName(uri: string): string {
  const parsed = parseModelUri(uri);
  return parsed.kind === "path" ? basename(parsed.path.replace(/\/+$/, "")) : parsed.name;
}

function today(now: Date): string {
  return now.toISOString().slice(0, 10);
}

export async function runDrift(opts: DriftRunOptions): Promise<DriftRun> {
  const config = opts.config;
  await loadPlugins(config.model.plugins);
  const now = opts.now ?? new Date();
  const runAt = now.toISOString();
  const notes: string[] = [];
  const uri = opts.model === undefined ? `models:/${config.registry.model_name}@champion` : opts.model;
  let model: LoadedModel | undefined;
  if (uri) {
    const loaded = await tryLoadModel(config, uri, opts.model !== undefined);
    model = loaded.model;
    if (loaded.note) notes.push(loaded.note);
  }

  // reference
  let referenceSource: string;
  let fromLineage = false;
  if (opts.reference) referenceSource = opts.reference;
  else if (model) {
    referenceSource = model.lineage.data.train.path;
    fromLineage = true;
  } else {
    throw new UserError(
      `no reference data: pass --reference, or register a champion model (${notes.at(-1) ?? ""})`,
    );
  }
  let reference = readInput(referenceSource, "reference");
  if (fromLineage && reference.columns.includes("split")) {
    reference = reference.filter(pl.col("split").eq(pl.lit("train")));
  }

  // current
  let currentSource: string;
  let served: string | undefined, filter: string | undefined;
  if (opts.current) currentSource = opts.current;
  else {
    // the checked model's own records: the service logs one folder per model
    served = uri ? servedName(uri) : undefined;
    const day = lastLogDay(config.paths.predictions, served);
    if (!day) {
      const where = served ? `${modelFolder(served)}/date=YYYY-MM-DD/` : "model=<name>/date=YYYY-MM-DD/";
      throw new UserError(`no prediction log under ${config.paths.predictions}/${where}: pass --current`);
    }
    currentSource = day.dir;
    filter = day.filter;
  }
  const current = readInput(currentSource, "current", filter);
  if (current.height === 0) {
    throw new UserError(
      filter
        ? `current ${currentSource}: no records of model ${filter} in the log: pass --current`
        : `current ${currentSource}: no rows`,
    );
  }
  if (served && !opts.current) {
    notes.push(`current: the prediction log of model ${served} (${currentSource})`);
  }

  const target = config.data.target;
  const idColumn = config.data.id_column;
  // prediction drift: score the reference with the model when the current side has predictions
  if (model && current.columns.includes("prediction") && !reference.columns.includes("prediction")) {
    const scored = reference.height > MAX_SCORED_ROWS
      ? reference.sample({ n: MAX_SCORED_ROWS, seed: 0 })
      : reference;
    const preds = model.predictRecords(scored.toRecords() as Record<string, unknown>[]).map((p) =>
      p.prediction
    );
    const asText = preds.map((v) => String(v));
    const curPred = current.getColumn("prediction");
    const curNumeric = isNumericDtype(curPred.dtype);
    const series = curNumeric ? pl.Series("prediction", asText.map(Number)) : pl.Series("prediction", asText);
    reference = scored.withColumns(series);
  }

  // performance when labels are present in the current data
  let performance: PerformanceResult | undefined;
  if (current.columns.includes(target)) {
    if (!model) {
      performance = { status: "skipped", note: "labels present but no model: performance not measured" };
    } else {
      const truth = labelsOf(current.getColumn(target));
      const predicted = current.columns.includes("prediction")
        ? labelsOf(current.getColumn("prediction"))
        : model.predictRecords(current.toRecords() as Record<string, unknown>[]).map((p) =>
          String(p.prediction)
        );
      const positive = String(model.positiveClass ?? model.classes?.at(-1) ?? "1");
      performance = measurePerformance(
        truth,
        predicted,
        positive,
        model.metrics,
        config.drift.performance_tolerance,
      );
    }
  }

  const result = detectDrift(reference, current, {
    config: config.drift,
    exclude: [idColumn, "split"],
    target,
    currentMetadata: LOG_METADATA,
  });
  result.notes.unshift(...notes);
  if (performance?.status === "skipped") result.notes.push(`performance: ${performance.note}`);

  const date = today(now);
  const reportDir = opts.output ?? config.paths.reports;
  const reportPath = join(reportDir, `drift_${date}.html`);
  const perfLines = performance?.metrics
    ? Object.entries(performance.metrics).map(([k, m]) =>
      `${k}: ${m.current.toFixed(4)} now vs ${m.validation.toFixed(4)} at validation${
        m.degraded ? " — DEGRADED" : ""
      }`
    )
    : [];
  writeTextAtomic(
    reportPath,
    renderDriftReport(result, {
      reference: referenceSource,
      current: currentSource,
      runAt,
      performance: { lines: perfLines },
    }),
  );
  const summaryPath = join(config.paths.monitoring, "drift_summary.csv");
  appendSummaryCsv(summaryPath, runAt, result.columns);
  const statsPath = join(config.paths.monitoring, `input_stats_${date}.json`);
  writeInputStats(statsPath, runAt, currentSource, result);
  return {
    result,
    json: toJson(result, reportPath, performance),
    reportPath,
    summaryPath,
    statsPath,
    referenceSource,
    currentSource,
  };
}
