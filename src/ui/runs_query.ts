/**
 * The runs table's query: the same filter grammar and sort as `deno task runs`
 * (src/tracking/filter.ts), with paging, chosen columns and parent/child
 * nesting that survive sort and filter. It reads the store's tables through
 * its SQL interface (SQLite or PostgreSQL) in two passes, as the store's own
 * search does: first the run rows and only the keys the filter, the sort and
 * the shown columns name; then nothing more. A page of 50 out of 10,000 runs
 * never loads the other runs' params and metrics.
 *
 * Nesting: a run whose parent is also in the result is shown under it, its
 * siblings in the sort's order; a matching child whose parent does not match
 * is shown under a greyed "context" row for its parent, so a filter never
 * tears a child from its family. Paging counts top-level groups.
 */
import type { Row, SqlValue } from "../store/sql.ts";
import { fillKeyedRows, keyedRowsSql, runAttributes, type TrackingStore } from "../tracking/store.ts";
import {
  type FilterableRun,
  filterKeys,
  type Key,
  type KeyKind,
  matchesFilter,
  type OrderClause,
  parseFilter,
  parseOrderBy,
  sortRuns,
} from "../tracking/filter.ts";

export interface RunsQuery {
  experiment?: string;
  filter?: string;
  /** one sort clause as the CLI takes it: "metrics.roc_auc desc" */
  sort?: string;
  /** shown columns: "metrics.roc_auc", "params.max_depth", "tags.x" */
  columns?: string[];
  page?: number;
  pageSize?: number;
}

export interface RunRow extends FilterableRun {
  /** nesting depth in the table (0 top level) */
  depth: number;
  /** shown only as the parent of matching children; it did not match itself */
  context: boolean;
  /** matching children not shown under this run (past CHILDREN_SHOWN) */
  hiddenChildren?: number;
}

/** Children shown under one parent; the rest are a link (a filter on the parent's id). */
export const CHILDREN_SHOWN = 50;

export interface RunsPage {
  rows: RunRow[];
  /** runs that matched the filter */
  matched: number;
  /** top-level groups (what pages count) */
  groups: number;
  page: number;
  pages: number;
  pageSize: number;
  columns: Key[];
  order: OrderClause[];
  /** the filter's or sort's problem, for the page to show inline (the table is then unfiltered) */
  error?: string;
}

const KINDS = ["metrics", "params", "tags"] as const;

/** "metrics.roc_auc" -> a Key; anything else undefined. */
export function columnKey(text: string): Key | undefined {
  const m = /^(metrics|params|tags)\.(.+)$/.exec(text.trim());
  if (!m || m[2].length > 250) return undefined;
  return { kind: m[1] as KeyKind, name: m[2] };
}

/** The key as filter/sort text, the name quoted when it is not a plain word. */
export function keyText(k: Key): string {
  if (k.kind === "attributes") return k.name;
  return /^[A-Za-z_][A-Za-z0-9_\-/:.]*$/.test(k.name) && !k.name.endsWith(".")
    ? `${k.kind}.${k.name}`
    : `${k.kind}.\`${k.name}\``;
}

function placeholders(n: number): string {
  return Array.from({ length: n }, () => "?").join(", ");
}

/** Loads the named keys of `runs` (all runs of the scope, or just some ids). */
async function loadKeys(
  store: TrackingStore,
  runs: FilterableRun[],
  keys: Key[],
  scope: { experiment?: string; ids?: string[] },
): Promise<void> {
  const byId = new Map(runs.map((r) => [r.runId, r]));
  for (const kind of KINDS) {
    const names = [...new Set(keys.filter((k) => k.kind === kind).map((k) => k.name))];
    if (names.length === 0) continue;
    const args: SqlValue[] = [];
    let from: string;
    if (scope.ids) {
      if (scope.ids.length === 0) continue;
      from = `${kind} t WHERE t.run_id IN (${placeholders(scope.ids.length)}) AND`;
      args.push(...scope.ids);
    } else if (scope.experiment !== undefined) {
      from =
        `${kind} t JOIN runs r ON r.run_id = t.run_id JOIN experiments e ON e.experiment_id = r.experiment_id WHERE e.name = ? AND`;
      args.push(scope.experiment);
    } else from = `${kind} t WHERE`;
    // a NULL (missing) metric is NaN, as in the store's own search
    for (const name of names) {
      fillKeyedRows(byId, kind, name, await store.db.values(keyedRowsSql(kind, from), [...args, name]));
    }
  }
}

