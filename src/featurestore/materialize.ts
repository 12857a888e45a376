/**
 * Materialize and the online lookup. `materialize(start, end)` writes, per
 * feature view, each entity's latest row with an event timestamp in [start,
 * end] that is still within TTL at `end` (ties to the created timestamp) into
 * the online store, under the view's registered version. The incremental form
 * starts each view one millisecond after the end its last run recorded (or at
 * end - TTL for a view never materialized; at the first row for one without TTL).
 *
 * `getOnlineFeatures` reads each entity's stored rows and gives every value a
 * status: present, missing (no row for that entity) or expired (the row is
 * older than the view's TTL at read time; its value is withheld, null). TTL is
 * enforced on read, so a stale value is never served as present.
 */
import pl from "nodejs-polars";
import { UserError } from "../core/errors.ts";
import type { Definitions, FeatureRef, FeatureType, FeatureView } from "./definitions.ts";
import type { EncodedRow, FeatureStatus, OnlineStore, StoredRow } from "./online.ts";
import { rowStatus, tableName } from "./online.ts";
import { CREATED, readView, TS } from "./source.ts";
import { gatherValues, type TimeLike, toMs } from "./offline.ts";

export interface MaterializeOptions {
  start?: TimeLike;
  end?: TimeLike;
  incremental?: boolean;
  /** only these views (default: every declared view) */
  views?: string[];
  /** rows per write batch (default 50,000; each batch is one transaction) */
  batchRows?: number;
}

export interface ViewMaterialization {
  view: string;
  version: number;
  /** the window covered, epoch ms; start null when nothing needed doing */
  start: number | null;
  end: number;
  /** entities with a row in the window */
  entities: number;
  /** rows the store took (a newer stored row is kept) */
  written: number;
  seconds: number;
}

const WRITE_BATCH = 50_000;
const RID = "__rid", JSON_COL = "__json";
/** The values' JSON is built in this many parts, so that polars formats them on several threads. */
const JSON_PARTS = 2;

/**
 * The rows to store for the window: each entity's latest row (by event time,
 * then created time), as key, times and row id, sorted by key, which makes
 * SQLite's inserts appends to its index rather than page splits all over it.
 */
function latestRows(defs: Definitions, viewName: string, start: number, end: number): pl.DataFrame {
  const view = defs.views.get(viewName)!;
  const key = defs.entities.get(view.entity)!.join_key;
  const from = view.ttl_ms === null ? start : Math.max(start, end - view.ttl_ms);
  return readView(defs, view, []).withRowIndex(RID)
    .filter(pl.col(TS).gtEq(from).and(pl.col(TS).ltEq(end)).and(pl.col(key).isNotNull()))
    // the later source row wins a tie on both times, as in the point-in-time join (asof.ts timeOrder)
    .sort([TS, CREATED, RID])
    .unique({ subset: [key], keep: "last", maintainOrder: false })
    .sort(key)
    .collectSync();
}

/** One value as JSON text, as JSON.stringify writes it (NaN and infinities as null, -0 as 0). */
function jsonValue(c: pl.Expr, name: string, dtype: FeatureType): pl.Expr {
  if (dtype === "string") {
    // the struct's encoder escapes the string: {"name":"..."} less its braces and field name
    const prefix = JSON.stringify(name).length + 2;
    // (the text ends `"}` or `null}`: only the struct's brace is stripped)
    return pl.struct([c.alias(name)]).struct.jsonEncode().str.slice(prefix).str.stripCharsEnd("}");
  }
  const finite = dtype === "float64"
    ? pl.when(c.isNan().or(c.isInfinite())).then(pl.lit(null)).when(c.eq(0)).then(pl.lit(0)).otherwise(c)
    : c;
  return finite.cast(pl.Utf8).fillNull("null");
}

/** An expression for each row's values (the view's features, in declared order) as a JSON array. */
function valuesJson(view: FeatureView): pl.Expr {
  if (view.features.length === 0) return pl.lit("[]").alias(JSON_COL);
  // in parts, so that polars formats them on several threads
  const per = Math.ceil(view.features.length / JSON_PARTS);
  const parts: pl.Expr[] = [];
  for (let i = 0; i < view.features.length; i += per) {
    parts.push(
      pl.concatString(
        view.features.slice(i, i + per).map((f) => jsonValue(pl.col(f.name), f.name, f.dtype)),
        ",",
      ),
    );
  }
  return pl.concatString([pl.lit("["), pl.concatString(parts, ","), pl.lit("]")], "").alias(JSON_COL);
}

