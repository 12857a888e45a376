/**
 * A project whose @champion is a small trained fixture model (registered from
 * a tracked run), with its models, predictions, reports and monitoring
 * folders under `root`: what default drift needs to find its model.
 */
import { join } from "node:path";
import { type Config, ConfigSchema } from "../../src/config/schema.ts";
import { ModelRegistry } from "../../src/registry/registry.ts";
import { TrackingStore } from "../../src/tracking/store.ts";
import { trainFixture } from "../serve/fixture.ts";

export async function championProject(root: string): Promise<Config> {
  const artifact = await trainFixture(join(root, "t"), { seed: 5, trees: 6, intLabels: true });
  const config = ConfigSchema.parse({
    paths: {
      models: join(root, "models"),
      predictions: join(root, "predictions"),
      reports: join(root, "reports"),
      monitoring: join(root, "monitoring"),
    },
    tracking: { store: join(root, "models", "orchard.db") },
    data: { target: "churn" },
  });
  Deno.mkdirSync(config.paths.models, { recursive: true });
  const store = await TrackingStore.open(config.tracking.store);
  const { runId } = await store.startRun({ experiment: "drift-test" });
  await store.logArtifact(runId, "model", artifact);
  await store.endRun(runId, "FINISHED");
  await (await ModelRegistry.open(store, { modelsDir: config.paths.models })).register({
    runId,
    name: config.registry.model_name,
    alias: "champion",
  });
  await store.close();
  return config;
}
