/**
 * `deno task predict --model <uri> --input <file> --output <file>`: scores a
 * CSV/JSON/NDJSON/Parquet file through the same code path as the service and
 * writes the input plus prediction and probability columns (format by the
 * output's extension, written atomically).
 */
import { defineTask, main } from "../src/cli/task.ts";
import { UserError } from "../src/core/errors.ts";
import { trackingLocation } from "../src/config/paths.ts";
import { predictFile } from "../src/serve/batch.ts";
import { loadPlugins } from "../src/models/engines/registry.ts";

export const spec = defineTask({
  name: "predict",
  description:
    "Score a file with a registered model (or an artifact directory), through the service's code path.",
  options: {
    model: { type: "string", description: "model URI (default serve.model_uri)", valueName: "uri" },
    input: {
      type: "string",
      description: "records to score (.csv, .json, .ndjson, .parquet)",
      valueName: "file",
    },
    output: {
      type: "string",
      description: "where to write the scored records (format by extension)",
      valueName: "file",
    },
  },
  // deno.json keeps --allow-write=data,models rather than all of the disk: the task is
  // the service's batch twin, and its description promises the output under data/. An
  // --output elsewhere is refused here, before the model is loaded or a row scored.
  writes: (ctx) => [ctx.values.output && { path: ctx.values.output, source: "--output" }],
  async run(ctx) {
    await loadPlugins(ctx.config.model.plugins);
    const config = ctx.config;
    const input = ctx.values.input;
    const output = ctx.values.output;
    if (!input) throw new UserError("--input <file> is required");
    if (!output) throw new UserError("--output <file> is required");
    if (!/\.(csv|json|ndjson|jsonl|parquet)$/i.test(output)) {
      throw new UserError(`--output ${output}: use a .csv, .json, .ndjson or .parquet file name`);
    }
    return predictFile({
      modelUri: ctx.values.model ?? config.serve.model_uri,
      input,
      output,
      store: trackingLocation(config),
      modelsDir: config.paths.models,
    });
  },
  summary: (r) =>
    `predict: ${r.rows} rows scored with ${r.model} version ${r.version} in ${
      r.seconds.toFixed(2)
    } s -> ${r.output}` +
    (Object.keys(r.counts).length
      ? `\n  ${Object.entries(r.counts).map(([k, v]) => `${k}: ${v}`).join(", ")}`
      : ""),
});

if (import.meta.main) await main(spec);
