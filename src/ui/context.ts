/**
 * What every page handler is given: the open store and registry (the same
 * classes the CLI uses), the loaded config, where reports and logs live, the
 * optional service to ask for its state, the sessions, and the one way an
 * action reaches the registry (the `models` command's own code).
 */
import type { Config } from "../config/schema.ts";
import type { TrackingStore } from "../tracking/store.ts";
import type { ModelRegistry } from "../registry/registry.ts";
import type { ModelsOptions, ModelsResult } from "../registry/commands.ts";
import type { Sessions } from "./auth.ts";
import { formatValue } from "../core/format.ts";

export interface UiContext {
  config: Config;
  store: TrackingStore;
  registry: ModelRegistry;
  reportsDir: string;
  predictionsDir: string;
  monitoringDir: string;
  /** the project folder: its deno.json's pipeline:* tasks are the stages the status page shows */
  projectDir: string;
  /** a running service's base URL (its /ready and /metrics are read), if any */
  serviceUrl?: string;
  sessions: Sessions;
  /** runs one `models` subcommand as the CLI does (promote, archive, rollback) */
  modelsAction(positionals: string[], opts: ModelsOptions): Promise<ModelsResult>;
}

/** A time for people, in UTC. */
export function when(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "-";
  return new Date(ms).toISOString().replace("T", " ").slice(0, 19) + "Z";
}

export function duration(start: number, end: number | null): string {
  if (end === null) return "-";
  const s = (end - start) / 1000;
  return s < 60
    ? `${s.toFixed(1)} s`
    : s < 3600
    ? `${(s / 60).toFixed(1)} min`
    : `${(s / 3600).toFixed(1)} h`;
}

/** A cell value: numbers with 4 decimals (tiny or huge in exponent form), missing as "-". */
export function cell(v: unknown): string {
  return formatValue(v, { exponentDigits: 2 });
}
