/**
 * Serving by entity id (issue 17, part 5): a model trained on a feature
 * service records it in its signature (join key, views, versions, TTLs,
 * positions; src/training/serving_signature.ts), so `/predict` can take
 * `{"customer_id": "C-1"}` and fill in the model's inputs from the online
 * store. Fields in the request override stored ones; a feature that is missing
 * or expired (TTL checked on read, as getOnlineFeatures does) follows the
 * model's policy (serve.feature_store): `reject` answers 422 naming the feature
 * and the entity, `missing` hands the model a missing value, imputed as in
 * training. An entity the store has nothing for is a 404 naming it under
 * `reject`. `/features` (routes/features.ts) answers the values and statuses.
 *
 * Lean by construction: the plan is built once per loaded version, the lookup
 * reads only the signature and the online store (no feature-store definitions,
 * no polars in the service), and a model without a feature service costs one
 * WeakMap lookup; a request that carries every input, one scan and no await.
 */
import type { FeatureStatus, StoredRow } from "../featurestore/online.ts";
import { rowStatus, tableName } from "../featurestore/online.ts";
import { isRedisUri, openOnlineStore } from "../featurestore/open.ts";
import { type OnlineReader, SqliteSnapshotReader } from "./snapshot_reader.ts";
import type { SignatureFeatureService } from "../models/types.ts";
import type { ServedModel } from "./holder.ts";
import { type FieldProblem, HttpError } from "./http.ts";
import { withinChars } from "../core/text.ts";

export type OnMissing = "reject" | "missing";
export type { FeatureStatus } from "../featurestore/online.ts";

/** Where the service finds online features, and what each model does without one. */
export interface FeatureSource {
  /** the online store, opened on first use */
  store(): Promise<OnlineReader>;
  /** the store once open (null before): the lookup then skips a promise */
  readonly current: OnlineReader | null;
  /** the model's policy for a missing or expired feature */
  onMissing(model: string): OnMissing;
  close(): Promise<void>;
}

export interface FeatureSourceOptions {
  /** a SQLite file path or a redis:// URI */
  location: string;
  /** Redis key prefix (default orchard:fs:) */
  prefix?: string;
  onMissing?: OnMissing;
  /** model name -> policy */
  models?: Record<string, OnMissing>;
}

/**
 * The online store at `location`, opened once on first use (a failed open is
 * retried by the next request): Redis through the feature store's client, a
 * SQLite file through a snapshot reader (snapshot_reader.ts).
 */
export function featureSource(opts: FeatureSourceOptions): FeatureSource {
  let opened: Promise<OnlineReader> | undefined;
  let ready: OnlineReader | null = null;
  const open = (): Promise<OnlineReader> =>
    isRedisUri(opts.location)
      ? openOnlineStore(opts.location, { prefix: opts.prefix })
      : Promise.resolve().then(() => SqliteSnapshotReader.open(opts.location));
  return {
    store() {
      opened ??= open().then((s) => ready = s, (e) => {
        opened = undefined;
        throw e;
      });
      return opened;
    },
    get current() {
      return ready;
    },
    onMissing: (model) => opts.models?.[model] ?? opts.onMissing ?? "reject",
    async close() {
      if (opened) await (await opened.catch(() => null))?.close();
      opened = undefined;
      ready = null;
    },
  };
}

/** How one served version looks its inputs up. */
export interface EntityPlan {
  service: SignatureFeatureService;
  joinKey: string;
  /** the signature's input names */
  names: string[];
  /** per view: its online table, TTL and the features read from it (index in the stored row) */
  views: { table: string; ttl: number | null; picks: { index: number; name: string }[] }[];
  /** every looked-up feature, in signature order of views */
  features: string[];
  /** feature name -> [view number, index in the stored row] */
  where: Map<string, [number, number]>;
}

const plans = new WeakMap<ServedModel, EntityPlan | null>();

