/**
 * The model artifact: one directory holding everything needed to score a raw
 * record, written atomically (built in a temp directory beside the target,
 * then renamed), and read back by `loadArtifact`, whose `predictRecords` is the
 * one scoring path used by training evaluation, batch scoring and the service.
 *
 * Every load verifies the artifact against its own checksum record, whether it
 * came through a models:/ URI or a plain path (issue 12): the manifest lists
 * the sha256 and size of every other file, and carries the sha256 of its own
 * content, so a changed, missing or added file, or an edited manifest, is a
 * UserError naming the file. Each file is read once, hashed and parsed from
 * the same bytes, so what is verified is what is loaded.
 *
 *   artifact.json       manifest: format version, engine, task, classes, positive
 *                       class, threshold, files (sha256, bytes), created,
 *                       manifest_sha256 (of the manifest without this field)
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
import { describeFsError } from "../core/fs_errors.ts";
import { ensureDir, markedWrite } from "../core/atomic.ts";
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
  /** the checksum record: every file of the artifact but artifact.json -> its sha256 and size */
  files: Record<string, { sha256: string; bytes: number }>;
  created: string;
  /**
   * sha256 of this manifest serialized without this field (as writeArtifact
   * writes it); absent in artifacts saved before issue 12, whose files are
   * still verified but whose manifest is not (LoadedModel.manifestVerified)
   */
  manifest_sha256?: string;
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
  /**
   * whether the manifest's own digest was checked (false only for an artifact
   * saved before manifests carried one; every other file is always verified)
   */
  manifestVerified: boolean;
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

const MANIFEST = "artifact.json";
/** The files every artifact's checksum record lists (writeArtifact writes exactly these, and the manifest). */
const ARTIFACT_FILES = [
  "model.bin",
  "preprocess.json",
  "signature.json",
  "input_example.json",
  "metrics.json",
  "params.json",
  "lineage.json",
] as const;
const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * The manifest's own digest: the sha256 of its serialization without
 * `manifest_sha256`. JSON.parse then JSON.stringify gives back the same text
 * (key order, numbers and strings round-trip), so load recomputes it exactly.
 */
function manifestDigest(manifest: ArtifactManifest): string {
  const { manifest_sha256: _, ...rest } = manifest;
  return sha256Hex(toBytes(rest));
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
        // a positive class and its threshold decide a binary prediction only: more classes take the argmax
        ...(content.classes?.length === 2
          ? { positive_class: content.positiveClass, threshold: content.threshold ?? 0.5 }
          : {}),
      }
      : {}),
    files: Object.fromEntries(
      Object.entries(files).map(([name, b]) => [name, { sha256: sha256Hex(b), bytes: b.length }]),
    ),
    created: new Date().toISOString(),
  };
  manifest.manifest_sha256 = manifestDigest(manifest);
  // the manifest, with the checksum record, is the last file written into the temp directory
  files[MANIFEST] = toBytes(manifest);

  const parent = dirname(dir);
  ensureDir(parent);
  const rand = crypto.getRandomValues(new Uint32Array(1))[0].toString(36);
  const tmp = `${dir}.tmp-${Deno.pid}-${rand}`;
  const old = `${dir}.old-${Deno.pid}-${rand}`;
  try {
    // marked until renamed into place, so a later stage removes it only if this process dies
    markedWrite(tmp, () => {
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
    });
  } catch (e) {
    try {
      Deno.removeSync(tmp, { recursive: true });
    } catch { /* nothing to clean */ }
    throw e;
  }
  return dir;
}

/** A read failure as the one-line UserError (a missing file: not a model artifact). */
function readError(dir: string, name: string, e: unknown): UserError {
  if (e instanceof Deno.errors.NotFound) {
    return new UserError(`${dir}: not a model artifact (missing ${name})`);
  }
  return new UserError(`${join(dir, name)}: cannot read (${(e as Error).message.split(":")[0]})`);
}

function parseJson<T>(path: string, bytes: Uint8Array): T {
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as T;
  } catch {
    throw new UserError(`${path}: not valid JSON`);
  }
}

const CHANGED = "the artifact was changed after it was saved";

/** The manifest, format-checked and checked against its own digest when it carries one. */
function readManifest(dir: string): { manifest: ArtifactManifest; manifestVerified: boolean } {
  const path = join(dir, MANIFEST);
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(path);
  } catch (e) {
    throw readError(dir, MANIFEST, e);
  }
  return checkManifest(dir, parseJson<ArtifactManifest>(path, bytes));
}

/** readManifest's checks on a parsed manifest. */
function checkManifest(
  dir: string,
  manifest: ArtifactManifest,
): { manifest: ArtifactManifest; manifestVerified: boolean } {
  const path = join(dir, MANIFEST);
  if (manifest === null || typeof manifest !== "object" || Array.isArray(manifest)) {
    throw new UserError(`${path}: not a model artifact manifest`);
  }
  if (manifest.format !== ARTIFACT_FORMAT || manifest.format_version !== ARTIFACT_VERSION) {
    throw new UserError(`${dir}: unsupported artifact format ${manifest.format} v${manifest.format_version}`);
  }
  if (manifest.manifest_sha256 === undefined) return { manifest, manifestVerified: false };
  if (manifest.manifest_sha256 !== manifestDigest(manifest)) {
    throw new UserError(`${path}: checksum mismatch (${CHANGED})`);
  }
  return { manifest, manifestVerified: true };
}

