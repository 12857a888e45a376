/**
 * What the feature store knows: entities (a join key), feature views (a source
 * table, its event and created timestamps, a TTL, typed features) and feature
 * services (named lists of features). They are declared in params.yaml's
 * `feature_store:` block, in a TypeScript file (`feature_store.definitions`,
 * whose default export is `defineFeatureStore({...})`, where a view may also
 * carry a polars `transform`), or both; zod validates each, and every problem
 * across all of them is reported at once. Each definition has a digest, so the
 * registry can tell a changed view (a new version) from an unchanged one.
 */
import type pl from "nodejs-polars";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { z } from "zod";
import {
  type Config,
  DurationSchema,
  EntitySchema,
  FeatureServiceSchema,
  type FeatureStoreConfig,
  FeatureViewSchema,
} from "../config/schema.ts";
import { sha256Hex } from "../core/digest.ts";
import { UserError, UserErrors } from "../core/errors.ts";

export type FeatureType = "float64" | "int64" | "string" | "bool";

export interface Entity {
  name: string;
  join_key: string;
  dtype: "string" | "int64";
  description?: string;
}

/** A transform over a view's source (TypeScript definitions only): lazy in, lazy out. */
export type SourceTransform = (source: pl.LazyDataFrame) => pl.LazyDataFrame;

export interface FeatureView {
  name: string;
  entity: string;
  source: { path: string; format?: "parquet" | "csv"; query?: string };
  transform?: SourceTransform;
  timestamp_field: string;
  created_timestamp_field?: string;
  /** TTL in milliseconds; null: values never expire */
  ttl_ms: number | null;
  /** the TTL as declared (for display) */
  ttl: number | string | null;
  features: { name: string; dtype: FeatureType }[];
  description?: string;
  /** its entity's join key and dtype (set when the definitions are built): the keys its rows are stored under */
  entity_key?: { name: string; dtype: Entity["dtype"] };
}

export interface FeatureService {
  name: string;
  /** `view:feature` refs, with `view:*` expanded */
  features: string[];
  description?: string;
}

export interface Definitions {
  entities: Map<string, Entity>;
  views: Map<string, FeatureView>;
  services: Map<string, FeatureService>;
}

/** One requested feature, resolved to its view. */
export interface FeatureRef {
  view: string;
  feature: string;
  dtype: FeatureType;
}

const UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** A duration as params declare it (seconds, or "30d") in milliseconds. */
export function durationMs(d: number | string | null | undefined): number | null {
  if (d === null || d === undefined) return null;
  if (typeof d === "number") return d * 1000;
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)$/.exec(d.trim());
  if (!m) throw new UserError(`'${d}' is not a duration (90s, 15m, 12h, 30d, 2w)`);
  return Math.round(Number(m[1]) * UNITS[m[2]]);
}

/** What a TypeScript definitions file exports: the same shapes as params.yaml, plus `transform`. */
export interface FeatureStoreDefinitionsInput {
  entities?: Record<string, z.input<typeof EntitySchema>>;
  feature_views?: Record<string, z.input<typeof FeatureViewSchema> & { transform?: SourceTransform }>;
  feature_services?: Record<string, z.input<typeof FeatureServiceSchema>>;
}

/** Marks a TypeScript definitions file's default export (typed; validated when loaded). */
export function defineFeatureStore(defs: FeatureStoreDefinitionsInput): FeatureStoreDefinitionsInput {
  return defs;
}

const TsViewSchema = FeatureViewSchema.extend({
  transform: z.custom<SourceTransform>((v) => typeof v === "function", "a function (source) => LazyDataFrame")
    .optional(),
});
const TsDefinitionsSchema = z.strictObject({
  entities: z.record(z.string(), EntitySchema).default({}),
  feature_views: z.record(z.string(), TsViewSchema).default({}),
  feature_services: z.record(z.string(), FeatureServiceSchema).default({}),
});

type RawDefs = z.output<typeof TsDefinitionsSchema>;

