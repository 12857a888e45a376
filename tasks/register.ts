/**
 * `deno task register`: copy a finished run's model artifact into the registry
 * as the next version of a named model (models/<name>/<version>/, sha256
 * recorded), evaluate the promotion gates, and apply the requested alias or
 * stage. A version failing the gates stays a candidate (exit 0, reasons
 * printed and stored) unless --force with --reason.
 *
 * The gates and the experiment are the model's own (src/registry/settings.ts):
 * `latest` is the latest finished run in the model's experiment, the one
 * `train` files that model's runs in (a `--data` run: the file's stem), and
 * the gates are those of the model and the run's task kind.
 */
import { defineTask, main } from "../src/cli/task.ts";
import { UserError } from "../src/core/errors.ts";
import { describeFsError, isFolder } from "../src/core/fs_errors.ts";
import { ModelRegistry, parseStage } from "../src/registry/registry.ts";
import { registerSummary } from "../src/registry/format.ts";
import { TrackingStore } from "../src/tracking/store.ts";
import { trackingLocation } from "../src/config/paths.ts";
import { modelExperiment, modelSettings, taskKindOf } from "../src/registry/settings.ts";

function readRunFile(path: string): string {
  let id: string;
  try {
    id = Deno.readTextFileSync(path).trim();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new UserError(`--run-file ${path}: not there (run train --run-file ${path} first)`);
    }
    if (e instanceof Deno.errors.IsADirectory || isFolder(path)) {
      throw new UserError(`--run-file ${path}: is a folder; name the file train --run-file wrote`);
    }
    throw new UserError(`--run-file ${path}: ${describeFsError(e, path, "read")}`);
  }
  if (!id) throw new UserError(`--run-file ${path}: empty`);
  return id;
}

/** The run id; `latest` is looked up in the model's experiment, with a way out when it holds none. */
async function resolveRun(
  store: TrackingStore,
  ref: string,
  experiment: string,
  name: string,
): Promise<string> {
  try {
    return await store.resolveRunId(ref, experiment, "model");
  } catch (e) {
    if (!(e instanceof UserError) || ref.trim() !== "latest") throw e;
    throw new UserError(
      `no finished run with a model in experiment '${experiment}', the experiment of model '${name}' ` +
        `(train files a --data run under the file's name: register it with --name <that name>, or give --run <id>)`,
    );
  }
}

export const spec = defineTask({
  name: "register",
  description:
    "Register a run's model artifact as the next version of a named model. The model's promotion\n" +
    "gates (registry.models.<name>.gates; registry.gates for registry.model_name; else by task kind) are\n" +
    "checked whenever the version would become @champion or Production; a failing version is still\n" +
    "registered, as a candidate.",
  options: {
    run: {
      type: "string",
      description:
        "run id, unique prefix, or 'latest' (default: the latest finished run with a model in the model's experiment)",
      valueName: "id",
    },
    "run-file": {
      type: "string",
      description: "read the run id from this file (as written by train --run-file)",
      valueName: "file",
    },
    name: {
      type: "string",
      description:
        "model name (default: the model name the run was trained as; for latest, registry.model_name)",
      valueName: "model",
    },
    alias: {
      type: "string",
      multiple: true,
      description: "set an alias, e.g. champion (repeatable)",
      valueName: "alias",
    },
    stage: {
      type: "string",
      description: "move to a stage: Production, Staging, Archived",
      valueName: "stage",
    },
    force: { type: "boolean", description: "promote even when the gates fail (needs --reason)" },
    reason: { type: "string", description: "why --force was needed (recorded)", valueName: "text" },
    "if-new": {
      type: "boolean",
      description: "do nothing when the run is already registered under this name",
    },
    "allow-schema-change": {
      type: "boolean",
      description:
        "take a version whose input columns differ from the latest version's (added, removed, retyped); recorded",
    },
  },
  async run(ctx) {
    const config = ctx.config;
    const v = ctx.values;
    const stage = typeof v.stage === "string" ? parseStage(v.stage) : undefined;
    if (v.run !== undefined && v["run-file"] !== undefined) {
      throw new UserError("give --run or --run-file, not both");
    }
    const runRef = v["run-file"] !== undefined ? readRunFile(v["run-file"]) : v.run ?? "latest";
    const store = await TrackingStore.open(trackingLocation(config));
    try {
      // a named run is registered under the model name train gave it (a --data run's is the file's
      // stem), not the example's registry.model_name; `latest` looks in that model's experiment
      const named = runRef.trim() !== "latest" && v.name === undefined
        ? await store.getRun(await store.resolveRunId(runRef, undefined, "model"))
        : undefined;
      const name = v.name ?? named?.tags["orchard.model_name"] ?? config.registry.model_name;
      const runId = named?.runId ?? await resolveRun(store, runRef, modelExperiment(config, name), name);
      const run = named ?? await store.getRun(runId);
      const registry = await ModelRegistry.open(store, {
        modelsDir: config.paths.models,
        gates: modelSettings(config, name, taskKindOf(run)).gates,
      });
      return await registry.register({
        runId,
        name,
        alias: v.alias ?? [],
        stage,
        force: Boolean(v.force),
        reason: v.reason,
        ifNew: Boolean(v["if-new"]),
        allowSchemaChange: Boolean(v["allow-schema-change"]),
      });
    } finally {
      await store.close();
    }
  },
  summary: registerSummary,
});

if (import.meta.main) await main(spec);
