/**
 * The model registry: named models whose versions are immutable copies of a
 * run's artifact directory (models/<name>/<version>/), with the sha256 of every
 * file recorded in the tracking store's SQLite file and checked on every load;
 * MLflow-style aliases (any name; "champion" is the one serving uses); stages
 * (None | Staging | Production | Archived, at most one Production per model);
 * promotion gates (gates.ts) checked whenever a version would become champion
 * or Production, with results and --force reasons stored.
 *
 * Concurrency and crashes: a registration takes SQLite's write lock
 * (BEGIN IMMEDIATE) first, then copies the artifact into a temp dir beside the
 * target, hashes the copy, renames it to models/<name>/<version>/ and inserts
 * the rows, then commits. Only the lock holder creates temp or version dirs, so
 * when a registration starts, any temp dir (or version dir without a row) it
 * finds was left by a crashed process and is removed. Parallel registrations
 * get consecutive versions, each exactly once; a crash leaves no version.
 *
 * Layout: this class is the facade (reads, register, promote, archive,
 * rollback); types.ts holds the records and name checks, db.ts the tables and
 * row codecs, promotion.ts the gated alias/stage moves, history.ts the
 * rollback walk, compare.ts version comparison, files.ts the directory copies.
 */
import { basename, join } from "node:path";
import { UserError } from "../core/errors.ts";
import type { TrackingStore } from "../tracking/store.ts";
import { digestDifferences, dirDigest, listFiles } from "./checksum.ts";
import {
  aliasVersion,
  ensureSchema,
  gateRecordFromRow,
  metricsFromJson,
  metricsJson,
  parseJson,
  recordEvent,
  type Row,
  stageVersion,
} from "./db.ts";
import { applyTarget, checkGates, type PromotionContext } from "./promotion.ts";
import { copyTree, removeCrashLeftovers, removeQuietly } from "./files.ts";
import type { GateSpec } from "./gates.ts";
import { compareVersions } from "./compare.ts";
import { previousAliasVersion } from "./history.ts";
import {
  CHAMPION,
  checkAlias,
  checkModelName,
  type GateRecord,
  type ModelVersion,
  parseStage,
  type PromotionOutcome,
  type RegisteredModel,
  type RegisterOptions,
  type RegisterResult,
  type RegistryOptions,
  type Stage,
  type VersionComparison,
} from "./types.ts";

// the registry's public names, importable from this module as before the split
export * from "./types.ts";

export class ModelRegistry {
  readonly modelsDir: string;
  readonly gates: Record<string, GateSpec>;
  private readonly clock: () => number;

  constructor(readonly store: TrackingStore, opts: RegistryOptions = {}) {
    this.modelsDir = opts.modelsDir ?? "models";
    this.gates = opts.gates ?? {};
    this.clock = opts.clock ?? Date.now;
    ensureSchema(store);
  }

  private get db() {
    return this.store.db;
  }

  private get promotion(): PromotionContext {
    return { db: this.store.db, gates: this.gates };
  }

  /** The directory a version lives in. */
  versionDir(name: string, version: number): string {
    return join(this.modelsDir, name, String(version));
  }

  private checkNameAvailable(name: string): void {
    checkModelName(name);
    const reserved = new Set(["artifacts", basename(this.store.path)]);
    for (const r of [...reserved]) reserved.add(`${r}-wal`).add(`${r}-shm`).add(`${r}-journal`);
    if (reserved.has(name)) {
      throw new UserError(`model name '${name}' is reserved (it is a folder or file of the store)`);
    }
  }

  // ---------------------------------------------------------------- reads

  hasModel(name: string): boolean {
    return this.db.prepare("SELECT 1 FROM registered_models WHERE name = ?").get(name) !== undefined;
  }

  requireModel(name: string): void {
    if (!this.hasModel(name)) {
      const known = (this.db.prepare("SELECT name FROM registered_models ORDER BY name").all() as Row[]).map((
        r,
      ) => r.name as string);
      throw new UserError(
        `unknown model '${name}'${
          known.length ? ` (registered: ${known.join(", ")})` : " (no model is registered yet)"
        }`,
      );
    }
  }

  private aliasesOf(name: string): Map<number, string[]> {
    const out = new Map<number, string[]>();
    for (
      const r of this.db.prepare("SELECT alias, version FROM model_aliases WHERE name = ? ORDER BY alias")
        .all(name) as Row[]
    ) {
      const v = r.version as number;
      out.set(v, [...(out.get(v) ?? []), r.alias as string]);
    }
    return out;
  }