/** The served version's plan, or null when it was not trained on a feature service. */
export function entityPlan(m: ServedModel): EntityPlan | null {
  let p = plans.get(m);
  if (p !== undefined) return p;
  const fs = m.model.signature.feature_service;
  p = null;
  if (fs && typeof fs.join_key === "string" && Array.isArray(fs.views)) {
    const views = fs.views.map((v) => ({
      table: tableName(v.view, v.version),
      ttl: v.ttl_ms,
      picks: v.features.map((f) => ({ index: f.index, name: f.name })),
    }));
    const where = new Map<string, [number, number]>();
    views.forEach((v, vi) => v.picks.forEach((pk) => where.set(pk.name, [vi, pk.index])));
    p = {
      service: fs,
      joinKey: fs.join_key,
      names: m.validator.columns.map((c) => c.name),
      views,
      features: [...where.keys()],
      where,
    };
  }
  plans.set(m, p);
  return p;
}

/** The longest entity id taken (a string; openapi.ts states it). */
export const MAX_ID_LENGTH = 1024;

/** An entity id as given: a string or a whole number (the join key's dtype is string or int64). */
export function entityId(v: unknown, key: string, record?: number): string {
  if (typeof v === "string" && v.length > 0 && withinChars(v, MAX_ID_LENGTH)) return v;
  if (typeof v === "number" && Number.isSafeInteger(v)) return String(v);
  const problem: FieldProblem = {
    field: key,
    message:
      `expected an entity id (a non-empty string of at most ${MAX_ID_LENGTH} characters, or a whole number)`,
  };
  if (record !== undefined) problem.record = record;
  throw new HttpError(422, `invalid ${key}`, [problem]);
}

