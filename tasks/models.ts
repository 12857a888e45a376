/**
 * `deno task models`: list registered models, inspect and compare versions,
 * and manage them: promote (gated for champion/Production), archive, rollback.
 */
import { defineTask, main } from "../src/cli/task.ts";
import { MODELS_USAGE, modelsCommand, modelsSummary } from "../src/registry/commands.ts";

export const spec = defineTask({
  name: "models",
  description: "List registered models with their versions, aliases, stage, key metrics and gate\n" +
    "results; show, compare, promote, archive and roll back versions.",
  usage: MODELS_USAGE,
  positionals: true,
  options: {
    alias: {
      type: "string",
      description: "promote/rollback: the alias (default champion)",
      valueName: "alias",
    },
    stage: {
      type: "string",
      description: "promote: move to a stage instead (Production, Staging, ...)",
      valueName: "stage",
    },
    force: {
      type: "boolean",
      description: "promote despite failing gates (needs --reason); archive an aliased version",
    },
    reason: { type: "string", description: "why --force was needed (recorded)", valueName: "text" },
  },
  run: (ctx) => modelsCommand(ctx.config, ctx.positionals, ctx.values),
  summary: modelsSummary,
});

if (import.meta.main) await main(spec);
