/**
 * `deno task notebooks [notebook.ipynb ...]`: runs every notebook under
 * notebooks/ headless on the Deno Jupyter kernel and writes the executed copies
 * to reports/notebooks/ (see src/report/notebook_runner.ts).
 */
import { main } from "../src/cli/task.ts";
import { type NotebooksResult, notebooksSummary, runNotebooks } from "../src/notebooks/runner.ts";

main<NotebooksResult>({
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
      notebooksDir: ctx.values["notebooks-dir"] as string | undefined,
      outputDir: ctx.values["output-dir"] as string | undefined,
      timeout: ctx.values.timeout as string | undefined,
    }),
  summary: notebooksSummary,
});
