/**
 * What the service needs from a loaded model: the subset of LoadedModel
 * (src/models/artifact.ts) it calls, so the serve modules can be tested with
 * any artifact and type-check on their own.
 */
import type { Prediction, Signature } from "../models/types.ts";

export interface ServableModel {
  signature: Signature;
  metrics: Record<string, unknown>;
  params?: Record<string, unknown>;
  lineage?: unknown;
  manifest?: unknown;
  classes?: readonly (string | number | boolean)[];
  positiveClass?: string | number | boolean;
  predictRecords(records: Record<string, unknown>[]): Prediction[];
}

/** A model resolved from a URI and loaded: what the holder swaps atomically. */
export interface ResolvedModel {
  uri: string;
  name: string;
  version: string;
  dir: string;
  model: ServableModel;
}

/** Resolves a model URI and loads its artifact (the default uses the registry + loadArtifact). */
export type ModelLoader = (uri: string) => Promise<ResolvedModel>;

/** Resolves a URI to the version it points at now, cheaply (no load), for polling. */
export type ModelResolver = (uri: string) => Promise<{ version: string; dir: string }>;