/** Loads a TypeScript definitions file's default export and validates it. */
export async function loadDefinitionsFile(path: string): Promise<RawDefs> {
  let mod: Record<string, unknown>;
  try {
    mod = await import(pathToFileURL(resolve(path)).href);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || /Module not found/.test(String(e))) {
      throw new UserError(`feature_store.definitions: ${path} does not exist`);
    }
    throw new UserError(`feature_store.definitions: ${path} failed to load (${String(e).split("\n")[0]})`);
  }
  const value = mod.default ?? mod.definitions;
  if (!value || typeof value !== "object") {
    throw new UserError(
      `feature_store.definitions: ${path} has no default export (defineFeatureStore({...}))`,
    );
  }
  const parsed = TsDefinitionsSchema.safeParse(value);
  if (!parsed.success) {
    throw new UserErrors(
      parsed.error.issues.map((i) => `${path}: ${i.path.join(".") || "(root)"}: ${i.message}`),
    );
  }
  return parsed.data;
}

/**
 * The definitions of params.yaml's block and, when `feature_store.definitions`
 * names one, of a TypeScript file, merged (a name declared in both is an
 * error) and cross-checked: every view's entity exists, every service names
 * features that exist.
 */
export async function loadDefinitions(config: Pick<Config, "feature_store">): Promise<Definitions> {
  const fs = config.feature_store;
  const fromFile = fs.definitions ? await loadDefinitionsFile(fs.definitions) : undefined;
  return buildDefinitions(fs, fromFile);
}

/** Builds and cross-checks definitions from validated raw blocks (params and, optionally, a file). */
export function buildDefinitions(
  fs: Pick<FeatureStoreConfig, "entities" | "feature_views" | "feature_services">,
  extra?: RawDefs,
): Definitions {
  const problems: string[] = [];
  const merge = <T>(kind: string, a: Record<string, T>, b: Record<string, T> | undefined) => {
    const out = new Map<string, T>(Object.entries(a));
    for (const [name, v] of Object.entries(b ?? {})) {
      if (out.has(name)) {
        problems.push(`${kind} ${name} is declared both in params and in the definitions file`);
      }
      out.set(name, v);
    }
    return out;
  };
  const entities = new Map<string, Entity>();
  for (const [name, e] of merge("entity", fs.entities, extra?.entities)) entities.set(name, { name, ...e });

  const views = new Map<string, FeatureView>();
  for (
    const [name, v] of merge<z.output<typeof TsViewSchema>>(
      "feature view",
      fs.feature_views,
      extra?.feature_views,
    )
  ) {
    if (!entities.has(v.entity)) {
      problems.push(
        `feature view ${name}: unknown entity '${v.entity}' (entities: ${
          [...entities.keys()].join(", ") || "none"
        })`,
      );
    }
    const features = Object.entries(v.features).map(([f, dtype]) => ({ name: f, dtype }));
    if (features.length === 0) problems.push(`feature view ${name}: no features`);
    const key = entities.get(v.entity)?.join_key;
    for (const f of features) {
      if ([key, v.timestamp_field, v.created_timestamp_field].includes(f.name)) {
        problems.push(`feature view ${name}: feature ${f.name} is also its join key or a timestamp column`);
      }
    }
    let ttl_ms: number | null = null;
    try {
      ttl_ms = durationMs(DurationSchema.nullable().parse(v.ttl));
    } catch (e) {
      problems.push(`feature view ${name}: ttl: ${(e as Error).message}`);
    }
    views.set(name, {
      name,
      entity: v.entity,
      source: v.source,
      transform: v.transform,
      timestamp_field: v.timestamp_field,
      created_timestamp_field: v.created_timestamp_field,
      ttl: v.ttl,
      ttl_ms,
      features,
      description: v.description,
      ...(entities.has(v.entity)
        ? { entity_key: { name: entities.get(v.entity)!.join_key, dtype: entities.get(v.entity)!.dtype } }
        : {}),
    });
  }

  const services = new Map<string, FeatureService>();
  for (const [name, s] of merge("feature service", fs.feature_services, extra?.feature_services)) {
    const refs: string[] = [];
    for (const ref of s.features) {
      try {
        for (const r of expandRef(views, ref)) refs.push(`${r.view}:${r.feature}`);
      } catch (e) {
        problems.push(`feature service ${name}: ${(e as Error).message}`);
      }
    }
    const dup = refs.find((r, i) => refs.indexOf(r) !== i);
    if (dup) problems.push(`feature service ${name}: ${dup} is listed twice`);
    else {
      // a training set and a served record name each feature by its name alone: two views' same name would clash
      const byName = new Map<string, string>();
      for (const r of refs) {
        const feature = r.slice(r.indexOf(":") + 1), first = byName.get(feature);
        if (first) {
          problems.push(
            `feature service ${name}: ${first} and ${r} share the name '${feature}' (training sets and records name a feature by its name): rename one in its view`,
          );
        } else byName.set(feature, r);
      }
    }
    services.set(name, { name, features: refs, description: s.description });
  }
  if (problems.length) throw new UserErrors(problems);
  return { entities, views, services };
}

