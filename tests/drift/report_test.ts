import assert, { deepEqual, equal } from "node:assert/strict";
import pl from "nodejs-polars";
import { DriftSchema } from "../../src/config/schema.ts";
import { detectDrift } from "../../src/drift/detect.ts";
import { driftChart, renderDriftReport } from "../../src/drift/report.ts";

function frame(rows: number, seed: number, shift: number): pl.DataFrame {
  let x = seed;
  const u = () => (x = (x * 48271) % 2147483647) / 2147483647;
  const cols: Record<string, unknown[]> = {};
  for (let c = 0; c < 24; c++) {
    cols[`n${c}`] = Float64Array.from(
      { length: rows },
      () => u() * 10 + (c < 3 ? shift : 0),
    ) as unknown as number[];
  }
  for (let c = 0; c < 6; c++) {
    cols[`c${c}`] = Array.from({ length: rows }, () => `level_${Math.floor(u() * (4 + c * 10))}`);
  }
  return pl.DataFrame(cols);
}

function report(rows: number): string {
  const r = detectDrift(frame(rows, 3, 0), frame(rows, 7, 2), { config: DriftSchema.parse({}) });
  return renderDriftReport(r, { reference: "ref", current: "cur", runAt: "2026-01-01T00:00:00Z" });
}

Deno.test("drift report: self-contained, one chart per column, sorted summary, under 2 MB whatever the rows", () => {
  const small = report(2_000);
  const large = report(100_000);
  const bytes = new TextEncoder().encode(large).length;
  assert(bytes < 2_000_000, `${bytes} bytes`);
  // aggregates only: the size does not grow with the row count
  assert(Math.abs(bytes - new TextEncoder().encode(small).length) < 0.1 * bytes);
  equal((large.match(/<figure>/g) ?? []).length, 30);
  assert(
    !/<script|https?:\/\//i.test(large.replace(/xmlns(:\w+)?="http[^"]*"/g, "")),
    "no scripts or network",
  );
  // the three shifted columns lead the summary table
  const firstRows = [...large.matchAll(/<tr class="fail"><td>(n\d+)<\/td>/g)].map((m) => m[1]);
  equal(firstRows.slice(0, 3).sort().join(), "n0,n1,n2");
});

Deno.test("drift chart: reference and current histograms overlap from zero (not stacked); categories label the rows", () => {
  const svg = driftChart({
    column: "x",
    type: "numeric",
    bins: [{ label: "0–1", x0: 0, x1: 1, reference: 0.5, current: 0.5 }, {
      label: "1–2",
      x0: 1,
      x1: 2,
      reference: 0.5,
      current: 0.5,
    }],
  });
  const attr = (tag: string, name: string) => Number(tag.match(new RegExp(`\\s${name}="([\\d.]+)"`))?.[1]);
  const rects = (svg.match(/<rect fill="[^"]*"[^>]*>/g) ?? []).map((t) => [attr(t, "y"), attr(t, "height")]);
  equal(rects.length, 4);
  // equal shares: every bar has the same top and height (stacking would put current on top of reference)
  for (const [y, h] of rects) deepEqual([y, h], rects[0]);
  const cat = driftChart({
    column: "region",
    type: "categorical",
    bins: [{ label: "north", reference: 0.7, current: 0.2 }, {
      label: "south",
      reference: 0.3,
      current: 0.8,
    }],
  });
  assert(cat.includes(">north<") && cat.includes(">south<"));
  // the sets are told apart by the legend, not by repeated tick labels
  assert(!/>reference</.test(cat.split("</svg>").slice(1).join("")), "no per-row reference labels");
});
