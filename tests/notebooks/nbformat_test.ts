import assert from "node:assert/strict";
import { join } from "node:path";
import { UserError } from "@/core/errors.ts";
import {
  cellErrors,
  chartCount,
  describeCellError,
  findProjectRoot,
  listNotebooks,
  type Notebook,
  notebookEnv,
  parseNotebook,
  readNotebookText,
  serializeNotebook,
  stripNotebook,
  unstrippedParts,
} from "@/notebooks/nbformat.ts";

function executed(): Notebook {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: "deno" }, language_info: { name: "typescript", version: "6.0.3" } },
    cells: [
      { cell_type: "markdown", id: "m1", metadata: {}, source: ["# Title"] },
      {
        cell_type: "code",
        id: "c1",
        metadata: { execution: { "iopub.status.busy": "2026-01-01T00:00:00Z" }, tags: ["keep"] },
        source: ["const x = 1;\n", "x"],
        execution_count: 1,
        outputs: [{ output_type: "execute_result", data: { "text/plain": "1" }, metadata: {} }],
      },
      {
        cell_type: "code",
        id: "c2",
        metadata: {},
        source: "\nchart(roc)",
        execution_count: 2,
        outputs: [{
          output_type: "display_data",
          data: { "image/svg+xml": ["<svg>", "</svg>"] },
          metadata: {},
        }],
      },
      {
        cell_type: "code",
        id: "c3",
        metadata: {},
        source: "grid([a, b])",
        execution_count: 3,
        outputs: [{
          output_type: "display_data",
          data: { "text/html": ["<div><svg ", "viewBox='0 0 1 1'/></div>"] },
        }],
      },
    ],
  };
}

Deno.test("stripNotebook removes outputs, counts and run metadata, and keeps the rest", () => {
  const nb = executed();
  const clean = stripNotebook(nb);
  assert.deepEqual(unstrippedParts(clean), []);
  const code = clean.cells.filter((c) => c.cell_type === "code");
  assert.ok(code.every((c) => c.outputs?.length === 0 && c.execution_count === null));
  assert.deepEqual(clean.cells[1].metadata, { tags: ["keep"] }, "user metadata survives, timestamps go");
  assert.equal(clean.metadata.language_info, undefined);
  assert.deepEqual(clean.metadata.kernelspec, { name: "deno" });
  assert.deepEqual(clean.cells.map((c) => c.source), nb.cells.map((c) => c.source));
  assert.deepEqual(clean.cells.map((c) => c.id), ["m1", "c1", "c2", "c3"]);
  assert.equal(clean.cells[0].outputs, undefined, "markdown cells get no outputs key");
  assert.equal(nb.cells[1].outputs?.length, 1, "the input is not mutated");
  const text = serializeNotebook(clean);
  assert.equal(serializeNotebook(stripNotebook(parseNotebook(text, "x.ipynb"))), text, "idempotent");
  assert.ok(text.endsWith("}\n") && text.startsWith('{\n "cells"'));
});

Deno.test("unstrippedParts names the cells with outputs or counts", () => {
  assert.deepEqual(unstrippedParts(executed()), [
    "cell 2 has outputs",
    "cell 2 has an execution count",
    "cell 3 has outputs",
    "cell 3 has an execution count",
    "cell 4 has outputs",
    "cell 4 has an execution count",
  ]);
});

Deno.test("chartCount counts SVG images and HTML holding an <svg>", () => {
  assert.equal(chartCount(executed()), 2);
  assert.equal(chartCount(stripNotebook(executed())), 0);
  const nb = executed();
  nb.cells[1].outputs = [{ output_type: "display_data", data: { "text/html": "<p>svgs are nice</p>" } }];
  assert.equal(chartCount(nb), 2, "the word svg is not a chart");
});

Deno.test("cellErrors finds error outputs and describes them in one line", () => {
  const nb = executed();
  nb.cells[2].outputs!.push({
    output_type: "error",
    ename: "\x1b[31mTypeError\x1b[0m",
    evalue: "x is not a function\nmore detail",
    traceback: [],
  });
  const errs = cellErrors(nb);
  assert.equal(errs.length, 1);
  assert.deepEqual(errs[0], {
    cell: 3,
    id: "c2",
    ename: "TypeError",
    evalue: "x is not a function",
    firstLine: "chart(roc)",
  });
  const line = describeCellError("03_model_experiments.ipynb", errs[0]);
  assert.equal(
    line,
    "03_model_experiments.ipynb cell 3 (id c2) failed: TypeError: x is not a function [at: chart(roc)]",
  );
  assert.ok(!line.includes("\n"));
  assert.deepEqual(cellErrors(executed()), []);
});

Deno.test("parseNotebook rejects what is not an nbformat 4 notebook with a UserError", () => {
  assert.throws(
    () => parseNotebook("{", "a.ipynb"),
    (e) => e instanceof UserError && /a\.ipynb: not a notebook/.test(e.message),
  );
  assert.throws(() => parseNotebook("[]", "b.ipynb"), /b\.ipynb: not a notebook/);
  assert.throws(() => parseNotebook('{"cells":[],"nbformat":3}', "c.ipynb"), /nbformat 3 is not supported/);
  assert.throws(() => parseNotebook('{"cells":[{}],"nbformat":4}', "d.ipynb"), /cell 1 is malformed/);
  assert.equal(parseNotebook('{"cells":[],"nbformat":4}', "e.ipynb").nbformat_minor, 5);
});