  private latestGates(name: string): Map<number, GateRecord> {
    const out = new Map<number, GateRecord>();
    const rows = this.db.prepare("SELECT * FROM gate_results WHERE name = ? ORDER BY id").all(name) as Row[];
    for (const r of rows) out.set(r.version as number, gateRecordFromRow(r));
    return out;
  }

  private versionFromRow(
    r: Row,
    aliases: Map<number, string[]>,
    gates: Map<number, GateRecord>,
  ): ModelVersion {
    const version = r.version as number;
    return {
      name: r.name as string,
      version,
      runId: r.run_id as string,
      source: r.source as string,
      path: this.versionDir(r.name as string, version),
      sha256: r.sha256 as string,
      files: parseJson(r.files, {}),
      stage: r.stage as Stage,
      aliases: aliases.get(version) ?? [],
      status: r.status as "candidate" | "promoted",
      metrics: metricsFromJson(r.metrics),
      params: parseJson(r.params, {}),
      created: r.created as number,
      gates: gates.get(version) ?? null,
    };
  }

  listVersions(name: string): ModelVersion[] {
    const aliases = this.aliasesOf(name);
    const gates = this.latestGates(name);
    return (this.db.prepare("SELECT * FROM model_versions WHERE name = ? ORDER BY version").all(
      name,
    ) as Row[]).map(
      (r) => this.versionFromRow(r, aliases, gates),
    );
  }

  listModels(): RegisteredModel[] {
    return (this.db.prepare("SELECT name, created FROM registered_models ORDER BY name").all() as Row[]).map((
      m,
    ) => ({
      name: m.name as string,
      created: m.created as number,
      versions: this.listVersions(m.name as string),
    }));
  }

  getVersion(name: string, version: number): ModelVersion {
    this.requireModel(name);
    const row = this.db.prepare("SELECT * FROM model_versions WHERE name = ? AND version = ?").get(
      name,
      version,
    ) as
      | Row
      | undefined;
    if (!row) {
      const max = this.maxVersion(name);
      throw new UserError(
        `unknown version ${version} of model '${name}' (versions: ${max ? `1..${max}` : "none"})`,
      );
    }
    return this.versionFromRow(row, this.aliasesOf(name), this.latestGates(name));
  }

  /** The version an alias points to, or undefined. */
  aliasVersion(name: string, alias: string): number | undefined {
    return aliasVersion(this.db, name, alias);
  }

  /** The newest version in a stage, or undefined. */
  stageVersion(name: string, stage: Stage): number | undefined {
    return stageVersion(this.db, name, stage);
  }

  maxVersion(name: string): number {
    const row = this.db.prepare("SELECT max(version) AS v FROM model_versions WHERE name = ?").get(
      name,
    ) as Row;
    return (row.v as number | null) ?? 0;
  }

  /** History of alias/stage moves and registrations, oldest first. */
  events(
    name: string,
  ): {
    version: number | null;
    action: string;
    target: string | null;
    previousVersion: number | null;
    reason: string | null;
    time: number;
  }[] {
    return (this.db.prepare("SELECT * FROM model_events WHERE name = ? ORDER BY id").all(name) as Row[]).map((
      r,
    ) => ({
      version: r.version as number | null,
      action: r.action as string,
      target: r.target as string | null,
      previousVersion: r.previous_version as number | null,
      reason: r.reason as string | null,
      time: r.time as number,
    }));
  }

