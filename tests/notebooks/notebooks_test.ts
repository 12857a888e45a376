/**
 * The notebooks themselves: committed without outputs, and (where Jupyter is
 * installed) executed headless on the Deno kernel by `deno task notebooks`,
 * each showing at least one chart. Where Jupyter is missing the kernel tests
 * are ignored and say why.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { chartCount, notebookModuleSource, readNotebook, serializeNotebook } from "@/notebooks/nbformat.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const NOTEBOOKS = ["01_eda.ipynb", "02_feature_engineering_experiments.ipynb", "03_model_experiments.ipynb"];

const hasJupyter = new Deno.Command("sh", { args: ["-c", "command -v jupyter-nbconvert"], stdout: "null" })
  .outputSync().success;
if (!hasJupyter) {
  console.log(
    "tests/notebooks: SKIPPING the kernel runs: jupyter-nbconvert is not installed " +
      "(apt-get install -y jupyter-nbconvert jupyter-client)",
  );
}

async function denoTask(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), { args: ["task", "-q", ...args], cwd: ROOT }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

function scratchUnderReports(tag: string): string {
  // the notebooks task may only write under reports/
  const dir = join(ROOT, "reports", `.test-${tag}-${Deno.pid}`);
  Deno.mkdirSync(dir, { recursive: true });
  return dir;
}

Deno.test("the three notebooks exist and are committed without outputs", async () => {
  for (const name of NOTEBOOKS) {
    const nb = readNotebook(join(ROOT, "notebooks", name));
    assert.equal(nb.metadata.kernelspec && (nb.metadata.kernelspec as { name: string }).name, "deno", name);
    assert.ok(nb.cells.some((c) => c.cell_type === "markdown"), `${name} has narrative`);
  }
  const r = await denoTask(["notebooks:strip", "--check"]);
  assert.equal(r.code, 0, r.stderr);
});

Deno.test("every notebook type-checks against the current src API (no kernel needed)", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    const files = NOTEBOOKS.map((name) => {
      const file = join(dir, name.replace(/\.ipynb$/, ".ts"));
      Deno.writeTextFileSync(file, notebookModuleSource(readNotebook(join(ROOT, "notebooks", name))));
      return file;
    });
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["check", "--quiet", "--config", join(ROOT, "deno.json"), ...files],
      cwd: ROOT,
    }).output();
    // deno-lint-ignore no-control-regex
    const msg = new TextDecoder().decode(out.stderr).replace(/\x1b\[[0-9;]*m/g, "");
    assert.equal(out.code, 0, msg.split("\n").filter((l) => /ERROR|at file/.test(l)).slice(0, 6).join("\n"));
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test({
  name: "notebooks:strip --check fails on a notebook with outputs, and strip cleans it",
  async fn() {
    const dir = Deno.makeTempDirSync();
    try {
      const path = join(dir, "x.ipynb");
      Deno.writeTextFileSync(
        path,
        serializeNotebook({
          nbformat: 4,
          nbformat_minor: 5,
          metadata: {},
          cells: [{
            cell_type: "code",
            id: "a",
            metadata: {},
            source: "1",
            execution_count: 1,
            outputs: [{ output_type: "execute_result", data: { "text/plain": "1" }, metadata: {} }],
          }],
        }),
      );
      // the strip task writes only under notebooks/, so drive it through deno run with this dir allowed
      const run = (extra: string[]) =>
        new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            `--allow-read=${ROOT},${dir}`,
            `--allow-write=${dir}`,
            "--allow-env=LOG_TOKENS,LOG_STREAM",
            join(ROOT, "tasks/notebooks_strip.ts"),
            ...extra,
            path,
          ],
          cwd: ROOT,
        }).output();
      const check = await run(["--check"]);
      assert.equal(check.code, 1);
      const msg = new TextDecoder().decode(check.stderr).trim();
      assert.match(msg, /x\.ipynb: cell 1 has outputs/);
      assert.equal(msg.split("\n").length, 1, "one line");
      const strip = await run([]);
      assert.equal(strip.code, 0);
      assert.equal((await run(["--check"])).code, 0);
      const nb = readNotebook(path);
      assert.deepEqual(nb.cells[0].outputs, []);
      assert.equal(nb.cells[0].execution_count, null);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "deno task notebooks fails with one line naming the notebook and the cell",
  ignore: !hasJupyter,
  async fn() {
    const nbDir = Deno.makeTempDirSync();
    const out = scratchUnderReports("nbfail");
    try {
      Deno.writeTextFileSync(
        join(nbDir, "broken.ipynb"),
        serializeNotebook({
          nbformat: 4,
          nbformat_minor: 5,
          metadata: { kernelspec: { name: "deno", display_name: "Deno", language: "typescript" } },
          cells: [
            {
              cell_type: "code",
              id: "ok-cell",
              metadata: {},
              source: "const a = 1;",
              execution_count: null,
              outputs: [],
            },
            {
              cell_type: "code",
              id: "bad-cell",
              metadata: {},
              source: "// no such thing\nundefinedFunction(a)",
              execution_count: null,
              outputs: [],
            },
          ],
        }),
      );
      const r = await denoTask(["notebooks", "--notebooks-dir", nbDir, "--output-dir", out]);
      assert.equal(r.code, 1);
      const lines = r.stderr.trim().split("\n").filter((l) => !l.startsWith("notebooks: installed"));
      assert.equal(lines.length, 1, r.stderr);
      assert.match(
        lines[0],
        /^notebooks: broken\.ipynb cell 2 \(id bad-cell\) failed: ReferenceError: .*undefinedFunction/,
      );
    } finally {
      Deno.removeSync(nbDir, { recursive: true });
      Deno.removeSync(out, { recursive: true });
    }
  },
});

Deno.test({
  name: "deno task notebooks runs every notebook on the Deno kernel, each showing a chart",
  ignore: !hasJupyter,
  async fn() {
    const out = scratchUnderReports("nbrun");
    try {
      const r = await denoTask(["notebooks", "--output-dir", out, "--json"]);
      assert.equal(r.code, 0, r.stderr);
      const result = JSON.parse(r.stdout) as { notebooks: { notebook: string; charts: number }[] };
      assert.deepEqual(result.notebooks.map((n) => n.notebook), NOTEBOOKS);
      for (const name of NOTEBOOKS) {
        const executed = readNotebook(join(out, name));
        assert.ok(chartCount(executed) >= 1, `${name} shows a chart`);
        assert.ok(executed.cells.every((c) => !(c.outputs ?? []).some((o) => o.output_type === "error")));
      }
      // the committed notebooks stay clean: nothing was written back
      assert.equal((await denoTask(["notebooks:strip", "--check"])).code, 0);
    } finally {
      Deno.removeSync(out, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "deno task notebooks detects a dropped show() output, retries with longer pauses, then fails in one line",
  ignore: !hasJupyter,
  async fn() {
    const nbDir = Deno.makeTempDirSync();
    const out = scratchUnderReports("nbdrop");
    try {
      // the cell tallies one value as shown without displaying it: exactly what a dropped output looks like
      Deno.writeTextFileSync(
        join(nbDir, "dropping.ipynb"),
        serializeNotebook({
          nbformat: 4,
          nbformat_minor: 5,
          metadata: { kernelspec: { name: "deno", display_name: "Deno", language: "typescript" } },
          cells: [{
            cell_type: "code",
            id: "drop",
            metadata: {},
            source: 'const t = Deno.env.get("ORCHARD_SHOW_TALLY");\n' +
              'if (t) Deno.writeTextFileSync(t, "shown\\n", { append: true });',
            execution_count: null,
            outputs: [],
          }],
        }),
      );
      const r = await denoTask(["notebooks", "--notebooks-dir", nbDir, "--output-dir", out]);
      assert.equal(r.code, 1, r.stderr);
      const lines = r.stderr.trim().split("\n").filter((l) => !l.startsWith("notebooks: installed"));
      assert.match(lines[0], /dropping\.ipynb: the kernel dropped 1 of 1 shown outputs; .* 250 ms pause/);
      assert.match(lines[1], /1000 ms pause/);
      assert.match(
        lines[2],
        /^notebooks: dropping\.ipynb: the kernel dropped 1 of 1 shown outputs, even with/,
      );
      assert.equal(lines.length, 3, r.stderr);
    } finally {
      Deno.removeSync(nbDir, { recursive: true });
      Deno.removeSync(out, { recursive: true });
    }
  },
});
