/**
 * Offline retrieval: the point-in-time join. For each (entity, timestamp) row
 * of an entity table, each feature view gives its latest row at or before that
 * timestamp, no older than the view's TTL; of two rows with the same entity
 * and event timestamp, the later created timestamp wins. One polars `joinAsof`
 * per view (by the join key, strategy backward, the TTL as its inclusive
 * tolerance) over lazy frames, collected once: no row loops. The entity table
 * may come in any order; the result keeps its rows in that order.
 *
 * The time-window form needs no entity table: every (entity, event timestamp)
 * the requested views saw in [start, end] is a row, joined the same way.
 */
import pl from "nodejs-polars";
import { UserError } from "../core/errors.ts";
import type { Definitions, FeatureRef } from "./definitions.ts";
import { CREATED, epochMs, readView, TS } from "./source.ts";

export interface HistoricalOptions {
  /** the entity table's timestamp column (default event_timestamp) */
  timestampColumn?: string;
  /** name output columns view__feature (default: the feature's name, unless two collide) */
  fullFeatureNames?: boolean;
}

export interface JoinStats {
  rows: number;
  /** per view: entity rows that found a row within TTL */
  matched: Record<string, number>;
}

/** A time as the API accepts it: a Date, an ISO string, or epoch milliseconds. */
export type TimeLike = Date | string | number;

export function toMs(t: TimeLike, what = "time"): number {
  const ms = t instanceof Date ? t.getTime() : typeof t === "number" ? t : Date.parse(t);
  if (!Number.isFinite(ms)) {
    throw new UserError(`${what}: '${String(t)}' is not a time (ISO 8601 or epoch ms)`);
  }
  return ms;
}

const ROW = "__row", ETS = "__ets";
const keyCol = (entity: string) => `__key_${entity}`;
const tsCol = (view: string) => `__ts_${view}`;

/** Output column names for the refs: the feature's name unless asked for view__feature or two collide. */
function outputNames(refs: FeatureRef[], taken: string[], full: boolean): string[] {
  const names = refs.map((r) => full ? `${r.view}__${r.feature}` : r.feature);
  const seen = new Map<string, FeatureRef>();
  names.forEach((n, i) => {
    const other = seen.get(n);
    if (other) {
      throw new UserError(
        `features ${other.view}:${other.feature} and ${refs[i].view}:${
          refs[i].feature
        } share a name; ask for full feature names (view__feature)`,
      );
    }
    if (taken.includes(n)) {
      throw new UserError(
        `feature ${refs[i].view}:${refs[i].feature}: the entity table already has a column ${n}`,
      );
    }
    seen.set(n, refs[i]);
  });
  return names;
}

/** The refs grouped by view, in first-requested order. */
function byView(refs: FeatureRef[], names: string[]): Map<string, { feature: string; name: string }[]> {
  const out = new Map<string, { feature: string; name: string }[]>();
  refs.forEach((r, i) => {
    const list = out.get(r.view) ?? [];
    list.push({ feature: r.feature, name: names[i] });
    out.set(r.view, list);
  });
  return out;
}

/**
 * The as-of join runs on a narrow frame (key, event time, created time and a
 * row id) and the features come afterwards by that row id: sorting and
 * deduplicating a wide view (tens of feature columns) would move every value
 * twice, when only the winning rows' values are wanted.
 */
const RID = "__rid";
const ridCol = (view: string) => `__rid_${view}`;

/**
 * One view's rows ready for the as-of join: deduplicated to one row per (key,
 * event timestamp), the latest created, sorted by event timestamp; and its
 * feature values by row id.
 */
function viewFrames(
  defs: Definitions,
  viewName: string,
  features: { feature: string; name: string }[],
): { narrow: pl.LazyDataFrame; values: pl.LazyDataFrame } {
  const view = defs.views.get(viewName)!;
  const key = defs.entities.get(view.entity)!.join_key;
  const base = readView(defs, view, features.map((f) => f.feature)).withRowIndex(RID);
  const narrow = base
    .select(pl.col(key), pl.col(TS), pl.col(CREATED), pl.col(RID))
    .filter(pl.col(key).isNotNull().and(pl.col(TS).isNotNull()))
    .sort([TS, CREATED])
    .unique({ subset: [key, TS], keep: "last", maintainOrder: true })
    .select(
      pl.col(key).alias(keyCol(view.entity)),
      pl.col(TS).alias(tsCol(viewName)),
      pl.col(RID).alias(ridCol(viewName)),
    );
  const values = base.select(
    pl.col(RID).alias(ridCol(viewName)),
    ...features.map((f) => pl.col(f.feature).alias(f.name)),
  );
  return { narrow, values };
}

/**
 * Joins every view's features onto `left` (sorted by ETS, with the key
 * columns), lazily: first every as-of join on the narrow frames (the order by
 * ETS they need is kept), then each view's values by row id (a hash join).
 * The result is in no particular order; callers sort it.
 */
