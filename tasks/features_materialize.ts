/**
 * `deno task features:materialize`: write each entity's latest in-TTL feature
 * values into the online store (SQLite under feature_store.directory by
 * default, or Redis), for [--start, --end] or --incremental from where each
 * view's last run ended.
 */
import { defineTask, main } from "../src/cli/task.ts";
import { log } from "../src/core/progress.ts";
import { UserError } from "../src/core/errors.ts";
import { isRedisUri } from "../src/featurestore/open.ts";
import { FeatureStore } from "../src/featurestore/store.ts";
import { materializationWindow } from "../src/featurestore/materialize.ts";

export const spec = defineTask({
  name: "features:materialize",
  description: "Write the latest in-TTL values per entity of every registered feature view (or --view)\n" +
    "into the online store: the rows with event timestamps in [--start, --end], or --incremental from\n" +
    "the end of each view's last run. Times are ISO 8601 (2026-01-31, 2026-01-31T12:00:00Z) or epoch ms.",
  options: {
    start: { type: "string", description: "window start (inclusive)", valueName: "time" },
    end: { type: "string", description: "window end (inclusive; default now)", valueName: "time" },
    incremental: { type: "boolean", description: "start each view after its last materialized end" },
    view: {
      type: "string",
      multiple: true,
      description: "only this feature view (repeatable)",
      valueName: "name",
    },
  },
  writes: (ctx) => {
    const o = ctx.config.feature_store.online_store;
    if (isRedisUri(o)) return [];
    return [
      o === "sqlite"
        ? { path: ctx.config.feature_store.directory, dir: true, source: "feature_store.directory" }
        : { path: o, source: "feature_store.online_store" },
    ];
  },
  async run(ctx) {
    const { start, end, incremental, view } = ctx.values;
    if (incremental && start !== undefined) {
      throw new UserError("--incremental and --start: give one of them");
    }
    if (!incremental && start === undefined) {
      throw new UserError("give --start <time> (and --end, default now), or --incremental");
    }
    const time = (v: string | undefined) => v === undefined ? undefined : /^-?\d+$/.test(v) ? Number(v) : v;
    const window = { start: time(start), end: time(end), incremental: Boolean(incremental), views: view };
    materializationWindow(window); // a bad window is refused before the online store is opened (or created)
    const store = await FeatureStore.fromConfig(ctx.config);
    try {
      const views = await store.materialize(window, log);
      return { online_store: store.onlineLocation, views };
    } finally {
      await store.close();
    }
  },
  summary(r) {
    const iso = (ms: number) => new Date(ms).toISOString();
    return [
      `features:materialize -> ${r.online_store}`,
      ...r.views.map((v) =>
        v.start === null
          ? `  ${v.view} v${v.version}: up to date (last end ${iso(v.end)})`
          : `  ${v.view} v${v.version}: ${v.entities} entities, ${v.written} written, ${
            v.start <= -8.64e15 ? "from the first row" : `from ${iso(v.start)}`
          } to ${iso(v.end)} (${v.seconds.toFixed(2)} s)`
      ),
    ].join("\n");
  },
});

if (import.meta.main) await main(spec);
