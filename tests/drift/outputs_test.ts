import { equal, ok } from "node:assert/strict";
import { join } from "node:path";
import type { ColumnDrift } from "../../src/drift/detect.ts";
import { appendSummaryCsv, fmtScore, SUMMARY_HEADER } from "../../src/drift/outputs.ts";

Deno.test("fmtScore: 4 decimals, exponent when tiny, a placeholder for missing", () => {
  equal(fmtScore(0.123456), "0.1235");
  equal(fmtScore(0), "0.0000");
  equal(fmtScore(0.0000123), "1.23e-5");
  equal(fmtScore(null), "-");
  equal(fmtScore(NaN, ""), "");
});

Deno.test("appendSummaryCsv writes the header once and quotes awkward column names", () => {
  const dir = Deno.makeTempDirSync({ prefix: "drift_outputs_" });
  try {
    const path = join(dir, "monitoring", "drift_summary.csv");
    const col = (column: string, drifted: boolean) =>
      ({
        column,
        type: "numerical",
        test: "ks",
        statistic: 0.5,
        p_value: null,
        score: 0.01,
        threshold: 0.05,
        drifted,
      }) as unknown as ColumnDrift;
    appendSummaryCsv(path, "2026-01-01T00:00:00.000Z", [col("a", true)], "churn");
    appendSummaryCsv(path, "2026-01-02T00:00:00.000Z", [col('b,"x"', false)]);
    equal(SUMMARY_HEADER.split(",").at(-1), "model");
    equal(
      Deno.readTextFileSync(path),
      SUMMARY_HEADER + "\n" +
        "2026-01-01T00:00:00.000Z,a,numerical,ks,0.5,,0.01,0.05,true,churn\n" +
        '2026-01-02T00:00:00.000Z,"b,""x""",numerical,ks,0.5,,0.01,0.05,false,\n',
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

const column = (name: string) =>
  ({
    column: name,
    type: "numeric",
    test: "ks",
    statistic: 0.5,
    p_value: 0.2,
    score: 0.2,
    threshold: 0.05,
    drifted: false,
  }) as unknown as ColumnDrift;

Deno.test("appendSummaryCsv: a summary written before the model column gets it, its rows kept with an empty model", () => {
  const dir = Deno.makeTempDirSync({ prefix: "drift_outputs_old_" });
  try {
    const path = join(dir, "drift_summary.csv");
    const old = "run_at,column,type,test,statistic,p_value,score,threshold,drifted\n" +
      "2026-01-01T00:00:00.000Z,a,numeric,ks,0.5,,0.01,0.05,true\n";
    Deno.writeTextFileSync(path, old);
    appendSummaryCsv(path, "2026-01-02T00:00:00.000Z", [column("b")], "churn");
    equal(
      Deno.readTextFileSync(path),
      SUMMARY_HEADER + "\n" +
        "2026-01-01T00:00:00.000Z,a,numeric,ks,0.5,,0.01,0.05,true,\n" +
        "2026-01-02T00:00:00.000Z,b,numeric,ks,0.5,0.2,0.2,0.05,false,churn\n",
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("appendSummaryCsv: drift runs appending at once lose no row", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "drift_outputs_concurrent_" });
  try {
    const path = join(dir, "drift_summary.csv");
    const outputs = new URL("../../src/drift/outputs.ts", import.meta.url).href;
    const runs = 8, perRun = 40;
    await Promise.all(Array.from({ length: runs }, (_, k) => {
      const code = `import { appendSummaryCsv } from "${outputs}";
const cols = Array.from({ length: ${perRun} }, (_, i) => ({ column: "c" + i, type: "numeric", test: "ks",
  statistic: 1, p_value: 1, score: 1, threshold: 0.05, drifted: false }));
for (let r = 0; r < 5; r++) appendSummaryCsv(${
        JSON.stringify(path)
      }, "2026-01-01T00:00:0${k}.00" + r + "Z", cols, "m${k}");`;
      return new Deno.Command(Deno.execPath(), { args: ["eval", code], stderr: "inherit" }).output()
        .then((o) => equal(o.code, 0));
    }));
    const lines = Deno.readTextFileSync(path).trim().split("\n");
    equal(lines[0], SUMMARY_HEADER);
    equal(lines.length - 1, runs * perRun * 5, "every row of every run is in the summary");
    for (let k = 0; k < runs; k++) equal(lines.filter((l) => l.endsWith(`,m${k}`)).length, perRun * 5);
    ok(!Deno.readDirSync(dir).some((e) => e.name.endsWith(".lock")), "no lock left behind");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
