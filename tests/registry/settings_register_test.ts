/**
 * `register` and `models promote` judge each model by its own settings
 * (issue 12, defect 5): a regression model becomes champion on regression
 * gates without --force, `register` finds `latest` in the model's experiment,
 * and the example model keeps registry.gates. The tasks run in-process on a
 * temp store with hand-made runs (no training).
 */
import assert from "node:assert/strict";
import { ConfigSchema } from "../../src/config/schema.ts";
import { UserError } from "../../src/core/errors.ts";
import { TrackingStore } from "../../src/tracking/store.ts";
import { modelsCommand, modelsSummary } from "../../src/registry/commands.ts";
import { existsSync } from "node:fs";
import type { RegisterResult } from "../../src/registry/registry.ts";
import { spec as registerSpec } from "../../tasks/register.ts";

const CHURN_GATES = { recall: { threshold: 0.7 }, f1: { threshold: 0.6 } };

function project(registry: Record<string, unknown> = {}) {
  const root = Deno.makeTempDirSync({ prefix: "orchard-settings-" });
  const config = ConfigSchema.parse({
    paths: { models: `${root}/models` },
    tracking: { store: `${root}/models/orchard.db`, experiment: "churn" },
    model: { threshold: 0.35 },
    registry: { model_name: "churn", gates: CHURN_GATES, ...registry },
  });
  return { root, config };
}

/** A finished run with a small "model" artifact, as the train stage would leave it. */
async function addRun(
  root: string,
  config: ReturnType<typeof project>["config"],
  experiment: string,
  params: Record<string, unknown>,
  metrics: Record<string, number>,
  tags: Record<string, string> = {},
): Promise<string> {
  const store = await TrackingStore.open(config.tracking.store);
  try {
    const { runId } = await store.startRun({ experiment, tags });
    await store.logParams(runId, params);
    await store.logMetrics(runId, metrics);
    const dir = `${root}/models/artifacts/${runId}`;
    Deno.mkdirSync(dir, { recursive: true });
    Deno.writeTextFileSync(`${dir}/artifact.json`, JSON.stringify({ format: 1, engine: "fake" }));
    Deno.writeTextFileSync(`${dir}/model.bin`, `weights of ${runId}`);
    await store.logArtifact(runId, "model", dir);
    await store.endRun(runId, "FINISHED");
    return runId;
  } finally {
    await store.close();
  }
}

function register(
  config: ReturnType<typeof project>["config"],
  values: { run?: string; name?: string; alias?: string[]; force?: boolean; reason?: string },
): Promise<RegisterResult> {
  // deno-lint-ignore no-explicit-any
  const ctx = { values: values as any, positionals: [], json: false, config, sets: [] };
  return Promise.resolve(registerSpec.run(ctx));
}

const REGRESSION = { task: "regression", target: "price", algorithm: "forest" };
const BINARY = { task: "classification", target: "y", threshold: 0.5, positive_class: "yes" };

