/**
 * The point-in-time match: for each spine row (an event time and the
 * entities' key columns), each view's latest row at or before that time,
 * within the view's TTL, as that row's event time and row id (null: none).
 * Two strategies, one answer:
 *
 * - sorted key (the default): the key becomes a dense integer code (its rank
 *   among the spine's distinct keys) and each side one Int64 `code * span +
 *   (time - t0)`, with span wider than all the times: sorted by it, every
 *   key's rows are one run in time order, so a plain as-of join (a merge of
 *   two sorted columns) does what a join by key does, at a fraction of its
 *   cost (it groups by key in a hash table). A pick from the previous key's
 *   run is thrown away. Used when code * span fits in 62 bits.
 * - by key: polars' as-of join `by` the key code, the fallback.
 *
 * String keys are coded by a 64-bit hash, not the string (joins and ranks on
 * strings cost several times more). Two keys may share a hash, so every
 * picked row's key is compared with the spine's, and on any mismatch the
 * match is redone on the strings. Checking picked rows suffices: a hash
 * group's backward pick is its latest row in range; if that row has the
 * spine's key it is the answer, and if the TTL rules it out, every older row
 * of that key is out too.
 *
 * A view's rows are not deduplicated: sorted by (time, created time), the
 * backward pick among rows of one event time is the last, the latest created.
 * Every step is one lazy plan collected at once: a frame handed to JavaScript
 * keeps its memory until the garbage collector finds it.
 */
import pl from "nodejs-polars";
import type { Definitions, Entity } from "./definitions.ts";
import { CREATED, readView, TS } from "./source.ts";

export type KeyCoder = (key: pl.Expr) => pl.Expr;
export const hashKey: KeyCoder = (k) => k.hash(0x6f72, 0x6368, 0x6172, 0x64);

export interface MatchOptions {
  /** how string keys are coded (default hashKey; null: the strings themselves) */
  coder?: KeyCoder | null;
  /** always join by key (tests; otherwise the fallback) */
  byKey?: boolean;
}

/** Internal column names; the spine brings ETS and keyCol(entity) for each entity. */
export const ETS = "__ets";
export const keyCol = (entity: string) => `__key_${entity}`;
const tsCol = (view: string) => `__ts_${view}`;
export const ridCol = (view: string) => `__rid_${view}`;
const ROW = "__row", RID = "__rid", CODE = "__code", DENSE = "__dense", COMB = "__comb";
const rDense = (view: string) => `__dense_${view}`;
const rComb = (view: string) => `__comb_${view}`;

/** 2^62: the sorted key's codes times span stay below it, clear of Int64's limit. */
const COMB_LIMIT = 2 ** 62;

const isHashed = (e: Entity, coder: KeyCoder | null) => coder !== null && e.dtype !== "int64";

function coded(e: Entity, column: string, coder: KeyCoder | null): pl.Expr {
  const k = pl.col(column);
  if (!isHashed(e, coder)) return k.alias(CODE);
  // the cast states the type for the plan's schema (hash's is reported as its input's)
  return pl.when(k.isNull()).then(pl.lit(null).cast(pl.UInt64)).otherwise(coder!(k).cast(pl.UInt64))
    .alias(CODE);
}

/** Each view's rows as ./source.ts reads them (readView), built once per join: each costs schema reads. */
export type Sources = Map<string, pl.LazyDataFrame>;

/** One view's rows as the match reads them: key, times, row id (the row's index in the source). */
function viewRows(defs: Definitions, sources: Sources, viewName: string): pl.LazyDataFrame {
  const view = defs.views.get(viewName)!;
  const key = defs.entities.get(view.entity)!.join_key;
  return sources.get(viewName)!.withRowIndex(RID)
    .filter(pl.col(key).isNotNull().and(pl.col(TS).isNotNull()));
}

/** The sort of a view's rows: without a created timestamp every row's is 0, a second key would only cost. */
function timeOrder(defs: Definitions, viewName: string, first: string, rid: string): string[] {
  // the source row last: rows that tie on both times are ordered by it, so the later one wins, every run
  // (a sort on several columns is not stable; materialize.ts breaks ties the same way)
  return defs.views.get(viewName)!.created_timestamp_field ? [first, CREATED, rid] : [first, rid];
}

