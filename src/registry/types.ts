/**
 * The registry's vocabulary: stages, aliases, the records it stores and
 * returns, and the checks on user-given model names, aliases and stages.
 */
import { UserError } from "../core/errors.ts";
import type { GateCheck, GateSpec } from "./gates.ts";
import type { ArtifactStore } from "../store/artifacts.ts";
import type { SchemaChange } from "./compat.ts";

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
  /** take a version whose input signature differs from the latest version's (compat.ts); recorded */
  allowSchemaChange?: boolean;
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
  /** the input signature's change from the previous version, taken with `allowSchemaChange` */
  schema_change?: SchemaChange | null;
}

export interface RegistryOptions {
  modelsDir?: string;
  /** where version files go (default: a LocalArtifactStore on modelsDir) */
  artifacts?: ArtifactStore;
  gates?: Record<string, GateSpec>;
  /** the time source (ms), for tests */
  clock?: () => number;
  /** who events are recorded as (default: ORCHARD_ACTOR, else the OS user; see actor.ts) */
  actor?: string;
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

export interface VersionComparison {
  name: string;
  versions: [number, number];
  runs: [string, string];
  stages: [Stage, Stage];
  aliases: [string[], string[]];
  metrics: { key: string; values: [number | null, number | null]; delta: number | null }[];
  params: { key: string; values: [string | null, string | null]; same: boolean }[];
}
