/**
 * The feature store's registry: what `features:apply` registered, as one JSON
 * file under the feature store's folder (`registry.json`, written atomically).
 * Every feature view and service keeps its versions: a definition whose digest
 * changed is a new version (the old stays listed), so an online table or a
 * training set can name the exact version it was built from. `plan` compares
 * the declared definitions with the registered ones and says what apply would
 * do, field by field, after checking every view's source has its columns.
 */
import { join } from "node:path";
import { writeJsonAtomic } from "../core/atomic.ts";
import { UserError, UserErrors } from "../core/errors.ts";
import { canonical, type Definitions, digestOfCanonical, LATER_FIELDS } from "./definitions.ts";
import { dtypeProblems, sourceProblems, timestampProblems } from "./source.ts";

export const REGISTRY_FILE = "registry.json";

export interface RegisteredVersion {
  version: number;
  digest: string;
  definition: Record<string, unknown>;
  registered_at: string;
}

export interface RegisteredObject {
  versions: RegisteredVersion[];
  /** set when apply found it no longer declared */
  removed_at?: string;
}

export interface Registry {
  format: 1;
  updated_at: string | null;
  entities: Record<string, RegisteredObject>;
  feature_views: Record<string, RegisteredObject>;
  feature_services: Record<string, RegisteredObject>;
}

export type Kind = "entity" | "feature_view" | "feature_service";
export type Action = "add" | "change" | "remove" | "unchanged";

export interface Change {
  kind: Kind;
  name: string;
  action: Action;
  /** the registered version before (undefined when added) */
  from?: number;
  /** the version after apply (undefined when removed) */
  to?: number;
  /** which fields differ, e.g. "ttl: 2592000000 -> 604800000", "features: +amount_7d" */
  details: string[];
}

export function emptyRegistry(): Registry {
  return { format: 1, updated_at: null, entities: {}, feature_views: {}, feature_services: {} };
}

export function registryPath(directory: string): string {
  return join(directory, REGISTRY_FILE);
}

export function readRegistry(directory: string): Registry {
  const path = registryPath(directory);
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return emptyRegistry();
    throw e;
  }
  try {
    const r = JSON.parse(text) as Registry;
    if (r.format !== 1) throw new Error(`format ${r.format}`);
    return r;
  } catch (e) {
    throw new UserError(`${path}: not a feature store registry (${(e as Error).message})`);
  }
}

/** The latest live version of a registered object, or undefined (never registered, or removed). */
export function latest(obj: RegisteredObject | undefined): RegisteredVersion | undefined {
  if (!obj || obj.removed_at) return undefined;
  return obj.versions.at(-1);
}

/** A TTL in ms as the largest whole unit: 30d, 12h, 90s; null: none. */
function duration(ms: number | null): string {
  if (ms === null) return "none";
  for (
    const [unit, size] of [["w", 604_800_000], ["d", 86_400_000], ["h", 3_600_000], ["m", 60_000], [
      "s",
      1000,
    ]] as const
  ) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

function fieldDiff(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const k of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const a = before[k], b = after[k];
    if (JSON.stringify(a) === JSON.stringify(b)) continue;
    if (k === "features" && Array.isArray(a) && Array.isArray(b)) {
      // a view's features are [name, type] pairs; a service's, "view:feature" strings (each its own key)
      const entry = (f: unknown): [string, string] =>
        Array.isArray(f) ? [String(f[0]), String(f[1])] : [String(f), ""];
      const fa = new Map(a.map(entry));
      const fb = new Map(b.map(entry));
      const parts: string[] = [];
      for (const [n, t] of fb) {
        if (!fa.has(n)) parts.push(`+${n}`);
        else if (fa.get(n) !== t) parts.push(`${n} ${fa.get(n)} -> ${t}`);
      }
      for (const n of fa.keys()) if (!fb.has(n)) parts.push(`-${n}`);
      out.push(`features: ${parts.join(", ") || "reordered"}`);
    } else if (k === "ttl_ms") {
      out.push(`ttl: ${duration(a as number | null)} -> ${duration(b as number | null)}`);
    } else out.push(`${k}: ${JSON.stringify(a)} -> ${JSON.stringify(b)}`);
  }
  return out;
}

/** A declared definition: its digest and canonical form. */
interface Declared {
  digest: string;
  definition: Record<string, unknown>;
}

const KIND_OF: Record<Kind, "entity" | "view" | "service"> = {
  entity: "entity",
  feature_view: "view",
  feature_service: "service",
};

/**
 * Whether a registered version is the declared definition: the same digest,
 * or, for a version registered before fields of LATER_FIELDS joined the
 * canonical form (its stored definition lacks them), the same digest without
 * those fields. `apply` then records the full form under the same version.
 */
export function sameVersion(
  kind: Kind,
  prev: { digest: string; definition: Record<string, unknown> },
  d: Declared,
): boolean {
  if (prev.digest === d.digest) return true;
  const missing = LATER_FIELDS[KIND_OF[kind]].filter((k) => k in d.definition && !(k in prev.definition));
  if (missing.length === 0) return false;
  const older = { ...d.definition };
  for (const k of missing) delete older[k];
  return digestOfCanonical(older) === prev.digest;
}

/** One definition's canonical form and its digest (taken over that form, computed once). */
function declare(kind: "entity" | "view" | "service", d: Parameters<typeof canonical>[1]): Declared {
  const definition = canonical(kind, d) as Record<string, unknown>;
  return { digest: digestOfCanonical(definition), definition };
}

