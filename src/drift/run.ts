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
import { resolveUri } from "../registry/loader.ts";
import { storeExists } from "../tracking/store.ts";
import { renderDriftReport } from "./report.ts";
import { detectDrift, type DriftResult, LOG_METADATA } from "./detect.ts";
import { lastLogDay, readInput } from "./load.ts";
import { featureViewSides, type TimeWindow } from "./feature_view.ts";
import { modelFolder } from "../serve/predlog.ts";
import { parseModelUri } from "../registry/uri.ts";
import { type TaskKind, taskKindOfTarget } from "../registry/settings.ts";
import { isNumericDtype } from "./profile.ts";
import { appendSummaryCsv, type DriftJson, toJson, writeInputStats } from "./outputs.ts";
import { measurePerformance, type PerformanceResult } from "./performance.ts";
import { driftRecord, runStem, statsFileOf } from "./naming.ts";
import { linkFrom, recordReport } from "../report/catalog.ts";
import { fmtScore } from "./outputs.ts";

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
  /** a feature view's rows in two time windows as the two sides (instead of reference and current) */
  featureView?: { name: string; reference?: TimeWindow; current?: TimeWindow };
}

export interface DriftRun {
  result: DriftResult;
  json: DriftJson;
  reportPath: string;
  summaryPath: string;
  statsPath: string;
  /** reports/index.html, rebuilt after this run */
  indexPath?: string;
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
): Promise<{ model?: LoadedModel; name?: string; note?: string }> {
  const store = trackingLocation(config);
  if (uri.startsWith("models:") && !storeExists(store)) {
    if (explicit) throw new UserError(`--model ${uri}: no tracking store at ${store}`);
    return { note: `no tracking store at ${store}: no model` };
  }
  try {
    // the service's resolution: registry URIs and artifact directories, checksum-verified
    const target = await resolveUri(uri, { store, modelsDir: config.paths.models });
    // the name the service logs the model under (src/registry/loader.ts registryLoader)
    return { model: loadArtifact(target.dir), name: target.name ?? basename(target.dir) };
  } catch (e) {
    if (explicit && e instanceof UserError) throw new UserError(`--model ${uri}: ${e.message}`);
    return { note: `model ${uri} unavailable: ${(e as Error).message.split("\n")[0]}` };
  }
}

/** The model name the service logs records under for a URI: the registered name, or a path's folder name. */
function servedName(uri: string): string {
  const parsed = parseModelUri(uri);
  return parsed.kind === "path" ? basename(parsed.path.replace(/\/+$/, "")) : parsed.name;
}