/** All runs' attribute rows of the scope, newest first. */
async function runRows(store: TrackingStore, experiment?: string): Promise<FilterableRun[]> {
  const rows = await store.db.all<Row>(
    `SELECT r.run_id, r.run_name, r.status, r.start_time, r.end_time, r.parent_run_id, e.name AS experiment
     FROM runs r JOIN experiments e ON e.experiment_id = r.experiment_id
     ${experiment !== undefined ? "WHERE e.name = ?" : ""} ORDER BY r.start_time DESC, r.seq DESC`,
    experiment !== undefined ? [experiment] : [],
  );
  return rows.map(runAttributes);
}

type KeySets = Record<"metrics" | "params" | "tags", string[]>;
const keyCache = new Map<string, { stamp: string; at: number; keys: KeySets }>();
const KEY_TTL_MS = 10_000;

/**
 * The metric, param and tag keys logged in the scope (for the column chooser).
 * Finding them reads every metric row of the scope, so they are kept for 10 s,
 * or until a run is added.
 */
export async function availableKeys(store: TrackingStore, experiment?: string): Promise<KeySets> {
  const stampRow = await store.db.get<Row>("SELECT COUNT(*) AS n, MAX(seq) AS s FROM runs");
  const stamp = `${stampRow?.n}/${stampRow?.s}`;
  const at = `${store.location}\0${experiment ?? ""}`;
  const hit = keyCache.get(at);
  if (hit && hit.stamp === stamp && Date.now() - hit.at < KEY_TTL_MS) return hit.keys;
  const keys = await scanKeys(store, experiment);
  keyCache.set(at, { stamp, at: Date.now(), keys });
  return keys;
}

async function scanKeys(store: TrackingStore, experiment?: string): Promise<KeySets> {
  const out = { metrics: [] as string[], params: [] as string[], tags: [] as string[] };
  // the distinct keys come from each table's key index; for one experiment each key is then
  // checked with an EXISTS that stops at its first row there (a join over every row is far slower)
  const exp = experiment === undefined
    ? undefined
    : (await store.db.get<Row>("SELECT experiment_id FROM experiments WHERE name = ?", [experiment]))
      ?.experiment_id;
  if (experiment !== undefined && exp === undefined) return out;
  for (const kind of ["metrics", "params", "tags"] as const) {
    const rows = exp === undefined
      ? await store.db.all<Row>(`SELECT DISTINCT key FROM ${kind} ORDER BY key LIMIT 2000`)
      : await store.db.all<Row>(
        `SELECT k.key FROM (SELECT DISTINCT key FROM ${kind}) k WHERE EXISTS (
           SELECT 1 FROM ${kind} t JOIN runs r ON r.run_id = t.run_id WHERE t.key = k.key AND r.experiment_id = ?
         ) ORDER BY k.key LIMIT 2000`,
        [exp as SqlValue],
      );
    out[kind] = rows.map((r) => r.key as string);
  }
  return out;
}

/**
 * The scope's run rows and the keys loaded for them so far, kept between page
 * views while the store has not changed: a filter or sort on a key already
 * read costs no query. Changed means a run added or ended, a metric or param
 * or tag added (counts and the highest ids, cheap to read); a tag rewritten in
 * place is not seen, so a snapshot also lives at most 5 s.
 */
interface Snapshot {
  stamp: string;
  at: number;
  runs: FilterableRun[];
  loaded: Set<string>;
}
const snapshots = new Map<string, Snapshot>();
const SNAPSHOT_MS = 5_000;

async function storeStamp(store: TrackingStore): Promise<string> {
  const r = await store.db.get<Row>(
    `SELECT (SELECT COUNT(*) FROM runs) AS n, (SELECT MAX(seq) FROM runs) AS s,
            (SELECT COUNT(end_time) FROM runs) AS e, (SELECT MAX(end_time) FROM runs) AS x, (SELECT MAX(id) FROM metrics) AS m,
            (SELECT COUNT(*) FROM params) AS p, (SELECT COUNT(*) FROM tags) AS t`,
  );
  return r ? [r.n, r.s, r.e, r.x, r.m, r.p, r.t].map(String).join("/") : "";
}

