/**
 * Promotion: gate checks (stored with their results and any --force reason)
 * and applying an alias or stage to a version, champion and Production gated.
 * Called by ModelRegistry inside its write transaction.
 */
import type { DatabaseSync } from "node:sqlite";
import { aliasVersion, metricsFromJson, recordEvent, type Row, stageVersion } from "./db.ts";
import { evaluateGates, type GateReport, type GateSpec } from "./gates.ts";
import { CHAMPION, type GateRecord, type PromotionOutcome, type Stage } from "./types.ts";

/** What promotion needs from the registry: its database and the configured gates. */
export interface PromotionContext {
  db: DatabaseSync;
  gates: Record<string, GateSpec>;
}

/** The version that is the baseline for a gated target, excluding `exclude`. */
function baselineFor(
  db: DatabaseSync,
  name: string,
  target: { alias?: string; stage?: Stage },
  exclude: number,
) {
  const v = target.stage === "Production"
    ? stageVersion(db, name, "Production")
    : aliasVersion(db, name, CHAMPION);
  if (v === undefined || v === exclude) return null;
  const row = db.prepare("SELECT metrics FROM model_versions WHERE name = ? AND version = ?").get(
    name,
    v,
  ) as Row;
  return { version: v, metrics: metricsFromJson(row.metrics) };
}

/** Evaluates the gates for `version` against its target's current holder and stores the result. */
export function checkGates(
  ctx: PromotionContext,
  name: string,
  version: number,
  metrics: Record<string, number>,
  target: { alias?: string; stage?: Stage },
  label: string,
  forced: boolean,
  reason: string | null,
  time: number,
): GateRecord {
  const baseline = baselineFor(ctx.db, name, target, version);
  const report: GateReport = evaluateGates(ctx.gates, metrics, baseline);
  const record: GateRecord = {
    target: label,
    passed: report.passed,
    forced: forced && !report.passed,
    reason: forced && !report.passed ? reason : null,
    baselineVersion: report.baselineVersion,
    reasons: report.reasons,
    checks: report.checks,
    time,
  };
  ctx.db.prepare(
    `INSERT INTO gate_results(name, version, target, passed, forced, reason, baseline_version, reasons, checks, time)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    name,
    version,
    label,
    record.passed ? 1 : 0,
    record.forced ? 1 : 0,
    record.reason,
    record.baselineVersion,
    JSON.stringify(record.reasons),
    JSON.stringify(record.checks),
    time,
  );
  return record;
}

/** Applies one alias or stage inside the caller's transaction, gating champion/Production. */
export function applyTarget(
  ctx: PromotionContext,
  name: string,
  version: number,
  run: { metrics: Record<string, number> },
  target: { alias?: string; stage?: Stage },
  force: boolean,
  reason: string | null,
  now: number,
): PromotionOutcome {
  const label = target.alias !== undefined ? `alias:${target.alias}` : `stage:${target.stage}`;
  const previous = target.alias !== undefined
    ? aliasVersion(ctx.db, name, target.alias) ?? null
    : (target.stage === "Production" ? stageVersion(ctx.db, name, "Production") ?? null : null);
  const currentStage = target.stage !== undefined
    ? ((ctx.db.prepare("SELECT stage FROM model_versions WHERE name = ? AND version = ?").get(
      name,
      version,
    ) as Row)
      .stage as Stage)
    : undefined;
  if (
    (target.alias !== undefined && previous === version) ||
    (target.stage !== undefined && currentStage === target.stage)
  ) {
    return { target: label, applied: true, gated: false, gates: null, previousVersion: previous };
  }
  const gated = target.alias === CHAMPION || target.stage === "Production";
  let gates: GateRecord | null = null;
  if (gated) {
    gates = checkGates(ctx, name, version, run.metrics, target, label, force, reason, now);
    if (!gates.passed && !force) {
      return { target: label, applied: false, gated, gates, previousVersion: previous };
    }
  }
  const why = gates?.forced ? reason : null;
  if (target.alias !== undefined) {
    ctx.db.prepare(
      `INSERT INTO model_aliases(name, alias, version, updated) VALUES (?, ?, ?, ?)
       ON CONFLICT(name, alias) DO UPDATE SET version = excluded.version, updated = excluded.updated`,
    ).run(name, target.alias, version, now);
    recordEvent(ctx.db, name, version, "alias_set", target.alias, previous, why, now);
  } else {
    const stage = target.stage!;
    if (stage === "Production" && previous !== null) {
      ctx.db.prepare("UPDATE model_versions SET stage = 'Archived' WHERE name = ? AND version = ?").run(
        name,
        previous,
      );
      recordEvent(
        ctx.db,
        name,
        previous,
        "stage_set",
        "Archived",
        null,
        `replaced in Production by version ${version}`,
        now,
      );
    }
    ctx.db.prepare("UPDATE model_versions SET stage = ? WHERE name = ? AND version = ?").run(
      stage,
      name,
      version,
    );
    recordEvent(ctx.db, name, version, "stage_set", stage, previous, why, now);
  }
  if (gated) {
    ctx.db.prepare("UPDATE model_versions SET status = 'promoted' WHERE name = ? AND version = ?").run(
      name,
      version,
    );
  }
  return { target: label, applied: true, gated, gates, previousVersion: previous };
}
