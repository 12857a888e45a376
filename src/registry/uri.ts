/**
 * Model URIs, accepted wherever a model is named:
 *
 *   models:/<name>/<version>     a version number (1, 2, ...)
 *   models:/<name>@<alias>       an alias: champion, challenger, any name
 *   models:/<name>/<stage>       Production | Staging | Archived | None (case-insensitive; the newest in it)
 *   models:/<name>/latest        the newest version
 *   <path>                       an artifact directory (anything not starting with "models:")
 *
 * resolveModelUri finds the directory and verifies its checksum against the
 * one recorded at registration (a path inside the registry is verified too; a
 * path outside it has nothing recorded and is returned as is).
 */
import { resolve } from "node:path";
import { UserError } from "../core/errors.ts";
import { TrackingStore } from "../tracking/store.ts";
import { ALIAS_RE, MODEL_NAME_RE, ModelRegistry, type Stage, STAGES } from "./registry.ts";

export type ModelUri =
  | { kind: "version"; name: string; version: number }
  | { kind: "alias"; name: string; alias: string }
  | { kind: "stage"; name: string; stage: Stage }
  | { kind: "latest"; name: string }
  | { kind: "path"; path: string };

const FORMS = "models:/<name>/<version>, models:/<name>@<alias>, models:/<name>/Production or a path";

function malformed(uri: string, why: string): never {
  throw new UserError(`malformed model URI '${uri}': ${why} (expected ${FORMS})`);
}

export function parseModelUri(uri: string): ModelUri {
  if (typeof uri !== "string" || uri.trim() === "") {
    throw new UserError(`empty model URI (expected ${FORMS})`);
  }
  const text = uri.trim();
  if (!/^models:/i.test(text)) return { kind: "path", path: text };
  if (!text.startsWith("models:/") || text.startsWith("models://")) {
    malformed(uri, "it must start with 'models:/' (one slash)");
  }
  const rest = text.slice("models:/".length);
  const at = rest.indexOf("@");
  if (at >= 0) {
    const name = rest.slice(0, at);
    const alias = rest.slice(at + 1);
    if (!MODEL_NAME_RE.test(name)) {
      malformed(uri, name ? `'${name}' is not a model name` : "the model name is missing");
    }
    if (!ALIAS_RE.test(alias)) {
      malformed(uri, alias ? `'${alias}' is not an alias` : "the alias after '@' is missing");
    }
    return { kind: "alias", name, alias };
  }
  const parts = rest.split("/");
  if (parts.length !== 2) {
    malformed(
      uri,
      parts.length < 2 ? "a version, stage or @alias must follow the name" : "too many '/' parts",
    );
  }
  const [name, ref] = parts;
  if (!MODEL_NAME_RE.test(name)) {
    malformed(uri, name ? `'${name}' is not a model name` : "the model name is missing");
  }
  if (ref === "") malformed(uri, "the version is missing");
  if (/^\d+$/.test(ref)) {
    const version = Number(ref);
    if (!Number.isSafeInteger(version) || version < 1) malformed(uri, "versions start at 1");
    return { kind: "version", name, version };
  }
  if (ref.toLowerCase() === "latest") return { kind: "latest", name };
  const stage = STAGES.find((s) => s.toLowerCase() === ref.toLowerCase());
  if (stage) return { kind: "stage", name, stage };
  malformed(uri, `'${ref}' is not a version number, a stage (${STAGES.join(", ")}) or 'latest'`);
}

export function formatModelUri(u: ModelUri): string {
  switch (u.kind) {
    case "version":
      return `models:/${u.name}/${u.version}`;
    case "alias":
      return `models:/${u.name}@${u.alias}`;
    case "stage":
      return `models:/${u.name}/${u.stage}`;
    case "latest":
      return `models:/${u.name}/latest`;
    case "path":
      return u.path;
  }
}

export interface ResolvedModel {
  uri: string;
  /** set when the URI names a registered version (or a path inside the registry) */
  name?: string;
  version?: number;
  /** the artifact directory to load */
  dir: string;
  /** the recorded sha256 of the directory, when registered */
  sha256?: string;
  /** whether the checksum was checked on this call */
  verified: boolean;
}

export interface ResolveOptions {
  /** an open store, or the path of its file (opened and closed here) */
  store: TrackingStore | string;
  modelsDir?: string;
  /** check the files against the recorded sha256 (default true) */
  verify?: boolean;
}

/**
 * Resolves a model URI to its artifact directory, verifying the checksum.
 * Throws UserError on a malformed URI, an unknown model, version or alias, a
 * missing path, or a tampered artifact.
 */
export async function resolveModelUri(uri: string, opts: ResolveOptions): Promise<ResolvedModel> {
  const parsed = parseModelUri(uri);
  if (parsed.kind === "path") {
    let stat: Deno.FileInfo;
    try {
      stat = Deno.statSync(parsed.path);
    } catch {
      throw new UserError(`no model at '${parsed.path}' (not a models:/ URI and no such directory)`);
    }
    if (!stat.isDirectory) throw new UserError(`'${parsed.path}' is not a model artifact directory`);
  }
  const ownStore = typeof opts.store === "string";
  const store = typeof opts.store === "string" ? await TrackingStore.open(opts.store) : opts.store;
  try {
    const registry = await ModelRegistry.open(store, { modelsDir: opts.modelsDir });
    const verify = opts.verify ?? true;
    let name: string;
    let version: number | undefined;
    switch (parsed.kind) {
      case "path": {
        const found = await findRegisteredPath(registry, parsed.path);
        if (!found) return { uri, dir: parsed.path, verified: false };
        ({ name, version } = found);
        break;
      }
      case "version":
        name = parsed.name;
        version = parsed.version;
        break;
      case "alias":
        name = parsed.name;
        await registry.requireModel(name);
        version = await registry.aliasVersion(name, parsed.alias);
        if (version === undefined) throw new UserError(`model '${name}' has no alias '${parsed.alias}'`);
        break;
      case "stage":
        name = parsed.name;
        await registry.requireModel(name);
        version = await registry.stageVersion(name, parsed.stage);
        if (version === undefined) {
          throw new UserError(`model '${name}' has no version in stage ${parsed.stage}`);
        }
        break;
      case "latest":
        name = parsed.name;
        await registry.requireModel(name);
        version = await registry.maxVersion(name);
        break;
    }
    const v = await registry.getVersion(name, version!);
    const dir = verify ? await registry.verify(name, v.version) : v.path;
    return { uri, name, version: v.version, dir, sha256: v.sha256, verified: verify };
  } finally {
    if (ownStore) await store.close();
  }
}

async function findRegisteredPath(
  registry: ModelRegistry,
  path: string,
): Promise<{ name: string; version: number } | undefined> {
  const target = resolve(path);
  for (const model of await registry.listModels()) {
    for (const v of model.versions) {
      if (resolve(v.path) === target) return { name: v.name, version: v.version };
    }
  }
  return undefined;
}
