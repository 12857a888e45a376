/**
 * Drift straight from the feature store: a feature view's rows in two time
 * windows (the time-window form of getHistoricalFeatures, which needs no
 * entity table), so a view can be watched before any model serves from it.
 * Each side is every (entity, event timestamp) the view recorded in its
 * window, with the view's features; the join key and the timestamp are not
 * tested. Windows left out default to the view's latest period (its TTL, or
 * 30 days without one) and the period before it.
 */
import pl from "nodejs-polars";
import { UserError } from "../core/errors.ts";
import type { Config } from "../config/schema.ts";
import { FeatureStore } from "../featurestore/store.ts";
import { toMs } from "../featurestore/offline.ts";
import { readView, TS } from "../featurestore/source.ts";

const DEFAULT_PERIOD_MS = 30 * 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();

export interface TimeWindow {
  start: string;
  end: string;
}

/** `START..END` (ISO dates or times, both inclusive) as a window; anything else is a user error naming the flag. */
export function parseWindow(raw: string, flag: string): TimeWindow {
  const m = /^(.+?)\.\.(.+)$/.exec(raw.trim());
  if (!m) throw new UserError(`${flag} ${raw}: expected START..END, e.g. 2024-01-01..2024-06-30`);
  const [start, end] = [m[1].trim(), m[2].trim()];
  const s = toMs(start, `${flag} start`), e = toMs(end, `${flag} end`);
  if (s > e) throw new UserError(`${flag} ${raw}: the start is after the end`);
  return { start, end };
}

export interface FeatureViewSides {
  reference: pl.DataFrame;
  current: pl.DataFrame;
  referenceSource: string;
  currentSource: string;
  /** the columns that are not features (join key, event_timestamp) */
  exclude: string[];
  /** the registered version read */
  version: number;
}

/**
 * The view's rows in the reference and current windows. Without a current
 * window: the view's latest period (TTL, else 30 days) up to its last event;
 * without a reference window: the period of the same length just before the
 * current one. An unknown view, or an empty window, is a user error.
 */
export async function featureViewSides(
  config: Config,
  view: string,
  referenceWindow?: TimeWindow,
  currentWindow?: TimeWindow,
): Promise<FeatureViewSides> {
  const store = await FeatureStore.fromConfig(config);
  const def = store.definitions.views.get(view);
  if (!def) {
    throw new UserError(
      `--feature-view ${view}: unknown feature view (views: ${
        [...store.definitions.views.keys()].join(", ") || "none"
      })`,
    );
  }
  let current = currentWindow, reference = referenceWindow;
  if (!current || !reference) {
    const period = def.ttl_ms && def.ttl_ms > 0 ? def.ttl_ms : DEFAULT_PERIOD_MS;
    if (!current) {
      const last = readView(store.definitions, def, []).select(pl.col(TS).max()).collectSync()
        .getColumn(TS).toArray()[0] as number | bigint | null;
      if (last === null) throw new UserError(`--feature-view ${view}: the view has no rows`);
      const end = Number(last);
      const start = reference ? toMs(reference.end) + 1 : end - period + 1;
      current = { start: iso(start), end: iso(end) };
    }
    if (!reference) {
      const start = toMs(current.start), length = toMs(current.end) - start + 1;
      reference = { start: iso(start - length), end: iso(start - 1) };
    }
  }
  const read = (w: TimeWindow, flag: string) => {
    const { frame, versions } = store.getHistoricalFeatures(w, [`${view}:*`]);
    if (frame.height === 0) {
      throw new UserError(`${flag} ${w.start}..${w.end}: feature view ${view} has no rows in that window`);
    }
    return { frame, version: versions[view] };
  };
  const ref = read(reference, "--reference-window");
  const cur = read(current, "--current-window");
  const key = store.definitions.entities.get(def.entity)!.join_key;
  const source = (w: TimeWindow) => `feature view ${view} v${ref.version} ${w.start}..${w.end}`;
  return {
    reference: ref.frame,
    current: cur.frame,
    referenceSource: source(reference),
    currentSource: source(current),
    exclude: [key, "event_timestamp"],
    version: ref.version,
  };
}
