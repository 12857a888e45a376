/**
 * Promotion: gate checks (stored with their results and any --force reason)
 * and applying an alias or stage to a version, champion and Production gated.
 * Called by ModelRegistry inside its write transaction (`tx`).
 */
import { UserError } from "../core/errors.ts";
import type { Sql } from "../store/sql.ts";
import { aliasVersion, metricsFromJson, recordEvent, type Row, stageVersion } from "./db.ts";
import { evaluateGates, type GateReport, type GateSpec } from "./gates.ts";
import { CHAMPION, type GateRecord, type PromotionOutcome, type Stage } from "./types.ts";

/** What promotion needs from the registry: the open transaction and the model's gates. */
export interface PromotionContext {
  tx: Sql;
  gates: Record<string, GateSpec>;
  /** who the moves are recorded as (null: not known) */
  actor: string | null;
}

/** What a gated target is compared with: Production's holder for a Production move, else the champion. */
export function baselineLabel(stage: Stage | undefined): string {
  return stage === "Production" ? "Production" : "champion";
}

/** The version that is the baseline for a gated target, excluding `exclude`. */
async function baselineFor(
  tx: Sql,
  name: string,
  target: { alias?: string; stage?: Stage },
  exclude: number,
) {
  const v = target.stage === "Production"
    ? await stageVersion(tx, name, "Production")
    : await aliasVersion(tx, name, CHAMPION);
  if (v === undefined || v === exclude) return null;
  const row =
    (await tx.get<Row>("SELECT metrics FROM model_versions WHERE name = ? AND version = ?", [name, v]))!;
  return { version: v, metrics: metricsFromJson(row.metrics), label: baselineLabel(target.stage) };
}

/** Evaluates the gates for `version` against its target's current holder and stores the result. */
export async function checkGates(
  ctx: PromotionContext,
  name: string,
  version: number,
  metrics: Record<string, number>,
  target: { alias?: string; stage?: Stage },
  label: string,
  forced: boolean,
  reason: string | null,
  time: number,
): Promise<GateRecord> {
  const baseline = await baselineFor(ctx.tx, name, target, version);
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
  await ctx.tx.run(
    `INSERT INTO gate_results(name, version, target, passed, forced, reason, baseline_version, reasons, checks, time)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
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
    ],
  );
  return record;
}

/** Applies one alias or stage inside the caller's transaction, gating champion/Production. */
async function refuseArchivingAliased(tx: Sql, name: string, version: number): Promise<void> {
  const held = (await tx.all<Row>(
    "SELECT alias FROM model_aliases WHERE name = ? AND version = ? ORDER BY alias",
    [name, version],
  )).map((r) => "@" + String(r.alias));
  if (held.length) {
    throw new UserError(
      `version ${version} of '${name}' holds ${
        held.join(", ")
      }, and this stage change would archive it; move ${
        held.length > 1 ? "those aliases" : "that alias"
      } to another version first (register or promote --alias), or use models archive --force`,
    );
  }
}

export async function applyTarget(
  ctx: PromotionContext,
  name: string,
  version: number,
  run: { metrics: Record<string, number> },
  target: { alias?: string; stage?: Stage },
  force: boolean,
  reason: string | null,
  now: number,
): Promise<PromotionOutcome> {
  const { tx } = ctx;
  const label = target.alias !== undefined ? `alias:${target.alias}` : `stage:${target.stage}`;
  const previous = target.alias !== undefined
    ? (await aliasVersion(tx, name, target.alias)) ?? null
    : (target.stage === "Production" ? (await stageVersion(tx, name, "Production")) ?? null : null);
  const currentStage = target.stage !== undefined
    ? (await tx.get<Row>("SELECT stage FROM model_versions WHERE name = ? AND version = ?", [name, version]))!
      .stage as Stage
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
    gates = await checkGates(ctx, name, version, run.metrics, target, label, force, reason, now);
    if (!gates.passed && !force) {
      return { target: label, applied: false, gated, gates, previousVersion: previous };
    }
  }
  // a version that holds an alias is served by it: never Archived by a stage change (as archive refuses it),
  // whether asked for by name or as the Production version a new one replaces (checked once the move is
  // certain: a move its gates refuse changes nothing)
  const archiving = target.stage === "Archived" ? version : target.stage === "Production" ? previous : null;
  if (archiving !== null) await refuseArchivingAliased(tx, name, archiving);
  // the reason given is the move's "why" in the history (a forced move always has one)
  const why = reason?.trim() || null;
  if (target.alias !== undefined) {
    await tx.run(
      `INSERT INTO model_aliases(name, alias, version, updated) VALUES (?, ?, ?, ?)
       ON CONFLICT(name, alias) DO UPDATE SET version = excluded.version, updated = excluded.updated`,
      [name, target.alias, version, now],
    );
    await recordEvent(tx, name, version, "alias_set", target.alias, previous, why, now, ctx.actor);
  } else {
    const stage = target.stage!;
    if (stage === "Production" && previous !== null) {
      await tx.run("UPDATE model_versions SET stage = 'Archived' WHERE name = ? AND version = ?", [
        name,
        previous,
      ]);
      await recordEvent(
        tx,
        name,
        previous,
        "stage_set",
        "Archived",
        null,
        `replaced in Production by version ${version}`,
        now,
        ctx.actor,
      );
    }
    await tx.run("UPDATE model_versions SET stage = ? WHERE name = ? AND version = ?", [
      stage,
      name,
      version,
    ]);
    await recordEvent(tx, name, version, "stage_set", stage, previous, why, now, ctx.actor);
  }
  if (gated) {
    await tx.run("UPDATE model_versions SET status = 'promoted' WHERE name = ? AND version = ?", [
      name,
      version,
    ]);
  }
  return { target: label, applied: true, gated, gates, previousVersion: previous };
}