/**
 * The window a materialization covers, in epoch ms: `start` null with incremental. Throws a
 * UserError for a missing or inverted one, so a caller can check it before opening any store.
 */
export function materializationWindow(opts: MaterializeOptions): { start: number | null; end: number } {
  const end = opts.end === undefined ? Date.now() : toMs(opts.end, "--end");
  if (!opts.incremental && opts.start === undefined) {
    throw new UserError("materialize needs --start (and --end, default now), or --incremental");
  }
  const start = opts.incremental ? null : toMs(opts.start!, "--start");
  if (start !== null && start > end) {
    throw new UserError(
      `--start ${new Date(start).toISOString()} is after --end ${new Date(end).toISOString()}`,
    );
  }
  return { start, end };
}

export async function materializeViews(
  defs: Definitions,
  store: OnlineStore,
  versions: Map<string, number>,
  opts: MaterializeOptions,
  log: (line: string) => void = () => {},
): Promise<ViewMaterialization[]> {
  const { end, start: given } = materializationWindow(opts);
  const out: ViewMaterialization[] = [];
  for (const viewName of opts.views ?? [...defs.views.keys()]) {
    const view = defs.views.get(viewName);
    if (!view) {
      throw new UserError(`unknown feature view '${viewName}' (views: ${[...defs.views.keys()].join(", ")})`);
    }
    const version = versions.get(viewName)!;
    const t0 = performance.now();
    let start: number;
    if (opts.incremental) {
      const last = await store.lastMaterialization(viewName, version);
      start = last ? last.end + 1 : view.ttl_ms === null ? Number.MIN_SAFE_INTEGER : end - view.ttl_ms;
    } else start = given!;
    if (start > end) {
      out.push({ view: viewName, version, start: null, end, entities: 0, written: 0, seconds: 0 });
      continue;
    }
    const df = latestRows(defs, viewName, start, end);
    const key = defs.entities.get(view.entity)!.join_key;
    const values = gatherValues(
      readView(defs, view),
      view.features.map((f) => ({ feature: f.name, name: f.name })),
      df.getColumn(RID),
    );
    const rows = pl.DataFrame([...df.select(key, TS, CREATED).getColumns(), ...values]);
    const json = valuesJson(view);
    // each batch's JSON is built by polars on its threads while the batch before is being written
    const batchRows = Math.max(1, Math.floor(opts.batchRows ?? WRITE_BATCH));
    const encode = (i: number) =>
      rows.slice(i, batchRows).lazy().select(pl.col(key), pl.col(TS), pl.col(CREATED), json).collect();
    const table = tableName(viewName, version);
    let written = 0;
    let next = df.height > 0 ? encode(0) : undefined;
    for (let i = 0; i < df.height; i += batchRows) {
      const batch = await next!;
      next = i + batchRows < df.height ? encode(i + batchRows) : undefined;
      const keys = batch.getColumn(key).toArray();
      const ts = batch.getColumn(TS).toArray(), created = batch.getColumn(CREATED).toArray();
      const texts = batch.getColumn(JSON_COL).toArray() as string[];
      const encoded: EncodedRow[] = [];
      for (let j = 0; j < batch.height; j++) {
        encoded.push({
          key: String(keys[j]),
          ts: Number(ts[j]),
          created: Number(created[j]),
          json: texts[j],
        });
      }
      written += await store.writeEncoded(table, encoded);
    }
    await store.recordMaterialization({
      view: viewName,
      version,
      start,
      end,
      rows: df.height,
      at: new Date().toISOString(),
    });
    const seconds = (performance.now() - t0) / 1000;
    log(
      `materialize ${viewName} v${version}: ${df.height} entities, ${written} written (${
        seconds.toFixed(2)
      } s)`,
    );
    out.push({ view: viewName, version, start, end, entities: df.height, written, seconds });
  }
  return out;
}

