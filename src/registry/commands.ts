/**
 * The `deno task models` subcommands: list registered models, inspect and
 * compare versions, and manage them: promote (gated for champion/Production),
 * archive, rollback.
 */
import { UserError } from "../core/errors.ts";
import type { Config } from "../config/schema.ts";
import {
  CHAMPION,
  type GateRecord,
  ModelRegistry,
  type ModelVersion,
  parseStage,
  type PromotionOutcome,
  type VersionComparison,
} from "./registry.ts";
import { comparisonSummary, gateLine, gateTarget, modelsListing } from "./format.ts";
import { parseModelUri, resolveModelUri } from "./uri.ts";
import { storeExists, TrackingStore } from "../tracking/store.ts";
import { trackingLocation } from "../config/paths.ts";
import { modelSettings, taskKindOf } from "./settings.ts";

/** The flags of `models` as parsed. */
export interface ModelsOptions {
  alias?: string;
  stage?: string;
  force?: boolean;
  reason?: string;
  /** who the moves are recorded as (default: ORCHARD_ACTOR, else the OS user) */
  actor?: string;
}

export const MODELS_USAGE = "models [list]\n" +
  "       models show <uri>                      (e.g. models:/churn@champion; verifies the checksum)\n" +
  "       models compare <name> <v1> <v2>        (or: models compare <uri> <uri>)\n" +
  "       models promote <name> <version> [--alias A | --stage S] [--force --reason R]\n" +
  "       models archive <name> <version> [--force]\n" +
  "       models rollback <name> [--alias A]\n" +
  "       (<name> <version> may also be given as one URI: models:/churn/3)";

function versionJson(v: ModelVersion) {
  return {
    version: v.version,
    aliases: v.aliases,
    stage: v.stage,
    status: v.status,
    metrics: v.metrics,
    params: v.params,
    run_id: v.runId,
    path: v.path,
    sha256: v.sha256,
    source: v.source,
    created: new Date(v.created).toISOString(),
    gates: v.gates,
  };
}

/** What `models` returns (its --json output). */
export type ModelsResult =
  | {
    command: "list";
    models: { name: string; created: string; versions: ReturnType<typeof versionJson>[] }[];
    gated: string[];
    /** set when there is no store there yet: nothing was created to list nothing */
    missing_store?: string;
  }
  | {
    command: "show";
    uri: string;
    name: string;
    dir: string;
    verified: boolean;
    version: ReturnType<typeof versionJson>;
    /** every gate check of the version, oldest first (version.gates is the latest) */
    gate_history: GateRecord[];
  }
  | { command: "compare"; comparison: VersionComparison }
  | { command: "promote"; name: string; version: number; outcome: PromotionOutcome }
  | { command: "archive"; name: string; version: number; removed_aliases: string[] }
  | { command: "rollback"; name: string; alias: string; from: number | null; to: number };

function parseVersion(text: string | undefined, what = "version"): number {
  if (text === undefined) throw new UserError(`missing ${what} (see --help)`);
  if (!/^\d+$/.test(text) || Number(text) < 1) {
    throw new UserError(`${what} must be a positive integer (got '${text}')`);
  }
  return Number(text);
}

/** `<name> <version>` or one models:/ URI, resolved to a concrete version. */
async function takeVersionRef(
  args: string[],
  registry: ModelRegistry,
  store: TrackingStore,
  modelsDir: string,
): Promise<{ name: string; version: number }> {
  const first = args.shift();
  if (first === undefined) throw new UserError("missing model name (see --help)");
  if (first.startsWith("models:")) {
    parseModelUri(first);
    const r = await resolveModelUri(first, { store, modelsDir, verify: false });
    return { name: r.name!, version: r.version! };
  }
  await registry.requireModel(first);
  return { name: first, version: parseVersion(args.shift()) };
}