/** Each view's stored rows of `ids` (per view, in order); a store that fails is a 503. */
export async function readRows(
  plan: EntityPlan,
  source: FeatureSource,
  ids: string[],
): Promise<(StoredRow | undefined)[][]> {
  try {
    const store = source.current ?? await source.store();
    // SQLite answers synchronously: no promise per view
    if (store.readSync) return plan.views.map((v) => store.readSync!(v.table, ids));
    return await Promise.all(plan.views.map((v) => store.read(v.table, ids)));
  } catch (e) {
    throw new HttpError(
      503,
      `online store unavailable: ${String((e as Error)?.message ?? e).split("\n")[0]}`,
    );
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function quoted(id: string): string {
  return JSON.stringify(id.length > 64 ? id.slice(0, 61) + "..." : id);
}

/** The first ten ids, quoted, and how many more. */
function listed(ids: string[]): string {
  const more = ids.length > 10 ? ` and ${ids.length - 10} more` : "";
  return ids.slice(0, 10).map(quoted).join(", ") + more;
}

/** The 404 for entities the store has no row for in any view. */
function unknownEntities(plan: EntityPlan, ids: string[]): HttpError {
  return new HttpError(
    404,
    `unknown entity: the online store has no features for ${plan.joinKey} ${
      listed(ids)
    } (feature service ${plan.service.name})`,
  );
}

/**
 * The /predict body's records that name an entity (give the join key) and lack
 * some input, by index; null when there are none (records without the key, or
 * with every input, cost no lookup) or when the body is longer than `maxBatch`
 * (left to the validator's 413 without a lookup). Synchronous: a request with
 * nothing to look up costs no await.
 */
export function lookupAt(plan: EntityPlan, body: unknown, maxBatch: number): number[] | null {
  const records: unknown[] = Array.isArray(body) ? body : [body];
  if (records.length > maxBatch) return null;
  const key = plan.joinKey, names = plan.names;
  let at: number[] | null = null;
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    if (!isRecord(r) || r[key] === undefined) continue;
    for (let j = 0; j < names.length; j++) {
      if (r[names[j]] === undefined) {
        (at ??= []).push(i);
        break;
      }
    }
  }
  return at;
}

/**
 * A /predict body with the records at `at` (lookupAt: they name an entity
 * and lack some input) completed from the online store: a new record with the
 * signature's keys in order, the request's values where given, else the
 * stored ones. Other records stay as they are.
 */
export async function joinEntities(
  plan: EntityPlan,
  source: FeatureSource,
  policy: OnMissing,
  body: unknown,
  at: number[],
): Promise<unknown> {
  const batch = Array.isArray(body);
  const records: unknown[] = batch ? body as unknown[] : [body];
  const key = plan.joinKey, names = plan.names;
  const ids = at.map((i) =>
    entityId((records[i] as Record<string, unknown>)[key], key, batch ? i : undefined)
  );
  const rows = await readRows(plan, source, ids);
  const now = Date.now();
  const problems: FieldProblem[] = [];
  const unknown: string[] = [], refused = new Set<string>();
  const out = batch ? records.slice() : records;
  for (let n = 0; n < at.length; n++) {
    const i = at[n], r = records[i] as Record<string, unknown>, id = ids[n];
    const status = plan.views.map((v, vi) => rowStatus(rows[vi][n], v.ttl, now));
    if (policy === "reject" && status.every((s) => s === "missing")) {
      unknown.push(id);
      continue;
    }
    const merged: Record<string, unknown> = {};
    for (let j = 0; j < names.length; j++) {
      const name = names[j], given = r[name];
      if (given !== undefined) {
        merged[name] = given;
        continue;
      }
      const w = plan.where.get(name);
      // an input the service does not hold stays absent: the validator names it as required
      if (!w) continue;
      const s = status[w[0]];
      if (s === "present") merged[name] = rows[w[0]][n]!.values[w[1]] ?? null;
      else if (policy === "missing") merged[name] = null;
      else if (problems.length < 100) {
        const p: FieldProblem = {
          field: name,
          message: `feature ${name} is ${s} in the online store for ${key} ${quoted(id)}`,
        };
        if (batch) p.record = i;
        problems.push(p);
        refused.add(id);
      }
    }
    out[i] = merged;
  }
  if (unknown.length) throw unknownEntities(plan, unknown);
  if (problems.length) {
    const fields = [...new Set(problems.map((p) => p.field))].slice(0, 10).join(", ");
    throw new HttpError(
      422,
      `missing or expired online features (${fields}) for ${key} ${
        listed([...refused])
      }; send them in the request, or set serve.feature_store.on_missing: missing`,
      problems,
    );
  }
  return batch ? out : out[0];
}

/** One entity's online features, as /features answers them. */
export interface EntityFeatures {
  values: Record<string, unknown>;
  statuses: Record<string, FeatureStatus>;
}

/**
 * The online values and statuses of `features` (default: all of the plan's)
 * for `ids`: an unknown feature is a 422 naming it, an entity the store has
 * no row for in any view a 404 naming it.
 */
export async function lookupFeatures(
  plan: EntityPlan,
  source: FeatureSource,
  ids: string[],
  features: string[] | null,
): Promise<{ features: string[]; rows: EntityFeatures[] }> {
  const want = features ?? plan.features;
  const bad = want.filter((f) => !plan.where.has(f));
  if (bad.length) {
    throw new HttpError(
      422,
      `unknown feature${bad.length > 1 ? "s" : ""} ${
        bad.slice(0, 10).join(", ")
      } (feature service ${plan.service.name} has: ${plan.features.join(", ")})`,
      bad.slice(0, 100).map((f) => ({ field: "features", message: `unknown feature ${f}` })),
    );
  }
  const rows = await readRows(plan, source, ids);
  const now = Date.now();
  const unknown: string[] = [];
  const out = ids.map((id, n) => {
    const status = plan.views.map((v, vi) => rowStatus(rows[vi][n], v.ttl, now));
    if (status.every((s) => s === "missing")) unknown.push(id);
    const values: Record<string, unknown> = {}, statuses: Record<string, FeatureStatus> = {};
    for (const f of want) {
      const [vi, index] = plan.where.get(f)!;
      statuses[f] = status[vi];
      values[f] = status[vi] === "present" ? rows[vi][n]!.values[index] ?? null : null;
    }
    return { values, statuses };
  });
  if (unknown.length) throw unknownEntities(plan, unknown);
  return { features: want, rows: out };
}