/** A name the record may list: a file directly in the artifact directory, not the manifest. */
const plainName = (name: string) => !/[/\\]/.test(name) && name !== "." && name !== ".." && name !== MANIFEST;

/**
 * Checks the artifact directory against the manifest's checksum record: every
 * listed file present with its size and sha256, nothing else beside the
 * manifest. Returns each file's bytes, read once and verified. Throws a
 * UserError naming the (first) file that differs.
 */
function readVerified(dir: string, manifest: ArtifactManifest): Map<string, Uint8Array> {
  const record = manifest.files;
  const entries = record !== null && typeof record === "object" && !Array.isArray(record)
    ? Object.entries(record)
    : [];
  const valid = entries.length > 0 &&
    entries.every(([name, f]) =>
      plainName(name) && f !== null && typeof f === "object" && typeof f.sha256 === "string" &&
      SHA256_HEX.test(f.sha256) && Number.isSafeInteger(f.bytes) && f.bytes >= 0
    );
  if (!valid) {
    throw new UserError(
      `${dir}: the artifact has no valid checksum record in ${MANIFEST}, so it cannot be verified; retrain the model (deno task train) and load the new artifact`,
    );
  }
  for (const name of ARTIFACT_FILES) {
    if (!Object.hasOwn(record, name)) {
      throw new UserError(`${dir}: not a model artifact (${MANIFEST} does not list ${name})`);
    }
  }
  const problems: string[] = [];
  let listing: string[];
  try {
    listing = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  } catch (e) {
    throw new UserError(`${dir}: cannot read (${(e as Error).message.split(":")[0]})`);
  }
  const out = new Map<string, Uint8Array>();
  for (const [name, f] of entries.sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)) {
    const path = join(dir, name);
    let bytes: Uint8Array;
    try {
      bytes = Deno.readFileSync(path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) problems.push(`${path}: missing (${CHANGED})`);
      else problems.push(`${path}: cannot read (${(e as Error).message.split(":")[0]})`);
      continue;
    }
    // the size first: a truncated or grown file needs no hashing
    if (bytes.length !== f.bytes || sha256Hex(bytes) !== f.sha256) {
      problems.push(`${path}: checksum mismatch (${CHANGED})`);
    } else out.set(name, bytes);
  }
  // then what was added beside the recorded files
  for (const name of listing) {
    if (name !== MANIFEST && !Object.hasOwn(record, name)) {
      problems.push(`${join(dir, name)}: not part of the artifact (${CHANGED})`);
    }
  }
  if (problems.length) {
    const more = problems.length - 1;
    throw new UserError(
      problems[0] +
        (more ? `; and ${more} more: ${problems.slice(1).map((p) => p.split(": ")[0]).join(", ")}` : ""),
    );
  }
  return out;
}

/**
 * Whether `dir` holds an Orchard model artifact (an artifact.json of our
 * format), and if so checks every file against its checksum record as
 * loadArtifact does: a UserError names the first file that differs. False
 * for a directory without our manifest (a plugin's or a hand-made artifact),
 * which is left to its loader. The registry calls it before a copy, so a
 * changed artifact never becomes a "checksum verified" version.
 */
export function verifyArtifact(dir: string): boolean {
  let text: string;
  try {
    text = Deno.readTextFileSync(join(dir, MANIFEST));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false; // not an Orchard artifact: nothing to check
    throw new UserError(describeFsError(e, join(dir, MANIFEST), "read"));
  }
  let manifest: ArtifactManifest;
  try {
    manifest = JSON.parse(text);
  } catch {
    // a manifest cut short (a killed copy, an edit) is a damaged artifact, not someone else's
    throw new UserError(`${join(dir, MANIFEST)}: not valid JSON (truncated or edited)`);
  }
  if (manifest === null || typeof manifest !== "object" || manifest.format !== ARTIFACT_FORMAT) return false;
  readVerified(dir, checkManifest(dir, manifest).manifest);
  return true;
}

/**
 * Loads an artifact directory, verifying every file against the checksum
 * record written when it was saved; a missing, malformed or changed artifact
 * is a UserError.
 */
export function loadArtifact(dir: string): LoadedModel {
  const { manifest, manifestVerified } = readManifest(dir);
  const files = readVerified(dir, manifest);
  const json = <T>(name: (typeof ARTIFACT_FILES)[number]): T =>
    parseJson<T>(join(dir, name), files.get(name)!);
  let estimator: Estimator, preprocessor: Preprocessor;
  try {
    estimator = loadEstimator(manifest.engine, files.get("model.bin")!);
    preprocessor = Preprocessor.fromJSON(json<PreprocessState>("preprocess.json"));
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
    signature: json<Signature>("signature.json"),
    metrics: json<Record<string, number>>("metrics.json"),
    params: json<Record<string, unknown>>("params.json"),
    lineage: json<Lineage>("lineage.json"),
    inputExample: json<Record<string, unknown>[]>("input_example.json"),
    classes: manifest.classes,
    positiveClass: manifest.positive_class,
    threshold: manifest.threshold ?? 0.5,
    manifestVerified,
    preprocessor,
    estimator,
    predictRecords: (records) => scoreMatrix(estimator, preprocessor.transformRecords(records), spec),
  };
}
