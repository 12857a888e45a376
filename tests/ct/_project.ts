/**
 * A small continuous-training project in a temp dir: generated churn rows in
 * churn.csv (model "churn", the example model, so registry.gates apply), a
 * store, and a way to put a champion in place trained with given params.
 */
import { join } from "node:path";
import { type Config, ConfigSchema } from "../../src/config/schema.ts";
import { ModelRegistry } from "../../src/registry/registry.ts";
import { TrackingStore } from "../../src/tracking/store.ts";
import { train } from "../../src/training/train.ts";
import { churnRows, toCsv } from "../models/_data.ts";

/** A candidate barely better than chance: one stump. */
export const WEAK = { algorithm: "forest", n_estimators: 1, max_depth: 1, n_jobs: 1 };
/** A forest that learns the generated rule well. */
export const STRONG = { algorithm: "forest", n_estimators: 30, n_jobs: 1 };

export interface CtProject {
  dir: string;
  csv: string;
  configPath: string;
  config(model: Record<string, unknown>): Config;
}

export function ctProject(rows = 400): CtProject {
  const dir = Deno.makeTempDirSync({ prefix: "orchard-ct-" });
  const csv = join(dir, "churn.csv");
  Deno.writeTextFileSync(csv, toCsv(churnRows(rows, 11)));
  const raw = (model: Record<string, unknown>) => ({
    paths: { models: join(dir, "models"), reports: join(dir, "reports"), features: join(dir, "features") },
    tracking: { store: join(dir, "models", "orchard.db"), experiment: "ct-test" },
    data: { target: "churned" },
    model: { cv_folds: 0, ...model },
    // gated against the champion: no worse on roc_auc, and a floor
    registry: { gates: { roc_auc: { threshold: 0.6, min_absolute_change: 0 } } },
  });
  const configPath = join(dir, "params.json");
  Deno.writeTextFileSync(configPath, JSON.stringify(raw(STRONG)));
  return { dir, csv, configPath, config: (model) => ConfigSchema.parse(raw(model)) };
}

/** Trains on the project's rows with `model` and registers the run as @champion (forced: a weak one may fail the floor). */
export async function putChampion(
  p: CtProject,
  model: Record<string, unknown>,
): Promise<{ runId: string; version: number }> {
  const config = p.config(model);
  const r = await train({ config, data: p.csv, target: "churned", verbose: false, reportsDir: null });
  const store = await TrackingStore.open(config.tracking.store);
  try {
    const registry = await ModelRegistry.open(store, {
      modelsDir: config.paths.models,
      gates: config.registry.gates,
    });
    const reg = await registry.register({
      runId: r.run_id,
      name: "churn",
      alias: "champion",
      force: true,
      reason: "test fixture",
    });
    return { runId: r.run_id, version: reg.version };
  } finally {
    await store.close();
  }
}