export type { FeatureStatus } from "./online.ts";

export interface OnlineFeatureRow {
  /** the entity's join key values, as given */
  entity: Record<string, string | number>;
  values: Record<string, unknown>;
  statuses: Record<string, FeatureStatus>;
}

export interface OnlineResult {
  /** output feature names, in request order */
  features: string[];
  rows: OnlineFeatureRow[];
}

/** A lookup plan: for each view, its table, TTL, join key, and where each requested feature sits. */
export interface LookupPlan {
  features: string[];
  views: { table: string; ttl: number | null; joinKey: string; picks: { index: number; name: string }[] }[];
  joinKeys: string[];
}

export function lookupPlan(
  defs: Definitions,
  refs: FeatureRef[],
  versions: Record<string, number>,
  fullFeatureNames = false,
): LookupPlan {
  const names = refs.map((r) => fullFeatureNames ? `${r.view}__${r.feature}` : r.feature);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) {
    throw new UserError(
      `two requested features are named ${dup}; ask for full feature names (view__feature)`,
    );
  }
  const byView = new Map<string, { index: number; name: string }[]>();
  refs.forEach((r, i) => {
    const view = defs.views.get(r.view)!;
    const index = view.features.findIndex((f) => f.name === r.feature);
    byView.set(r.view, [...(byView.get(r.view) ?? []), { index, name: names[i] }]);
  });
  const views = [...byView].map(([v, picks]) => {
    const view = defs.views.get(v)!;
    return {
      table: tableName(v, versions[v]),
      ttl: view.ttl_ms,
      joinKey: defs.entities.get(view.entity)!.join_key,
      picks,
    };
  });
  return { features: names, views, joinKeys: [...new Set(views.map((v) => v.joinKey))] };
}

/** Checks the entity ids name exactly the join keys needed, all of one length. */
export function checkEntityIds(plan: LookupPlan, entityIds: Record<string, (string | number)[]>): number {
  const given = Object.keys(entityIds);
  for (const k of given) {
    if (!plan.joinKeys.includes(k)) {
      throw new UserError(
        `unknown entity key '${k}' (these features are looked up by ${plan.joinKeys.join(", ")})`,
      );
    }
  }
  for (const k of plan.joinKeys) {
    if (!(k in entityIds)) throw new UserError(`no ids for entity key '${k}' (give { ${k}: [...] })`);
  }
  const n = entityIds[plan.joinKeys[0]].length;
  for (const k of plan.joinKeys) {
    if (!Array.isArray(entityIds[k])) throw new UserError(`entity key '${k}': a list of ids expected`);
    if (entityIds[k].length !== n) throw new UserError(`entity keys have different numbers of ids`);
  }
  return n;
}

/** Turns stored rows into values and statuses, TTL checked against `now`. */
export function assemble(
  plan: LookupPlan,
  entityIds: Record<string, (string | number)[]>,
  n: number,
  stored: (StoredRow | undefined)[][],
  now: number,
): OnlineResult {
  const rows: OnlineFeatureRow[] = [];
  for (let i = 0; i < n; i++) {
    const entity: Record<string, string | number> = {};
    for (const k of plan.joinKeys) entity[k] = entityIds[k][i];
    const values: Record<string, unknown> = {};
    const statuses: Record<string, FeatureStatus> = {};
    plan.views.forEach((v, vi) => {
      const row = stored[vi][i];
      const status = rowStatus(row, v.ttl, now);
      for (const p of v.picks) {
        values[p.name] = status === "present" ? row!.values[p.index] ?? null : null;
        statuses[p.name] = status;
      }
    });
    rows.push({ entity, values, statuses });
  }
  return { features: plan.features, rows };
}

export async function lookup(
  store: OnlineStore,
  plan: LookupPlan,
  entityIds: Record<string, (string | number)[]>,
  now: number,
): Promise<OnlineResult> {
  const n = checkEntityIds(plan, entityIds);
  const stored = await Promise.all(
    plan.views.map((v) => store.read(v.table, entityIds[v.joinKey].map(String))),
  );
  return assemble(plan, entityIds, n, stored, now);
}