Deno.test("register: a regression model without settings is gated on r2/rmse and becomes champion without --force", async () => {
  const { root, config } = project();
  try {
    const runId = await addRun(root, config, "houses", REGRESSION, { rmse: 12.5, mae: 9.1, r2: 0.81 });
    const r = await register(config, { run: runId, name: "houses", alias: ["champion"] });
    assert.equal(r.gates!.passed, true, r.gates!.reasons.join("; "));
    assert.deepEqual([...new Set(r.gates!.checks.map((c) => c.metric))].sort(), ["r2"]);
    assert.equal(r.promotions[0].applied, true);
    assert.deepEqual(r.aliases, ["champion"]);
    assert.equal(r.promotions[0].gates!.forced, false);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("register and promote: rmse is lower-is-better against the champion; promote uses the model's gates", async () => {
  const { root, config } = project();
  try {
    const v1 = await addRun(root, config, "houses", REGRESSION, { rmse: 10, mae: 8, r2: 0.8 });
    await register(config, { run: v1, name: "houses", alias: ["champion"] });
    const better = await addRun(root, config, "houses", REGRESSION, { rmse: 9, mae: 7.5, r2: 0.82 });
    const r2 = await register(config, { run: better, name: "houses", alias: ["champion"] });
    assert.equal(r2.promotions[0].applied, true, r2.promotions[0].gates?.reasons.join("; "));
    const worse = await addRun(root, config, "houses", REGRESSION, { rmse: 11, mae: 8.5, r2: 0.79 });
    const r3 = await register(config, { run: worse, name: "houses", alias: ["champion"] });
    assert.equal(r3.promotions[0].applied, false);
    assert.match(r3.promotions[0].gates!.reasons.join("; "), /^rmse 11 vs champion v2 9/);
    // `models promote` of the worse version is refused on the same gates, not on the churn ones
    await assert.rejects(
      () => modelsCommand(config, ["promote", "houses", "3"], {}),
      (e: Error) => {
        assert.ok(e instanceof UserError);
        assert.match(e.message, /failed the gates for alias:champion: rmse/);
        assert.doesNotMatch(e.message, /recall|f1/);
        return true;
      },
    );
    // Production is gated on the same settings: no Production version yet, so the r2 floor decides
    const p = await modelsCommand(config, ["promote", "houses", "2"], { stage: "Production" });
    assert.equal(p.command === "promote" && p.outcome.applied && p.outcome.gates?.passed, true);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("promote: registry.models.<name>.gates apply to that model; the example model keeps registry.gates", async () => {
  const { root, config } = project({ models: { fraud: { gates: { roc_auc: { threshold: 0.9 } } } } });
  try {
    const metrics = { recall: 0.65, f1: 0.7, roc_auc: 0.95, accuracy: 0.9 };
    const fraud = await addRun(root, config, "fraud", BINARY, metrics);
    const churn = await addRun(root, config, "churn", BINARY, metrics);
    const f = await register(config, { run: fraud, name: "fraud" });
    const c = await register(config, { run: churn, name: "churn" });
    assert.equal(f.gates!.passed, true, "fraud: roc_auc 0.95 >= 0.9; recall is not its gate");
    assert.deepEqual(f.gates!.checks.map((x) => x.metric), ["roc_auc"]);
    assert.equal(c.gates!.passed, false, "churn: recall 0.65 < 0.7, as before");
    assert.deepEqual(c.gates!.checks.map((x) => x.metric), ["recall", "f1"]);
    const p = await modelsCommand(config, ["promote", "fraud", "1"], {});
    assert.equal(p.command === "promote" && p.outcome.applied, true);
    await assert.rejects(
      () => modelsCommand(config, ["promote", "churn", "1"], {}),
      /recall 0\.65 not >= threshold 0\.7/,
    );
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("register: a multiclass model without settings is gated on accuracy and macro_f1", async () => {
  const { root, config } = project();
  try {
    const runId = await addRun(
      root,
      config,
      "tiers",
      { task: "classification", target: "tier", threshold: 0.5, positive_class: "new" },
      { accuracy: 0.86, f1: 0.4, recall: 0.3, macro_f1: 0.84, roc_auc: 0.9 },
    );
    const r = await register(config, { run: runId, name: "tiers", alias: ["champion"] });
    assert.deepEqual(r.gates!.checks.map((c) => c.metric).sort(), ["accuracy", "macro_f1"]);
    assert.equal(r.promotions[0].applied, true);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("register latest: looks in the model's experiment, not tracking.experiment", async () => {
  const { root, config } = project({ models: { prices: { experiment: "real-estate" } } });
  try {
    const churnRun = await addRun(root, config, "churn", BINARY, { recall: 0.8, f1: 0.7 });
    const houses = await addRun(root, config, "houses", REGRESSION, { rmse: 3, mae: 2, r2: 0.9 });
    const prices = await addRun(root, config, "real-estate", REGRESSION, { rmse: 3, mae: 2, r2: 0.9 });
    assert.equal((await register(config, { name: "houses" })).run_id, houses);
    assert.equal((await register(config, { name: "prices" })).run_id, prices);
    // the example model still takes the latest run of tracking.experiment, though others are newer
    assert.equal((await register(config, {})).run_id, churnRun);
    // a model whose experiment holds no run: one line that names the experiment and the way out
    await assert.rejects(() => register(config, { name: "nothing" }), (e: Error) => {
      assert.ok(e instanceof UserError);
      assert.match(e.message, /experiment 'nothing'/);
      assert.match(e.message, /--run/);
      assert.ok(!e.message.includes("\n"));
      return true;
    });
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("models: a store that is not there (a typo'd tracking.store) is said so and not created", async () => {
  const root = Deno.makeTempDirSync({ prefix: "orchard-models-missing-" });
  try {
    const location = `${root}/models/orchad.db`;
    const config = ConfigSchema.parse({ tracking: { store: location }, paths: { models: `${root}/models` } });
    const list = await modelsCommand(config, [], {});
    assert.deepEqual(list, { command: "list", models: [], gated: [], missing_store: location });
    assert.equal(
      modelsSummary(list),
      `models: no tracking store at ${location} yet (deno task train creates it)`,
    );
    await assert.rejects(
      () => modelsCommand(config, ["show", "churn"], {}),
      (e: Error) => e instanceof UserError && e.message.startsWith(`no tracking store at ${location} yet`),
    );
    assert.ok(!existsSync(location) && !existsSync(`${root}/models`), "nothing was created");
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("register --run <id> without --name files the run under the model name train gave it, not registry.model_name", async () => {
  const { root, config } = project();
  try {
    const tags = { "orchard.model_name": "houses" };
    const runId = await addRun(root, config, "houses", REGRESSION, { rmse: 12.5, mae: 9.1, r2: 0.81 }, tags);
    const r = await register(config, { run: runId.slice(0, 8), alias: ["champion"] });
    assert.equal(r.name, "houses");
    // houses' gates (by its task kind: r2), not churn's recall and f1
    assert.deepEqual([...new Set(r.gates!.checks.map((c) => c.metric))], ["r2"]);
    assert.equal(r.promotions[0].applied, true);
    // --name still decides, and a run without the tag keeps the default
    const other = await addRun(root, config, "houses", REGRESSION, { rmse: 12, mae: 9, r2: 0.82 }, tags);
    assert.equal((await register(config, { run: other, name: "prices" })).name, "prices");
    const untagged = await addRun(root, config, "churn", BINARY, { recall: 0.8, f1: 0.7 });
    assert.equal((await register(config, { run: untagged })).name, "churn");
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("register --run-file: a folder, a missing file and an empty one each say what they are", async () => {
  const { root, config } = project();
  try {
    Deno.mkdirSync(`${root}/models`, { recursive: true });
    Deno.writeTextFileSync(`${root}/empty.txt`, "\n");
    // deno-lint-ignore no-explicit-any
    const withFile = (file: string) => register(config, { "run-file": file } as any);
    const cases: [string, RegExp][] = [
      [`${root}/models`, /models: is a folder; name the file train --run-file wrote$/],
      [`${root}/none.txt`, /none\.txt: not there \(run train --run-file .*none\.txt first\)$/],
      [`${root}/empty.txt`, /empty\.txt: empty$/],
    ];
    for (const [file, re] of cases) {
      await assert.rejects(
        () => withFile(file),
        (e: Error) => e instanceof UserError && re.test(e.message),
        file,
      );
    }
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});
