/**
 * `deno task notebooks:strip [--check] [notebook.ipynb ...]`: removes outputs,
 * execution counts and run metadata from the notebooks so they are committed
 * clean. `--check` changes nothing and fails if any notebook carries outputs.
 */
import { basename } from "node:path";
import { defineTask, main } from "../src/cli/task.ts";
import { UserError } from "../src/core/errors.ts";
import { writeTextAtomic } from "../src/core/atomic.ts";
import {
  listNotebooks,
  parseNotebook,
  readNotebookText,
  serializeNotebook,
  stripNotebook,
  unstrippedParts,
} from "../src/notebooks/nbformat.ts";

interface Result {
  checked: number;
  stripped: string[];
  dirty: string[];
}

export const spec = defineTask({
  name: "notebooks:strip",
  description: "Strip outputs and execution counts from the notebooks (--check: fail if any has outputs)",
  usage: "notebooks:strip [--check] [notebook.ipynb ...]",
  positionals: true,
  options: {
    check: { type: "boolean", description: "change nothing; fail if any notebook has outputs" },
    "notebooks-dir": { type: "string", description: "default notebooks", valueName: "dir" },
  },
  run(ctx) {
    const paths = ctx.positionals.length > 0
      ? ctx.positionals
      : listNotebooks(String(ctx.values["notebooks-dir"] ?? "notebooks"));
    const stripped: string[] = [];
    const dirty: string[] = [];
    for (const path of paths) {
      const text = readNotebookText(path);
      const nb = parseNotebook(text, path);
      const problems = unstrippedParts(nb);
      if (ctx.values.check) {
        if (problems.length > 0) {
          dirty.push(
            `${path}: ${problems[0]}${problems.length > 1 ? ` (+${problems.length - 1} more)` : ""}`,
          );
        }
        continue;
      }
      const clean = serializeNotebook(stripNotebook(nb));
      if (clean !== text) {
        writeTextAtomic(path, clean);
        stripped.push(basename(path));
      }
    }
    if (dirty.length > 0) {
      throw new UserError(
        `${dirty.length} notebook(s) have outputs; run deno task notebooks:strip: ${dirty.join("; ")}`,
        1,
      );
    }
    return { checked: paths.length, stripped, dirty };
  },
  summary: (r) =>
    r.stripped.length > 0
      ? `notebooks:strip: stripped ${r.stripped.join(", ")} (${r.checked} checked)`
      : `notebooks:strip: ${r.checked} notebooks clean`,
});

if (import.meta.main) await main(spec);