function joinViews(
  defs: Definitions,
  left: pl.LazyDataFrame,
  groups: Map<string, { feature: string; name: string }[]>,
): pl.LazyDataFrame {
  let out = left;
  const values: [string, pl.LazyDataFrame][] = [];
  for (const [viewName, features] of groups) {
    const view = defs.views.get(viewName)!;
    const frames = viewFrames(defs, viewName, features);
    out = out.joinAsof(frames.narrow, {
      leftOn: ETS,
      rightOn: tsCol(viewName),
      by: keyCol(view.entity),
      strategy: "backward",
      ...(view.ttl_ms !== null ? { tolerance: view.ttl_ms } : {}),
      checkSortedness: false,
    });
    values.push([viewName, frames.values]);
  }
  for (const [viewName, v] of values) out = out.join(v, { on: ridCol(viewName), how: "left" });
  return out;
}

function stats(df: pl.DataFrame, views: Iterable<string>): JoinStats {
  const matched: Record<string, number> = {};
  for (const v of views) matched[v] = df.height - df.getColumn(tsCol(v)).nullCount();
  return { rows: df.height, matched };
}

/**
 * The point-in-time join of `entityTable` (the views' join keys and a
 * timestamp column) with the requested features. Returns the entity table's
 * columns, in its row order, followed by one column per feature.
 */
export function pointInTimeJoin(
  defs: Definitions,
  entityTable: pl.DataFrame,
  refs: FeatureRef[],
  opts: HistoricalOptions = {},
): { frame: pl.DataFrame; stats: JoinStats } {
  const tsName = opts.timestampColumn ?? "event_timestamp";
  const columns = entityTable.columns;
  if (!columns.includes(tsName)) {
    throw new UserError(
      `the entity table has no timestamp column '${tsName}' (columns: ${columns.join(", ")})`,
    );
  }
  const names = outputNames(refs, columns, opts.fullFeatureNames ?? false);
  const groups = byView(refs, names);
  const entities = new Set([...groups.keys()].map((v) => defs.views.get(v)!.entity));
  for (const e of entities) {
    const key = defs.entities.get(e)!.join_key;
    if (!columns.includes(key)) {
      const views = [...groups.keys()].filter((v) => defs.views.get(v)!.entity === e);
      throw new UserError(
        `the entity table has no column '${key}' (the join key of entity ${e}, for feature view ${
          views.join(", ")
        }; columns: ${columns.join(", ")})`,
      );
    }
  }
  const schema = entityTable.schema as Record<string, pl.DataType>;
  const left = entityTable.lazy().withRowIndex(ROW).withColumns(
    epochMs(tsName, schema[tsName], "the entity table").alias(ETS),
    ...[...entities].map((e) => {
      const ent = defs.entities.get(e)!;
      return pl.col(ent.join_key).cast(ent.dtype === "int64" ? pl.Int64 : pl.Utf8).alias(keyCol(e));
    }),
  ).sort(ETS);
  const joined = joinViews(defs, left, groups).sort(ROW).collectSync();
  const s = stats(joined, groups.keys());
  return { frame: joined.select(...columns, ...names), stats: s };
}

/**
 * The time-window form: no entity table. Every (entity, event timestamp) that
 * the requested views recorded in [start, end] (both inclusive) becomes a row,
 * joined point-in-time with all the requested features. The views must share
 * one entity. Rows come sorted by timestamp, then key; the timestamp column is
 * `event_timestamp` (datetime, ms).
 */
export function windowJoin(
  defs: Definitions,
  window: { start: TimeLike; end: TimeLike },
  refs: FeatureRef[],
  opts: Pick<HistoricalOptions, "fullFeatureNames"> = {},
): { frame: pl.DataFrame; stats: JoinStats } {
  const start = toMs(window.start, "start"), end = toMs(window.end, "end");
  if (start > end) throw new UserError(`start ${window.start} is after end ${window.end}`);
  const viewNames = [...new Set(refs.map((r) => r.view))];
  const entities = [...new Set(viewNames.map((v) => defs.views.get(v)!.entity))];
  if (entities.length !== 1) {
    throw new UserError(
      `a time-window retrieval needs views of one entity; these use ${
        entities.join(", ")
      } (pass an entity table)`,
    );
  }
  const entity = defs.entities.get(entities[0])!;
  const names = outputNames(refs, [entity.join_key, "event_timestamp"], opts.fullFeatureNames ?? false);
  const groups = byView(refs, names);
  const spine = pl.concat(
    viewNames.map((v) =>
      readView(defs, defs.views.get(v)!, [])
        .filter(pl.col(TS).gtEq(start).and(pl.col(TS).ltEq(end)).and(pl.col(entity.join_key).isNotNull()))
        .select(pl.col(entity.join_key).alias(keyCol(entity.name)), pl.col(TS).alias(ETS))
    ),
    { how: "vertical" },
  ).unique().sort([ETS, keyCol(entity.name)]);
  const joined = joinViews(defs, spine, groups).sort([ETS, keyCol(entity.name)]).collectSync();
  const s = stats(joined, groups.keys());
  const frame = joined.select(
    pl.col(keyCol(entity.name)).alias(entity.join_key),
    pl.col(ETS).cast(pl.Datetime("ms")).alias("event_timestamp"),
    ...names.map((n) => pl.col(n)),
  );
  return { frame, stats: s };
}
