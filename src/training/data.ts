/**
 * Training data: the train and validation tables, from a feature service
 * joined point-in-time with a label table (training_set, feature_set.ts), the
 * configured feature data with its split column, or any file plus an optional
 * validation file, else a seeded stratified split. Files are read by the shared reader with the
 * config's data.read settings (src/data/io.ts), as predict and drift read them.
 */
import { join } from "node:path";
import type pl from "nodejs-polars";
import { UserError } from "../core/errors.ts";
import { log as stderrLog } from "../core/progress.ts";
import type { Config } from "../config/schema.ts";
import { type ReadSettings, readTable } from "../data/io.ts";
import { SPLIT_COLUMN } from "../data/split.ts";
import { FEATURES_FILE } from "../config/paths.ts";
import { fileSha256 } from "../core/digest.ts";
import type { DataDigest } from "../models/artifact.ts";
import { SplitError, splitStrata, trainValidationSplit } from "../models/cv.ts";
import {
  type Columns,
  type Exclusion,
  firstMisfit,
  isMissing,
  looksDate,
  looksNumber,
  takeRows,
} from "../models/preprocess/index.ts";
import { tableColumns } from "../models/model.ts";
import { type FeatureSet, loadFeatureSet } from "./feature_set.ts";

export interface TableData {
  columns: Columns;
  rows: number;
  digest: DataDigest;
}

export interface TrainingData {
  train: TableData;
  validation: TableData;
  target: string;
  /** columns never used as model inputs (id, split), each with the reason it is listed as dropped under */
  exclude: Exclusion[];
  /** how the validation rows were chosen */
  source: "features" | "file+validation" | "split" | "feature_service";
  /** a feature service's training set: the joined rows and their lineage (the run records them) */
  featureSet?: FeatureSet;
  /**
   * boosting on a feature set: the training rows split by entity into the rows fitted and the
   * rows early stopping scores (a row-level holdout would score entities it trains on)
   */
  earlyStopping?: { fit: Columns; holdout: Columns };
}

export interface DataOptions {
  /** a CSV/Parquet/JSON file; default: <paths.features>/customer_features.parquet with its split column */
  data?: string;
  /** default: config.data.target */
  target?: string;
  /** a separate validation file (otherwise a seeded stratified split of `data`) */
  validation?: string;
  /** train on this feature service joined with training_set.labels (default training_set.feature_service, unless --data) */
  featureService?: string;
  /** messages on stderr (default true) */
  verbose?: boolean;
}

/**
 * The training data the options and config describe: a feature service's
 * point-in-time training set when one is named (--feature-service, or
 * training_set.feature_service without --data), else loadTrainingData.
 */
export async function loadTrainingInput(config: Config, opts: DataOptions = {}): Promise<TrainingData> {
  if (opts.featureService && opts.data) {
    throw new UserError("--feature-service and --data are two sources of training rows: give one");
  }
  const service = opts.featureService ??
    (opts.data ? undefined : config.training_set.feature_service ?? undefined);
  if (!service) return loadTrainingData(config, opts);
  const t0 = performance.now();
  const set = await loadFeatureSet(config, { featureService: service, target: opts.target });
  const { counts, feature_views: views, labels } = set.lineage;
  if (opts.verbose !== false) {
    stderrLog(
      `training set: feature service ${service} (${
        Object.entries(views).map(([v, n]) => `${v} v${n}`).join(", ")
      }) as of ${labels.path}'s ${labels.timestamp}: ${counts.entity_rows} label rows, ${counts.rows_with_features} with features, ${counts.rows_missing_features} missing some (${
        set.lineage.missing === "drop" ? "dropped" : "kept"
      }); ${set.lineage.split.train_entities} train / ${set.lineage.split.validation_entities} validation entities (${labels.entity_key}; ${
        ((performance.now() - t0) / 1000).toFixed(2)
      } s)`,
    );
  }
  if (config.model.cv_folds >= 2 && opts.verbose !== false) {
    stderrLog(
      `model.cv_folds = ${config.model.cv_folds}: its folds are by row, so an entity's cut-offs fall in several ` +
        "folds and the cross-validation scores are optimistic; the validation rows are split by entity",
    );
  }
  const cols = tableColumns(set.frame);
  const split = cols[SPLIT_COLUMN];
  const tr: number[] = [], va: number[] = [];
  for (let i = 0; i < set.frame.height; i++) (split[i] === "validation" ? va : tr).push(i);
  let earlyStopping: TrainingData["earlyStopping"];
  if (config.model.algorithm === "boosting" && set.earlyStoppingHoldout) {
    const hold = set.earlyStoppingHoldout;
    const fitRows = tr.filter((i) => !hold[i]), holdRows = tr.filter((i) => hold[i]);
    if (fitRows.length && holdRows.length) {
      earlyStopping = { fit: takeRows(cols, fitRows), holdout: takeRows(cols, holdRows) };
    }
  }
  // the digests point at the label table until the run writes the joined rows (recordFeatureSet)
  const digest = { path: set.lineage.labels.path, sha256: set.lineage.labels.sha256 };
  return {
    train: { columns: takeRows(cols, tr), rows: tr.length, digest: { ...digest, rows: tr.length } },
    validation: { columns: takeRows(cols, va), rows: va.length, digest: { ...digest, rows: va.length } },
    target: set.lineage.labels.label,
    exclude: set.exclude,
    source: "feature_service",
    featureSet: set,
    ...(earlyStopping ? { earlyStopping } : {}),
  };
}

