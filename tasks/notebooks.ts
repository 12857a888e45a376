/**
 * `deno task notebooks [notebook.ipynb ...]`: runs every notebook under
 * notebooks/ headless on the Deno Jupyter kernel and writes the executed copies
 * to reports/notebooks/ (see src/report/notebook_runner.ts).
 */
import { defineTask, main } from "../src/cli/task.ts";
import { notebooksSummary, runNotebooks } from "../src/notebooks/runner.ts";

export const spec = defineTask({
  name: "notebooks",
  description:
    "Run every notebook in notebooks/ headless on the Deno Jupyter kernel (nbconvert); fail on any cell " +
    "error or a notebook without a chart. Executed copies go to --output-dir.",
  usage: "notebooks [options] [notebook.ipynb ...]",
  positionals: true,
  options: {
    "output-dir": {
      type: "string",
      description: "where the executed notebooks go (default reports/notebooks)",
      valueName: "dir",
    },
    "notebooks-dir": {
      type: "string",
      description: "where the notebooks are (default notebooks)",
      valueName: "dir",
    },
    timeout: {
      type: "string",
      description: "per-cell timeout in seconds (default 300)",
      valueName: "seconds",
    },
  },
  run: (ctx) =>
    runNotebooks({
      notebooks: ctx.positionals,
      notebooksDir: ctx.values["notebooks-dir"],
      outputDir: ctx.values["output-dir"],
      timeout: ctx.values.timeout,
    }),
  summary: notebooksSummary,
});

if (import.meta.main) await main(spec);
