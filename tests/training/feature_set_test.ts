/**
 * The point-in-time training set of the example world: the leakage test
 * (every transaction after a cut-off perturbed: the training rows up to that
 * cut-off stay byte for byte the same; every joined feature row is at or
 * before its label's cut-off, within TTL), the one definition of the
 * features (each row equals the one-record customerFeatures as of its
 * cut-off), the entity split, the run's lineage, and bad names.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import pl from "nodejs-polars";
import { type Config, ConfigSchema } from "../../src/config/schema.ts";
import { UserError } from "../../src/core/errors.ts";
import { customerFeatures, MODEL_INPUT_COLUMNS } from "../../src/features/customer.ts";
import { runFeatures } from "../../src/features/stage.ts";
import { buildDefinitions } from "../../src/featurestore/definitions.ts";
import { FeatureStore } from "../../src/featurestore/store.ts";
import { loadFeatureSet } from "../../src/training/feature_set.ts";
import { loadTrainingInput } from "../../src/training/data.ts";
import { train } from "../../src/training/train.ts";
import { TrackingStore } from "../../src/tracking/store.ts";
import { applyStore, pitConfig, pitWorld } from "./_pit_world.ts";
import { backendTest } from "../_support/backends.ts";

const DAY = 86_400_000;
const csv = (df: pl.DataFrame) => df.writeCSV().toString();
const cutoffMs = (c: string) => Date.parse(c + "T00:00:00Z");

/** The training rows whose cut-off is on or before `c`, as CSV text (their bytes). */
function rowsUpTo(frame: pl.DataFrame, c: string): string {
  return csv(frame.filter(pl.col("cutoff").cast(pl.Utf8).lessThanEquals(pl.lit(c))));
}

/**
 * Every transaction dated after `c`, perturbed: amounts x7, a third dropped,
 * and a new 999.0 purchase the day after `c` for every customer (so the
 * snapshot date moves past the old end when `c` is the last day).
 */
function perturbAfter(config: Config, c: string): void {
  const path = join(config.paths.interim, "filtered_sales.csv");
  const sales = pl.readCSV(path, { inferSchemaLength: 0 });
  const after = pl.col("date").gt(pl.lit(c));
  const kept = sales.withRowIndex("__i").filter(after.not().or(pl.col("__i").modulo(3).neq(0))).drop("__i");
  const scaled = kept.withColumns(
    pl.when(after).then(pl.col("amount").cast(pl.Float64).mul(7)).otherwise(pl.col("amount").cast(pl.Float64))
      .alias("amount"),
  );
  const next = new Date(cutoffMs(c) + DAY).toISOString().slice(0, 10);
  const ids = [...new Set(sales.getColumn("customer_id").toArray() as string[])];
  const extra = pl.DataFrame({
    transaction_id: ids.map((_, i) => `P${i}`),
    customer_id: ids,
    date: ids.map(() => next),
    amount: ids.map(() => 999),
    channel: ids.map(() => "web"),
  }).withColumns(pl.col("amount").cast(pl.Float64));
  pl.concat([scaled, extra], { how: "vertical" }).writeCSV(path);
}

Deno.test({
  name: "leakage: perturbing every transaction after a cut-off leaves the rows up to it byte-identical",
  sanitizeResources: false,
  async fn() {
    const w = pitWorld(300, 5);
    try {
      await applyStore(w.config);
      const before = (await loadFeatureSet(w.config)).frame;
      const cutoffs = [...new Set(before.getColumn("cutoff").cast(pl.Utf8).toArray() as string[])].sort();
      assert.deepEqual(cutoffs, ["2024-10-31", "2024-11-30", "2024-12-31"]);
      const original = Deno.readTextFileSync(join(w.config.paths.interim, "filtered_sales.csv"));
      for (const c of cutoffs) {
        Deno.writeTextFileSync(join(w.config.paths.interim, "filtered_sales.csv"), original);
        perturbAfter(w.config, c);
        runFeatures(w.config);
        const after = (await loadFeatureSet(w.config)).frame;
        assert.equal(rowsUpTo(after, c), rowsUpTo(before, c), `rows with cutoff <= ${c} changed`);
        // the perturbation is real: the snapshot table (and any later cut-off's rows) did change
        const later = (f: pl.DataFrame) => csv(f.filter(pl.col("cutoff").cast(pl.Utf8).gt(pl.lit(c))));
        if (c !== cutoffs.at(-1)) assert.notEqual(later(after), later(before), `nothing after ${c} changed`);
        else assert.ok(after.height === before.height);
      }
    } finally {
      w.cleanup();
    }
  },
});

