/**
 * The feature store's client: the declared definitions, the registry that
 * versions them and the online store, behind the calls a notebook, a task or
 * the service makes (`getHistoricalFeatures`, `materialize`,
 * `getOnlineFeatures`). Reads go through the registered versions only: a view
 * declared but not applied, or changed since, is refused until apply.
 */
import type pl from "nodejs-polars";
import { join } from "node:path";
import type { Config } from "../config/schema.ts";
import { UserError } from "../core/errors.ts";
import { type Definitions, type FeatureRef, loadDefinitions, resolveFeatures } from "./definitions.ts";
import {
  type HistoricalOptions,
  type JoinStats,
  pointInTimeJoin,
  type TimeLike,
  toMs,
  windowJoin,
} from "./offline.ts";
import { apply, plan, type PlanResult, registeredVersions } from "./registry.ts";
import type { OnlineStore } from "./online.ts";
import { openOnlineStore, redisPrefixOf } from "./open.ts";
import {
  lookup,
  type LookupPlan,
  lookupPlan,
  type MaterializeOptions,
  materializeViews,
  type OnlineResult,
  type ViewMaterialization,
} from "./materialize.ts";

export interface FeatureStoreOptions {
  /** the feature store's folder (registry.json, online.db) */
  directory: string;
  /** sqlite (online.db in directory), a SQLite file path, or redis://host:port */
  onlineStore?: string;
  /** Redis only: the key prefix (default orchard:fs:) */
  redisPrefix?: string;
}

export interface OnlineOptions {
  /** the time TTL is checked against (default now) */
  now?: TimeLike;
  fullFeatureNames?: boolean;
}

export interface HistoricalResult {
  frame: pl.DataFrame;
  stats: JoinStats;
  /** the registered version of each view joined */
  versions: Record<string, number>;
}

export class FeatureStore {
  private online?: Promise<OnlineStore>;
  private readonly plans = new Map<string, LookupPlan>();

  constructor(readonly definitions: Definitions, readonly options: FeatureStoreOptions) {}

  /** The store params.yaml describes (its block and its definitions file). */
  static async fromConfig(config: Pick<Config, "feature_store">): Promise<FeatureStore> {
    const fs = config.feature_store;
    return new FeatureStore(await loadDefinitions(config), {
      directory: fs.directory,
      onlineStore: fs.online_store,
      redisPrefix: redisPrefixOf(fs),
    });
  }

  get directory(): string {
    return this.options.directory;
  }

  /** Where the online store lives: a SQLite path or a redis:// URI. */
  get onlineLocation(): string {
    const o = this.options.onlineStore ?? "sqlite";
    return o === "sqlite" ? join(this.directory, "online.db") : o;
  }

  /** What features:apply would change (the sources checked first). */
  plan(): PlanResult {
    return plan(this.definitions, this.directory);
  }

  /** Registers the definitions: changed views and services get a new version. */
  apply(now?: Date): PlanResult {
    return apply(this.definitions, this.directory, now);
  }

  /** A feature service's name or a list of view:feature refs, resolved (unknown names are user errors). */
  resolve(features: string | string[]): FeatureRef[] {
    return resolveFeatures(this.definitions, features);
  }

  /** The registered version of each view the refs use (refused when not applied, or changed since). */
  versions(refs: FeatureRef[]): Record<string, number> {
    const views = new Set(refs.map((r) => r.view));
    return Object.fromEntries(registeredVersions(this.definitions, this.directory, views));
  }

  /**
   * The point-in-time join: for each row of `entityTable` (join keys and a
   * timestamp column, default event_timestamp), each feature's value as of that
   * time, within its view's TTL. Or, given `{ start, end }` instead of a table,
   * every (entity, event timestamp) the views recorded in that window.
   */
  getHistoricalFeatures(
    entityTable: pl.DataFrame | { start: TimeLike; end: TimeLike },
    features: string | string[],
    opts: HistoricalOptions = {},
  ): HistoricalResult {
    const refs = this.resolve(features);
    const versions = this.versions(refs);
    const out = "start" in entityTable && !("height" in entityTable)
      ? windowJoin(this.definitions, entityTable as { start: TimeLike; end: TimeLike }, refs, opts)
      : pointInTimeJoin(this.definitions, entityTable as pl.DataFrame, refs, opts);
    return { ...out, versions };
  }

  /** The online store, opened on first use. */
  onlineStore(): Promise<OnlineStore> {
    this.online ??= openOnlineStore(this.onlineLocation, { prefix: this.options.redisPrefix });
    return this.online;
  }

  /**
   * Writes each entity's latest in-TTL row per view into the online store:
   * `{ start, end }` (end defaults to now), or `{ incremental: true }` to go on
   * from where each view's last run ended.
   */
  async materialize(opts: MaterializeOptions, log?: (line: string) => void): Promise<ViewMaterialization[]> {
    // bad times and unknown views are reported before anything is read
    if (opts.start !== undefined) toMs(opts.start, "--start");
    if (opts.end !== undefined) toMs(opts.end, "--end");
    const names = opts.views ?? [...this.definitions.views.keys()];
    for (const v of names) {
      if (!this.definitions.views.has(v)) {
        throw new UserError(
          `unknown feature view '${v}' (views: ${[...this.definitions.views.keys()].join(", ")})`,
        );
      }
    }
    const versions = registeredVersions(this.definitions, this.directory, names);
    return materializeViews(
      this.definitions,
      await this.onlineStore(),
      versions,
      { ...opts, views: names },
      log,
    );
  }

  /**
   * The online values of `features` (a feature service or view:feature refs)
   * for the entities `{ customer_id: ["C-1", ...] }`, each with a status:
   * present, missing (never materialized for that entity) or expired (older
   * than its view's TTL at `now`; the value is null).
   */
  async getOnlineFeatures(
    entityIds: Record<string, (string | number)[]>,
    features: string | string[],
    opts: OnlineOptions = {},
  ): Promise<OnlineResult> {
    const cacheKey = `${JSON.stringify(features)}|${opts.fullFeatureNames ?? false}`;
    let p = this.plans.get(cacheKey);
    if (!p) {
      const refs = this.resolve(features);
      p = lookupPlan(this.definitions, refs, this.versions(refs), opts.fullFeatureNames);
      this.plans.set(cacheKey, p);
    }
    const now = opts.now === undefined ? Date.now() : toMs(opts.now, "now");
    return lookup(await this.onlineStore(), p, entityIds, now);
  }

  async close(): Promise<void> {
    if (this.online) await (await this.online).close();
    this.online = undefined;
  }
}
