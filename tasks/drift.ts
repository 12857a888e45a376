/**
 * `deno task drift`: compare what the service sees with what the model learned
 * from. Defaults: reference = the champion's training rows, current = the last
 * day of the prediction log. Exit 0 when the check ran, 1 with --fail-on-drift
 * when the dataset drifted, 2 on bad input.
 */
import { defineTask, main } from "../src/cli/task.ts";
import { runDrift } from "../src/drift/run.ts";
import { parseWindow } from "../src/drift/feature_view.ts";
import { UserError } from "../src/core/errors.ts";
import { type DriftJson, fmtScore } from "../src/drift/outputs.ts";

export function summaryText(j: DriftJson): string {
  const lines = [
    `${j.dataset_drift ? "DATASET DRIFT" : "no dataset drift"}: ${
      j.columns.filter((c) => c.drifted).length
    }/${j.columns.length} columns drifted (share ${j.drift_share.toFixed(3)})`,
  ];
  for (const c of j.columns) {
    lines.push(
      `  ${c.drifted ? "DRIFT" : "ok   "} ${c.column.padEnd(24)} ${c.type.padEnd(11)} ${
        c.test.padEnd(13)
      } score ${fmtScore(c.score).padStart(10)} (threshold ${c.threshold})  psi ${fmtScore(c.psi)}`,
    );
  }
  for (const q of j.quality) {
    lines.push(`  quality ${q.status === "pass" ? "PASS" : "FAIL"} ${q.check}: ${q.detail}`);
  }
  if (j.model) lines.push(`  model ${j.model.uri}: ${j.model.kind}, label '${j.model.target}'`);
  if (j.performance?.status === "skipped") lines.push(`  performance not measured: ${j.performance.note}`);
  else if (j.performance) {
    lines.push(`  performance: ${j.performance.note}`);
    for (const [k, m] of Object.entries(j.performance.metrics ?? {})) {
      lines.push(
        `  performance ${m.degraded ? "DEGRADED" : "ok"} ${k}: ${fmtScore(m.current)} (validation ${
          fmtScore(m.validation)
        })`,
      );
    }
  }
  for (const n of j.notes ?? []) lines.push(`  note: ${n}`);
  lines.push(`report: ${j.report}`);
  if (j.index) lines.push(`index: ${j.index}`);
  return lines.join("\n");
}

export const spec = defineTask({
  name: "drift",
  description:
    "Data and prediction drift of the current data against the reference, with quality checks, an HTML report, " +
    "data/monitoring/drift_summary.csv and input stats, each run under its own name " +
    "(reports/drift_<model>_<UTC time>.html); reports/index.html lists every report",
  options: {
    reference: {
      type: "string",
      description: "reference table or directory (default: the champion's training data)",
      valueName: "file",
    },
    current: {
      type: "string",
      description: "current table or directory (default: the last day of the prediction log)",
      valueName: "file|dir",
    },
    output: { type: "string", description: "report directory (default reports/)", valueName: "dir" },
    model: {
      type: "string",
      description: "the model checked: its label, task and training data (the default reference) come " +
        "from its signature and lineage (default models:/<name>@champion)",
      valueName: "uri",
    },
    "feature-view": {
      type: "string",
      description: "compare two time windows of this feature view (feature_store.feature_views) instead of " +
        "--reference and --current (default windows: the view's latest TTL, or 30 days, and the period before)",
      valueName: "name",
    },
    "reference-window": {
      type: "string",
      description:
        "with --feature-view: the reference window START..END (inclusive), e.g. 2024-01-01..2024-06-30 " +
        "(default: as long as the current window, just before it)",
      valueName: "start..end",
    },
    "current-window": {
      type: "string",
      description:
        "with --feature-view: the current window START..END (inclusive; default: the view's latest " +
        "TTL, or 30 days, up to its last event; after --reference-window when only that is given)",
      valueName: "start..end",
    },
    "fail-on-drift": { type: "boolean", description: "exit 1 when the dataset drifted" },
  },
  // deno.json keeps --allow-write=data,reports,models: drift also runs unattended
  // (drift:schedule), so it may write only the project's reports and monitoring data. A
  // report folder (--output) elsewhere is refused here, before any data is read.
  writes: (ctx) => [
    ctx.values.output
      ? { path: ctx.values.output, dir: true, source: "--output" }
      : { path: ctx.config.paths.reports, dir: true, source: "paths.reports" },
    { path: ctx.config.paths.monitoring, dir: true, source: "paths.monitoring" },
  ],
  async run(ctx) {
    const v = ctx.values;
    const view = v["feature-view"];
    if (!view && (v["reference-window"] || v["current-window"])) {
      throw new UserError("--reference-window and --current-window need --feature-view");
    }
    const featureView = view
      ? {
        name: view,
        reference: v["reference-window"]
          ? parseWindow(v["reference-window"], "--reference-window")
          : undefined,
        current: v["current-window"] ? parseWindow(v["current-window"], "--current-window") : undefined,
      }
      : undefined;
    const run = await runDrift({
      featureView,
      config: ctx.config,
      reference: ctx.values.reference,
      current: ctx.values.current,
      output: ctx.values.output,
      model: ctx.values.model,
    });
    return run.json;
  },
  summary: summaryText,
  // the outputs are written and the result printed; then exit 1
  failure: (r, ctx) =>
    ctx.values["fail-on-drift"] && r.dataset_drift ? "dataset drift detected (--fail-on-drift)" : undefined,
});

if (import.meta.main) await main(spec);