Deno.test({
  name: "point in time: every joined feature row is at or before its label's cut-off, and within TTL",
  sanitizeResources: false,
  async fn() {
    const w = pitWorld(300, 6);
    try {
      // the same views, each with its own event timestamp copied into a feature, joined the same way
      const views = w.config.feature_store.feature_views;
      const seen = {
        activity_seen: {
          ...views.customer_activity,
          source: {
            path: views.customer_activity.source.path,
            query: "SELECT customer_id, as_of, CAST(as_of AS BIGINT) AS seen_at FROM source",
          },
          features: { seen_at: "int64" as const },
        },
        profile_seen: {
          ...views.customer_profile,
          source: {
            path: views.customer_profile.source.path,
            query: "SELECT customer_id, signup_date, signup_date AS seen_at FROM source",
          },
          features: { seen_at: "string" as const },
        },
      };
      const config = ConfigSchema.parse({
        ...w.config,
        feature_store: { ...w.config.feature_store, feature_views: { ...views, ...seen } },
      });
      const store = await applyStore(config);
      const labels = pl.readCSV(config.training_set.labels.path);
      const { frame } = store.getHistoricalFeatures(
        labels,
        ["activity_seen:seen_at", "profile_seen:seen_at"],
        {
          timestampColumn: "cutoff",
          fullFeatureNames: true,
        },
      );
      const cut = frame.getColumn("cutoff").cast(pl.Utf8).toArray() as string[];
      const act = frame.getColumn("activity_seen__seen_at").toArray() as (number | null)[];
      const prof = frame.getColumn("profile_seen__seen_at").toArray() as (string | null)[];
      let joined = 0;
      for (let i = 0; i < frame.height; i++) {
        const c = cutoffMs(cut[i]);
        if (act[i] !== null) {
          joined++;
          assert.ok(Number(act[i]) <= c, `row ${i}: activity row of ${act[i]} after cut-off ${cut[i]}`);
          assert.ok(Number(act[i]) >= c - 31 * DAY, `row ${i}: activity row older than its 31d TTL`);
        }
        if (prof[i] !== null) assert.ok(String(prof[i]) <= cut[i], `row ${i}: signed up after ${cut[i]}`);
      }
      assert.ok(joined > frame.height * 0.9, `most rows joined (${joined}/${frame.height})`);
      // the training set takes the same rows: a row either has its features as of the cut-off or none
      const set = await loadFeatureSet(config);
      assert.equal(
        set.lineage.counts.rows_with_features + set.lineage.counts.rows_missing_features,
        frame.height,
      );
    } finally {
      w.cleanup();
    }
  },
});

Deno.test({
  name: "one definition: each training row equals the one-record customerFeatures as of its cut-off",
  sanitizeResources: false,
  async fn() {
    const w = pitWorld(200, 8);
    try {
      await applyStore(w.config);
      const { frame } = await loadFeatureSet(w.config);
      const customers = pl.readCSV(join(w.config.paths.interim, "cleaned_customers.csv"), {
        inferSchemaLength: 0,
      })
        .toRecords() as Record<string, unknown>[];
      const byId = new Map(customers.map((c) => [String(c.customer_id), c]));
      const sales = pl.readCSV(join(w.config.paths.interim, "filtered_sales.csv"), { inferSchemaLength: 0 })
        .toRecords() as Record<string, string>[];
      const txns = new Map<string, { date: string; amount: number }[]>();
      for (const s of sales) {
        const list = txns.get(s.customer_id) ?? [];
        list.push({ date: s.date, amount: Number(s.amount) });
        txns.set(s.customer_id, list);
      }
      const rows = frame.toRecords() as Record<string, unknown>[];
      let checked = 0;
      for (const r of rows.filter((_, i) => i % 7 === 0)) {
        const id = String(r.customer_id);
        const c = byId.get(id)!;
        const one = customerFeatures(
          {
            ...c,
            monthly_charges: c.monthly_charges === null ? null : Number(c.monthly_charges),
            support_calls: c.support_calls === null ? null : Number(c.support_calls),
          },
          txns.get(id) ?? [],
          { asOf: String(r.cutoff) },
        );
        for (const col of MODEL_INPUT_COLUMNS) {
          const a = r[col], b = one[col];
          if (typeof b === "number" && typeof a === "number") {
            assert.ok(
              Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)),
              `${id} ${r.cutoff} ${col}: ${a} vs ${b}`,
            );
          } else assert.equal(a ?? null, b ?? null, `${id} ${r.cutoff} ${col}`);
        }
        checked++;
      }
      assert.ok(checked > 50, `checked ${checked} rows`);
    } finally {
      w.cleanup();
    }
  },
});