function declared(
  defs: Definitions,
): Record<Kind, Map<string, Declared>> {
  const pack = (kind: "entity" | "view" | "service", m: Map<string, Parameters<typeof canonical>[1]>) =>
    new Map([...m].map(([name, d]) => [name, declare(kind, d)]));
  return {
    entity: pack("entity", defs.entities),
    feature_view: pack("view", defs.views),
    feature_service: pack("service", defs.services),
  };
}

const SECTION: Record<Kind, "entities" | "feature_views" | "feature_services"> = {
  entity: "entities",
  feature_view: "feature_views",
  feature_service: "feature_services",
};

/** What apply would change in the registry: every declared and registered object, one change each. */
export function diffRegistry(defs: Definitions, registry: Registry): Change[] {
  const out: Change[] = [];
  const now = declared(defs);
  for (const kind of ["entity", "feature_view", "feature_service"] as Kind[]) {
    const section = registry[SECTION[kind]];
    for (const [name, d] of now[kind]) {
      const obj = section[name];
      const prev = latest(obj);
      const lastVersion = obj?.versions.at(-1)?.version ?? 0;
      if (!prev) {
        const last = obj?.versions.at(-1);
        const reAdd = last !== undefined && sameVersion(kind, last, d);
        out.push({ kind, name, action: "add", to: reAdd ? lastVersion : lastVersion + 1, details: [] });
      } else if (sameVersion(kind, prev, d)) {
        out.push({ kind, name, action: "unchanged", from: prev.version, to: prev.version, details: [] });
      } else {
        out.push({
          kind,
          name,
          action: "change",
          from: prev.version,
          to: prev.version + 1,
          details: fieldDiff(prev.definition, d.definition),
        });
      }
    }
    for (const [name, obj] of Object.entries(section)) {
      const prev = latest(obj);
      if (prev && !now[kind].has(name)) {
        out.push({ kind, name, action: "remove", from: prev.version, details: [] });
      }
    }
  }
  return out;
}

/**
 * Checks every view's source against its definition, and its text timestamps and declared dtypes from a
 * sample of rows (a check reads do not repeat); all problems at once.
 */
export function checkSources(defs: Definitions): void {
  const problems = [...defs.views.values()].flatMap((v) => {
    const schema = sourceProblems(defs, v);
    return schema.length ? schema : [...timestampProblems(defs, v), ...dtypeProblems(defs, v)];
  });
  if (problems.length) throw new UserErrors(problems);
}

export interface PlanResult {
  registry: string;
  changes: Change[];
  /** changes other than "unchanged" */
  pending: number;
}

/** `features:plan`: the sources checked, then what apply would change. Writes nothing. */
export function plan(defs: Definitions, directory: string): PlanResult {
  checkSources(defs);
  const changes = diffRegistry(defs, readRegistry(directory));
  return {
    registry: registryPath(directory),
    changes,
    pending: changes.filter((c) => c.action !== "unchanged").length,
  };
}

/** `features:apply`: plan, then register the changes (new versions of changed views and services). */
export function apply(defs: Definitions, directory: string, now = new Date()): PlanResult {
  checkSources(defs);
  const registry = readRegistry(directory);
  const changes = diffRegistry(defs, registry);
  const decl = declared(defs);
  const at = now.toISOString();
  let upgraded = false;
  for (const c of changes) {
    const section = registry[SECTION[c.kind]];
    if (c.action === "remove") section[c.name].removed_at = at;
    else {
      const d = decl[c.kind].get(c.name)!;
      const obj = section[c.name] ??= { versions: [] };
      if (c.action !== "unchanged") delete obj.removed_at;
      const last = obj.versions.at(-1);
      if (last && last.digest !== d.digest && sameVersion(c.kind, last, d)) {
        // registered before fields joined the canonical form: the same version, now with them recorded
        last.digest = d.digest;
        last.definition = d.definition;
        upgraded = true;
      } else if (c.action !== "unchanged" && last?.digest !== d.digest) {
        obj.versions.push({ version: c.to!, digest: d.digest, definition: d.definition, registered_at: at });
      }
    }
  }
  const pending = changes.filter((c) => c.action !== "unchanged").length;
  if (pending > 0 || upgraded) {
    registry.updated_at = at;
    Deno.mkdirSync(directory, { recursive: true });
    writeJsonAtomic(registryPath(directory), registry);
  }
  return { registry: registryPath(directory), changes, pending };
}

/**
 * The registered version of each declared view, checked to be what is declared:
 * a view declared but not applied, or changed since, is a user error (apply first),
 * so nothing reads or writes under a version that does not describe it.
 */
export function registeredVersions(
  defs: Definitions,
  directory: string,
  names: Iterable<string> = defs.views.keys(),
): Map<string, number> {
  const registry = readRegistry(directory);
  const out = new Map<string, number>();
  const problems: string[] = [];
  for (const name of names) {
    const view = defs.views.get(name)!;
    const prev = latest(registry.feature_views[name]);
    if (!prev) problems.push(`feature view ${name} is not registered (run deno task features:apply)`);
    else if (
      !sameVersion("feature_view", prev, declare("view", view))
    ) {
      problems.push(
        `feature view ${name} changed since version ${prev.version} was registered (deno task features:plan shows how; features:apply registers it)`,
      );
    } else out.set(name, prev.version);
  }
  if (problems.length) throw new UserErrors(problems);
  return out;
}
