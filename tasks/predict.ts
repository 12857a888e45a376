/**
 * `deno task predict --model <uri> --input <file> --output <file>`: scores a
 * CSV/JSON/NDJSON/Parquet file through the same code path as the service and
 * writes the input plus prediction and probability columns (format by the
 * output's extension, written atomically). `--explain` adds each record's SHAP
 * base value and top contributions (shap_* columns, src/serve/batch.ts).
 */
import { defineTask, main } from "../src/cli/task.ts";
import { UserError } from "../src/core/errors.ts";
import { trackingLocation } from "../src/config/paths.ts";
import { predictFile } from "../src/serve/batch.ts";
import { loadPlugins } from "../src/models/engines/registry.ts";
import { DEFAULT_TOP, MAX_TOP } from "../src/serve/explain.ts";

export const spec = defineTask({
  name: "predict",
  description:
    "Score a file with a registered model (or an artifact directory), through the service's code path.",
  options: {
    model: { type: "string", description: "model URI (default serve.model_uri)", valueName: "uri" },
    input: {
      type: "string",
      description: "records to score (.csv, .tsv, .json, .ndjson, .parquet)",
      valueName: "file",
    },
    output: {
      type: "string",
      description: "where to write the scored records (format by extension)",
      valueName: "file",
    },
    explain: {
      type: "boolean",
      description:
        "add each record's SHAP base value and top contributions: shap_base_value, shap_top<k>_column, _value, _contribution",
    },
    overwrite: {
      type: "boolean",
      description:
        "replace an existing --output that no earlier predict wrote (one without a prediction column)",
    },
    "explain-top": {
      type: "string",
      description: `with --explain: contributions per record, 1 to ${MAX_TOP} (default ${DEFAULT_TOP})`,
      valueName: "n",
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
    const topText = ctx.values["explain-top"];
    if (topText !== undefined && !ctx.values.explain) {
      throw new UserError("--explain-top applies with --explain");
    }
    const explainTop = topText === undefined ? undefined : Number(topText);
    if (
      explainTop !== undefined && !(Number.isInteger(explainTop) && explainTop >= 1 && explainTop <= MAX_TOP)
    ) {
      throw new UserError(`--explain-top ${topText}: expected a whole number from 1 to ${MAX_TOP}`);
    }
    return predictFile({
      modelUri: ctx.values.model ?? config.serve.model_uri,
      input,
      output,
      store: trackingLocation(config),
      modelsDir: config.paths.models,
      explain: ctx.values.explain ?? false,
      explainTop,
      read: config.data.read,
      overwrite: ctx.values.overwrite ?? false,
    });
  },
  summary: (r) =>
    `predict: ${r.rows} rows scored with ${r.model} version ${r.version} in ${
      r.seconds.toFixed(2)
    } s -> ${r.output}` +
    (Object.keys(r.counts).length
      ? `\n  ${Object.entries(r.counts).map(([k, v]) => `${k}: ${v}`).join(", ")}`
      : "") +
    (r.values
      ? `\n  predicted values: min ${fmt(r.values.min)}, mean ${fmt(r.values.mean)}, max ${fmt(r.values.max)}`
      : "") +
    (r.explained
      ? `\n  explained: top ${r.explained.top} SHAP contributions per record (${r.explained.scale} scale), shap_* columns`
      : ""),
});

/** a predicted value for the summary line: 4 significant digits, whole numbers as they are */
function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toPrecision(4);
}

if (import.meta.main) await main(spec);