Deno.test({
  name:
    "feature set: split by entity, missing rows counted and dropped (or kept), early-stopping holdout by entity",
  sanitizeResources: false,
  async fn() {
    const w = pitWorld(300, 9);
    try {
      await applyStore(w.config);
      const set = await loadFeatureSet(w.config);
      const { counts } = set.lineage;
      const labels = pl.readCSV(w.config.training_set.labels.path);
      assert.equal(counts.entity_rows, labels.height);
      // prep rejects a few customers: their label rows have no features
      assert.ok(counts.rows_missing_features > 0, "some label rows have no features");
      assert.equal(counts.rows_used, counts.rows_with_features);
      assert.equal(set.frame.height, counts.rows_used);
      const sides = new Map<string, Set<string>>();
      const ids = set.frame.getColumn("customer_id").toArray() as string[];
      const split = set.frame.getColumn("split").toArray() as string[];
      ids.forEach((id, i) => sides.set(id, (sides.get(id) ?? new Set()).add(split[i])));
      assert.ok([...sides.values()].every((s) => s.size === 1), "no entity on both sides");
      assert.equal(sides.size, set.lineage.split.train_entities + set.lineage.split.validation_entities);
      // boosting's early stopping holds out whole train entities
      const hold = set.earlyStoppingHoldout!;
      const held = new Map<string, Set<number>>();
      ids.forEach((id, i) => held.set(id, (held.get(id) ?? new Set()).add(hold[i])));
      assert.ok([...held.values()].every((s) => s.size === 1));
      assert.ok(ids.every((_id, i) => hold[i] === 0 || split[i] === "train"));
      const data = await loadTrainingInput(w.config);
      assert.equal(data.source, "feature_service");
      assert.equal(data.train.rows + data.validation.rows, counts.rows_used);
      assert.ok(data.earlyStopping);
      assert.deepEqual(data.exclude.map((e) => typeof e === "string" ? e : e.name), [
        "customer_id",
        "cutoff",
        "split",
      ]);

      const keep = ConfigSchema.parse({
        ...w.config,
        training_set: { ...w.config.training_set, missing: "keep" },
      });
      const kept = await loadFeatureSet(keep);
      assert.equal(kept.frame.height, counts.entity_rows);
      // --data still wins over the configured service
      await assert.rejects(
        () => loadTrainingInput(w.config, { data: "x.csv", featureService: "churn" }),
        /--feature-service and --data/,
      );
    } finally {
      w.cleanup();
    }
  },
});

backendTest(
  "lineage: the run records the feature service, view versions, row counts and the joined rows",
  async (backend) => {
    const w = pitWorld(300, 10);
    try {
      await applyStore(w.config);
      const config = ConfigSchema.parse({ ...w.config, model: { ...w.config.model, max_iter: 30 } });
      const res = await train({ config, store: backend.location, reportsDir: null, verbose: false });
      const store = await TrackingStore.open(backend.location);
      try {
        const run = await store.getRun(res.run_id);
        assert.equal(run.params.feature_service, "churn");
        assert.equal(Number(run.params["feature_view.customer_profile"]), 1);
        assert.equal(Number(run.params["feature_view.customer_activity"]), 1);
        assert.equal(run.tags["orchard.feature_service"], "churn");
        assert.equal(run.tags["orchard.feature_views"], "customer_profile@1,customer_activity@1");
        const lineagePath = join(config.paths.models, "training_sets", `${res.run_id}.json`);
        const lineage = JSON.parse(Deno.readTextFileSync(lineagePath));
        const labels = pl.readCSV(config.training_set.labels.path);
        assert.equal(Number(run.params["training_set.entity_rows"]), labels.height);
        assert.equal(
          Number(run.params["training_set.rows_with_features"]) +
            Number(run.params["training_set.rows_missing_features"]),
          labels.height,
        );
        assert.deepEqual(lineage.feature_views, { customer_profile: 1, customer_activity: 1 });
        assert.equal(lineage.counts.rows_used, res.rows + res.validation_rows);
        const artifacts = JSON.stringify(run);
        assert.ok(
          artifacts.includes(`training_sets/${res.run_id}.parquet`),
          "the joined rows are an artifact",
        );
        // the model's lineage points at the joined rows (drift's default reference reads them)
        const saved = JSON.parse(Deno.readTextFileSync(join(res.artifact, "params.json")));
        assert.equal(saved.feature_service, "churn");
        assert.equal(saved["feature_view.customer_activity"], 1);
        assert.equal(saved["training_set.rows_used"], lineage.counts.rows_used);
        const modelLineage = JSON.parse(Deno.readTextFileSync(join(res.artifact, "lineage.json")));
        assert.equal(
          modelLineage.data.train.path,
          join(config.paths.models, "training_sets", `${res.run_id}.parquet`),
        );
        const rows = pl.readParquet(join(config.paths.models, "training_sets", `${res.run_id}.parquet`));
        assert.equal(rows.height, lineage.counts.rows_used);
        // a changed view is a new version, and the next run says so
        const changed = ConfigSchema.parse({
          ...config,
          feature_store: {
            ...config.feature_store,
            feature_views: {
              ...config.feature_store.feature_views,
              customer_activity: { ...config.feature_store.feature_views.customer_activity, ttl: "62d" },
            },
          },
        });
        await applyStore(changed);
        const res2 = await train({
          config: changed,
          store: backend.location,
          reportsDir: null,
          verbose: false,
        });
        const run2 = await store.getRun(res2.run_id);
        assert.equal(Number(run2.params["feature_view.customer_activity"]), 2);
      } finally {
        await store.close();
      }
    } finally {
      w.cleanup();
    }
  },
);

