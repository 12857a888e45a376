/**
 * The CLI reference renderer: what each kind of deno.json task becomes on the
 * page (a task with a spec, a second task running the same script, a plain
 * command), and that text from descriptions stays literal in Markdown.
 */
import assert from "node:assert/strict";
import { permissionsOf, renderCliReference, scriptOf } from "../../src/cli/reference.ts";
import type { TaskShape } from "../../src/cli/task.ts";

const demo: TaskShape = {
  name: "demo",
  description: "Does a demo into out/<run>/.",
  options: {
    rows: { type: "string", description: "row count", valueName: "n" },
    tag: { type: "string", multiple: true, description: "a tag", valueName: "a|b" },
    quick: { type: "boolean", short: "q", description: "files like *.csv" },
  },
};

const page = renderCliReference(
  {
    demo: { description: "A demo", command: "deno run --allow-read=. --allow-write=out tasks/demo.ts" },
    "demo:again": { description: "The demo again", command: "deno run --allow-read=. tasks/demo.ts --quick" },
    chain: { command: "echo done", dependencies: ["demo"], files: ["tasks/demo.ts"], output: ["out/x"] },
    plain: "deno fmt",
  },
  { "tasks/demo.ts": demo },
);

Deno.test("a task with a spec: usage, its own options, permissions; common options once", () => {
  assert.match(page, /## demo\n\nA demo\.\n\n```\ndeno task demo \[options\]\n```/);
  assert.match(page, /\| `--rows <n>` \| row count \|/);
  assert.match(
    page,
    /\| `--tag <a\\\|b>` \| a tag \(repeatable\) \|/,
    "a pipe is escaped inside the code span",
  );
  assert.match(page, /\| `-q, --quick` \| files like \\\*\.csv \|/);
  assert.match(page, /Permissions: `--allow-read=\.` `--allow-write=out`\./);
  assert.equal(page.match(/\| `--config <file>` \|/g)?.length, 1, "the common options are documented once");
  assert.match(page, /Does a demo into out\/&lt;run>\/\./, "<run> would be an HTML tag");
});

Deno.test("a second task on the same script points at the first; plain commands show what they run", () => {
  const again = page.slice(page.indexOf("## demo:again"), page.indexOf("## chain"));
  assert.match(again, /```\ndeno run --allow-read=\. tasks\/demo\.ts --quick\n```/);
  assert.match(again, /Takes the options of \[`demo`\]\(#demo\)\./);
  assert.ok(!again.includes("--rows"), "the options are not repeated");
  assert.match(page, /## chain\n\nRuns:\n\n```\necho done\n```\n\nRuns first: `demo`\./);
  assert.match(
    page,
    /Cached: skipped while these inputs are unchanged: `tasks\/demo\.ts`; outputs `out\/x`\./,
  );
  assert.match(page, /## plain\n\nRuns:\n\n```\ndeno fmt\n```\n$/);
});

Deno.test("the index links every task by its GitHub anchor", () => {
  assert.match(page, /\| \[`demo:again`\]\(#demoagain\) \| The demo again \|/);
  assert.match(page, /\| \[`plain`\]\(#plain\) \| {2}\|/);
});

Deno.test("scriptOf and permissionsOf read a deno run command", () => {
  assert.equal(scriptOf("deno run --allow-read tasks/train.ts --run-file x"), "tasks/train.ts");
  assert.equal(scriptOf("deno task train"), undefined);
  assert.deepEqual(permissionsOf("deno run --unstable-cron --allow-read=. --allow-ffi tasks/x.ts --once"), [
    "--allow-read=.",
    "--allow-ffi",
  ]);
  assert.deepEqual(permissionsOf("bash bench/serve.sh"), []);
});