/** Runs one `models` subcommand (default list) against the registry in config. */
export async function modelsCommand(
  config: Config,
  positionals: string[],
  v: ModelsOptions,
): Promise<ModelsResult> {
  const modelsDir = config.paths.models;
  const [command = "list", ...args] = positionals;
  const known = ["list", "show", "compare", "promote", "archive", "rollback"];
  if (!known.includes(command)) {
    throw new UserError(`unknown subcommand '${command}' (use ${known.join(", ")})`);
  }
  const location = trackingLocation(config);
  // reading a store that is not there (a typo'd tracking.store) must not create an empty one
  if (!storeExists(location)) {
    if (command === "list") return { command, models: [], gated: [], missing_store: location };
    throw new UserError(`no tracking store at ${location} yet (deno task train, then register, creates it)`);
  }
  const store = await TrackingStore.open(location);
  try {
    const registry = await ModelRegistry.open(store, {
      modelsDir,
      gates: config.registry.gates,
      actor: v.actor,
    });
    let result: ModelsResult;
    switch (command) {
      case "list":
        result = {
          command,
          gated: Object.keys(config.registry.gates),
          models: (await registry.listModels()).map((m) => ({
            name: m.name,
            created: new Date(m.created).toISOString(),
            versions: m.versions.map(versionJson),
          })),
        };
        break;
      case "show": {
        const uri = args.shift();
        if (!uri) throw new UserError("models show needs a model URI, e.g. models:/churn@champion");
        const r = await resolveModelUri(uri, { store, modelsDir });
        if (r.name === undefined) throw new UserError(`'${uri}' is not a registered model version`);
        result = {
          command,
          uri,
          name: r.name,
          dir: r.dir,
          verified: r.verified,
          version: versionJson(await registry.getVersion(r.name, r.version!)),
          gate_history: await registry.gateHistory(r.name, r.version!),
        };
        break;
      }
      case "compare": {
        let name: string, a: number, b: number;
        if (args[0]?.startsWith("models:")) {
          const x = await takeVersionRef(args, registry, store, modelsDir);
          const y = await takeVersionRef(args, registry, store, modelsDir);
          if (x.name !== y.name) {
            throw new UserError(`compare versions of one model (got '${x.name}' and '${y.name}')`);
          }
          [name, a, b] = [x.name, x.version, y.version];
        } else {
          name = args.shift() ?? "";
          if (!name) throw new UserError("models compare needs <name> <v1> <v2>");
          await registry.requireModel(name);
          a = parseVersion(args.shift(), "first version");
          b = parseVersion(args.shift(), "second version");
        }
        result = { command, comparison: await registry.compare(name, a, b) };
        break;
      }
      case "promote": {
        const ref = await takeVersionRef(args, registry, store, modelsDir);
        // gated on the model's own settings and the version's task kind (src/registry/settings.ts)
        const kind = taskKindOf(await registry.getVersion(ref.name, ref.version));
        const gated = await ModelRegistry.open(store, {
          modelsDir,
          actor: v.actor,
          gates: modelSettings(config, ref.name, kind).gates,
        });
        const outcome = await gated.promote(ref.name, ref.version, {
          alias: v.alias,
          stage: typeof v.stage === "string" ? parseStage(v.stage) : undefined,
          force: Boolean(v.force),
          reason: v.reason,
        });
        result = { command, ...ref, outcome };
        break;
      }
      case "archive": {
        const ref = await takeVersionRef(args, registry, store, modelsDir);
        const out = await registry.archive(ref.name, ref.version, {
          force: Boolean(v.force),
          reason: v.reason,
        });
        result = { command, ...ref, removed_aliases: out.removedAliases };
        break;
      }
      case "rollback": {
        const name = args.shift();
        if (!name) throw new UserError("models rollback needs a model name");
        const out = await registry.rollback(name, (v.alias) ?? CHAMPION);
        result = { command, name, ...out };
        break;
      }
      default:
        throw new UserError(`unknown subcommand '${command}'`);
    }
    if (args.length) throw new UserError(`unexpected argument '${args[0]}' (see --help)`);
    return result;
  } finally {
    await store.close();
  }
}

/** The human summary of a ModelsResult. */
export function modelsSummary(r: ModelsResult): string {
  switch (r.command) {
    case "list":
      if (r.missing_store) {
        return `models: no tracking store at ${r.missing_store} yet (deno task train creates it)`;
      }
      return modelsListing(
        r.models.map((m) => ({
          name: m.name,
          created: Date.parse(m.created),
          versions: m.versions.map((x) => ({ ...x, runId: x.run_id, created: Date.parse(x.created) })),
        })),
        r.gated,
      );
    case "show":
      return [
        `${r.uri} -> ${r.name} version ${r.version.version} at ${r.dir}`,
        `  checksum ${r.verified ? "verified" : "not checked"} (sha256 ${r.version.sha256})`,
        `  aliases  ${
          r.version.aliases.map((a) => "@" + a).join(", ") || "-"
        }; stage ${r.version.stage}; ${r.version.status}`,
        `  run      ${r.version.run_id}`,
        `  gates    ${gateLine(r.version.gates)}`,
        ...(r.gate_history.length > 1
          ? [
            "  gate checks, oldest first:",
            ...r.gate_history.map((g) => `    ${gateTarget(g.target)}: ${gateLine(g)}`),
          ]
          : []),
      ].join("\n");
    case "compare":
      return comparisonSummary(r.comparison);
    case "promote": {
      const what = gateTarget(r.outcome.target);
      const forced = r.outcome.gates?.forced ? ` (FORCED: ${r.outcome.gates.reason})` : "";
      const from = r.outcome.previousVersion !== null && r.outcome.previousVersion !== r.version
        ? ` (was v${r.outcome.previousVersion})`
        : "";
      return `${r.name}: ${what} -> version ${r.version}${from}${forced}`;
    }
    case "archive":
      return `${r.name}: version ${r.version} archived${
        r.removed_aliases.length ? `; removed ${r.removed_aliases.map((a) => "@" + a).join(", ")}` : ""
      }`;
    case "rollback":
      return `${r.name}: @${r.alias} rolled back to version ${r.to}${
        r.from !== null ? ` (was v${r.from})` : ""
      }`;
  }
}
