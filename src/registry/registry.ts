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
 */
import { basename, join } from "node:path";
import { UserError } from "../cli/errors.ts";
import type { TrackingStore } from "../tracking/store.ts";
import { digestDifferences, dirDigest, listFiles } from "./checksum.ts";
import { evaluateGates, type GateCheck, type GateReport, type GateSpec } from "./gates.ts";

export type Stage = "None" | "Staging" | "Production" | "Archived";
export const STAGES: readonly Stage[] = ["None", "Staging", "Production", "Archived"];
export const CHAMPION = "champion";

export const MODEL_NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
export const ALIAS_RE = /^[A-Za-z0-9_][A-Za-z0-9_-]*$/;

export interface GateRecord {
  /** what the version was checked for: "register", "alias:champion" or "stage:Production" */
  target: string;
  passed: boolean;
  forced: boolean;
  reason: string | null;
  baselineVersion: number | null;
  reasons: string[];
  checks: GateCheck[];
  time: number;
}

export interface ModelVersion {
  name: string;
  version: number;
  runId: string;
  /** the run's artifact directory it was copied from */
  source: string;
  /** where the copy lives: <modelsDir>/<name>/<version> */
  path: string;
  sha256: string;
  files: Record<string, string>;
  stage: Stage;
  aliases: string[];
  /** "candidate" until it has been champion or Production, then "promoted" */
  status: "candidate" | "promoted";
  metrics: Record<string, number>;
  params: Record<string, string>;
  created: number;
  /** the latest gate check of this version */
  gates: GateRecord | null;
}

export interface RegisteredModel {
  name: string;
  created: number;
  versions: ModelVersion[];
}

export interface RegisterOptions {
  /** a full run id (resolve prefixes and "latest" with store.resolveRunId) */
  runId: string;
  name: string;
  /** aliases to set; "champion" is gated */
  alias?: string | string[];
  /** stage to move to; "Production" is gated */
  stage?: Stage;
  /** promote even when the gates fail; needs `reason` */
  force?: boolean;
  reason?: string;
  /** artifact name in the run (default "model") */
  artifact?: string;
  /** when the run is already registered under `name`, return that version and change nothing */
  ifNew?: boolean;
}

export interface PromotionOutcome {
  target: string;
  applied: boolean;
  gated: boolean;
  gates: GateRecord | null;
  /** the version that held the alias/stage before, if any */
  previousVersion: number | null;
}

export interface RegisterResult {
  name: string;
  version: number;
  run_id: string;
  path: string;
  sha256: string;
  stage: Stage;
  aliases: string[];
  status: "candidate" | "promoted";
  /** gates evaluated at registration against the champion of that moment */
  gates: GateRecord | null;
  promotions: PromotionOutcome[];
  /** true when `ifNew` found the run already registered (nothing was changed) */
  existing: boolean;
}

export interface RegistryOptions {
  modelsDir?: string;
  gates?: Record<string, GateSpec>;
  /** the time source (ms), for tests */
  clock?: () => number;
}

