/**
 * Orchard's public API: what a notebook or another program uses, grouped by
 * pipeline stage. Everything here is stable to import; modules not exported
 * here are internals and may move. Each stage's task (tasks/*.ts) is a thin
 * shell over the same functions. deno.json exports this module as
 * "@orchard/orchard" (docs/library.md shows how another project links it).
 *
 *   import { fit, load, readTable } from "@orchard/orchard";
 *   const model = await fit(readTable("data.csv"), { target: "churn" });
 *   model.save("models/churn"); load("models/churn").predict(rows);
 */

// --- config: params.yaml, validated by the zod schema ------------------------
export { DEFAULT_CONFIG_PATH, loadConfig, type LoadOptions } from "./config/load.ts";
export { type Config, ConfigSchema, type ModelParams, ModelSchema } from "./config/schema.ts";
export { BATCH_FEATURES_FILE, FEATURES_FILE } from "./config/paths.ts";

// --- data: generate, read, validate, prep, split -------------------------------
export {
  type GenerateOptions,
  type GenerateResult,
  generateWorld,
  labelCutoffs,
  type Scenario,
} from "./data/generate.ts";
export { type ReadOptions, type ReadSettings, readTable, type TableFormat } from "./data/io.ts";
export { cleanSources, type PrepResult, qualityGate, readSource, resolveAsOf, runPrep } from "./data/prep.ts";
export { stratifiedSplit } from "./data/split.ts";
export { customersSchema, transactionsSchema } from "./data/schemas.ts";
export { validateSource } from "./data/validate.ts";

// --- features ------------------------------------------------------------------
export { buildFeatures, customerFeatures, MODEL_INPUT_COLUMNS } from "./features/customer.ts";
export { type FeaturesResult, runFeatures } from "./features/stage.ts";
export { buildSnapshots, snapshotDates } from "./features/snapshots.ts";

// --- feature store: definitions, point-in-time retrieval, the online store -------
export {
  buildDefinitions,
  defineFeatureStore,
  type Definitions,
  type FeatureStoreDefinitionsInput,
  loadDefinitions,
} from "./featurestore/definitions.ts";
export {
  FeatureStore,
  type FeatureStoreOptions,
  type HistoricalResult,
  type OnlineOptions,
} from "./featurestore/store.ts";
export type { HistoricalOptions, JoinStats, TimeLike } from "./featurestore/offline.ts";
export type {
  FeatureStatus,
  MaterializeOptions,
  OnlineFeatureRow,
  OnlineResult,
  ViewMaterialization,
} from "./featurestore/materialize.ts";
export { type OnlineStore, SqliteOnlineStore } from "./featurestore/online.ts";
export { openOnlineStore } from "./featurestore/open.ts";
export type { Change, PlanResult } from "./featurestore/registry.ts";

// --- models: fit in memory, predict, evaluate, explain, save, load; metrics -----
export {
  type Contribution,
  type ExplainOptions,
  type Explanation,
  fit,
  load,
  Model,
  type ModelFitOptions,
  type ShapFeature,
  type ShapSummary,
  type ShapSummaryOptions,
  type Table,
} from "./models/model.ts";
export { loadArtifact, type LoadedModel } from "./models/artifact.ts";
export type { Evaluation } from "./models/evaluate.ts";
export {
  accuracy,
  binaryMetrics,
  brier,
  calibrationBins,
  confusionMatrix,
  f1,
  logLoss,
  mae,
  multiclassBrier,
  multiclassClassificationMetrics,
  multiclassLogLoss,
  multiclassMetrics,
  oneVsRestAucs,
  perClassMetrics,
  prAuc,
  prCurve,
  precision,
  r2,
  recall,
  regressionMetrics,
  rmse,
  rocAuc,
  rocCurve,
} from "./models/metrics.ts";
export { RandomForestClassifier, RandomForestRegressor } from "./models/engines/forest/index.ts";
export {
  type BoostingParams,
  GradientBoostingClassifier,
  GradientBoostingRegressor,
  loadBoosting,
} from "./models/engines/boosting/index.ts";
export {
  defineEngine,
  type Engine,
  type EngineContext,
  type EngineDefinition,
  engineNames,
  type EstimatorKind,
  loadPlugins,
  registerEngine,
} from "./models/engines/registry.ts";
export type { Estimator, ExplainScale, FitOptions, Matrix, Prediction, Signature } from "./models/types.ts";

