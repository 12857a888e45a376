/**
 * The model registry: named models whose versions are immutable copies of a
 * run's artifact directory (put into an ArtifactStore under <name>/<version>;
 * locally models/<name>/<version>/), with the sha256 of every file recorded
 * in the store's database and checked on every load; MLflow-style aliases
 * (any name; "champion" is the one serving uses); stages (None | Staging |
 * Production | Archived, at most one Production per model); promotion gates
 * (gates.ts) checked whenever a version would become champion or Production,
 * with results and --force reasons stored.
 *
 * Concurrency and crashes: a registration holds one transaction with the
 * model's lock (SQLite's write lock; a PostgreSQL advisory lock), then readies
 * the model's folder (a folder of another store is refused and never
 * touched; this store's own leftovers are removed), copies the artifact into
 * a marked temp folder, hashes the copy, renames it to <name>/<version>,
 * inserts the rows and commits. Parallel registrations get consecutive
 * versions, each exactly once; a crash at any point leaves no version and
 * every earlier one intact.
 *
 * Layout: this class is the facade (reads, register, promote, archive,
 * rollback); types.ts holds the records and name checks, db.ts the tables and
 * row codecs, promotion.ts the gated alias/stage moves, history.ts the
 * rollback walk, compare.ts version comparison; src/store/artifacts.ts the
 * artifact files.
 */
import { basename } from "node:path";
import { UserError } from "../core/errors.ts";
import type { TrackingStore } from "../tracking/store.ts";
import type { Sql } from "../store/sql.ts";
import { type ArtifactStore, LocalArtifactStore } from "../store/artifacts.ts";
import { listFiles } from "../store/checksum.ts";
import { verifyArtifact } from "../models/artifact.ts";
import { copiedTo } from "../store/identity.ts";
import { describeFsError } from "../core/fs_errors.ts";
import {
  aliasVersion,
  gateRecordFromRow,
  metricsFromJson,
  metricsJson,
  parseJson,
  recordEvent,
  REGISTRY_SCHEMA,
  type Row,
  stageVersion,
} from "./db.ts";
import { applyTarget, checkGates, type PromotionContext } from "./promotion.ts";
import type { GateSpec } from "./gates.ts";
import { compareVersions } from "./compare.ts";
import { previousAliasVersion } from "./history.ts";
import { defaultActor } from "./actor.ts";
import { checkNextVersion, describeSchemaChange } from "./compat.ts";
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
export { REGISTRY_SCHEMA };

export class ModelRegistry {
  readonly modelsDir: string;
  readonly gates: Record<string, GateSpec>;
  readonly artifacts: ArtifactStore;
  /** who this registry's events are recorded as (null: not known, shown as unknown) */
  readonly actor: string | null;
  private readonly clock: () => number;

  private constructor(readonly store: TrackingStore, private readonly opts: RegistryOptions) {
    this.modelsDir = opts.modelsDir ?? "models";
    this.gates = opts.gates ?? {};
    this.clock = opts.clock ?? Date.now;
    this.artifacts = opts.artifacts ?? new LocalArtifactStore(this.modelsDir, store.storeId);
    this.actor = opts.actor ?? defaultActor() ?? null;
  }

  /** The same registry, recording its events as `actor` (the UI: one per logged-in user). */
  withActor(actor: string): ModelRegistry {
    return new ModelRegistry(this.store, { ...this.opts, artifacts: this.artifacts, actor });
  }

  /**
   * The registry over an open store (its tables are migrated when the store
   * was opened with REGISTRY_SCHEMA, and here otherwise).
   */
  static async open(store: TrackingStore, opts: RegistryOptions = {}): Promise<ModelRegistry> {
    await store.migrate([REGISTRY_SCHEMA]);
    return new ModelRegistry(store, opts);
  }

  private get db(): Sql {
    return this.store.db;
  }

  private promotion(tx: Sql): PromotionContext {
    return { tx, gates: this.gates, actor: this.actor };
  }

