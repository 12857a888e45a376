/**
 * Reports that accumulate (issue 15, part 3): each drift run's report and
 * input stats have a name of their own (model and UTC time), so two runs on
 * one day keep both, and reports/index.html lists every report with its
 * verdict, newest first, with the model's drift history as a chart.
 */
import assert, { equal } from "node:assert/strict";
import pl from "nodejs-polars";
import { join } from "node:path";
import { ConfigSchema } from "../../src/config/schema.ts";
import { runDrift } from "../../src/drift/run.ts";

function lehmer(n: number, seed: number, shift = 0): number[] {
  let x = seed;
  return Array.from({ length: n }, () => (x = (x * 48271) % 2147483647) / 2147483647 + shift);
}

function setup() {
  const root = Deno.makeTempDirSync({ prefix: "drift_accumulate_" });
  pl.DataFrame({ a: lehmer(300, 1), b: lehmer(300, 2) }).writeCSV(join(root, "ref.csv"));
  pl.DataFrame({ a: lehmer(300, 4), b: lehmer(300, 5) }).writeCSV(join(root, "same.csv"));
  pl.DataFrame({ a: lehmer(300, 7, 0.5), b: lehmer(300, 8, 0.5) }).writeCSV(join(root, "moved.csv"));
  const config = ConfigSchema.parse({
    paths: { reports: join(root, "reports"), monitoring: join(root, "monitoring") },
    tracking: { store: join(root, "none.db") },
  });
  return { root, config };
}

const list = (dir: string) => [...Deno.readDirSync(dir)].map((e) => e.name).sort();

Deno.test("two drift runs on the same day keep two reports and two input_stats files; the index lists both", async () => {
  const { root, config } = setup();
  try {
    const reference = join(root, "ref.csv");
    const first = await runDrift({
      config,
      model: null,
      reference,
      current: join(root, "same.csv"),
      now: new Date("2026-03-02T09:00:00Z"),
    });
    const second = await runDrift({
      config,
      model: null,
      reference,
      current: join(root, "moved.csv"),
      now: new Date("2026-03-02T17:30:00Z"),
    });
    assert(first.reportPath !== second.reportPath);
    const reports = list(config.paths.reports).filter((n) => /^drift_.*\.html$/.test(n));
    equal(reports.length, 2, reports.join());
    const stats = list(config.paths.monitoring).filter((n) => n.startsWith("input_stats_"));
    equal(stats.length, 2, stats.join());
    assert(first.statsPath !== second.statsPath);
    equal(JSON.parse(Deno.readTextFileSync(first.statsPath)).source, join(root, "same.csv"));

    const html = Deno.readTextFileSync(join(config.paths.reports, "index.html"));
    for (const r of reports) assert(html.includes(`href="${r}"`), `index misses ${r}`);
    // newest first, with its verdict
    assert(html.indexOf(reports[1]) < html.indexOf(reports[0]), "newest first");
    assert(/DATASET DRIFT/i.test(html) && /no dataset drift/i.test(html), "verdicts");
    assert(html.includes("<svg"), "the drift history chart");
    const index = JSON.parse(Deno.readTextFileSync(join(config.paths.reports, "index.json")));
    equal(index.reports.length, 2);
    equal(index.reports[0].kind, "drift");
    equal(index.reports[0].dataset_drift, true);
    equal(index.reports[1].dataset_drift, false);
    assert(index.reports[0].drifted_columns.includes("a"));
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("two drift runs in the same second still keep two reports", async () => {
  const { root, config } = setup();
  try {
    const now = new Date("2026-03-02T09:00:00Z");
    const opts = {
      config,
      model: null,
      reference: join(root, "ref.csv"),
      current: join(root, "same.csv"),
      now,
    };
    const a = await runDrift(opts), b = await runDrift(opts);
    assert(a.reportPath !== b.reportPath && a.statsPath !== b.statsPath);
    equal(list(config.paths.reports).filter((n) => /^drift_.*\.html$/.test(n)).length, 2);
    equal(list(config.paths.monitoring).filter((n) => n.startsWith("input_stats_")).length, 2);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});
