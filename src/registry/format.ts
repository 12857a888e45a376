/**
 * Plain-text views of the registry for the CLI (pure functions).
 */
import { fmtNumber, fmtTime, formatTable } from "../tracking/format.ts";
import { describeSchemaChange } from "./compat.ts";
import type {
  GateRecord,
  ModelVersion,
  RegisteredModel,
  RegisterResult,
  VersionComparison,
} from "./registry.ts";

export function gateLine(g: GateRecord | null): string {
  if (!g) return "not checked";
  const held = g.target === "stage:Production" ? "Production" : "champion";
  const vs = g.baselineVersion !== null ? ` vs ${held} v${g.baselineVersion}` : "";
  if (g.passed) return `passed${vs}`;
  if (g.forced) return `FORCED${vs} (${g.reason}); failed: ${g.reasons.join("; ")}`;
  return `failed${vs}: ${g.reasons.join("; ")}`;
}

/** A gate record's target as the CLI writes it: register, @alias, stage Production. */
export function gateTarget(target: string): string {
  return target.replace(/^alias:/, "@").replace(/^stage:/, "stage ");
}

export function registerSummary(r: RegisterResult): string {
  if (r.existing) {
    const aliases = r.aliases.map((a) => "@" + a).join(", ") || "no aliases";
    return `run ${
      r.run_id.slice(0, 8)
    } is already ${r.name} version ${r.version} (${aliases}; stage ${r.stage}); nothing to do`;
  }
  const lines = [
    `registered ${r.name} version ${r.version} from run ${r.run_id.slice(0, 8)} -> ${r.path}`,
    `  sha256   ${r.sha256}`,
    `  gates    ${gateLine(r.gates)}`,
  ];
  if (r.schema_change) {
    lines.push(`  inputs   changed (--allow-schema-change): ${describeSchemaChange(r.schema_change)}`);
  }
  for (const p of r.promotions) {
    const what = gateTarget(p.target);
    if (p.applied) {
      const forced = p.gates?.forced ? ` (FORCED: ${p.gates.reason})` : "";
      const from = p.previousVersion !== null && p.previousVersion !== r.version
        ? ` (was v${p.previousVersion})`
        : "";
      lines.push(`  ${what} -> version ${r.version}${from}${forced}`);
    } else {
      lines.push(
        `  ${what}: NOT promoted, version ${r.version} stays a candidate: ${p.gates?.reasons.join("; ")}`,
      );
      lines.push(
        `    (promote anyway: deno task models promote ${r.name} ${r.version} --force --reason "<why>")`,
      );
    }
  }
  return lines.join("\n");
}

/** Metrics shown in the listing: the gated ones first, then the usual headline metrics. */
export function keyMetrics(versions: Pick<ModelVersion, "metrics">[], gated: string[], max = 5): string[] {
  const present = new Set(versions.flatMap((v) => Object.keys(v.metrics)));
  const wanted = [...gated, "roc_auc", "f1", "recall", "precision", "accuracy", "rmse", "r2"];
  return [...new Set(wanted)].filter((k) => present.has(k)).slice(0, Math.max(max, gated.length));
}

/** The fields of a version the listing shows. */
export type ListedVersion = Pick<
  ModelVersion,
  "version" | "aliases" | "stage" | "status" | "runId" | "created" | "metrics" | "gates"
>;

export function modelsListing(
  models: (Pick<RegisteredModel, "name" | "created"> & { versions: ListedVersion[] })[],
  gated: string[],
): string {
  if (models.length === 0) return "models: no registered models yet (deno task register)";
  const blocks = models.map((m) => {
    const metrics = keyMetrics(m.versions, gated);
    const headers = ["version", "aliases", "stage", "status", "run_id", "created", ...metrics, "gates"];
    const rows = m.versions.map((v) => [
      String(v.version),
      v.aliases.map((a) => "@" + a).join(",") || "-",
      v.stage,
      v.status,
      v.runId.slice(0, 8),
      fmtTime(v.created),
      ...metrics.map((k) => fmtNumber(v.metrics[k])),
      gateLine(v.gates),
    ]);
    return `${m.name} (${m.versions.length} version${m.versions.length === 1 ? "" : "s"})\n${
      formatTable(headers, rows)
    }`;
  });
  return blocks.join("\n\n");
}

export function comparisonSummary(c: VersionComparison): string {
  const [a, b] = c.versions;
  const head = [
    ["run", c.runs[0].slice(0, 8), c.runs[1].slice(0, 8), ""],
    ["stage", c.stages[0], c.stages[1], ""],
    ["aliases", c.aliases[0].join(",") || "-", c.aliases[1].join(",") || "-", ""],
  ];
  const metricRows = c.metrics.map((m) => [
    `metrics.${m.key}`,
    fmtNumber(m.values[0]),
    fmtNumber(m.values[1]),
    m.delta === null ? "" : (m.delta > 0 ? "+" : "") + fmtNumber(m.delta),
  ]);
  const paramRows = c.params.map((
    p,
  ) => [`params.${p.key}`, p.values[0] ?? "-", p.values[1] ?? "-", p.same ? "" : "*"]);
  return `${c.name}: version ${a} vs ${b}\n` +
    formatTable(["", `v${a}`, `v${b}`, "change"], [...head, ...metricRows, ...paramRows]);
}
