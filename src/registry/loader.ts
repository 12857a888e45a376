/**
 * Model URIs to loaded models for the service and batch scoring: a registry
 * URI (models:/<name>/<version>, models:/<name>@<alias>, models:/<name>/Production)
 * goes through resolveModelUri (which verifies the checksum), a plain path is
 * an artifact directory (checked against the registry when it lies inside it).
 * Loading is the artifact's own loadArtifact.
 */
import { basename } from "node:path";
import { UserError } from "../core/errors.ts";
import { isPermissionError } from "../core/fs_errors.ts";
import { loadArtifact } from "../models/artifact.ts";
import { parseModelUri, resolveModelUri } from "./uri.ts";
import { storeExists } from "../tracking/store.ts";
import type { Prediction, Signature } from "../models/types.ts";

/**
 * What a caller (the service, batch scoring, drift) needs from a loaded model:
 * the subset of LoadedModel (src/models/artifact.ts) it calls, so those modules
 * can be tested with any artifact.
 */
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

export interface LoaderOptions {
  /** the tracking/registry store: a SQLite file or postgresql:// URI (config/paths.ts trackingLocation) */
  store: string;
  /** where registered versions live (config paths.models) */
  modelsDir: string;
}

export interface UriTarget {
  name?: string;
  version?: string | number;
  dir: string;
}

/**
 * Where a URI points now. A registry URI (and a path inside the registry) goes
 * through resolveModelUri; a plain path with no store at all is taken as is.
 */
export async function resolveUri(uri: string, opts: LoaderOptions, verify = true): Promise<UriTarget> {
  const parsed = parseModelUri(uri);
  if (parsed.kind === "path" && !storeExists(opts.store)) {
    let isDir = false;
    try {
      isDir = Deno.statSync(parsed.path).isDirectory;
    } catch (e) {
      if (isPermissionError(e)) {
        throw new UserError(
          `model '${parsed.path}': not readable with this task's permissions (copy it under models/)`,
        );
      }
    }
    if (!isDir) {
      throw new UserError(`no model at '${parsed.path}' (not a models:/ URI and no such directory)`);
    }
    return { dir: parsed.path };
  }
  const r = await resolveModelUri(uri, { store: opts.store, modelsDir: opts.modelsDir, verify });
  return { name: r.name, version: r.version, dir: r.dir };
}

/** The default loader: resolve (checksum-verified) then loadArtifact. */
export function registryLoader(opts: LoaderOptions): ModelLoader {
  return async (uri: string) => {
    const target = await resolveUri(uri, opts);
    return {
      uri,
      name: target.name ?? basename(target.dir),
      version: String(target.version ?? "local"),
      dir: target.dir,
      model: loadArtifact(target.dir),
    };
  };
}

/** Polling resolver: where the URI points now, without verifying or loading (the load verifies). */
export function registryResolver(opts: LoaderOptions): ModelResolver {
  return async (uri: string) => {
    const target = await resolveUri(uri, opts, false);
    return { version: String(target.version ?? "local"), dir: target.dir };
  };
}
