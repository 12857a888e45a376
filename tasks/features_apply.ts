/**
 * `deno task features:apply`: register the declared feature store in
 * <feature_store.directory>/registry.json. A changed view or service gets a
 * new version; the previous versions stay listed.
 */
import { defineTask, main } from "../src/cli/task.ts";
import { planLines } from "../src/featurestore/format.ts";
import { FeatureStore } from "../src/featurestore/store.ts";

export const spec = defineTask({
  name: "features:apply",
  description: "Register the declared entities, feature views and feature services (what features:plan\n" +
    "shows) in the feature store's registry; a changed view gets a new version.",
  writes: (
    ctx,
  ) => [{ path: ctx.config.feature_store.directory, dir: true, source: "feature_store.directory" }],
  async run(ctx) {
    return (await FeatureStore.fromConfig(ctx.config)).apply();
  },
  summary: (r) => planLines(r, true),
});

if (import.meta.main) await main(spec);