// --- training: the tracked stage, its data, and search ----------------------------
export { train, type TrainOptions, type TrainResult } from "./training/train.ts";
export { loadTrainingData, loadTrainingInput, type TrainingData } from "./training/data.ts";
export {
  type FeatureSet,
  type FeatureSetLineage,
  loadFeatureSet,
  recordFeatureSet,
} from "./training/feature_set.ts";
export { tune, type TuneOptions, type TuneResult } from "./training/tune.ts";

// --- tracking: runs, params, metrics, artifacts ---------------------------------
export { type Run, type RunStatus, TrackingStore } from "./tracking/store.ts";
export { diffRuns, type RunDiff } from "./tracking/diff.ts";

// --- stores: SQLite or PostgreSQL, artifact storage, copying a store -----------
export type { Sql, SqlDatabase } from "./store/sql.ts";
export { openDatabase } from "./store/open.ts";
export { type ArtifactStore, LocalArtifactStore } from "./store/artifacts.ts";
export { trackingLocation } from "./config/paths.ts";

// --- registry: versions, aliases, gates, model URIs ------------------------------
export { ModelRegistry } from "./registry/registry.ts";
export { formatModelUri, parseModelUri, resolveModelUri } from "./registry/uri.ts";
export { registryLoader, resolveUri } from "./registry/loader.ts";
export { evaluateGates, type GateReport } from "./registry/gates.ts";

// --- serve: the Hono app, and batch scoring through the same code path ----------
export { type AppOptions, createApp } from "./serve/routes.ts";
// createApp's collaborators: the served model (loaded, then polled for alias moves), metrics, the prediction log
export { type HolderOptions, ModelHolder, type ServedModel } from "./serve/holder.ts";
export { Metrics } from "./serve/metrics.ts";
export { PredictionLog, type PredictionLogOptions } from "./serve/predlog.ts";
export { predictFile, type PredictFileOptions } from "./serve/batch.ts";
export {
  type FeatureSource,
  featureSource,
  type FeatureSourceOptions,
  type OnMissing,
} from "./serve/entity.ts";

// --- continuous training: candidate vs champion, gates, @challenger, the PR report --
export { type CtOptions, type CtResult, runCt } from "./ct/run.ts";
export { PRIMARY_METRIC } from "./ct/compare.ts";

// --- drift: data and prediction drift, and the statistics behind it --------------
export { type DriftRun, type DriftRunOptions, runDrift } from "./drift/run.ts";
export { featureViewSides, parseWindow } from "./drift/feature_view.ts";
export { detectDrift, type DriftResult } from "./drift/detect.ts";
export { chiSquare, jensenShannon, ks2samp, psi, wassersteinNormed } from "./drift/stats.ts";

// --- report: charts and HTML pages (Observable Plot, rendered without a browser) --
export {
  calibrationChart,
  confusionChart,
  importanceChart,
  prChart,
  residualChart,
  rocChart,
  type ShapColumn,
  shapDependenceChart,
  shapSummaryChart,
} from "./report/charts.ts";
export { Plot, renderPlot } from "./report/plot.ts";
export { rocOverlayChart, sideBySide } from "./report/compare_charts.ts";
export { svgToPng } from "./report/png.ts";
export { escapeHtml, htmlPage, htmlTable } from "./report/html.ts";
export { driftedColumnsChart, type DriftHistoryPoint, driftShareChart } from "./report/history.ts";
export { readReportRecords, rebuildReportIndex, type ReportRecord } from "./report/catalog.ts";

// --- notebooks: rich display in Jupyter on the Deno kernel -----------------------
export { chart, display, grid, html, markdown, show, table } from "./notebooks/display.ts";
export { notebookEnv, workspaceConfig } from "./notebooks/nbformat.ts";

// --- core: errors, value formatting, atomic writes, digests, seeded randomness ---
export { errorLine, isUserError, UserError, UserErrors } from "./core/errors.ts";
export { formatNumber, formatValue, MISSING, type NumberFormat } from "./core/format.ts";
export { writeFrameAtomic, writeJsonAtomic, writeTextAtomic } from "./core/atomic.ts";
export { fileSha256, sha256Hex } from "./core/digest.ts";
export { Rng } from "./core/random.ts";