Deno.test("notebookEnv: headless runs write under ORCHARD_NOTEBOOK_DIR, with their own store", () => {
  const root = Deno.makeTempDirSync();
  const prev = Deno.env.get("ORCHARD_NOTEBOOK_DIR");
  try {
    Deno.writeTextFileSync(join(root, "deno.json"), "{}");
    Deno.writeTextFileSync(join(root, "params.yaml"), "tracking:\n  store: models/x.db\n");
    Deno.mkdirSync(join(root, "notebooks"));
    assert.equal(findProjectRoot(join(root, "notebooks")), root);

    Deno.env.delete("ORCHARD_NOTEBOOK_DIR");
    const interactive = notebookEnv("01_eda", join(root, "notebooks"));
    assert.equal(interactive.headless, false);
    assert.equal(interactive.workDir, join(root, "data", "notebooks", "01_eda"));
    assert.equal(interactive.trackingStore, join(root, "models", "x.db"));
    assert.ok(Deno.statSync(interactive.workDir).isDirectory);

    const scratch = join(root, "scratch");
    Deno.env.set("ORCHARD_NOTEBOOK_DIR", scratch);
    const headless = notebookEnv("01_eda", join(root, "notebooks"));
    assert.equal(headless.headless, true);
    assert.equal(headless.workDir, join(scratch, "01_eda"));
    assert.equal(headless.trackingStore, join(scratch, "01_eda", "orchard.db"));
  } finally {
    if (prev === undefined) Deno.env.delete("ORCHARD_NOTEBOOK_DIR");
    else Deno.env.set("ORCHARD_NOTEBOOK_DIR", prev);
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("workspaceConfig moves every path under the work directory and keeps the rest", async () => {
  const { ConfigSchema } = await import("@/config/schema.ts");
  const { workspaceConfig } = await import("@/notebooks/nbformat.ts");
  const cfg = ConfigSchema.parse({ model: { n_estimators: 7 }, training_set: { feature_service: "churn" } });
  const w = workspaceConfig(cfg, "/tmp/w");
  // no feature store or label history in the workspace: its feature table is trained on
  assert.equal(w.training_set.feature_service, null);
  for (const [k, v] of Object.entries(w.paths)) assert.ok(v.startsWith("/tmp/w/"), `paths.${k} = ${v}`);
  assert.equal(w.data.sources.customers.path, "/tmp/w/raw/customers.csv");
  assert.equal(w.data.sources.transactions.path, "/tmp/w/raw/transactions.json");
  assert.equal(w.tracking.store, "/tmp/w/orchard.db");
  assert.equal(w.tracking.experiment, cfg.tracking.experiment);
  assert.equal(w.model.n_estimators, 7);
  assert.deepEqual(ConfigSchema.parse(w), w, "still a valid config");
  assert.equal(cfg.paths.raw, "data/raw", "the input config is untouched");
});

Deno.test("cellsMissingOutput finds show() cells whose output the kernel dropped", async () => {
  const { cellsMissingOutput } = await import("@/notebooks/nbformat.ts");
  const nb = executed();
  nb.cells[2].source = "await show(chart(roc));";
  nb.cells[3].source = ["const x = 1;\n", "await show(x);"];
  assert.deepEqual(cellsMissingOutput(nb), []);
  nb.cells[3].outputs = [];
  assert.deepEqual(cellsMissingOutput(nb), [4]);
  nb.cells[1].outputs = []; // no show(): an empty output is fine
  assert.deepEqual(cellsMissingOutput(nb), [4]);
  assert.deepEqual(cellsMissingOutput(stripNotebook(nb)), [3, 4]);
});

Deno.test("notebookModuleSource joins the code cells in order, headed by their position", async () => {
  const { notebookModuleSource } = await import("@/notebooks/nbformat.ts");
  const src = notebookModuleSource(executed());
  assert.equal(
    src,
    "// --- cell 2 (id c1)\nconst x = 1;\nx\n\n// --- cell 3 (id c2)\n\nchart(roc)\n\n" +
      "// --- cell 4 (id c3)\ngrid([a, b])\nexport {};\n",
  );
  assert.ok(!src.includes("# Title"), "markdown cells are left out");
});

Deno.test("displayCount counts the display_data outputs show() published", async () => {
  const { displayCount } = await import("@/notebooks/nbformat.ts");
  const nb = executed();
  for (const c of nb.cells) c.outputs = c.cell_type === "code" ? [] : c.outputs;
  assert.equal(displayCount(nb), 0);
  nb.cells[2].outputs = [
    { output_type: "display_data", data: { "text/html": "<b>1</b>" }, metadata: {} },
    { output_type: "stream", name: "stdout", text: "log line" },
    { output_type: "execute_result", data: { "text/plain": "1" }, metadata: {} },
    { output_type: "display_data", data: { "image/svg+xml": "<svg/>" }, metadata: {} },
  ];
  assert.equal(displayCount(nb), 2);
  assert.equal(displayCount(stripNotebook(nb)), 0);
});

Deno.test("listNotebooks: only .ipynb files, sorted; a missing directory or file is a one-line UserError", () => {
  const dir = Deno.makeTempDirSync({ prefix: "nb_list_" });
  try {
    for (const name of ["b.ipynb", "a.ipynb", "notes.txt"]) Deno.writeTextFileSync(join(dir, name), "{}");
    Deno.mkdirSync(join(dir, "c.ipynb")); // a directory, not a notebook
    assert.deepEqual(listNotebooks(dir), [join(dir, "a.ipynb"), join(dir, "b.ipynb")]);
    assert.throws(
      () => listNotebooks(join(dir, "nope")),
      (e) => e instanceof UserError && /no notebooks directory/.test(e.message),
    );
    assert.throws(
      () => readNotebookText(join(dir, "nope.ipynb")),
      (e) => e instanceof UserError && /file not found$/.test(e.message),
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