type Row = Record<string, unknown>;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS registered_models (
  name TEXT PRIMARY KEY,
  created INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS model_versions (
  name TEXT NOT NULL REFERENCES registered_models(name),
  version INTEGER NOT NULL CHECK (version >= 1),
  run_id TEXT NOT NULL,
  source TEXT NOT NULL,
  path TEXT NOT NULL,
  sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
  files TEXT NOT NULL,
  stage TEXT NOT NULL DEFAULT 'None' CHECK (stage IN ('None','Staging','Production','Archived')),
  status TEXT NOT NULL DEFAULT 'candidate' CHECK (status IN ('candidate','promoted')),
  metrics TEXT NOT NULL,
  params TEXT NOT NULL,
  created INTEGER NOT NULL,
  PRIMARY KEY (name, version)
);
CREATE UNIQUE INDEX IF NOT EXISTS model_versions_one_production ON model_versions(name) WHERE stage = 'Production';
CREATE TABLE IF NOT EXISTS model_aliases (
  name TEXT NOT NULL,
  alias TEXT NOT NULL,
  version INTEGER NOT NULL,
  updated INTEGER NOT NULL,
  PRIMARY KEY (name, alias),
  FOREIGN KEY (name, version) REFERENCES model_versions(name, version)
);
CREATE TABLE IF NOT EXISTS gate_results (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  target TEXT NOT NULL,
  passed INTEGER NOT NULL,
  forced INTEGER NOT NULL DEFAULT 0,
  reason TEXT,
  baseline_version INTEGER,
  reasons TEXT NOT NULL,
  checks TEXT NOT NULL,
  time INTEGER NOT NULL,
  FOREIGN KEY (name, version) REFERENCES model_versions(name, version)
);
CREATE TABLE IF NOT EXISTS model_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  version INTEGER,
  action TEXT NOT NULL,
  target TEXT,
  previous_version INTEGER,
  reason TEXT,
  time INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS model_events_target ON model_events(name, target, id);
`;

function parseJson<T>(text: unknown, fallback: T): T {
  if (typeof text !== "string") return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

/** Metrics as JSON keep NaN and infinities (JSON.stringify would turn them into null). */
function metricsJson(metrics: Record<string, number>): string {
  return JSON.stringify(
    Object.fromEntries(Object.entries(metrics).map(([k, v]) => [k, Number.isFinite(v) ? v : String(v)])),
  );
}
function metricsFromJson(text: unknown): Record<string, number> {
  const raw = parseJson<Record<string, number | string>>(text, {});
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, typeof v === "number" ? v : Number(v)]));
}

export function checkModelName(name: string): void {
  if (typeof name !== "string" || !MODEL_NAME_RE.test(name) || name.length > 200) {
    throw new UserError(
      `invalid model name '${name}': use letters, digits, '_', '.', '-' (not starting with '.' or '-')`,
    );
  }
}

export function checkAlias(alias: string): void {
  if (!ALIAS_RE.test(alias) || alias.length > 100) {
    throw new UserError(`invalid alias '${alias}': use letters, digits, '_' and '-'`);
  }
  if (
    alias.toLowerCase() === "latest" || /^v\d+$/i.test(alias) ||
    STAGES.some((s) => s.toLowerCase() === alias.toLowerCase())
  ) {
    throw new UserError(
      `alias '${alias}' is reserved (latest, v<number> and stage names mean something else in model URIs)`,
    );
  }
}

export function parseStage(text: string): Stage {
  const found = STAGES.find((s) => s.toLowerCase() === text.trim().toLowerCase());
  if (!found) throw new UserError(`unknown stage '${text}': use one of ${STAGES.join(", ")}`);
  return found;
}

function removeQuietly(path: string): void {
  try {
    Deno.removeSync(path, { recursive: true });
  } catch { /* already gone */ }
}

function copyTree(from: string, to: string): void {
  Deno.mkdirSync(to, { recursive: true });
  for (const rel of listFiles(from)) {
    const target = join(to, rel);
    const slash = rel.lastIndexOf("/");
    if (slash > 0) Deno.mkdirSync(join(to, rel.slice(0, slash)), { recursive: true });
    Deno.copyFileSync(join(from, rel), target);
  }
}

export class ModelRegistry {
  readonly modelsDir: string;
  readonly gates: Record<string, GateSpec>;
  private readonly clock: () => number;

  constructor(readonly store: TrackingStore, opts: RegistryOptions = {}) {
    this.modelsDir = opts.modelsDir ?? "models";
    this.gates = opts.gates ?? {};
    this.clock = opts.clock ?? Date.now;
    const db = store.db;
    const present = db.prepare(
      "SELECT count(*) AS n FROM sqlite_master WHERE type='table' AND name IN ('registered_models','model_versions','model_aliases','gate_results','model_events')",
    ).get() as Row;
    if ((present.n as number) < 5) store.transaction(() => db.exec(SCHEMA));
  }

  private get db() {
    return this.store.db;
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
    const row = this.db.prepare("SELECT version FROM model_aliases WHERE name = ? AND alias = ?").get(
      name,
      alias,
    ) as
      | Row
      | undefined;
    return row?.version as number | undefined;
  }

  /** The newest version in a stage, or undefined. */
  stageVersion(name: string, stage: Stage): number | undefined {
    const row = this.db.prepare(
      "SELECT version FROM model_versions WHERE name = ? AND stage = ? ORDER BY version DESC LIMIT 1",
    ).get(name, stage) as Row | undefined;
    return row?.version as number | undefined;
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
          return {
            name: v.name,
            version: v.version,
            run_id: v.runId,
            path: v.path,
            sha256: v.sha256,
            stage: v.stage,
            aliases: v.aliases,
            status: v.status,
            gates: v.gates,
            promotions: [],
            existing: true,
          };
        }
      }
      Deno.mkdirSync(modelDir, { recursive: true });
      this.removeLeftovers(opts.name);
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
        this.event(opts.name, version, "register", null, null, null, now);
        const gates = this.checkGates(
          opts.name,
          version,
          run.metrics,
          { alias: CHAMPION },
          "register",
          false,
          null,
          now,
        );
        const promotions: PromotionOutcome[] = [];
        for (const alias of aliases) {
          promotions.push(
            this.applyTarget(
              opts.name,
              version,
              run,
              { alias },
              opts.force ?? false,
              opts.reason ?? null,
              now,
            ),
          );
        }
        if (opts.stage !== undefined) {
          promotions.push(
            this.applyTarget(
              opts.name,
              version,
              run,
              { stage: parseStage(opts.stage) },
              opts.force ?? false,
              opts.reason ?? null,
              now,
            ),
          );
        }
        const v = this.getVersion(opts.name, version);
        return {
          name: opts.name,
          version,
          run_id: run.runId,
          path: target,
          sha256: digest.sha256,
          stage: v.stage,
          aliases: v.aliases,
          status: v.status,
          gates,
          promotions,
          existing: false,
        };
      } catch (e) {
        removeQuietly(tmp);
        if (renamed) removeQuietly(target);
        throw e;
      }
    });
  }

  /** Under the write lock: temp dirs and version dirs without a row were left by a crash. */
  private removeLeftovers(name: string): void {
    const modelDir = join(this.modelsDir, name);
    const max = this.maxVersion(name);
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(modelDir)];
    } catch {
      return;
    }
    for (const entry of entries) {
      if (entry.name.startsWith(".tmp-")) removeQuietly(join(modelDir, entry.name));
      else if (/^\d+$/.test(entry.name) && Number(entry.name) > max) {
        removeQuietly(join(modelDir, entry.name));
      }
    }
  }

  private event(
    name: string,
    version: number | null,
    action: string,
    target: string | null,
    previous: number | null,
    reason: string | null,
    time: number,
  ): void {
    this.db.prepare(
      "INSERT INTO model_events(name, version, action, target, previous_version, reason, time) VALUES (?, ?, ?, ?, ?, ?, ?)",
    ).run(name, version, action, target, previous, reason, time);
  }

  /** The version that is the baseline for a gated target, excluding `exclude`. */
  private baselineFor(name: string, target: { alias?: string; stage?: Stage }, exclude: number) {
    const v = target.stage === "Production"
      ? this.stageVersion(name, "Production")
      : this.aliasVersion(name, CHAMPION);
    if (v === undefined || v === exclude) return null;
    const row = this.db.prepare("SELECT metrics FROM model_versions WHERE name = ? AND version = ?").get(
      name,
      v,
    ) as Row;
    return { version: v, metrics: metricsFromJson(row.metrics) };
  }

  private checkGates(
    name: string,
    version: number,
    metrics: Record<string, number>,
    target: { alias?: string; stage?: Stage },
    label: string,
    forced: boolean,
    reason: string | null,
    time: number,
  ): GateRecord {
    const baseline = this.baselineFor(name, target, version);
    const report: GateReport = evaluateGates(this.gates, metrics, baseline);
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
    this.db.prepare(
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
  private applyTarget(
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
      ? this.aliasVersion(name, target.alias) ?? null
      : (target.stage === "Production" ? this.stageVersion(name, "Production") ?? null : null);
    const currentStage = target.stage !== undefined
      ? ((this.db.prepare("SELECT stage FROM model_versions WHERE name = ? AND version = ?").get(
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
      gates = this.checkGates(name, version, run.metrics, target, label, force, reason, now);
      if (!gates.passed && !force) {
        return { target: label, applied: false, gated, gates, previousVersion: previous };
      }
    }
    const why = gates?.forced ? reason : null;
    if (target.alias !== undefined) {
      this.db.prepare(
        `INSERT INTO model_aliases(name, alias, version, updated) VALUES (?, ?, ?, ?)
         ON CONFLICT(name, alias) DO UPDATE SET version = excluded.version, updated = excluded.updated`,
      ).run(name, target.alias, version, now);
      this.event(name, version, "alias_set", target.alias, previous, why, now);
    } else {
      const stage = target.stage!;
      if (stage === "Production" && previous !== null) {
        this.db.prepare("UPDATE model_versions SET stage = 'Archived' WHERE name = ? AND version = ?").run(
          name,
          previous,
        );
        this.event(
          name,
          previous,
          "stage_set",
          "Archived",
          null,
          `replaced in Production by version ${version}`,
          now,
        );
      }
      this.db.prepare("UPDATE model_versions SET stage = ? WHERE name = ? AND version = ?").run(
        stage,
        name,
        version,
      );
      this.event(name, version, "stage_set", stage, previous, why, now);
    }
    if (gated) {
      this.db.prepare("UPDATE model_versions SET status = 'promoted' WHERE name = ? AND version = ?").run(
        name,
        version,
      );
    }
    return { target: label, applied: true, gated, gates, previousVersion: previous };
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
      return this.applyTarget(
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
      this.event(name, null, "alias_delete", alias, v, null, this.clock());
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
        this.event(name, null, "alias_delete", alias, version, opts.reason ?? "archived", now);
      }
      if (v.stage !== "Archived") {
        this.db.prepare("UPDATE model_versions SET stage = 'Archived' WHERE name = ? AND version = ?").run(
          name,
          version,
        );
        this.event(name, version, "stage_set", "Archived", null, opts.reason ?? null, now);
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
      const stack: (number | null)[] = [];
      for (const r of rows) {
        if (r.action === "alias_rollback") {
          // a rollback went back to r.version, skipping what was above it
          while (stack.length && stack[stack.length - 1] !== r.version) stack.pop();
          if (stack.length === 0) stack.push(r.version as number);
        } else stack.push(r.action === "alias_delete" ? null : (r.version as number));
      }
      const current = this.aliasVersion(name, alias) ?? null;
      const archived = new Set(
        (this.db.prepare("SELECT version FROM model_versions WHERE name = ? AND stage = 'Archived'").all(
          name,
        ) as Row[])
          .map((r) => r.version as number),
      );
      stack.pop();
      const skip = (v: number | null) => v === null || v === current || archived.has(v);
      while (stack.length && skip(stack[stack.length - 1])) stack.pop();
      const to = stack[stack.length - 1];
      if (to === undefined || to === null) {
        throw new UserError(`model '${name}' has no previous @${alias} to roll back to`);
      }
      this.verify(name, to);
      const now = this.clock();
      this.db.prepare(
        `INSERT INTO model_aliases(name, alias, version, updated) VALUES (?, ?, ?, ?)
         ON CONFLICT(name, alias) DO UPDATE SET version = excluded.version, updated = excluded.updated`,
      ).run(name, alias, to, now);
      this.event(name, to, "alias_rollback", alias, current, null, now);
      return { alias, from: current, to };
    });
  }

  /** Metrics and params of two versions side by side. */
  compare(name: string, a: number, b: number): VersionComparison {
    const va = this.getVersion(name, a);
    const vb = this.getVersion(name, b);
    const keys = (x: Record<string, unknown>, y: Record<string, unknown>) =>
      [...new Set([...Object.keys(x), ...Object.keys(y)])].sort();
    return {
      name,
      versions: [a, b],
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
}

export interface VersionComparison {
  name: string;
  versions: [number, number];
  runs: [string, string];
  stages: [Stage, Stage];
  aliases: [string[], string[]];
  metrics: { key: string; values: [number | null, number | null]; delta: number | null }[];
  params: { key: string; values: [string | null, string | null]; same: boolean }[];
}

function gateRecordFromRow(r: Row): GateRecord {
  return {
    target: r.target as string,
    passed: r.passed === 1,
    forced: r.forced === 1,
    reason: (r.reason as string | null) ?? null,
    baselineVersion: (r.baseline_version as number | null) ?? null,
    reasons: parseJson(r.reasons, []),
    checks: parseJson(r.checks, []),
    time: r.time as number,
  };
}
