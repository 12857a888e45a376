/**
 * The data half of the candidate-vs-champion diff: each run's datasets (path,
 * sha256, rows; from diffRuns) and the drift share between the two training
 * sets, measured by the drift stage's own test (src/drift/detect.ts) with the
 * champion's training rows as the reference.
 *
 * A training set is read back from the file its run recorded, and only while
 * that file still hashes to the recorded sha256: a file rewritten since
 * (features re-run on new raw data) is not the data the champion learned
 * from, so the drift is then not measured, and the report says why. Runs that
 * train on a feature service keep their joined rows per run
 * (models/training_sets/<run>.parquet), so theirs stay comparable.
 */
import pl from "nodejs-polars";
import type { Config } from "../config/schema.ts";
import { fileSha256 } from "../core/digest.ts";
import { UserError } from "../core/errors.ts";
import { readTable } from "../data/io.ts";
import { SPLIT_COLUMN } from "../data/split.ts";
import { detectDrift } from "../drift/detect.ts";
import type { DatasetInput, Run } from "../tracking/store.ts";

export type TrainingSetDrift =
  | {
    measured: true;
    /** share of tested columns that drifted */
    share: number;
    /** the share from which the drift stage calls the dataset drifted (drift.drift_share) */
    threshold: number;
    dataset_drift: boolean;
    drifted_columns: string[];
    tested_columns: number;
    reference_rows: number;
    current_rows: number;
  }
  | { measured: false; note: string };

type Digest = Omit<DatasetInput, "name">;

/** The training rows of a recorded dataset, or why they cannot be had. */
function readTraining(config: Config, d: Digest, who: string): pl.DataFrame | string {
  let sha: string;
  try {
    sha = fileSha256(d.path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return `${who}'s training data ${d.path} is gone`;
    if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
      return `${who}'s training data ${d.path} may not be read here (permission denied)`;
    }
    return `${who}'s training data ${d.path} cannot be read (${(e as Error).message})`;
  }
  if (sha !== d.sha256) {
    return `${who}'s training data ${d.path} has changed since it was trained (sha256 ${
      d.sha256.slice(0, 12)
    } recorded, ${sha.slice(0, 12)} now)`;
  }
  let df = readTable(d.path, { read: config.data.read });
  // a file with the split column holds validation rows too: the training set is its train rows
  if (df.columns.includes(SPLIT_COLUMN)) {
    df = df.filter(pl.col(SPLIT_COLUMN).eq(pl.lit("train")));
  }
  return df;
}

/** The "train" dataset a run recorded (null: none, or no run). */
export const trainDataset = (r: Pick<Run, "datasets"> | undefined): DatasetInput | null =>
  r?.datasets.find((d) => d.name === "train") ?? null;

/** Drift of the candidate's training set against the champion's (the reference). */
export function trainingSetDrift(
  config: Config,
  champion: Digest | null,
  candidate: Digest | null,
  target: string,
  names: [reference: string, current: string] = ["the champion", "the candidate"],
): TrainingSetDrift {
  if (!champion) return { measured: false, note: "no champion training set to compare with" };
  if (!candidate) return { measured: false, note: "the candidate run recorded no training set" };
  const ref = readTraining(config, champion, names[0]);
  if (typeof ref === "string") return { measured: false, note: ref };
  const cur = readTraining(config, candidate, names[1]);
  if (typeof cur === "string") return { measured: false, note: cur };
  const labels = config.training_set.labels;
  try {
    const r = detectDrift(ref, cur, {
      config: config.drift,
      // keys, timestamps and the split are not features; the label is compared as the target, not here
      exclude: [config.data.id_column, SPLIT_COLUMN, labels.entity_key, labels.timestamp],
      target,
      currentMetadata: [],
    });
    return {
      measured: true,
      share: r.drift_share,
      threshold: r.drift_share_threshold,
      dataset_drift: r.dataset_drift,
      drifted_columns: r.drifted_columns,
      tested_columns: r.columns.length,
      reference_rows: r.reference_rows,
      current_rows: r.current_rows,
    };
  } catch (e) {
    if (e instanceof UserError) return { measured: false, note: `drift not measured: ${e.message}` };
    throw e;
  }
}

/**
 * `runs diff A B`'s data drift: run B's training set against run A's (the
 * reference), each read from the "train" dataset its run recorded, on the
 * target B's params name (else data.target).
 */
export function runsTrainingSetDrift(config: Config, a: Run, b: Run): TrainingSetDrift {
  const target = String(b.params.target ?? a.params.target ?? config.data.target);
  const ta = trainDataset(a), tb = trainDataset(b);
  if (!ta) return { measured: false, note: `run ${a.runId.slice(0, 8)} recorded no training set` };
  if (!tb) return { measured: false, note: `run ${b.runId.slice(0, 8)} recorded no training set` };
  return trainingSetDrift(config, ta, tb, target, [
    `run ${a.runId.slice(0, 8)}`,
    `run ${b.runId.slice(0, 8)}`,
  ]);
}
