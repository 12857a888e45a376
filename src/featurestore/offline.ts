/**
 * Offline retrieval: the point-in-time join. For each (entity, timestamp) row
 * of an entity table, each feature view gives its latest row at or before that
 * timestamp, no older than the view's TTL; of two rows with the same entity
 * and event timestamp, the later created timestamp wins. One polars `joinAsof`
 * per view (strategy backward, the TTL as its inclusive tolerance; ./asof.ts
 * finds the rows), then the features gathered by the picked row ids: no row
 * loops. The entity table may come in any order; the result keeps its rows in
 * that order.
 *
 * The time-window form needs no entity table: every (entity, event timestamp)
 * the requested views saw in [start, end] is a row, joined the same way.
 */
import pl from "nodejs-polars";
import { UserError } from "../core/errors.ts";
import { ISO_DATE, isoDateMs } from "../core/dates.ts";
import type { Definitions, FeatureRef } from "./definitions.ts";
import { ETS, keyCol, type MatchOptions, matchRows, ridCol } from "./asof.ts";
import { epochMs, readView, TS } from "./source.ts";

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

/** The largest epoch milliseconds a JavaScript Date holds (100 million days either side of 1970). */
const MAX_DATE_MS = 8.64e15;

export function toMs(t: TimeLike, what = "time"): number {
  // ISO 8601 as everywhere else (UTC without a zone, a day the calendar has); other text as Date.parse reads it
  const ms = t instanceof Date
    ? t.getTime()
    : typeof t === "number"
    ? t
    : ISO_DATE.test(t.trim())
    ? isoDateMs(t)
    : Date.parse(t);
  if (!Number.isFinite(ms)) {
    throw new UserError(`${what}: '${String(t)}' is not a time (ISO 8601 or epoch ms)`);
  }
  // beyond this a Date is invalid, and every later toISOString would throw
  if (Math.abs(ms) > MAX_DATE_MS) {
    throw new UserError(
      `${what}: '${String(t)}' is outside the dates a calendar holds (years -271821 to 275760)`,
    );
  }
  return ms;
}

/** Values gathered per step (rows x columns): bounds the memory a wide view needs at once. */
const GATHER_VALUES = 48_000_000;
/** Views of at least this many rows are gathered in row id order. */
const SORTED_GATHER_ROWS = 1_000_000;

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
 * One view's requested features at the picked row ids (null where none), a
 * few columns per lazy plan, so that the whole view is never in memory at
 * once. A long view's values are read in row id order (sequential reads
 * through the column, a quarter faster than random ones), then put in spine
 * order. Row
 * ids index the view's rows as read for the match: the source must not change
 * during the call.
 */
export function gatherValues(
  source: pl.LazyDataFrame,
  features: { feature: string; name: string }[],
  rid: pl.Series,
  sortedFrom = SORTED_GATHER_ROWS,
): pl.Series[] {
  const height = Number(source.select(pl.len()).collectSync().getColumn("len").get(0));
  const step = Math.max(1, Math.floor(GATHER_VALUES / Math.max(1, height)));
  let at = (c: pl.Expr) => c.gather(rid);
  // (a view of fewer rows is in cache anyway: one gather)
  if (height >= sortedFrom) {
    // nulls (no match) sort last and gather to null; `back` puts each value at its spine row
    const order = pl.DataFrame([rid.alias("rid")]).withRowIndex("pos").sort("rid", false, true);
    const sorted = order.getColumn("rid"), back = order.getColumn("pos").argSort();
    at = (c) => c.gather(sorted).gather(back);
  }
  const out: pl.Series[] = [];
  for (let i = 0; i < features.length; i += step) {
    const part = features.slice(i, i + step);
    out.push(
      ...source.select(...part.map((f) => at(pl.col(f.feature)).alias(f.name)))
        .collectSync()
        .getColumns(),
    );
  }
  return out;
}

/** The spine's matches and every requested feature, in spine order, with the join's stats. */
function joinViews(
  defs: Definitions,
  spine: pl.DataFrame,
  groups: Map<string, { feature: string; name: string }[]>,
  match: MatchOptions,
): { values: pl.Series[]; stats: JoinStats } {
  const viewNames = [...groups.keys()];
  const sources = new Map(
    viewNames.map((v) => [v, readView(defs, defs.views.get(v)!, groups.get(v)!.map((f) => f.feature))]),
  );
  const frame = matchRows(defs, spine, viewNames, match, sources);
  const values: pl.Series[] = [];
  const matched: Record<string, number> = {};
  for (const v of viewNames) {
    const rid = frame.getColumn(ridCol(v));
    matched[v] = frame.height - rid.nullCount();
    values.push(...gatherValues(sources.get(v)!, groups.get(v)!, rid));
  }
  return { values, stats: { rows: frame.height, matched } };
}

/**
 * The point-in-time join of `entityTable` (the views' join keys and a
 * timestamp column) with the requested features. Returns the entity table's
 * columns, in its row order, followed by one column per feature. `match`
 * (tests) picks the matching strategy and key coding (./asof.ts).
 */
export function pointInTimeJoin(
  defs: Definitions,
  entityTable: pl.DataFrame,
  refs: FeatureRef[],
  opts: HistoricalOptions = {},
  match: MatchOptions = {},
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
  const spine = entityTable.lazy().select(
    epochMs(tsName, schema[tsName], "the entity table").alias(ETS),
    ...[...entities].map((e) => {
      const ent = defs.entities.get(e)!;
      return pl.col(ent.join_key).cast(ent.dtype === "int64" ? pl.Int64 : pl.Utf8).alias(keyCol(e));
    }),
  ).collectSync();
  const { values, stats } = joinViews(defs, spine, groups, match);
  return {
    frame: pl.DataFrame([...entityTable.getColumns(), ...values]).select(...columns, ...names),
    stats,
  };
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
  ).unique().sort([ETS, keyCol(entity.name)]).collectSync();
  const { values, stats } = joinViews(defs, spine, groups, {});
  const frame = pl.DataFrame([
    ...spine.select(
      pl.col(keyCol(entity.name)).alias(entity.join_key),
      pl.col(ETS).cast(pl.Datetime("ms")).alias("event_timestamp"),
    ).getColumns(),
    ...values,
  ]);
  return { frame, stats };
}
