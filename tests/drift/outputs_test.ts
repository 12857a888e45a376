import { equal } from "node:assert/strict";
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
    appendSummaryCsv(path, "2026-01-01T00:00:00.000Z", [col("a", true)]);
    appendSummaryCsv(path, "2026-01-02T00:00:00.000Z", [col('b,"x"', false)]);
    equal(
      Deno.readTextFileSync(path),
      SUMMARY_HEADER + "\n" +
        "2026-01-01T00:00:00.000Z,a,numerical,ks,0.5,,0.01,0.05,true\n" +
        '2026-01-02T00:00:00.000Z,"b,""x""",numerical,ks,0.5,,0.01,0.05,false\n',
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
