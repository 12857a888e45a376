/**
 * Which experiment a run is filed in (issue 12, defect 5): a `--data` run
 * belongs to the model named after its file, and is filed in that model's
 * experiment (the file's stem, unless registry.models.<name>.experiment says
 * otherwise); `--experiment` wins; the feature data stays the example
 * model's (tracking.experiment). `register --name <model>` then finds it as
 * `latest`.
 */
import { join } from "node:path";
import { assert, assertEquals, assertRejects } from "../models/_assert.ts";
import { churnRows, toCsv } from "../models/_data.ts";
import { UserError } from "../../src/core/errors.ts";
import { ConfigSchema } from "../../src/config/schema.ts";
import { train } from "../../src/training/train.ts";
import { TrackingStore } from "../../src/tracking/store.ts";
import type { RegisterResult } from "../../src/registry/registry.ts";
import { spec as registerSpec } from "../../tasks/register.ts";

function setup(registry: Record<string, unknown> = {}) {
  const dir = Deno.makeTempDirSync({ prefix: "orchard-experiment-" });
  const config = ConfigSchema.parse({
    paths: { models: join(dir, "models"), reports: join(dir, "reports"), features: join(dir, "features") },
    tracking: { store: join(dir, "models", "orchard.db"), experiment: "example" },
    model: { n_estimators: 10, n_jobs: 1 },
    registry: { model_name: "churn", ...registry },
  });
  return { dir, config };
}

function writeCsv(dir: string, name: string, seed = 3): string {
  const path = join(dir, name);
  Deno.writeTextFileSync(path, toCsv(churnRows(200, seed)));
  return path;
}

async function runOf(config: { tracking: { store: string } }, runId: string) {
  const store = await TrackingStore.open(config.tracking.store);
  try {
    return await store.getRun(runId);
  } finally {
    await store.close();
  }
}

const quiet = { target: "churned", verbose: false, reportsDir: null } as const;

Deno.test("train --data files the run in an experiment named after the file, sanitized", async () => {
  const { dir, config } = setup();
  try {
    const r = await train({ config, data: writeCsv(dir, "My Sales (2024).csv"), ...quiet });
    assertEquals(r.experiment, "My_Sales_2024");
    assertEquals(r.model_name, "My_Sales_2024");
    const run = await runOf(config, r.run_id);
    assertEquals(run.experiment, "My_Sales_2024");
    assertEquals(run.tags["orchard.model_name"], "My_Sales_2024");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("train: --experiment wins; registry.models.<name>.experiment and --model-name choose the model's", async () => {
  const { dir, config } = setup({ models: { sales: { experiment: "q4-sales" } } });
  try {
    const sales = writeCsv(dir, "sales.csv");
    const given = await train({ config, data: sales, experiment: "mine", ...quiet });
    assertEquals((await runOf(config, given.run_id)).experiment, "mine");
    const configured = await train({ config, data: sales, ...quiet });
    assertEquals((await runOf(config, configured.run_id)).experiment, "q4-sales");
    // retraining the example model on a new file: its experiment, tracking.experiment
    const example = await train({ config, data: sales, modelName: "churn", ...quiet });
    assertEquals((await runOf(config, example.run_id)).experiment, "example");
    assertEquals(example.model_name, "churn");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("train on the feature data stays in tracking.experiment (the example model)", async () => {
  const { dir, config } = setup();
  try {
    const pl = (await import("nodejs-polars")).default;
    const rows = churnRows(200, 4).map((r, i) => ({
      customer_id: `c${i}`,
      tenure: r.tenure,
      spend: r.spend ?? 0,
      churned: r.churned === "yes" ? 1 : 0,
      split: i % 4 === 0 ? "validation" : "train",
    }));
    Deno.mkdirSync(config.paths.features, { recursive: true });
    pl.DataFrame(rows).writeParquet(join(config.paths.features, "customer_features.parquet"));
    const r = await train({ config, target: "churned", verbose: false, reportsDir: null });
    assertEquals(r.model_name, "churn");
    assertEquals(r.experiment, "example");
    assertEquals((await runOf(config, r.run_id)).experiment, "example");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

function register(
  config: ReturnType<typeof setup>["config"],
  values: { run?: string; name?: string; alias?: string[] },
): Promise<RegisterResult> {
  // deno-lint-ignore no-explicit-any
  const ctx = { values: values as any, positionals: [], json: false, config, sets: [] };
  return Promise.resolve(registerSpec.run(ctx));
}

Deno.test("train --data, then register --name <its model> takes that run as latest; the example model does not", async () => {
  const { dir, config } = setup();
  try {
    const example = await train({ config, data: writeCsv(dir, "a.csv", 1), modelName: "churn", ...quiet });
    const housing = await train({ config, data: writeCsv(dir, "housing.csv", 2), ...quiet });
    const r = await register(config, { name: "housing" });
    assertEquals(r.run_id, housing.run_id);
    assertEquals(r.name, "housing");
    // the example model's latest is its own run, not the newer housing one
    assertEquals((await register(config, {})).run_id, example.run_id);
    // a model none of whose runs exist: one line naming its experiment, and how to pick a run
    const e = await assertRejects(() => register(config, { name: "elsewhere" }), UserError);
    assert.match(e.message, /experiment 'elsewhere'/);
    assert.ok(!e.message.includes("\n"));
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