export async function runDrift(opts: DriftRunOptions): Promise<DriftRun> {
  const config = opts.config;
  await loadPlugins(config.model.plugins);
  const now = opts.now ?? new Date();
  const runAt = now.toISOString();
  const notes: string[] = [];
  const fv = opts.featureView;
  if (fv && (opts.reference || opts.current)) {
    throw new UserError(
      "--feature-view compares two windows of the view: leave out --reference and --current",
    );
  }
  const sides = fv ? await featureViewSides(config, fv.name, fv.reference, fv.current) : undefined;
  // a feature view is checked on its own, unless a model is named
  const uri = opts.model === undefined
    ? (fv ? null : `models:/${config.registry.model_name}@champion`)
    : opts.model;
  let model: LoadedModel | undefined;
  let loadedName: string | undefined;
  if (uri) {
    const loaded = await tryLoadModel(config, uri, opts.model !== undefined);
    model = loaded.model;
    loadedName = loaded.name;
    if (loaded.note) notes.push(loaded.note);
  }

  // reference
  let referenceSource: string;
  let fromLineage = false;
  if (sides) referenceSource = sides.referenceSource;
  else if (opts.reference) referenceSource = opts.reference;
  else if (model) {
    referenceSource = model.lineage.data.train.path;
    fromLineage = true;
  } else {
    throw new UserError(
      `no reference data: pass --reference, or register a champion model (${notes.at(-1) ?? ""})`,
    );
  }
  let reference = sides?.reference ?? readInput(referenceSource, "reference", undefined, config.data.read);
  if (fromLineage && reference.columns.includes("split")) {
    reference = reference.filter(pl.col("split").eq(pl.lit("train")));
  }

  // current
  let currentSource: string;
  let served: string | undefined, filter: string | undefined;
  if (sides) currentSource = sides.currentSource;
  else if (opts.current) currentSource = opts.current;
  else {
    // the checked model's own records: the service logs one folder per model
    served = loadedName ?? (uri ? servedName(uri) : undefined);
    const day = lastLogDay(config.paths.predictions, served);
    if (!day) {
      const where = served ? `${modelFolder(served)}/date=YYYY-MM-DD/` : "model=<name>/date=YYYY-MM-DD/";
      throw new UserError(`no prediction log under ${config.paths.predictions}/${where}: pass --current`);
    }
    currentSource = day.dir;
    filter = day.filter;
  }
  let current = sides?.current ?? readInput(currentSource, "current", filter, config.data.read);
  if (current.height === 0) {
    throw new UserError(
      filter
        ? `current ${currentSource}: no records of model ${filter} in the log: pass --current`
        : `current ${currentSource}: no rows`,
    );
  }
  if (served && !opts.current && !sides) {
    notes.push(`current: the prediction log of model ${served} (${currentSource})`);
  }

  // the default champion is for the default data: two tables of the user's own that hold none of its
  // inputs are checked on their own, with a note, not reduced to nothing ("no shared columns")
  if (model && opts.model === undefined) {
    const inputs = model.signature.inputs.map((c) => c.name);
    if (!inputs.some((c) => reference.columns.includes(c) && current.columns.includes(c))) {
      notes.push(
        `the tables hold none of ${
          loadedName ?? "the champion"
        }'s inputs: checked on their own (name a model with --model)`,
      );
      model = undefined;
      loadedName = undefined;
    }
  }

  // what is checked comes from the model when there is one: its label, task kind, positive class and inputs
  const target = model?.signature.target.name ?? config.data.target;
  const kind: TaskKind | undefined = model
    ? taskKindOfTarget({ task: model.manifest.task, classes: model.classes })
    : undefined;
  const idColumn = config.data.id_column;
  const exclude = [idColumn, "split", ...(sides?.exclude ?? [])];
  if (model) {
    // only the model's inputs are its features: the label, ids and columns it never saw are not tested
    const inputs = new Set(model.signature.inputs.map((c) => c.name));
    const others = (cols: string[]) =>
      cols.filter((c) => !inputs.has(c) && c !== "prediction" && !LOG_METADATA.includes(c));
    const ignored = others(reference.columns).filter((c) => c !== target && !exclude.includes(c));
    exclude.push(...new Set([...others(reference.columns), ...others(current.columns)]));
    if (ignored.length) {
      notes.push(
        `not inputs of the model, not tested: ${ignored.slice(0, 10).join(", ")}${
          ignored.length > 10 ? ` and ${ignored.length - 10} more` : ""
        }`,
      );
    }
  }
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

  // performance whenever the current data has labels (and a model to compare with)
  let performance: PerformanceResult;
  if (!current.columns.includes(target)) {
    performance = {
      status: "skipped",
      note: `no labels ('${target}') in the current data`,
    };
  } else if (!model) {
    performance = {
      status: "skipped",
      note: `labels ('${target}') present but no model to compare with`,
    };
  } else {
    const predicted = current.columns.includes("prediction")
      ? current.getColumn("prediction").toArray() as unknown[]
      : model.predictRecords(current.toRecords() as Record<string, unknown>[]).map((p) => p.prediction);
    performance = measurePerformance({
      kind: kind!,
      target,
      truth: current.getColumn(target).toArray() as unknown[],
      predicted,
      positive: kind === "binary" ? String(model.positiveClass ?? model.classes?.at(-1) ?? "1") : undefined,
      validation: model.metrics,
      tolerance: config.drift.performance_tolerance,
    });
  }

  // a classifier's prediction is a class, whatever its type: integer labels (0/1/2) are read from the log as
  // numbers and would get a numeric test and histogram; a regressor's stays numeric
  if (kind && kind !== "regression") {
    // each value as its label's text, through JavaScript: 1, 1.0 and "1" are all class "1" (polars casts 1.0 to "1.0")
    const asClass = (df: pl.DataFrame) => {
      if (!df.columns.includes("prediction")) return df;
      const values = (df.getColumn("prediction").toArray() as unknown[]).map((v) =>
        v == null ? null : String(v)
      );
      return df.withColumns(pl.Series("prediction", values, pl.Utf8));
    };
    reference = asClass(reference);
    current = asClass(current);
  }
  const result = detectDrift(reference, current, {
    config: config.drift,
    exclude,
    target,
    currentMetadata: LOG_METADATA,
  });
  result.notes.unshift(...notes);

  const reportDir = opts.output ?? config.paths.reports;
  const modelName = model && uri ? loadedName ?? servedName(uri) : undefined;
  const stem = runStem(
    reportDir,
    config.paths.monitoring,
    modelName ?? (fv ? `view_${fv.name}` : undefined),
    now,
  );
  const reportPath = join(reportDir, `${stem}.html`);
  const statsPath = join(config.paths.monitoring, statsFileOf(stem));
  const perfLines = performance.metrics
    ? Object.entries(performance.metrics).map(([k, m]) =>
      `${k}: ${fmtScore(m.current)} now` +
      (m.validation === null ? " (no validation value)" : ` vs ${fmtScore(m.validation)} at validation`) +
      (m.degraded ? " — DEGRADED" : "")
    )
    : [];
  const modelInfo = model && uri ? { uri, name: modelName!, target, kind: kind! } : undefined;
  writeTextAtomic(
    reportPath,
    renderDriftReport(result, {
      title: `Drift report${modelName ? ` ${modelName}` : ""} ${runAt.replace(/\.\d+Z$/, "Z")}`,
      reference: referenceSource,
      current: currentSource,
      runAt,
      ...(modelInfo ? { model: modelInfo } : {}),
      performance: {
        note: performance.status === "skipped" ? `Not measured: ${performance.note}.` : performance.note,
        lines: perfLines,
      },
    }),
  );
  const summaryPath = join(config.paths.monitoring, "drift_summary.csv");
  appendSummaryCsv(summaryPath, runAt, result.columns, modelName ?? (fv ? `view_${fv.name}` : undefined));
  writeInputStats(statsPath, runAt, currentSource, result);
  // the report's record, then the index of every report in the folder
  const indexPath = recordReport(
    reportDir,
    driftRecord(result, performance, {
      file: `${stem}.html`,
      created: runAt,
      model: modelName ?? null,
      links: [{ label: "input stats", href: linkFrom(reportDir, statsPath) }],
    }),
  );
  return {
    result,
    json: toJson(result, reportPath, performance, {
      index: indexPath,
      ...(modelInfo ? { model: modelInfo } : {}),
    }),
    reportPath,
    summaryPath,
    statsPath,
    indexPath,
    referenceSource,
    currentSource,
  };
}