/** `view:feature` or `view:*` to its features; an unknown view or feature is a user error naming it. */
export function expandRef(views: Map<string, FeatureView>, ref: string): FeatureRef[] {
  const i = ref.indexOf(":");
  if (i < 0) throw new UserError(`feature '${ref}' must be view:feature (or view:*)`);
  const viewName = ref.slice(0, i), feature = ref.slice(i + 1);
  const view = views.get(viewName);
  if (!view) {
    throw new UserError(
      `unknown feature view '${viewName}' in '${ref}' (views: ${[...views.keys()].join(", ") || "none"})`,
    );
  }
  if (feature === "*") return view.features.map((f) => ({ view: viewName, feature: f.name, dtype: f.dtype }));
  const f = view.features.find((x) => x.name === feature);
  if (!f) {
    throw new UserError(
      `unknown feature '${feature}' in feature view ${viewName} (features: ${
        view.features.map((x) => x.name).join(", ")
      })`,
    );
  }
  return [{ view: viewName, feature, dtype: f.dtype }];
}

/**
 * The features a request names: a feature service's name, or a list of
 * `view:feature` refs (and `view:*`). Unknown names are one user error.
 */
export function resolveFeatures(defs: Definitions, features: string | string[]): FeatureRef[] {
  if (typeof features === "string") {
    const service = defs.services.get(features);
    if (!service) {
      throw new UserError(
        `unknown feature service '${features}' (services: ${[...defs.services.keys()].join(", ") || "none"})`,
      );
    }
    return service.features.flatMap((r) => expandRef(defs.views, r));
  }
  if (features.length === 0) throw new UserError("no features requested");
  const out = features.flatMap((r) => expandRef(defs.views, r));
  const seen = new Set<string>();
  for (const r of out) {
    const k = `${r.view}:${r.feature}`;
    if (seen.has(k)) throw new UserError(`feature ${k} is requested twice`);
    seen.add(k);
  }
  return out;
}

/** The canonical form of a definition that its digest is taken over (what makes a new version). */
export function canonical(
  kind: "entity" | "view" | "service",
  d: Entity | FeatureView | FeatureService,
): unknown {
  if (kind === "view") {
    const v = d as FeatureView;
    return {
      entity: v.entity,
      source: { path: v.source.path, format: v.source.format ?? null, query: v.source.query ?? null },
      transform: v.transform ? v.transform.toString() : null,
      timestamp_field: v.timestamp_field,
      created_timestamp_field: v.created_timestamp_field ?? null,
      ttl_ms: v.ttl_ms,
      features: v.features.map((f) => [f.name, f.dtype]),
      // last, and compared only once recorded (registry.ts sameVersion): views registered before it joined
      // keep their version
      entity_key: v.entity_key ? [v.entity_key.name, v.entity_key.dtype] : null,
    };
  }
  if (kind === "entity") {
    const e = d as Entity;
    return { join_key: e.join_key, dtype: e.dtype };
  }
  return { features: (d as FeatureService).features };
}

/**
 * Fields of a kind's canonical form added after versions were registered
 * without them, newest last: a registered version that lacks one is compared
 * without it (registry.ts sameVersion), so an upgrade re-versions nothing.
 */
export const LATER_FIELDS: Readonly<Record<"entity" | "view" | "service", readonly string[]>> = {
  entity: [],
  view: ["entity_key"],
  service: [],
};

/** The digest of a canonical form (JSON, in its key order). */
export function digestOfCanonical(form: unknown): string {
  return sha256Hex(JSON.stringify(form)).slice(0, 16);
}

export function digestOf(
  kind: "entity" | "view" | "service",
  d: Entity | FeatureView | FeatureService,
): string {
  return digestOfCanonical(canonical(kind, d));
}
