/**
 * Drift on a feature view: two time windows of the view (the time-window
 * form of getHistoricalFeatures) as reference and current, through the task
 * as a user runs it (--feature-view, --reference-window, --current-window),
 * plus the bad inputs: one line, exit 2.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import pl from "nodejs-polars";
import { executeTask } from "../../src/cli/task.ts";
import { ConfigSchema } from "../../src/config/schema.ts";
import { UserError } from "../../src/core/errors.ts";
import { featureViewSides, parseWindow } from "../../src/drift/feature_view.ts";
import { runDrift } from "../../src/drift/run.ts";
import { FeatureStore } from "../../src/featurestore/store.ts";
import { spec } from "../../tasks/drift.ts";

const DAY = 86_400_000;

/** A view of 200 customers a day for 60 days: January as it always was, February shifted (or not). */
function project(shift: boolean) {
  const dir = Deno.makeTempDirSync({ prefix: "orchard-drift-fv-" });
  const ids: string[] = [], ts: number[] = [], spend: number[] = [], plan: string[] = [];
  let x = 7;
  const u = () => (x = (x * 48271) % 2147483647) / 2147483647;
  const jan1 = Date.UTC(2024, 0, 1);
  for (let d = 0; d < 60; d++) {
    for (let c = 0; c < 200; c++) {
      const feb = d >= 31;
      ids.push(`C-${c}`);
      ts.push(jan1 + d * DAY);
      spend.push(u() * 100 + (feb && shift ? 60 : 0));
      plan.push(u() < (feb && shift ? 0.9 : 0.5) ? "basic" : "premium");
    }
  }
  const source = join(dir, "spend.parquet");
  pl.DataFrame({ customer_id: ids, ts, spend, plan })
    .withColumns(pl.col("ts").cast(pl.Int64).cast(pl.Datetime("ms")))
    .writeParquet(source);
  const feature_store = {
    directory: join(dir, "fs"),
    entities: { customer: { join_key: "customer_id" } },
    feature_views: {
      spend_daily: {
        entity: "customer",
        source: { path: source },
        timestamp_field: "ts",
        features: { spend: "float64", plan: "string" },
      },
    },
  };
  const paths = {
    reports: join(dir, "reports"),
    monitoring: join(dir, "monitoring"),
    models: join(dir, "models"),
  };
  const config = ConfigSchema.parse({ paths, feature_store, tracking: { store: join(dir, "none.db") } });
  Deno.writeTextFileSync(
    join(dir, "params.yaml"),
    JSON.stringify({ paths, feature_store, tracking: config.tracking }),
  );
  return { dir, config, cleanup: () => Deno.removeSync(dir, { recursive: true }) };
}

const JAN = { start: "2024-01-01", end: "2024-01-31" };
const FEB = { start: "2024-02-01", end: "2024-02-29" };

async function quietly(fn: () => Promise<number>): Promise<{ code: number; err: string[]; out: string[] }> {
  const log = console.log, error = console.error;
  const out: string[] = [], err: string[] = [];
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  console.error = (...a: unknown[]) => err.push(a.join(" "));
  try {
    return { code: await fn(), err, out };
  } finally {
    console.log = log;
    console.error = error;
  }
}

Deno.test("parseWindow: START..END, inclusive; bad forms name the flag", () => {
  assert.deepEqual(parseWindow("2024-01-01..2024-01-31", "--current-window"), JAN);
  assert.throws(
    () => parseWindow("2024-01-01", "--current-window"),
    /--current-window 2024-01-01: expected START\.\.END/,
  );
  assert.throws(
    () => parseWindow("2024-02-01..2024-01-01", "--reference-window"),
    /the start is after the end/,
  );
  assert.throws(
    () => parseWindow("soon..later", "--reference-window"),
    /--reference-window start: 'soon' is not a time/,
  );
});

Deno.test({
  name: "drift on a feature view: a shifted window drifts, an unshifted one does not",
  sanitizeResources: false,
  async fn() {
    for (const shift of [true, false]) {
      const p = project(shift);
      try {
        (await FeatureStore.fromConfig(p.config)).apply();
        const sides = await featureViewSides(p.config, "spend_daily", JAN, FEB);
        assert.equal(sides.reference.height, 31 * 200);
        assert.equal(sides.current.height, 29 * 200);
        assert.equal(sides.version, 1);
        const run = await runDrift({
          config: p.config,
          featureView: { name: "spend_daily", reference: JAN, current: FEB },
          now: new Date("2024-03-01T00:00:00Z"),
        });
        // the key and the timestamp are not features; no model is loaded for a view
        assert.deepEqual(run.result.columns.map((c) => c.column).sort(), ["plan", "spend"]);
        assert.equal(run.json.model, undefined);
        assert.equal(run.result.dataset_drift, shift, `shift ${shift}`);
        assert.match(run.referenceSource, /feature view spend_daily v1 2024-01-01\.\.2024-01-31/);
        assert.match(run.reportPath, /drift_view_spend_daily_/);
      } finally {
        p.cleanup();
      }
    }
  },
});

