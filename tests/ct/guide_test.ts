/**
 * docs/guides/notebook-to-production.md runs as written in a fresh clone after
 * `deno task pipeline`: every data file its commands name (`--data`,
 * `--validation`, `--reference`, `--current`, `--input`) is one a pipeline
 * stage writes (a task's `output` in deno.json), not a file the reader does
 * not have. tests/docs/commands_test.ts checks tasks and repo paths; data/ is
 * generated, so it is checked here against what the stages declare.
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const GUIDE = "docs/guides/notebook-to-production.md";

/** The files the pipeline's stages declare as their outputs. */
function pipelineOutputs(): Set<string> {
  const tasks = JSON.parse(Deno.readTextFileSync(join(ROOT, "deno.json"))).tasks as Record<
    string,
    { output?: string[] } | string
  >;
  return new Set(Object.values(tasks).flatMap((t) => (typeof t === "object" && t.output) || []));
}

/** `--flag FILE` pairs of the `deno task` lines in the guide's code blocks. */
export function dataFilesOf(markdown: string): { line: number; flag: string; file: string }[] {
  const out: { line: number; flag: string; file: string }[] = [];
  let fence = false;
  markdown.split("\n").forEach((text, i) => {
    if (/^\s*```/.test(text)) fence = !fence;
    else if (fence && /\bdeno task\b/.test(text)) {
      const code = text.replace(/\s#.*$/, "");
      for (const m of code.matchAll(/--(data|validation|reference|current|input)[\s=]+(\S+)/g)) {
        out.push({ line: i + 1, flag: m[1], file: m[2] });
      }
    }
  });
  return out;
}

Deno.test("the guide's data flags are read from its code blocks", () => {
  const md = "text --data nope.csv\n```sh\ndeno task ct --data data/a.csv --target y  # --data b.csv\n```\n";
  assert.deepEqual(dataFilesOf(md), [{ line: 3, flag: "data", file: "data/a.csv" }]);
});

Deno.test("notebook-to-production guide: every data file its commands name is one the pipeline writes", () => {
  const outputs = pipelineOutputs();
  assert.ok(outputs.has("data/processed/train.csv"), "deno.json declares the stages' outputs");
  const missing = dataFilesOf(Deno.readTextFileSync(join(ROOT, GUIDE)))
    .filter((f) => !outputs.has(f.file))
    .map((f) => `${GUIDE}:${f.line}: --${f.flag} ${f.file} is not written by any pipeline stage`);
  assert.deepEqual(missing, []);
});