  /** The directory a version lives in. */
  versionDir(name: string, version: number): string {
    return `${this.modelsDir}/${name}/${version}`;
  }

  private checkNameAvailable(name: string): void {
    checkModelName(name);
    const reserved = new Set(["artifacts", basename(this.store.location)]);
    for (const r of [...reserved]) {
      reserved.add(`${r}-wal`).add(`${r}-shm`).add(`${r}-journal`).add(`${r}.leases`);
    }
    if (reserved.has(name)) {
      throw new UserError(`model name '${name}' is reserved (it is a folder or file of the store)`);
    }
  }

  // ---------------------------------------------------------------- reads

  async hasModel(name: string, db: Sql = this.db): Promise<boolean> {
    return (await db.get("SELECT 1 AS found FROM registered_models WHERE name = ?", [name])) !== undefined;
  }

  async requireModel(name: string, db: Sql = this.db): Promise<void> {
    if (!(await this.hasModel(name, db))) {
      const known = (await db.all<Row>("SELECT name FROM registered_models ORDER BY name")).map((r) =>
        r.name as string
      );
      throw new UserError(
        `unknown model '${name}'${
          known.length ? ` (registered: ${known.join(", ")})` : " (no model is registered yet)"
        }`,
      );
    }
  }

  private async aliasesOf(name: string, db: Sql): Promise<Map<number, string[]>> {
    const out = new Map<number, string[]>();
    for (
      const r of await db.all<Row>("SELECT alias, version FROM model_aliases WHERE name = ? ORDER BY alias", [
        name,
      ])
    ) {
      const v = Number(r.version);
      out.set(v, [...(out.get(v) ?? []), r.alias as string]);
    }
    return out;
  }

  /** Every gate check of a version, oldest first: at register, and each gated promotion (forced or refused). */
  async gateHistory(name: string, version: number, db: Sql = this.db): Promise<GateRecord[]> {
    await this.requireModel(name, db);
    const rows = await db.all<Row>("SELECT * FROM gate_results WHERE name = ? AND version = ? ORDER BY id", [
      name,
      version,
    ]);
    return rows.map(gateRecordFromRow);
  }

  private async latestGates(name: string, db: Sql): Promise<Map<number, GateRecord>> {
    const out = new Map<number, GateRecord>();
    const rows = await db.all<Row>("SELECT * FROM gate_results WHERE name = ? ORDER BY id", [name]);
    for (const r of rows) out.set(Number(r.version), gateRecordFromRow(r));
    return out;
  }

