/**
 * A training set from the feature store: a label table with timestamps (one
 * row per entity and cut-off, the label observed then) joined point-in-time
 * with a feature service, so each row's features are the ones known at its
 * cut-off and nothing later. Rows a view has nothing for in time are dropped
 * (training_set.missing: drop) or kept with missing values; the split into
 * train and validation is by entity, so no customer is on both sides at
 * different cut-offs. The run records the lineage: the service, each view's
 * registered version, the label table's digest and the join's row counts,
 * and the joined rows themselves (models/training_sets/<run>.parquet), which
 * the model's lineage points at.
 */
import { join } from "node:path";
import pl from "nodejs-polars";
import { writeFrameAtomic, writeJsonAtomic } from "../core/atomic.ts";
import { fileSha256 } from "../core/digest.ts";
import { UserError } from "../core/errors.ts";
import type { Config } from "../config/schema.ts";
import { readTable } from "../data/io.ts";
import { SPLIT_COLUMN } from "../data/split.ts";
import { FeatureStore } from "../featurestore/store.ts";
import type { FeatureRef } from "../featurestore/definitions.ts";
import { SplitError, splitStrata, trainValidationSplit } from "../models/cv.ts";
import type { TrackingStore } from "../tracking/store.ts";

export interface FeatureSetCounts {
  /** label rows in */
  entity_rows: number;
  /** rows every view of the service had a row for (in time and within TTL) */
  rows_with_features: number;
  /** rows some view had nothing for */
  rows_missing_features: number;
  /** rows trained and validated on (with_features, or all with missing: keep) */
  rows_used: number;
}

export interface FeatureSetLineage {
  feature_service: string;
  /** view -> the registered version joined */
  feature_views: Record<string, number>;
  features: string[];
  labels: { path: string; sha256: string; entity_key: string; timestamp: string; label: string };
  counts: FeatureSetCounts;
  /** per view: label rows it had a row for */
  matched: Record<string, number>;
  missing: "drop" | "keep";
  split: {
    by: string;
    seed: number;
    validation_fraction: number;
    train_entities: number;
    validation_entities: number;
  };
  /** where the joined rows were written (set when the run records it) */
  path?: string;
}

export interface FeatureSet {
  /** the label table's key, timestamp and label, the service's features, and `split` */
  frame: pl.DataFrame;
  lineage: FeatureSetLineage;
  /** the columns that are not model inputs: entity key, timestamp, split */
  exclude: { name: string; reason: string }[];
  /** per row of `frame`: 1 for the train entities held out for early stopping (model.validation_fraction of them) */
  earlyStoppingHoldout?: Uint8Array;
}

export interface FeatureSetOptions {
  /** the feature service (default training_set.feature_service) */
  featureService?: string;
  /** the label column (default training_set.labels.label, else data.target) */
  target?: string;
}

function columnsLine(cols: string[]): string {
  return cols.slice(0, 12).join(", ") + (cols.length > 12 ? ", ..." : "");
}

/** A row is missing a view when every feature of that view is null in it (the view had no row in time). */
function missingMask(refs: FeatureRef[], names: string[]): pl.Expr[] {
  const byView = new Map<string, string[]>();
  refs.forEach((r, i) => byView.set(r.view, [...(byView.get(r.view) ?? []), names[i]]));
  return [...byView.values()].map((cols) => cols.map((c) => pl.col(c).isNull()).reduce((a, b) => a.and(b)));
}

