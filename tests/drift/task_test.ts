import assert, { equal } from "node:assert/strict";
import pl from "nodejs-polars";
import { join } from "node:path";
import { executeTask } from "../../src/cli/task.ts";
import { spec } from "../../tasks/drift.ts";
import { SUMMARY_HEADER } from "../../src/drift/outputs.ts";

function lehmer(n: number, seed: number, shift = 0): number[] {
  let x = seed;
  return Array.from({ length: n }, () => (x = (x * 48271) % 2147483647) / 2147483647 + shift);
}

function setup() {
  const dir = Deno.makeTempDirSync({ prefix: "drift_task_" });
  const ref = pl.DataFrame({
    a: lehmer(300, 1),
    b: lehmer(300, 2),
    plan: lehmer(300, 3).map((u) => (u < 0.5 ? "x" : "y")),
  });
  const same = pl.DataFrame({
    a: lehmer(300, 4),
    b: lehmer(300, 5),
    plan: lehmer(300, 6).map((u) => (u < 0.5 ? "x" : "y")),
  });
  const moved = pl.DataFrame({
    a: lehmer(300, 7, 0.5),
    b: lehmer(300, 8, 0.5),
    plan: lehmer(300, 9).map(() => "x"),
  });
  ref.writeCSV(join(dir, "ref.csv"));
  same.writeCSV(join(dir, "same.csv"));
  Deno.mkdirSync(join(dir, "moved"));
  moved.head(150).writeParquet(join(dir, "moved", "part-1.parquet"));
  moved.tail(150).writeCSV(join(dir, "moved", "part-2.csv"));
  pl.DataFrame({ other: [1, 2] }).writeCSV(join(dir, "other.csv"));
  Deno.writeTextFileSync(join(dir, "empty.csv"), "a,b,plan\n");
  const common = [
    "--output",
    join(dir, "reports"),
    "--set",
    `paths.monitoring=${join(dir, "monitoring")}`,
    "--set",
    `tracking.store=${join(dir, "none.db")}`,
  ];
  return { dir, common };
}

async function quietly(fn: () => Promise<number>): Promise<number> {
  const log = console.log, err = console.error;
  console.log = () => {};
  console.error = () => {};
  try {
    return await fn();
  } finally {
    console.log = log;
    console.error = err;
  }
}

Deno.test("drift task: exit 0 runs and writes the report, summary rows and input stats", async () => {
  const { dir, common } = setup();
  const code = await quietly(() =>
    executeTask(spec, ["--reference", join(dir, "ref.csv"), "--current", join(dir, "same.csv"), ...common])
  );
  equal(code, 0);
  const reports = [...Deno.readDirSync(join(dir, "reports"))].map((e) => e.name).sort();
  // the report (named by the run's UTC time: no model here), its record, and the index of reports
  equal(reports.length, 4, reports.join());
  assert(/^drift_\d{8}T\d{6}Z\.html$/.test(reports[0]), reports[0]);
  equal(reports[1], reports[0].replace(/html$/, "json"));
  assert.deepEqual(reports.slice(2), ["index.html", "index.json"]);
  const csv = Deno.readTextFileSync(join(dir, "monitoring", "drift_summary.csv")).trim().split("\n");
  equal(csv[0], SUMMARY_HEADER);
  equal(csv.length, 4); // header + 3 columns
  // a second run appends
  await quietly(() =>
    executeTask(spec, ["--reference", join(dir, "ref.csv"), "--current", join(dir, "same.csv"), ...common])
  );
  equal(Deno.readTextFileSync(join(dir, "monitoring", "drift_summary.csv")).trim().split("\n").length, 7);
  const stats = [...Deno.readDirSync(join(dir, "monitoring"))].find((e) =>
    e.name.startsWith("input_stats_")
  )!;
  const js = JSON.parse(Deno.readTextFileSync(join(dir, "monitoring", stats.name)));
  equal(js.columns.a.type, "numeric");
  equal(js.columns.plan.unique, 2);
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("drift task: --fail-on-drift exits 1 on dataset drift (current as a directory), 0 without drift", async () => {
  const { dir, common } = setup();
  const drifted = await quietly(() =>
    executeTask(spec, [
      "--reference",
      join(dir, "ref.csv"),
      "--current",
      join(dir, "moved"),
      "--fail-on-drift",
      ...common,
    ])
  );
  equal(drifted, 1);
  const clean = await quietly(() =>
    executeTask(spec, [
      "--reference",
      join(dir, "ref.csv"),
      "--current",
      join(dir, "same.csv"),
      "--fail-on-drift",
      ...common,
    ])
  );
  equal(clean, 0);
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("drift task: exit 2 on a missing file, no shared columns, empty current, bad forced test", async () => {
  const { dir, common } = setup();
  const ref = ["--reference", join(dir, "ref.csv")];
  equal(await quietly(() => executeTask(spec, [...ref, "--current", join(dir, "nope.csv"), ...common])), 2);
  equal(await quietly(() => executeTask(spec, [...ref, "--current", join(dir, "other.csv"), ...common])), 2);
  equal(await quietly(() => executeTask(spec, [...ref, "--current", join(dir, "empty.csv"), ...common])), 2);
  equal(
    await quietly(() =>
      executeTask(spec, [...ref, "--current", join(dir, "same.csv"), "--set", "drift.cat_test=ks", ...common])
    ),
    2,
  );
  // no reference and no champion model
  equal(await quietly(() => executeTask(spec, ["--current", join(dir, "same.csv"), ...common])), 2);
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("drift task: the prediction log's last day is the default current, inputs flattened", async () => {
  const { dir, common } = setup();
  for (const [day, shift] of [["2026-01-01", 0], ["2026-01-02", 0.5]] as const) {
    const d = join(dir, "predictions", `date=${day}`);
    Deno.mkdirSync(d, { recursive: true });
    const lines = lehmer(200, 11).map((u, i) =>
      JSON.stringify({
        ts: `${day}T00:00:00Z`,
        request_id: `r${i}`,
        model: "churn",
        version: "1",
        inputs: { a: u + shift, b: lehmer(1, 20 + i)[0] + shift, plan: "x" },
        prediction: 1,
        probabilities: { "0": 0.3, "1": 0.7 },
      })
    );
    Deno.writeTextFileSync(join(d, "w0-1.ndjson"), lines.join("\n") + "\n");
  }
  let out = "";
  const log = console.log;
  console.log = (s: string) => (out += s);
  try {
    const code = await executeTask(spec, [
      "--reference",
      join(dir, "ref.csv"),
      "--json",
      "--set",
      `paths.predictions=${join(dir, "predictions")}`,
      ...common,
    ]);
    equal(code, 0);
  } finally {
    console.log = log;
  }
  const j = JSON.parse(out);
  equal(j.dataset_drift, true); // the later day is shifted
  assert(j.columns.every((c: { column: string }) => ["a", "b", "plan"].includes(c.column)));
  for (const k of ["dataset_drift", "drift_share", "columns", "quality", "report"]) assert(k in j, k);
  for (
    const k of ["column", "type", "test", "statistic", "p_value", "score", "threshold", "drifted", "psi"]
  ) assert(k in j.columns[0], k);
  Deno.removeSync(dir, { recursive: true });
});