  private versionFromRow(
    r: Row,
    aliases: Map<number, string[]>,
    gates: Map<number, GateRecord>,
  ): ModelVersion {
    const version = Number(r.version);
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
      created: Number(r.created),
      gates: gates.get(version) ?? null,
    };
  }

  async listVersions(name: string, db: Sql = this.db): Promise<ModelVersion[]> {
    const aliases = await this.aliasesOf(name, db);
    const gates = await this.latestGates(name, db);
    return (await db.all<Row>("SELECT * FROM model_versions WHERE name = ? ORDER BY version", [name])).map(
      (r) => this.versionFromRow(r, aliases, gates),
    );
  }

  async listModels(): Promise<RegisteredModel[]> {
    const out: RegisteredModel[] = [];
    for (const m of await this.db.all<Row>("SELECT name, created FROM registered_models ORDER BY name")) {
      out.push({
        name: m.name as string,
        created: Number(m.created),
        versions: await this.listVersions(m.name as string),
      });
    }
    return out;
  }

  async getVersion(name: string, version: number, db: Sql = this.db): Promise<ModelVersion> {
    await this.requireModel(name, db);
    const row = await db.get<Row>("SELECT * FROM model_versions WHERE name = ? AND version = ?", [
      name,
      version,
    ]);
    if (!row) {
      const max = await this.maxVersion(name, db);
      throw new UserError(
        `unknown version ${version} of model '${name}' (versions: ${max ? `1..${max}` : "none"})`,
      );
    }
    return this.versionFromRow(row, await this.aliasesOf(name, db), await this.latestGates(name, db));
  }

  /** The version an alias points to, or undefined. */
  aliasVersion(name: string, alias: string): Promise<number | undefined> {
    return aliasVersion(this.db, name, alias);
  }

  /** The newest version in a stage, or undefined. */
  stageVersion(name: string, stage: Stage): Promise<number | undefined> {
    return stageVersion(this.db, name, stage);
  }

  async maxVersion(name: string, db: Sql = this.db): Promise<number> {
    const row = await db.get<Row>("SELECT max(version) AS v FROM model_versions WHERE name = ?", [name]);
    return row?.v == null ? 0 : Number(row.v);
  }

  /** History of alias/stage moves and registrations, oldest first. */
  async events(
    name: string,
  ): Promise<{
    version: number | null;
    action: string;
    target: string | null;
    previousVersion: number | null;
    reason: string | null;
    time: number;
    actor: string | null;
  }[]> {
    return (await this.db.all<Row>("SELECT * FROM model_events WHERE name = ? ORDER BY id", [name])).map((
      r,
    ) => ({
      version: r.version == null ? null : Number(r.version),
      action: r.action as string,
      target: r.target as string | null,
      previousVersion: r.previous_version == null ? null : Number(r.previous_version),
      reason: r.reason as string | null,
      time: Number(r.time),
      actor: (r.actor as string | null | undefined) ?? null,
    }));
  }

  /**
   * Checks a version's files against the sha256 recorded at registration and
   * returns its directory; throws UserError when missing or tampered with.
   */
  async verify(name: string, version: number, db: Sql = this.db): Promise<string> {
    const v = await this.getVersion(name, version, db);
    const key = `${name}/${version}`;
    try {
      await this.artifacts.verify(key, { sha256: v.sha256, files: v.files });
    } catch (e) {
      if (e instanceof UserError) throw new UserError(`models:/${e.message}`);
      throw e;
    }
    return await this.artifacts.get(key);
  }

  // ---------------------------------------------------------------- writes

  /**
   * Registers the run's artifact as the next version of `name`, then applies
   * the requested aliases/stage (gated ones only when the gates pass or
   * `force` is set). A version that fails the gates is still registered.
   */
  async register(opts: RegisterOptions): Promise<RegisterResult> {
    this.checkNameAvailable(opts.name);
    const aliases = opts.alias === undefined ? [] : Array.isArray(opts.alias) ? opts.alias : [opts.alias];
    aliases.forEach(checkAlias);
    if (opts.stage !== undefined) parseStage(opts.stage);
    if (opts.force && !opts.reason?.trim()) {
      throw new UserError('--force needs --reason "<why>" (it is recorded)');
    }
    const copied = await copiedTo(this.store.db);
    if (copied) {
      throw new UserError(
        `${this.store.location} was copied to ${copied.to} by store:copy (${copied.at}); the copy owns ${this.modelsDir} now, and a version registered here would clash with its versions: register in the copy (tracking.uri)`,
      );
    }
    const run = await this.store.getRun(opts.runId);
    if (run.status !== "FINISHED") {
      throw new UserError(`run ${run.runId} is ${run.status}; only FINISHED runs can be registered`);
    }
    const artifactName = opts.artifact ?? "model";
    const source = run.artifacts[artifactName];
    if (!source) {
      throw new UserError(`run ${run.runId} has no '${artifactName}' artifact (the train stage logs one)`);
    }
    checkArtifactSource(run.runId, source);

    return await this.store.transaction(async (tx): Promise<RegisterResult> => {
      const now = this.clock();
      if (opts.ifNew) {
        const row = await tx.get<Row>(
          "SELECT version FROM model_versions WHERE name = ? AND run_id = ? ORDER BY version DESC LIMIT 1",
          [opts.name, run.runId],
        );
        if (row) {
          const v = await this.getVersion(opts.name, Number(row.version), tx);
          return registerResult(v, v.gates, [], true);
        }
      }
      const registered = new Set(
        (await tx.all<Row>("SELECT version FROM model_versions WHERE name = ?", [opts.name])).map((r) =>
          `${opts.name}/${r.version}`
        ),
      );
      await this.artifacts.prepare(opts.name, registered);
      const version = (await this.maxVersion(opts.name, tx)) + 1;
      // the version must fit its model (compat.ts): checked against the latest version, before the copy
      const schemaChange = version === 1 ? null : checkNextVersion(
        opts.name,
        version,
        await this.artifacts.get(`${opts.name}/${version - 1}`),
        source,
        opts.allowSchemaChange,
      );
      const key = `${opts.name}/${version}`;
      const digest = await this.artifacts.put(key, source);
      try {
        await tx.run(
          "INSERT INTO registered_models(name, created) VALUES (?, ?) ON CONFLICT(name) DO NOTHING",
          [
            opts.name,
            now,
          ],
        );
        await tx.run(
          `INSERT INTO model_versions(name, version, run_id, source, path, sha256, files, metrics, params, created)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [
            opts.name,
            version,
            run.runId,
            source,
            this.versionDir(opts.name, version),
            digest.sha256,
            JSON.stringify(digest.files),
            metricsJson(run.metrics),
            JSON.stringify(run.params),
            now,
          ],
        );
        const changed = schemaChange && `input signature changed (${describeSchemaChange(schemaChange)})`;
        await recordEvent(tx, opts.name, version, "register", null, null, changed, now, this.actor);
        const gates = await checkGates(
          this.promotion(tx),
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
        const promotions: PromotionOutcome[] = [];
        for (const target of targets) {
          promotions.push(
            await applyTarget(
              this.promotion(tx),
              opts.name,
              version,
              run,
              target,
              opts.force ?? false,
              opts.reason ?? null,
              now,
            ),
          );
        }
        const result = registerResult(
          await this.getVersion(opts.name, version, tx),
          gates,
          promotions,
          false,
        );
        return { ...result, schema_change: schemaChange };
      } catch (e) {
        await this.artifacts.discard(key);
        throw e;
      }
    }, { lock: `registry:${opts.name}` });
  }

  /**
   * Points an alias (default "champion") or moves a stage to a version.
   * Champion and Production are gated: a failing version is refused (UserError
   * listing the reasons, with the check stored) unless `force` with a reason.
   */
  async promote(
    name: string,
    version: number,
    opts: { alias?: string; stage?: Stage; force?: boolean; reason?: string } = {},
  ): Promise<PromotionOutcome> {
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
    const outcome = await this.store.transaction(async (tx) => {
      const v = await this.getVersion(name, version, tx);
      return await applyTarget(
        this.promotion(tx),
        name,
        version,
        v,
        target,
        opts.force ?? false,
        opts.reason ?? null,
        this.clock(),
      );
    }, { lock: `registry:${name}` });
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
  async deleteAlias(name: string, alias: string): Promise<void> {
    await this.store.transaction(async (tx) => {
      await this.requireModel(name, tx);
      const v = await aliasVersion(tx, name, alias);
      if (v === undefined) throw new UserError(`model '${name}' has no alias '${alias}'`);
      await tx.run("DELETE FROM model_aliases WHERE name = ? AND alias = ?", [name, alias]);
      await recordEvent(tx, name, null, "alias_delete", alias, v, null, this.clock(), this.actor);
    }, { lock: `registry:${name}` });
  }

  /**
   * Archives a version. A version that holds aliases is refused unless
   * `force`, which also removes its aliases.
   */
  async archive(
    name: string,
    version: number,
    opts: { force?: boolean; reason?: string } = {},
  ): Promise<{ removedAliases: string[] }> {
    return await this.store.transaction(async (tx) => {
      const v = await this.getVersion(name, version, tx);
      if (v.aliases.length && !opts.force) {
        throw new UserError(
          `version ${version} of '${name}' holds ${
            v.aliases.map((a) => "@" + a).join(", ")
          }; roll back or promote another version first (or --force)`,
        );
      }
      const now = this.clock();
      for (const alias of v.aliases) {
        await tx.run("DELETE FROM model_aliases WHERE name = ? AND alias = ?", [name, alias]);
        await recordEvent(
          tx,
          name,
          null,
          "alias_delete",
          alias,
          version,
          opts.reason ?? "archived",
          now,
          this.actor,
        );
      }
      if (v.stage !== "Archived") {
        await tx.run("UPDATE model_versions SET stage = 'Archived' WHERE name = ? AND version = ?", [
          name,
          version,
        ]);
        await recordEvent(
          tx,
          name,
          version,
          "stage_set",
          "Archived",
          null,
          opts.reason ?? null,
          now,
          this.actor,
        );
      }
      return { removedAliases: v.aliases };
    }, { lock: `registry:${name}` });
  }

  /**
   * Puts the alias (default "champion") back on the version it pointed to
   * before its latest move. Repeated rollbacks walk further back. The restored
   * version's checksum is verified first; gates are not re-checked (it was
   * champion before).
   */
  async rollback(
    name: string,
    alias = CHAMPION,
  ): Promise<{ alias: string; from: number | null; to: number }> {
    checkAlias(alias);
    return await this.store.transaction(async (tx) => {
      await this.requireModel(name, tx);
      const rows = await tx.all<Row>(
        "SELECT version, action FROM model_events WHERE name = ? AND target = ? AND action IN ('alias_set','alias_rollback','alias_delete') ORDER BY id",
        [name, alias],
      );
      const current = (await aliasVersion(tx, name, alias)) ?? null;
      const archived = new Set(
        (await tx.all<Row>("SELECT version FROM model_versions WHERE name = ? AND stage = 'Archived'", [
          name,
        ]))
          .map((r) => Number(r.version)),
      );
      const to = previousAliasVersion(
        rows.map((r) => ({ action: r.action as string, version: Number(r.version) })),
        current,
        archived,
      );
      if (to === undefined) {
        throw new UserError(`model '${name}' has no previous @${alias} to roll back to`);
      }
      await this.verify(name, to, tx);
      const now = this.clock();
      await tx.run(
        `INSERT INTO model_aliases(name, alias, version, updated) VALUES (?, ?, ?, ?)
         ON CONFLICT(name, alias) DO UPDATE SET version = excluded.version, updated = excluded.updated`,
        [name, alias, to, now],
      );
      await recordEvent(tx, name, to, "alias_rollback", alias, current, null, now, this.actor);
      return { alias, from: current, to };
    }, { lock: `registry:${name}` });
  }

  /** Metrics and params of two versions side by side. */
  async compare(name: string, a: number, b: number): Promise<VersionComparison> {
    return compareVersions(await this.getVersion(name, a), await this.getVersion(name, b));
  }
}

/** The run's artifact must be a real, non-empty directory of plain files. */
function checkArtifactSource(runId: string, source: string): void {
  let stat: Deno.FileInfo;
  try {
    stat = Deno.lstatSync(source);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new UserError(`run ${runId}: its model artifact ${source} does not exist`);
    }
    throw new UserError(`run ${runId}: ${describeFsError(e, source, "read")}`);
  }
  if (stat.isSymlink) {
    throw new UserError(
      `run ${runId}: its model artifact ${source} is a symbolic link; an artifact must hold plain files only`,
    );
  }
  if (!stat.isDirectory) {
    throw new UserError(`run ${runId}: its model artifact ${source} is not a directory`);
  }
  if (listFiles(source).length === 0) {
    throw new UserError(`run ${runId}: its model artifact ${source} is empty`);
  }
  // an Orchard artifact must still match its own checksums: else the copy is a version no server loads
  try {
    verifyArtifact(source);
  } catch (e) {
    if (e instanceof UserError) throw new UserError(`run ${runId}: ${e.message}`);
    throw e;
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
    schema_change: null,
  };
}