/** Builds the point-in-time training set the config (or `opts`) describes. */
export async function loadFeatureSet(config: Config, opts: FeatureSetOptions = {}): Promise<FeatureSet> {
  const ts = config.training_set;
  const service = opts.featureService ?? ts.feature_service;
  if (!service) {
    throw new UserError("no feature service: set training_set.feature_service or pass --feature-service");
  }
  const { path, entity_key: key, timestamp } = ts.labels;
  const label = opts.target ?? ts.labels.label ?? config.data.target;
  try {
    Deno.statSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new UserError(
        `training_set.labels.path: ${path} not found (deno task data:generate writes the example's labels.csv)`,
      );
    }
  }
  const labels = readTable(path, { read: config.data.read });
  for (const [col, what] of [[key, "entity_key"], [timestamp, "timestamp"], [label, "label"]]) {
    if (!labels.columns.includes(col)) {
      throw new UserError(
        `training_set.labels.${what}: ${path} has no column '${col}' (columns: ${
          columnsLine(labels.columns)
        })`,
      );
    }
  }
  const store = await FeatureStore.fromConfig(config);
  const refs = store.resolve(service);
  const entities = [...new Set(refs.map((r) => store.definitions.views.get(r.view)!.entity))];
  if (entities.length !== 1) {
    throw new UserError(
      `feature service ${service}: its views use several entities (${entities.join(", ")}); ` +
        "a label table has one entity key",
    );
  }
  const joinKey = store.definitions.entities.get(entities[0])!.join_key;
  // the label table's key goes in under the view's join key, and comes back under its own name
  const entityTable = labels.select(pl.col(key).alias(joinKey), pl.col(timestamp), pl.col(label));
  if (entityTable.filter(pl.col(label).isNotNull()).height === 0) {
    throw new UserError(`${path}: label column '${label}' has no values`);
  }
  const { frame, stats, versions } = store.getHistoricalFeatures(entityTable, service, {
    timestampColumn: timestamp,
  });
  const names = frame.columns.slice(entityTable.columns.length);
  const masks = missingMask(refs, names);
  const anyMissing = masks.length ? masks.reduce((a, b) => a.or(b)) : pl.lit(false);
  const flagged = frame.withColumns(anyMissing.alias("__missing"));
  const missingRows = flagged.filter(pl.col("__missing")).height;
  let rows = ts.missing === "drop" ? flagged.filter(pl.col("__missing").not()) : flagged;
  rows = rows.drop("__missing").filter(pl.col(label).isNotNull());
  if (rows.height === 0) {
    throw new UserError(
      `feature service ${service}: none of the ${frame.height} rows of ${path} has features in time ` +
        `(rows each view matched: ${Object.entries(stats.matched).map(([v, n]) => `${v} ${n}`).join(", ")})`,
    );
  }
  if (key !== joinKey) rows = rows.rename({ [joinKey]: key });

  // split by entity: each entity's rows all go to one side, stratified by its latest label
  const perEntity = rows.select(pl.col(key), pl.col(timestamp), pl.col(label).cast(pl.Utf8).alias("__y"))
    .withRowIndex("__i")
    .sort([key, timestamp, "__i"])
    .groupBy(key)
    .agg(pl.col("__y").last())
    .sort(key);
  const ids = perEntity.getColumn(key).toArray() as unknown[];
  const ys = perEntity.getColumn("__y").toArray() as string[];
  const strata = config.split.stratify ? splitStrata(ys, config.model.task) : undefined;
  let parts;
  try {
    parts = trainValidationSplit(
      ids.length,
      config.split.validation_fraction,
      config.split.seed,
      strata?.ids,
      strata?.names,
    );
  } catch (e) {
    if (e instanceof SplitError) throw new UserError(`${path}: too few entities to split: ${e.message}`);
    throw e;
  }
  const validationIds = new Set(parts.validation.map((i) => String(ids[i])));
  const rowKeys = (rows.getColumn(key).toArray() as unknown[]).map(String);
  const split = rowKeys.map((k) => validationIds.has(k) ? "validation" : "train");
  const out = rows.withColumns(pl.Series(SPLIT_COLUMN, split));
  // of the train entities, a seeded share whose rows early stopping scores instead of fitting
  const trainIds = parts.train.map((i) => String(ids[i]));
  const esIds = new Set<string>();
  if (trainIds.length >= 2) {
    const es = trainValidationSplit(trainIds.length, config.model.validation_fraction, config.split.seed + 1);
    for (const i of es.validation) esIds.add(trainIds[i]);
  }
  const earlyStoppingHoldout = Uint8Array.from(rowKeys, (k) => esIds.has(k) ? 1 : 0);

  const withFeatures = frame.height - missingRows;
  return {
    frame: out,
    lineage: {
      feature_service: service,
      feature_views: versions,
      features: refs.map((r) => `${r.view}:${r.feature}`),
      labels: { path, sha256: fileSha256(path), entity_key: key, timestamp, label },
      counts: {
        entity_rows: frame.height,
        rows_with_features: withFeatures,
        rows_missing_features: missingRows,
        rows_used: out.height,
      },
      matched: stats.matched,
      missing: ts.missing,
      split: {
        by: key,
        seed: config.split.seed,
        validation_fraction: config.split.validation_fraction,
        train_entities: parts.train.length,
        validation_entities: parts.validation.length,
      },
    },
    earlyStoppingHoldout,
    exclude: [
      { name: key, reason: "the label table's entity key (training_set.labels.entity_key)" },
      { name: timestamp, reason: "the label table's timestamp (training_set.labels.timestamp)" },
      { name: SPLIT_COLUMN, reason: "the train/validation split column" },
    ],
  };
}

/**
 * Records a feature set with its run: the joined rows under
 * `<dir>/<run>.parquet` and the lineage beside them (`<run>.json`), the
 * service and view versions as tags, the label table as a dataset, both files
 * as artifacts. Returns the parquet's path and digest. (The service, view
 * versions and row counts are run params: `featureSetParams`, which train
 * logs with the run's other params.)
 */
export async function recordFeatureSet(
  store: TrackingStore | undefined,
  runId: string,
  set: FeatureSet,
  dir: string,
): Promise<{ path: string; sha256: string; lineagePath: string }> {
  Deno.mkdirSync(dir, { recursive: true });
  const path = join(dir, `${runId}.parquet`);
  const lineagePath = join(dir, `${runId}.json`);
  writeFrameAtomic(set.frame, path);
  set.lineage.path = path;
  writeJsonAtomic(lineagePath, set.lineage);
  const l = set.lineage;
  if (store) {
    await store.setTags(runId, {
      "orchard.feature_service": l.feature_service,
      "orchard.feature_views": Object.entries(l.feature_views).map(([v, n]) => `${v}@${n}`).join(","),
    });
    await store.logDataset(runId, {
      name: "labels",
      path: l.labels.path,
      sha256: l.labels.sha256,
      rows: l.counts.entity_rows,
    });
    await store.logArtifact(runId, "training_set", path);
    await store.logArtifact(runId, "training_set_lineage", lineagePath);
  }
  return { path, sha256: fileSha256(path), lineagePath };
}

/** The lineage as flat run params (searchable: params.feature_service = 'churn'). */
export function featureSetParams(l: FeatureSetLineage): Record<string, string | number> {
  return {
    feature_service: l.feature_service,
    ...Object.fromEntries(Object.entries(l.feature_views).map(([v, n]) => [`feature_view.${v}`, n])),
    labels: l.labels.path,
    "training_set.entity_rows": l.counts.entity_rows,
    "training_set.rows_with_features": l.counts.rows_with_features,
    "training_set.rows_missing_features": l.counts.rows_missing_features,
    "training_set.rows_used": l.counts.rows_used,
    "training_set.missing": l.missing,
  };
}