async function snapshot(store: TrackingStore, experiment?: string): Promise<Snapshot> {
  const stamp = await storeStamp(store);
  const at = `${store.location}\0${experiment ?? ""}`;
  const hit = snapshots.get(at);
  if (hit && hit.stamp === stamp && Date.now() - hit.at < SNAPSHOT_MS && hit.loaded.size < 64) return hit;
  const snap = { stamp, at: Date.now(), runs: await runRows(store, experiment), loaded: new Set<string>() };
  snapshots.delete(at);
  snapshots.set(at, snap);
  while (snapshots.size > 8) snapshots.delete(snapshots.keys().next().value!);
  return snap;
}

/** One page of the runs table. A filter or sort error is returned (not thrown), with the runs unfiltered. */
export async function queryRuns(store: TrackingStore, q: RunsQuery): Promise<RunsPage> {
  const pageSize = Math.min(500, Math.max(1, q.pageSize ?? 50));
  let error: string | undefined;
  let filter;
  let order: OrderClause[] = [];
  try {
    if (q.filter?.trim()) filter = parseFilter(q.filter);
  } catch (e) {
    error = (e as Error).message;
  }
  try {
    order = parseOrderBy(q.sort?.trim() ? q.sort : undefined);
  } catch (e) {
    error ??= (e as Error).message;
  }
  const columns = q.columns ?? [];
  const columnKeys = columns.map(columnKey).filter((k): k is Key => k !== undefined);
  const snap = await snapshot(store, q.experiment);
  const all = snap.runs;
  const needed = [...(filter ? filterKeys(filter) : []), ...order.map((o) => o.key)];
  const fresh = needed.filter((k) => !snap.loaded.has(`${k.kind}\0${k.name}`));
  await loadKeys(store, all, fresh, { experiment: q.experiment });
  for (const k of fresh) snap.loaded.add(`${k.kind}\0${k.name}`);
  const kept = filter ? all.filter((r) => matchesFilter(filter, r)) : all;
  const sorted = sortRuns(kept, order);

  // nesting: children under parents, in sort order among siblings
  const matchedIds = new Set(sorted.map((r) => r.runId));
  const byId = new Map(all.map((r) => [r.runId, r]));
  const children = new Map<string, FilterableRun[]>();
  const tops: { run: FilterableRun; context: boolean }[] = [];
  const contextShown = new Set<string>();
  for (const r of sorted) {
    const parent = r.parentRunId;
    if (parent && byId.has(parent)) {
      const list = children.get(parent) ?? [];
      list.push(r);
      children.set(parent, list);
      // a parent outside the result: shown once, as context, where its first matching child sorts
      if (!matchedIds.has(parent) && !contextShown.has(parent) && !(byId.get(parent)!.parentRunId)) {
        contextShown.add(parent);
        tops.push({ run: byId.get(parent)!, context: true });
      }
    } else tops.push({ run: r, context: false });
  }
  const groups = tops.length;
  const pages = Math.max(1, Math.ceil(groups / pageSize));
  const page = Math.min(Math.max(1, q.page ?? 1), pages);
  const rows: RunRow[] = [];
  const seen = new Set<string>();
  const walk = (run: FilterableRun, depth: number, context: boolean) => {
    if (seen.has(run.runId) || depth > 20) return;
    seen.add(run.runId);
    const kids = children.get(run.runId) ?? [];
    const hidden = Math.max(0, kids.length - CHILDREN_SHOWN);
    rows.push({ ...run, depth, context, ...(hidden ? { hiddenChildren: hidden } : {}) });
    for (const c of kids.slice(0, CHILDREN_SHOWN)) walk(c, depth + 1, false);
  };
  for (const t of tops.slice((page - 1) * pageSize, page * pageSize)) walk(t.run, 0, t.context);
  // children of a non-matching, non-top parent (deeper nesting): show them at the top level rather than lose them
  // (covered by tops above: such a child's parent is in byId but not top; add those groups' children)
  for (const [parent, list] of page === 1 ? children : []) {
    if (matchedIds.has(parent) || contextShown.has(parent)) continue;
    if (!tops.some((t) => t.run.runId === parent)) {
      for (const c of list) if (!seen.has(c.runId) && rows.length < pageSize * 4) walk(c, 0, false);
    }
  }

  // the shown columns' values, for this page's runs only
  const ids = rows.map((r) => r.runId);
  const missing = columnKeys.filter((k) => !snap.loaded.has(`${k.kind}\0${k.name}`));
  const pageRuns = rows as FilterableRun[];
  await loadKeys(store, pageRuns, missing, { ids });
  return { rows, matched: sorted.length, groups, page, pages, pageSize, columns: columnKeys, order, error };
}
