/**
 * The example world over time, small, in a temp folder: generate (with the
 * label history) -> prep -> features (with the month-end snapshots) -> the
 * feature store of the project's own params.yaml (its views and service, with
 * their sources moved into the folder), applied. The point-in-time training
 * set tests and the leakage test build on it.
 */
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { type Config, ConfigSchema } from "../../src/config/schema.ts";
import { generateWorld } from "../../src/data/generate.ts";
import { runPrep } from "../../src/data/prep.ts";
import { runFeatures } from "../../src/features/stage.ts";
import { FeatureStore } from "../../src/featurestore/store.ts";

const PARAMS = new URL("../../params.yaml", import.meta.url);

export interface PitWorld {
  dir: string;
  config: Config;
  cleanup: () => void;
}

/** The config of the temp project: params.yaml's feature store and training set, every path inside `dir`. */
export function pitConfig(dir: string, extra: Record<string, unknown> = {}): Config {
  const params = parseYaml(Deno.readTextFileSync(PARAMS)) as Record<string, Record<string, unknown>>;
  const fs = structuredClone(params.feature_store) as {
    feature_views: Record<string, { source: { path: string } }>;
  } & Record<string, unknown>;
  for (const v of Object.values(fs.feature_views)) v.source.path = join(dir, v.source.path);
  const ts = structuredClone(params.training_set) as { labels: { path: string } };
  ts.labels.path = join(dir, ts.labels.path);
  return ConfigSchema.parse({
    paths: {
      raw: join(dir, "data/raw"),
      interim: join(dir, "data/interim"),
      processed: join(dir, "data/processed"),
      features: join(dir, "data/features"),
      models: join(dir, "models"),
      reports: join(dir, "reports"),
      monitoring: join(dir, "data/monitoring"),
      predictions: join(dir, "data/predictions"),
    },
    data: {
      sources: {
        customers: { path: join(dir, "data/raw/customers.csv") },
        transactions: { path: join(dir, "data/raw/transactions.json") },
      },
    },
    // a small world's missing shares wander past the 1% gate
    quality: { max_missing_share: 0.05 },
    model: { ...params.model, n_jobs: 1 },
    registry: params.registry,
    tracking: { store: join(dir, "models/orchard.db"), experiment: "churn" },
    feature_store: { ...fs, directory: join(dir, "data/featurestore") },
    training_set: ts,
    ...extra,
  });
}

/** Generates, preps, builds features and applies the store; `customers` small keeps it quick. */
export function pitWorld(customers = 400, seed = 5): PitWorld {
  const dir = Deno.makeTempDirSync({ prefix: "orchard-pit-" });
  const config = pitConfig(dir);
  generateWorld({
    customers,
    seed,
    months: 12,
    scenario: "baseline",
    outDir: config.paths.raw,
    labelCutoffs: 3,
  });
  runPrep(config);
  runFeatures(config);
  return { dir, config, cleanup: () => Deno.removeSync(dir, { recursive: true }) };
}

/** Applies the config's feature store (registers its views). */
export async function applyStore(config: Config): Promise<FeatureStore> {
  const store = await FeatureStore.fromConfig(config);
  store.apply();
  return store;
}