Deno.test({
  name:
    "bad names: an unknown feature service, an unknown feature, a view whose source lost a column, a label column",
  sanitizeResources: false,
  async fn() {
    const w = pitWorld(120, 11);
    try {
      await applyStore(w.config);
      await assert.rejects(
        () => loadFeatureSet(w.config, { featureService: "nope" }),
        (e: Error) =>
          e instanceof UserError && /unknown feature service 'nope' \(services: churn\)/.test(e.message),
      );
      const fs = w.config.feature_store;
      assert.throws(
        () =>
          buildDefinitions({
            ...fs,
            feature_services: { churn: { features: ["customer_activity:spend_9m"] } },
          }),
        /unknown feature 'spend_9m' in feature view customer_activity/,
      );
      const noLabel = ConfigSchema.parse({
        ...w.config,
        training_set: {
          ...w.config.training_set,
          labels: { ...w.config.training_set.labels, timestamp: "when" },
        },
      });
      await assert.rejects(
        () => loadFeatureSet(noLabel),
        /training_set\.labels\.timestamp: .* has no column 'when'/,
      );
      // the snapshot table loses a column upstream
      const snap = fs.feature_views.customer_activity.source.path;
      pl.readParquet(snap).drop("recency_days").writeParquet(snap);
      await assert.rejects(
        () => loadFeatureSet(w.config),
        (e: Error) =>
          e instanceof UserError &&
          e.message ===
            `feature view customer_activity: source ${snap} has no column 'recency_days' (feature recency_days)`,
      );
      // an unapplied change is refused until features:apply
      const store = new FeatureStore(buildDefinitions({ ...fs, feature_views: { ...fs.feature_views } }), {
        directory: join(w.dir, "other"),
      });
      assert.throws(
        () => store.versions(store.resolve("churn")),
        /not registered \(run deno task features:apply\)/,
      );
    } finally {
      w.cleanup();
    }
  },
});

Deno.test({
  name: "feature set: a label table whose key and label have their own names (entity_key, label)",
  sanitizeResources: false,
  async fn() {
    const w = pitWorld(150, 13);
    try {
      await applyStore(w.config);
      const path = join(w.dir, "labels_own.parquet");
      pl.readCSV(w.config.training_set.labels.path)
        .rename({ customer_id: "cust", cutoff: "as_of_day", churned: "left" })
        .writeParquet(path);
      const own = ConfigSchema.parse({
        ...w.config,
        training_set: {
          ...w.config.training_set,
          labels: { path, entity_key: "cust", timestamp: "as_of_day", label: "left" },
        },
      });
      const set = await loadFeatureSet(own);
      const base = await loadFeatureSet(w.config);
      assert.deepEqual(set.frame.columns.slice(0, 3), ["cust", "as_of_day", "left"]);
      assert.deepEqual(set.exclude.map((e) => e.name), ["cust", "as_of_day", "split"]);
      assert.equal(set.lineage.labels.label, "left");
      // the same rows and features as under the views' own names
      assert.equal(
        csv(set.frame.drop("cust", "as_of_day", "left")),
        csv(base.frame.drop("customer_id", "cutoff", "churned")),
      );
      const data = await loadTrainingInput(own, { verbose: false });
      assert.equal(data.target, "left");
    } finally {
      w.cleanup();
    }
  },
});

Deno.test("pitConfig: the project's own feature store and training set, moved into the folder", () => {
  const c = pitConfig("/tmp/x");
  assert.equal(c.training_set.feature_service, "churn");
  assert.equal(c.training_set.labels.path, "/tmp/x/data/raw/labels.csv");
  assert.equal(
    c.feature_store.feature_views.customer_activity.source.path,
    "/tmp/x/data/features/customer_snapshots.parquet",
  );
});
