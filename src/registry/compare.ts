/** Two registered versions side by side (`models compare`). */
import type { ModelVersion, VersionComparison } from "./types.ts";

/** Metrics (with b - a deltas) and params (with equality) of two versions of one model. */
export function compareVersions(va: ModelVersion, vb: ModelVersion): VersionComparison {
  const keys = (x: Record<string, unknown>, y: Record<string, unknown>) =>
    [...new Set([...Object.keys(x), ...Object.keys(y)])].sort();
  return {
    name: va.name,
    versions: [va.version, vb.version],
    runs: [va.runId, vb.runId],
    stages: [va.stage, vb.stage],
    aliases: [va.aliases, vb.aliases],
    metrics: keys(va.metrics, vb.metrics).map((key) => {
      const x = va.metrics[key] ?? null;
      const y = vb.metrics[key] ?? null;
      return { key, values: [x, y], delta: x !== null && y !== null ? y - x : null };
    }),
    params: keys(va.params, vb.params).map((key) => {
      const x = va.params[key] ?? null;
      const y = vb.params[key] ?? null;
      return { key, values: [x, y], same: x === y };
    }),
  };
}