function asofOptions(defs: Definitions, viewName: string) {
  const ttl = defs.views.get(viewName)!.ttl_ms;
  return {
    strategy: "backward" as const,
    ...(ttl !== null ? { tolerance: ttl } : {}),
    checkSortedness: false,
  };
}

/** The spine as both strategies read it: row number, event time, the entity's key code. */
function spineCodes(spine: pl.DataFrame, entity: Entity, coder: KeyCoder | null): pl.LazyDataFrame {
  return spine.lazy().withRowIndex(ROW)
    .select(pl.col(ROW), pl.col(ETS), coded(entity, keyCol(entity.name), coder));
}

/** The by-key strategy for one entity's views: a frame of ROW and each view's time and row id. */
function byKeyMatch(
  defs: Definitions,
  sources: Sources,
  spine: pl.DataFrame,
  entity: Entity,
  viewNames: string[],
  coder: KeyCoder | null,
): pl.DataFrame {
  let left = spineCodes(spine, entity, coder).sort(ETS).collectSync();
  for (const v of viewNames) {
    const right = viewRows(defs, sources, v)
      .select(
        coded(entity, entity.join_key, coder),
        pl.col(TS).alias(tsCol(v)),
        pl.col(CREATED),
        pl.col(RID).alias(ridCol(v)),
      )
      .sort(timeOrder(defs, v, tsCol(v), ridCol(v)))
      .drop(CREATED);
    left = left.lazy().joinAsof(right, { leftOn: ETS, rightOn: tsCol(v), by: CODE, ...asofOptions(defs, v) })
      .collectSync();
  }
  return left.drop(ETS, CODE);
}

/** A one-cell frame's value; as Float64, since nodejs-polars reads an Int64 cell back as its low 32 bits. */
const one = (df: pl.DataFrame): number | null => {
  const v = df.getColumns()[0].cast(pl.Float64).get(0);
  return v === null || v === undefined ? null : Number(v);
};

/** The sorted-key strategy for one entity's views, or null when its codes times span would not fit. */
function sortedKeyMatch(
  defs: Definitions,
  sources: Sources,
  spine: pl.DataFrame,
  entity: Entity,
  viewNames: string[],
  coder: KeyCoder | null,
): pl.DataFrame | null {
  const codes = spineCodes(spine, entity, coder).collectSync();
  const dict = codes.lazy().select(pl.col(CODE)).filter(pl.col(CODE).isNotNull()).unique()
    .withRowIndex(DENSE).collectSync();
  const tmax = one(codes.select(pl.col(ETS).max()));
  if (tmax === null || dict.height === 0) return null;
  const first = one(codes.select(pl.col(ETS).min()))!;
  // a view's rows older than its TTL before the first entity time can match nothing: they are left
  // out, and bound t0 without a scan; a view without TTL has its oldest row looked up
  const oldest = new Map<string, number>();
  let tmin = first;
  for (const v of viewNames) {
    const ttl = defs.views.get(v)!.ttl_ms;
    if (ttl !== null) oldest.set(v, first - ttl);
    const m = ttl !== null
      ? first - ttl
      : one(viewRows(defs, sources, v).filter(pl.col(TS).ltEq(tmax)).select(pl.col(TS).min()).collectSync());
    if (m !== null) tmin = Math.min(tmin, m);
  }
  const span = tmax - tmin + 1;
  if (!(dict.height * span < COMB_LIMIT) || !Number.isSafeInteger(tmin)) return null;
  // Int64 arithmetic throughout: the literals are cast before they meet the columns
  const comb = (time: string) =>
    pl.col(DENSE).cast(pl.Int64).mul(pl.lit(span).cast(pl.Int64)).add(
      pl.col(time).sub(pl.lit(tmin).cast(pl.Int64)),
    );
  const matchable = pl.col(DENSE).isNotNull().and(pl.col(ETS).isNotNull());
  const withDense = codes.lazy().join(dict.lazy(), { on: CODE, how: "left" });
  let left = withDense.filter(matchable).select(pl.col(ROW), pl.col(DENSE), comb(ETS).alias(COMB))
    .sort(COMB).collectSync();
  for (const v of viewNames) {
    const right = viewRows(defs, sources, v)
      .filter(
        oldest.has(v) ? pl.col(TS).ltEq(tmax).and(pl.col(TS).gtEq(oldest.get(v)!)) : pl.col(TS).ltEq(tmax),
      )
      .select(coded(entity, entity.join_key, coder), pl.col(TS), pl.col(CREATED), pl.col(RID))
      .join(dict.lazy(), { on: CODE, how: "inner" })
      .select(
        comb(TS).alias(rComb(v)),
        pl.col(DENSE).alias(rDense(v)),
        pl.col(TS).alias(tsCol(v)),
        pl.col(CREATED),
        pl.col(RID).alias(ridCol(v)),
      )
      .sort(timeOrder(defs, v, rComb(v), ridCol(v)))
      .drop(CREATED);
    const other = pl.col(rDense(v)).neq(pl.col(DENSE)).fillNull(true);
    left = left.lazy().joinAsof(right, { leftOn: COMB, rightOn: rComb(v), ...asofOptions(defs, v) })
      .select(
        pl.all().exclude(rComb(v), rDense(v), tsCol(v), ridCol(v)),
        // a pick from the previous key's run is no match
        pl.when(other).then(pl.lit(null)).otherwise(pl.col(tsCol(v))).alias(tsCol(v)),
        pl.when(other).then(pl.lit(null)).otherwise(pl.col(ridCol(v))).alias(ridCol(v)),
      )
      .collectSync();
  }
  // the rows that could match nothing (no key, no time) come back with nulls
  const rest = withDense.filter(matchable.not()).select(pl.col(ROW));
  return pl.concat([left.lazy().drop(DENSE, COMB), rest], { how: "diagonal" }).collectSync();
}