Deno.test({
  name: "drift task --feature-view: the windows through the CLI, and bad input as one line, exit 2",
  sanitizeResources: false,
  async fn() {
    const p = project(true);
    try {
      (await FeatureStore.fromConfig(p.config)).apply();
      const cfg = ["--config", join(p.dir, "params.yaml")];
      const windows = [
        "--reference-window",
        "2024-01-01..2024-01-31",
        "--current-window",
        "2024-02-01..2024-02-29",
      ];
      const ok = await quietly(() =>
        executeTask(spec, ["--feature-view", "spend_daily", ...windows, "--fail-on-drift", ...cfg])
      );
      assert.equal(ok.code, 1, ok.err.join("\n")); // dataset drift with --fail-on-drift
      assert.match(ok.out.join("\n"), /DATASET DRIFT: 2\/2 columns drifted/);
      const bad = async (args: string[], re: RegExp) => {
        const r = await quietly(() => executeTask(spec, [...args, ...cfg]));
        assert.equal(r.code, 2, `${args.join(" ")}: ${r.err.join("\n")}`);
        assert.equal(r.err.length, 1, r.err.join("\n"));
        assert.match(r.err[0], re);
      };
      await bad(["--feature-view", "nope", ...windows], /unknown feature view \(views: spend_daily\)/);
      await bad(windows, /need --feature-view/);
      await bad(
        ["--feature-view", "spend_daily", ...windows, "--current", "x.csv"],
        /leave out --reference and --current/,
      );
      await bad(
        [
          "--feature-view",
          "spend_daily",
          "--reference-window",
          "2023-01-01..2023-01-31",
          windows[2],
          windows[3],
        ],
        /--reference-window 2023-01-01\.\.2023-01-31: feature view spend_daily has no rows in that window/,
      );
      await bad(
        ["--feature-view", "spend_daily", "--reference-window", "jan", windows[2], windows[3]],
        /expected START\.\.END/,
      );
    } finally {
      p.cleanup();
    }
  },
});

Deno.test({
  name:
    "drift on a feature view: default windows are the latest period (TTL, else 30 days) and the one before",
  sanitizeResources: false,
  async fn() {
    const p = project(true);
    try {
      (await FeatureStore.fromConfig(p.config)).apply();
      // the last event is 2024-02-29: current = the 30 days up to it (Jan 31..Feb 29), reference = the 30 before
      const sides = await featureViewSides(p.config, "spend_daily");
      assert.match(sides.currentSource, /v1 2024-01-30T00:00:00\.001Z\.\.2024-02-29T00:00:00\.000Z$/);
      assert.match(sides.referenceSource, /v1 2023-12-31T00:00:00\.001Z\.\.2024-01-30T00:00:00\.000Z$/);
      assert.equal(sides.current.height, 30 * 200);
      assert.equal(sides.reference.height, 30 * 200);
      // only the current window: the reference is as long, just before it
      const only = await featureViewSides(p.config, "spend_daily", undefined, FEB);
      assert.match(only.referenceSource, /2024-01-03T23:59:59\.999Z\.\.2024-01-31T23:59:59\.999Z$/);
      assert.equal(only.reference.height, 28 * 200); // Jan 4..Jan 31: as long as Feb 1..Feb 29 00:00
      // only the reference: the current window runs from its end to the last event
      const after = await featureViewSides(p.config, "spend_daily", JAN);
      assert.equal(after.current.height, 29 * 200);
      const cli = await quietly(() =>
        executeTask(spec, ["--feature-view", "spend_daily", "--config", join(p.dir, "params.yaml")])
      );
      assert.equal(cli.code, 0, cli.err.join("\n"));
      assert.match(cli.out.join("\n"), /DATASET DRIFT/);
    } finally {
      p.cleanup();
    }
  },
});

Deno.test({
  name: "drift on a feature view that is not applied, or whose source lost a column: a user error",
  sanitizeResources: false,
  async fn() {
    const p = project(false);
    try {
      await assert.rejects(() => featureViewSides(p.config, "spend_daily", JAN, FEB), /not registered/);
      (await FeatureStore.fromConfig(p.config)).apply();
      const src = p.config.feature_store.feature_views.spend_daily.source.path;
      pl.readParquet(src).drop("plan").writeParquet(src);
      await assert.rejects(
        () => featureViewSides(p.config, "spend_daily", JAN, FEB),
        (e: Error) => e instanceof UserError && /has no column 'plan'/.test(e.message),
      );
    } finally {
      p.cleanup();
    }
  },
});