  /**
   * Checks a version's files against the sha256 recorded at registration and
   * returns its directory; throws UserError when missing or tampered with.
   */
  verify(name: string, version: number): string {
    const v = this.getVersion(name, version);
    const dir = v.path;
    let now;
    try {
      now = dirDigest(dir);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        throw new UserError(`models:/${name}/${version}: the artifact directory ${dir} is missing`);
      }
      throw e;
    }
    if (now.sha256 !== v.sha256) {
      const diffs = digestDifferences(v.files, now.files);
      const shown = diffs.slice(0, 3).join(", ") + (diffs.length > 3 ? `, and ${diffs.length - 3} more` : "");
      throw new UserError(
        `models:/${name}/${version}: artifact checksum mismatch (${
          shown || "contents differ"
        }); ${dir} was changed after registration`,
      );
    }
    return dir;
  }

  // ---------------------------------------------------------------- writes

  /**
   * Registers the run's artifact as the next version of `name`, then applies
   * the requested aliases/stage (gated ones only when the gates pass or
   * `force` is set). A version that fails the gates is still registered.
   */
  register(opts: RegisterOptions): RegisterResult {
    this.checkNameAvailable(opts.name);
    const aliases = opts.alias === undefined ? [] : Array.isArray(opts.alias) ? opts.alias : [opts.alias];
    aliases.forEach(checkAlias);
    if (opts.stage !== undefined) parseStage(opts.stage);
    if (opts.force && !opts.reason?.trim()) {
      throw new UserError('--force needs --reason "<why>" (it is recorded)');
    }
    const run = this.store.getRun(opts.runId);
    if (run.status !== "FINISHED") {
      throw new UserError(`run ${run.runId} is ${run.status}; only FINISHED runs can be registered`);
    }
    const artifactName = opts.artifact ?? "model";
    const source = run.artifacts[artifactName];
    if (!source) {
      throw new UserError(`run ${run.runId} has no '${artifactName}' artifact (the train stage logs one)`);
    }
    let stat: Deno.FileInfo;
    try {
      stat = Deno.statSync(source);
    } catch {
      throw new UserError(`run ${run.runId}: its model artifact ${source} does not exist`);
    }
    if (!stat.isDirectory) {
      throw new UserError(`run ${run.runId}: its model artifact ${source} is not a directory`);
    }
    if (listFiles(source).length === 0) {
      throw new UserError(`run ${run.runId}: its model artifact ${source} is empty`);
    }

    const modelDir = join(this.modelsDir, opts.name);
    return this.store.transaction((): RegisterResult => {
      const now = this.clock();
      if (opts.ifNew) {
        const row = this.db.prepare(
          "SELECT version FROM model_versions WHERE name = ? AND run_id = ? ORDER BY version DESC LIMIT 1",
        ).get(opts.name, run.runId) as Row | undefined;
        if (row) {
          const v = this.getVersion(opts.name, row.version as number);
          return registerResult(v, v.gates, [], true);
        }
      }
      Deno.mkdirSync(modelDir, { recursive: true });
      // under the write lock: whatever is beyond the last version was left by a crash
      removeCrashLeftovers(modelDir, this.maxVersion(opts.name));
      const version = this.maxVersion(opts.name) + 1;
      const target = this.versionDir(opts.name, version);
      const tmp = join(modelDir, `.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`);
      let renamed = false;
      try {
        copyTree(source, tmp);
        const digest = dirDigest(tmp);
        Deno.renameSync(tmp, target);
        renamed = true;
        this.db.prepare("INSERT OR IGNORE INTO registered_models(name, created) VALUES (?, ?)").run(
          opts.name,
          now,
        );
        this.db.prepare(
          `INSERT INTO model_versions(name, version, run_id, source, path, sha256, files, metrics, params, created)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        ).run(
          opts.name,
          version,
          run.runId,
          source,
          target,
          digest.sha256,
          JSON.stringify(digest.files),
          metricsJson(run.metrics),
          JSON.stringify(run.params),
          now,
        );
        recordEvent(this.db, opts.name, version, "register", null, null, null, now);
        const gates = checkGates(
          this.promotion,
          opts.name,
          version,
          run.metrics,
          { alias: CHAMPION },
          "register",
          false,
          null,
          now,
        );
        // aliases first, then the stage, each gated on its own
        const targets: { alias?: string; stage?: Stage }[] = [
          ...aliases.map((alias) => ({ alias })),
          ...(opts.stage !== undefined ? [{ stage: parseStage(opts.stage) }] : []),
        ];
        const promotions: PromotionOutcome[] = targets.map((target) =>
          applyTarget(
            this.promotion,
            opts.name,
            version,
            run,
            target,
            opts.force ?? false,
            opts.reason ?? null,
            now,
          )
        );
        return registerResult(this.getVersion(opts.name, version), gates, promotions, false);
      } catch (e) {
        removeQuietly(tmp);
        if (renamed) removeQuietly(target);
        throw e;
      }
    });
  }

  /**
   * Points an alias (default "champion") or moves a stage to a version.
   * Champion and Production are gated: a failing version is refused (UserError
   * listing the reasons, with the check stored) unless `force` with a reason.
   */
  promote(
    name: string,
    version: number,
    opts: { alias?: string; stage?: Stage; force?: boolean; reason?: string } = {},
  ): PromotionOutcome {
    if (opts.alias !== undefined && opts.stage !== undefined) {
      throw new UserError("promote: give --alias or --stage, not both");
    }
    if (opts.alias !== undefined) checkAlias(opts.alias);
    if (opts.force && !opts.reason?.trim()) {
      throw new UserError('--force needs --reason "<why>" (it is recorded)');
    }
    const target = opts.stage !== undefined
      ? { stage: parseStage(opts.stage) }
      : { alias: opts.alias ?? CHAMPION };
    const outcome = this.store.transaction(() => {
      const v = this.getVersion(name, version);
      return applyTarget(
        this.promotion,
        name,
        version,
        v,
        target,
        opts.force ?? false,
        opts.reason ?? null,
        this.clock(),
      );
    });
    if (!outcome.applied) {
      throw new UserError(
        `version ${version} of '${name}' failed the gates for ${outcome.target}: ${
          outcome.gates!.reasons.join("; ")
        } (stored; use --force --reason "<why>" to promote anyway)`,
      );
    }
    return outcome;
  }

  /** Removes an alias (the move is recorded, so rollback can undo it). */
  deleteAlias(name: string, alias: string): void {
    this.store.transaction(() => {
      this.requireModel(name);
      const v = this.aliasVersion(name, alias);
      if (v === undefined) throw new UserError(`model '${name}' has no alias '${alias}'`);
      this.db.prepare("DELETE FROM model_aliases WHERE name = ? AND alias = ?").run(name, alias);
      recordEvent(this.db, name, null, "alias_delete", alias, v, null, this.clock());
    });
  }

  /**
   * Archives a version. A version that holds aliases is refused unless
   * `force`, which also removes its aliases.
   */
  archive(
    name: string,
    version: number,
    opts: { force?: boolean; reason?: string } = {},
  ): { removedAliases: string[] } {
    return this.store.transaction(() => {
      const v = this.getVersion(name, version);
      if (v.aliases.length && !opts.force) {
        throw new UserError(
          `version ${version} of '${name}' holds ${
            v.aliases.map((a) => "@" + a).join(", ")
          }; roll back or promote another version first (or --force)`,
        );
      }
      const now = this.clock();
      for (const alias of v.aliases) {
        this.db.prepare("DELETE FROM model_aliases WHERE name = ? AND alias = ?").run(name, alias);
        recordEvent(this.db, name, null, "alias_delete", alias, version, opts.reason ?? "archived", now);
      }
      if (v.stage !== "Archived") {
        this.db.prepare("UPDATE model_versions SET stage = 'Archived' WHERE name = ? AND version = ?").run(
          name,
          version,
        );
        recordEvent(this.db, name, version, "stage_set", "Archived", null, opts.reason ?? null, now);
      }
      return { removedAliases: v.aliases };
    });
  }

  /**
   * Puts the alias (default "champion") back on the version it pointed to
   * before its latest move. Repeated rollbacks walk further back. The restored
   * version's checksum is verified first; gates are not re-checked (it was
   * champion before).
   */
  rollback(name: string, alias = CHAMPION): { alias: string; from: number | null; to: number } {
    checkAlias(alias);
    return this.store.transaction(() => {
      this.requireModel(name);
      const rows = this.db.prepare(
        "SELECT version, action FROM model_events WHERE name = ? AND target = ? AND action IN ('alias_set','alias_rollback','alias_delete') ORDER BY id",
      ).all(name, alias) as Row[];
      const current = this.aliasVersion(name, alias) ?? null;
      const archived = new Set(
        (this.db.prepare("SELECT version FROM model_versions WHERE name = ? AND stage = 'Archived'").all(
          name,
        ) as Row[])
          .map((r) => r.version as number),
      );
      const to = previousAliasVersion(
        rows.map((r) => ({ action: r.action as string, version: r.version as number })),
        current,
        archived,
      );
      if (to === undefined) {
        throw new UserError(`model '${name}' has no previous @${alias} to roll back to`);
      }
      this.verify(name, to);
      const now = this.clock();
      this.db.prepare(
        `INSERT INTO model_aliases(name, alias, version, updated) VALUES (?, ?, ?, ?)
         ON CONFLICT(name, alias) DO UPDATE SET version = excluded.version, updated = excluded.updated`,
      ).run(name, alias, to, now);
      recordEvent(this.db, name, to, "alias_rollback", alias, current, null, now);
      return { alias, from: current, to };
    });
  }

  /** Metrics and params of two versions side by side. */
  compare(name: string, a: number, b: number): VersionComparison {
    return compareVersions(this.getVersion(name, a), this.getVersion(name, b));
  }
}

function registerResult(
  v: ModelVersion,
  gates: GateRecord | null,
  promotions: PromotionOutcome[],
  existing: boolean,
): RegisterResult {
  return {
    name: v.name,
    version: v.version,
    run_id: v.runId,
    path: v.path,
    sha256: v.sha256,
    stage: v.stage,
    aliases: v.aliases,
    status: v.status,
    gates,
    promotions,
    existing,
  };
}