/** Rows whose picked row has another key than the spine's (a hash collision). */
function collisions(
  defs: Definitions,
  sources: Sources,
  spine: pl.DataFrame,
  viewName: string,
  rid: pl.Series,
): number {
  const view = defs.views.get(viewName)!;
  const key = defs.entities.get(view.entity)!.join_key;
  const picked = sources.get(viewName)!.select(pl.col(key).gather(rid).alias("p")).collectSync();
  const own = spine.getColumn(keyCol(view.entity)).alias("e");
  return pl.DataFrame([picked.getColumn("p"), own]).lazy()
    .filter(pl.col("p").isNotNull().and(pl.col("e").isNull().or(pl.col("e").neq(pl.col("p")))))
    .select(pl.len()).collectSync().getColumns()[0].get(0) as number;
}

/** Each view's picked event time (tsCol) and row id (ridCol), in spine order. */
export function matchRows(
  defs: Definitions,
  spine: pl.DataFrame,
  viewNames: string[],
  opts: MatchOptions = {},
  sources: Sources = new Map(viewNames.map((v) => [v, readView(defs, defs.views.get(v)!, [])])),
): pl.DataFrame {
  const coder = opts.coder === undefined ? hashKey : opts.coder;
  const byEntity = new Map<string, string[]>();
  for (const v of viewNames) {
    const e = defs.views.get(v)!.entity;
    byEntity.set(e, [...(byEntity.get(e) ?? []), v]);
  }
  const columns: pl.Series[] = [];
  for (const [e, views] of byEntity) {
    const entity = defs.entities.get(e)!;
    const found = (opts.byKey ? null : sortedKeyMatch(defs, sources, spine, entity, views, coder)) ??
      byKeyMatch(defs, sources, spine, entity, views, coder);
    const ordered = found.sort(ROW);
    columns.push(...views.flatMap((v) => [ordered.getColumn(tsCol(v)), ordered.getColumn(ridCol(v))]));
  }
  const frame = pl.DataFrame(columns).select(...viewNames.flatMap((v) => [tsCol(v), ridCol(v)]));
  if (coder !== null) {
    for (const v of viewNames) {
      if (!isHashed(defs.entities.get(defs.views.get(v)!.entity)!, coder)) continue;
      if (collisions(defs, sources, spine, v, frame.getColumn(ridCol(v))) > 0) {
        return matchRows(defs, spine, viewNames, { ...opts, coder: null }, sources);
      }
    }
  }
  return frame;
}