function readForTraining(
  path: string,
  target: string,
  read: ReadSettings | undefined,
): { df: pl.DataFrame; digest: DataDigest } {
  const df = readTable(path, { read });
  if (!df.columns.includes(target)) {
    const shown = df.columns.slice(0, 12).join(", ") + (df.columns.length > 12 ? ", ..." : "");
    throw new UserError(`${path}: target column '${target}' not found (columns: ${shown})`);
  }
  return { df, digest: { path, sha256: fileSha256(path), rows: df.height } };
}

/** The configured id column, as it is listed among the dropped columns. */
const idReason = (name: string) => ({ name, reason: "the configured id column (data.id_column)" });

/**
 * A separate validation file must have the training table's columns, and in a column whose every training
 * value is a number (or a date) only numbers (dates): scoring would impute a missing column, or a value that
 * is none, as missing, and report metrics of a model that was never shown those rows as they are.
 * `deno task predict` refuses the same input.
 */
function checkValidationColumns(train: Columns, validation: Columns, path: string, skip: Set<string>): void {
  const names = Object.keys(train).filter((c) => !skip.has(c));
  const missing = names.filter((c) => !(c in validation));
  if (missing.length) {
    throw new UserError(
      `${path}: missing column${missing.length > 1 ? "s" : ""} the training data has: ${missing.join(", ")}`,
    );
  }
  for (const c of names) {
    for (const [kind, fits] of [["numbers", looksNumber], ["dates", looksDate]] as const) {
      if (firstMisfit(train[c], fits)) continue; // not this kind in training
      if (!Array.prototype.some.call(train[c], (v: unknown) => !isMissing(v))) break;
      const bad = firstMisfit(validation[c], fits);
      if (bad) {
        throw new UserError(
          `${path}: row ${bad[0]} ${c}: '${
            String(bad[1]).slice(0, 40)
          }' where the training data's ${c} holds ${kind}`,
        );
      }
      break;
    }
  }
}

/** Reads the training and validation tables described by the options and config. */
export function loadTrainingData(config: Config, opts: DataOptions = {}): TrainingData {
  const target = opts.target ?? config.data.target;
  const idCol = config.data.id_column;
  if (opts.validation && !opts.data) throw new UserError("--validation needs --data (the training file)");
  if (!opts.data) {
    const path = join(config.paths.features, FEATURES_FILE);
    try {
      Deno.statSync(path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        throw new UserError(
          `${path}: not found; run \`deno task features\` first, or pass --data FILE --target COL`,
        );
      }
      // anything else (e.g. no permission): readForTraining reports it as one line
    }
    const { df, digest } = readForTraining(path, target, config.data.read);
    if (!df.columns.includes(SPLIT_COLUMN)) {
      throw new UserError(
        `${path}: no '${SPLIT_COLUMN}' column; re-run \`deno task features\` or pass --data`,
      );
    }
    const cols = tableColumns(df);
    const tr: number[] = [], va: number[] = [];
    const split = cols[SPLIT_COLUMN];
    for (let i = 0; i < df.height; i++) {
      if (split[i] === "train") tr.push(i);
      else if (split[i] === "validation") va.push(i);
    }
    if (tr.length === 0 || va.length === 0) {
      throw new UserError(`${path}: needs rows with split = train and split = validation`);
    }
    return {
      train: { columns: takeRows(cols, tr), rows: tr.length, digest: { ...digest, rows: tr.length } },
      validation: { columns: takeRows(cols, va), rows: va.length, digest: { ...digest, rows: va.length } },
      target,
      exclude: [idReason(idCol), { name: SPLIT_COLUMN, reason: "the train/validation split column" }]
        .filter((c) => df.columns.includes(c.name)),
      source: "features",
    };
  }
  const main = readForTraining(opts.data, target, config.data.read);
  const exclude = [idReason(idCol)].filter((c) => main.df.columns.includes(c.name));
  const cols = dropMissingTarget(tableColumns(main.df), target, opts.data);
  const rows = cols[target].length;
  if (opts.validation) {
    const v = readForTraining(opts.validation, target, config.data.read);
    const vcols = dropMissingTarget(tableColumns(v.df), target, opts.validation);
    checkValidationColumns(cols, vcols, opts.validation, new Set([target, ...exclude.map((e) => e.name)]));
    return {
      train: { columns: cols, rows, digest: main.digest },
      validation: { columns: vcols, rows: vcols[target].length, digest: v.digest },
      target,
      exclude,
      source: "file+validation",
    };
  }
  const { validation_fraction: fraction, seed, stratify } = config.split;
  let parts;
  try {
    const strata = stratify ? splitStrata(cols[target], config.model.task) : undefined;
    parts = trainValidationSplit(rows, fraction, seed, strata?.ids, strata?.names);
  } catch (e) {
    if (e instanceof SplitError) throw new UserError(`${opts.data}: too small to split: ${e.message}`);
    throw e;
  }
  return {
    // one file, two parts: each digest names the file (path, sha256) and counts its part's rows, as the
    // feature path's does, so a run's datasets read 331 / 111 rather than the file's 442 twice
    train: {
      columns: takeRows(cols, parts.train),
      rows: parts.train.length,
      digest: { ...main.digest, rows: parts.train.length },
    },
    validation: {
      columns: takeRows(cols, parts.validation),
      rows: parts.validation.length,
      digest: { ...main.digest, rows: parts.validation.length },
    },
    target,
    exclude,
    source: "split",
  };
}

function dropMissingTarget(cols: Columns, target: string, path: string): Columns {
  const y = cols[target];
  const keep: number[] = [];
  for (let i = 0; i < y.length; i++) if (!isMissing(y[i])) keep.push(i);
  if (keep.length === 0) throw new UserError(`${path}: target column '${target}' has no values`);
  if (keep.length === y.length) return cols;
  stderrLog(`${path}: skipped ${y.length - keep.length} rows with a missing target`);
  return takeRows(cols, keep);
}
