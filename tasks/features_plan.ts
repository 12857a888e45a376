/**
 * `deno task features:plan`: check every feature view's source against its
 * definition, then print what `features:apply` would register: views,
 * entities and services to add, change (a new version, with the fields that
 * differ) or remove. Writes nothing.
 */
import { defineTask, main } from "../src/cli/task.ts";
import { planLines } from "../src/featurestore/format.ts";
import { FeatureStore } from "../src/featurestore/store.ts";

export const spec = defineTask({
  name: "features:plan",
  description:
    "Compare the declared feature store (params.yaml feature_store and its definitions file) with\n" +
    "the registered one and print what features:apply would change. Every view's source is checked\n" +
    "for its declared columns first.",
  async run(ctx) {
    return (await FeatureStore.fromConfig(ctx.config)).plan();
  },
  summary: (r) => planLines(r, false),
});

if (import.meta.main) await main(spec);
