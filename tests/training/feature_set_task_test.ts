/**
 * `deno task train` on a feature service as a user runs it (the task's own
 * permissions, in a temp project): the default from params' training_set,
 * and bad names as one line, exit 2.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runTask } from "../permissions/_project.ts";
import { applyStore, pitWorld } from "./_pit_world.ts";

Deno.test({
  name: "train task: training_set's feature service by default; an unknown service or a lost column exits 2",
  sanitizeResources: false,
  async fn() {
    const w = pitWorld(300, 12);
    try {
      await applyStore(w.config);
      const config = { ...w.config, model: { ...w.config.model, max_iter: 20 } };
      Deno.writeTextFileSync(join(w.dir, "params.yaml"), JSON.stringify(config));
      const ok = await runTask(w.dir, "train", ["--no-report", "--json"]);
      assert.equal(ok.code, 0, ok.stderr);
      const out = JSON.parse(ok.stdout);
      const lineage = JSON.parse(
        Deno.readTextFileSync(join(w.config.paths.models, "training_sets", `${out.run_id}.json`)),
      );
      assert.equal(lineage.feature_service, "churn");
      assert.ok(out.rows < lineage.counts.rows_used, "validation rows held out by entity");

      const unknown = await runTask(w.dir, "train", ["--feature-service", "nope", "--no-report"]);
      assert.equal(unknown.code, 2);
      assert.equal(unknown.stderr.trim(), "train: unknown feature service 'nope' (services: churn)");

      const both = await runTask(w.dir, "train", ["--feature-service", "churn", "--data", "x.csv"]);
      assert.equal(both.code, 2);
      assert.match(both.stderr.trim(), /^train: --feature-service and --data are two sources/);

      // a service naming a feature its view does not have: one line from the definitions' check
      const badService = {
        ...config,
        feature_store: {
          ...config.feature_store,
          feature_services: { churn: { features: ["customer_activity:spend_9m"] } },
        },
      };
      Deno.writeTextFileSync(join(w.dir, "params.yaml"), JSON.stringify(badService));
      const feature = await runTask(w.dir, "train", ["--no-report"]);
      assert.equal(feature.code, 2);
      assert.match(
        feature.stderr.trim(),
        /^train: feature service churn: unknown feature 'spend_9m' in feature view customer_activity \(features: tenure_months, /,
      );
      assert.equal(feature.stderr.trim().split("\n").length, 1);
      // zod: a service name the store cannot have
      Deno.writeTextFileSync(
        join(w.dir, "params.yaml"),
        JSON.stringify({ ...config, training_set: { ...config.training_set, feature_service: "9 lives" } }),
      );
      const name = await runTask(w.dir, "train", ["--no-report"]);
      assert.equal(name.code, 2);
      assert.match(name.stderr, /training_set\.feature_service/);
      Deno.writeTextFileSync(join(w.dir, "params.yaml"), JSON.stringify(config));

      const snap = w.config.feature_store.feature_views.customer_activity.source.path;
      const { default: pl } = await import("nodejs-polars");
      pl.readParquet(snap).drop("frequency").writeParquet(snap);
      const lost = await runTask(w.dir, "train", ["--no-report"]);
      assert.equal(lost.code, 2);
      assert.equal(
        lost.stderr.trim(),
        `train: feature view customer_activity: source ${snap} has no column 'frequency' (feature frequency)`,
      );
    } finally {
      w.cleanup();
    }
  },
});
