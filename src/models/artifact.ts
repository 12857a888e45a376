/**
 * The model artifact: one directory holding everything needed to score a raw
 * record, written atomically (built in a temp directory beside the target,
 * then renamed), and read back by `loadArtifact`, whose `predictRecords` is the
 * one scoring path used by training evaluation, batch scoring and the service.
 *
 *   artifact.json       manifest: format version, engine, task, classes, positive
 *                       class, threshold, files (sha256, bytes), created
 *   model.bin           Estimator.toBytes()
 *   preprocess.json     the fitted Preprocessor
 *   signature.json      Signature (src/models/types.ts)
 *   input_example.json  a few raw training records
 *   metrics.json        validation metrics (flat name -> number)
 *   params.json         the params of the run
 *   lineage.json        run id, data digests, code version
 */
import { dirname, join } from "node:path";
import { UserError } from "../core/errors.ts";
import { ensureDir } from "../core/atomic.ts";
import { sha256Hex } from "../core/digest.ts";
import { loadEstimator } from "./engines/registry.ts";
import { Preprocessor, type PreprocessState } from "./preprocess/index.ts";
import type { Estimator, Matrix, Prediction, Signature } from "./types.ts";

export const ARTIFACT_FORMAT = "orchard-model";
export const ARTIFACT_VERSION = 1;

export type Label = string | number | boolean;

export interface DataDigest {
  path: string;
  sha256: string;
  rows: number;
}

export interface Lineage {
  run_id: string | null;
  data: { train: DataDigest; validation?: DataDigest };
  code_version: { commit: string | null; dirty: boolean | null };
}

export interface ArtifactManifest {
  format: typeof ARTIFACT_FORMAT;
  format_version: number;
  engine: string;
  task: "classification" | "regression";
  classes?: Label[];
  positive_class?: Label;
  threshold?: number;
  files: Record<string, { sha256: string; bytes: number }>;
  created: string;
}

/** How a fitted estimator's output becomes predictions: the part of scoring after preprocessing. */
export interface ScoringSpec {
  task: "classification" | "regression";
  classes?: Label[];
  positiveClass?: Label;
  threshold?: number;
}

export interface ArtifactContent extends ScoringSpec {
  engine: string;
  estimator: Estimator;
  preprocessor: Preprocessor;
  signature: Signature;
  inputExample: Record<string, unknown>[];
  metrics: Record<string, number>;
  params: Record<string, unknown>;
  lineage: Lineage;
}

export interface LoadedModel {
  dir: string;
  signature: Signature;
  metrics: Record<string, number>;
  params: Record<string, unknown>;
  lineage: Lineage;
  manifest: ArtifactManifest;
  classes: Label[] | undefined;
  positiveClass: Label | undefined;
  threshold: number;
  preprocessor: Preprocessor;
  estimator: Estimator;
  inputExample: Record<string, unknown>[];
  /** raw records -> predictions: saved preprocessing, then the engine */
  predictRecords(records: Record<string, unknown>[]): Prediction[];
}

/** The positive class's column in predictProba, for binary scoring. */
function positiveIndex(spec: ScoringSpec): number {
  const i = spec.classes?.findIndex((c) => c === spec.positiveClass) ?? -1;
  return i < 0 ? 1 : i;
}

/**
 * Predictions from an already-preprocessed matrix. Binary classification
 * predicts the positive class when its probability reaches the threshold;
 * more classes take the most probable one.
 */
export function scoreMatrix(estimator: Estimator, X: Matrix, spec: ScoringSpec): Prediction[] {
  if (spec.task === "regression") return Array.from(estimator.predict(X), (v) => ({ prediction: v }));
  if (!estimator.predictProba) throw new Error("classifier engine has no predictProba");
  return predictionsFromProba(estimator.predictProba(X), X.rows, spec);
}

/** Class labels and probability maps from a rows x k probability matrix (the classification half of scoreMatrix). */
export function predictionsFromProba(P: Float64Array, rows: number, spec: ScoringSpec): Prediction[] {
  const classes = spec.classes ?? [];
  const k = classes.length;
  const pos = positiveIndex(spec), threshold = spec.threshold ?? 0.5;
  const keys = classes.map(String);
  const out: Prediction[] = new Array(rows);
  for (let i = 0; i < rows; i++) {
    const probabilities: Record<string, number> = {};
    let best = 0;
    for (let c = 0; c < k; c++) {
      probabilities[keys[c]] = P[i * k + c];
      if (P[i * k + c] > P[i * k + best]) best = c;
    }
    let label: number;
    if (k === 2) label = P[i * k + pos] >= threshold ? pos : 1 - pos;
    else label = best;
    out[i] = { prediction: classes[label], probabilities };
  }
  return out;
}

function toBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value, null, 2) + "\n");
}

/** Writes the artifact directory atomically; replaces an existing one at `dir`. Returns `dir`. */
export function writeArtifact(dir: string, content: ArtifactContent): string {
  const files: Record<string, Uint8Array> = {
    "model.bin": content.estimator.toBytes(),
    "preprocess.json": toBytes(content.preprocessor.toJSON()),
    "signature.json": toBytes(content.signature),
    "input_example.json": toBytes(content.inputExample),
    "metrics.json": toBytes(content.metrics),
    "params.json": toBytes(content.params),
    "lineage.json": toBytes(content.lineage),
  };
  const manifest: ArtifactManifest = {
    format: ARTIFACT_FORMAT,
    format_version: ARTIFACT_VERSION,
    engine: content.engine,
    task: content.task,
    ...(content.task === "classification"
      ? {
        classes: content.classes,
        positive_class: content.positiveClass,
        threshold: content.threshold ?? 0.5,
      }
      : {}),
    files: Object.fromEntries(
      Object.entries(files).map(([name, b]) => [name, { sha256: sha256Hex(b), bytes: b.length }]),
    ),
    created: new Date().toISOString(),
  };
  files["artifact.json"] = toBytes(manifest);

  const parent = dirname(dir);
  ensureDir(parent);
  const rand = crypto.getRandomValues(new Uint32Array(1))[0].toString(36);
  const tmp = `${dir}.tmp-${Deno.pid}-${rand}`;
  const old = `${dir}.old-${Deno.pid}-${rand}`;
  try {
    Deno.mkdirSync(tmp);
    for (const [name, bytes] of Object.entries(files)) Deno.writeFileSync(join(tmp, name), bytes);
    let replaced = false;
    try {
      Deno.renameSync(dir, old);
      replaced = true;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    Deno.renameSync(tmp, dir);
    if (replaced) Deno.removeSync(old, { recursive: true });
  } catch (e) {
    try {
      Deno.removeSync(tmp, { recursive: true });
    } catch { /* nothing to clean */ }
    throw e;
  }
  return dir;
}

function readJson<T>(dir: string, name: string): T {
  const path = join(dir, name);
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new UserError(`${dir}: not a model artifact (missing ${name})`);
    }
    throw new UserError(`${path}: cannot read (${(e as Error).message.split(":")[0]})`);
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new UserError(`${path}: not valid JSON`);
  }
}

/** Loads an artifact directory; a missing or malformed artifact is a UserError. */
export function loadArtifact(dir: string): LoadedModel {
  const manifest = readJson<ArtifactManifest>(dir, "artifact.json");
  if (manifest.format !== ARTIFACT_FORMAT || manifest.format_version !== ARTIFACT_VERSION) {
    throw new UserError(`${dir}: unsupported artifact format ${manifest.format} v${manifest.format_version}`);
  }
  let modelBytes: Uint8Array;
  try {
    modelBytes = Deno.readFileSync(join(dir, "model.bin"));
  } catch {
    throw new UserError(`${dir}: not a model artifact (missing model.bin)`);
  }
  let estimator: Estimator, preprocessor: Preprocessor;
  try {
    estimator = loadEstimator(manifest.engine, modelBytes);
    preprocessor = Preprocessor.fromJSON(readJson<PreprocessState>(dir, "preprocess.json"));
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`${dir}: cannot load model (${(e as Error).message.split("\n")[0]})`);
  }
  const spec: ScoringSpec = {
    task: manifest.task,
    classes: manifest.classes,
    positiveClass: manifest.positive_class,
    threshold: manifest.threshold,
  };
  return {
    dir,
    manifest,
    signature: readJson<Signature>(dir, "signature.json"),
    metrics: readJson<Record<string, number>>(dir, "metrics.json"),
    params: readJson<Record<string, unknown>>(dir, "params.json"),
    lineage: readJson<Lineage>(dir, "lineage.json"),
    inputExample: readJson<Record<string, unknown>[]>(dir, "input_example.json"),
    classes: manifest.classes,
    positiveClass: manifest.positive_class,
    threshold: manifest.threshold ?? 0.5,
    preprocessor,
    estimator,
    predictRecords: (records) => scoreMatrix(estimator, preprocessor.transformRecords(records), spec),
  };
}
