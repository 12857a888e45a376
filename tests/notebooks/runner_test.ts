import { equal, rejects } from "node:assert/strict";
import { join } from "node:path";
import { notebooksSummary, runNotebooks } from "../../src/notebooks/runner.ts";

// Input checks happen before any kernel starts, so these need no Jupyter.
Deno.test("runNotebooks refuses bad options in one line before starting a kernel", async () => {
  const dir = Deno.makeTempDirSync();
  await rejects(runNotebooks({ notebooksDir: dir, outputDir: dir }), /would overwrite the notebooks/);
  const out = join(dir, "out");
  await rejects(
    runNotebooks({ notebooksDir: dir, outputDir: out, timeout: "0" }),
    /--timeout 0: expected a positive/,
  );
  await rejects(runNotebooks({ notebooksDir: dir, outputDir: out, timeout: "1.5" }), /--timeout 1.5/);
  await rejects(runNotebooks({ notebooksDir: dir, outputDir: out }), /no \.ipynb files/);
  Deno.writeTextFileSync(join(dir, "notes.txt"), "x");
  await rejects(
    runNotebooks({ notebooks: [join(dir, "notes.txt")], outputDir: out }),
    /not a \.ipynb notebook/,
  );
});

Deno.test("notebooksSummary lists each notebook and the total", () => {
  const text = notebooksSummary({
    kernel: { argv0: "deno", installed: false },
    notebooks: [{ notebook: "a.ipynb", output: "o/a.ipynb", seconds: 1.25, cells: 3, charts: 2 }],
    outputDir: "o",
    seconds: 2,
  });
  equal(text.split("\n").length, 2);
  equal(text.split("\n")[1], "notebooks: 1 ran without errors in 2.0 s -> o");
});
