/**
 * The layering rules of issue 11, checked on the real module graph: no import
 * cycles between files or between src/ folders, src/core imports nothing above
 * it, and every cached pipeline stage's `files` covers every module its task
 * imports (else a code change leaves a stale cached stage). Each check is also
 * run on a made-up graph that breaks it, so a check that cannot fail would show.
 */
import assert from "node:assert/strict";
import {
  coreViolations,
  cycles,
  folderGraph,
  globRegExp,
  type Graph,
  moduleGraph,
  ROOT,
  tsFiles,
  uncovered,
} from "./_graph.ts";

const graph = await moduleGraph([...tsFiles("src"), ...tsFiles("tasks")]);

const g = (edges: [string, string][]): Graph => {
  const out: Graph = new Map();
  for (const [a, b] of edges) out.set(a, (out.get(a) ?? new Set()).add(b));
  return out;
};

Deno.test("no import cycle between files", () => {
  const found = cycles(graph);
  assert.deepEqual(found, [], `cycles:\n${found.map((c) => "  " + c.join(" <-> ")).join("\n")}`);
});

Deno.test("no import cycle between src folders", () => {
  const found = cycles(folderGraph(graph));
  assert.deepEqual(found, [], `folder cycles:\n${found.map((c) => "  " + c.join(" <-> ")).join("\n")}`);
});

Deno.test("src/core imports nothing above it", () => {
  assert.deepEqual(coreViolations(graph), []);
});

Deno.test("the cycle check names the files of a cycle, and passes a DAG", () => {
  assert.deepEqual(cycles(g([["a.ts", "b.ts"], ["b.ts", "c.ts"], ["c.ts", "a.ts"], ["c.ts", "d.ts"]])), [[
    "a.ts",
    "b.ts",
    "c.ts",
  ]]);
  assert.deepEqual(cycles(g([["a.ts", "b.ts"], ["b.ts", "c.ts"], ["a.ts", "c.ts"]])), []);
  const folders = folderGraph(
    g([["src/cli/task.ts", "src/config/load.ts"], ["src/config/load.ts", "src/cli/x.ts"]]),
  );
  assert.deepEqual(cycles(folders), [["cli", "config"]]);
  assert.deepEqual(coreViolations(g([["src/core/x.ts", "src/data/io.ts"]])), [
    "src/core/x.ts -> src/data/io.ts",
  ]);
});

interface TaskDef {
  command?: string;
  files?: string[];
  output?: string[];
}
const tasks =
  (JSON.parse(Deno.readTextFileSync(`${ROOT}/deno.json`)) as { tasks: Record<string, TaskDef | string> })
    .tasks;
const commandOf = (name: string) => {
  const t = tasks[name];
  return typeof t === "string" ? t : t?.command ?? "";
};

/** The task scripts a task's command runs, following `deno task <name>`. */
function scriptsOf(name: string, seen = new Set<string>()): string[] {
  if (seen.has(name)) return [];
  seen.add(name);
  const cmd = commandOf(name);
  const scripts = [...cmd.matchAll(/\b((?:tasks|bench)\/[\w./-]+\.ts)\b/g)].map((m) => m[1]);
  for (const m of cmd.matchAll(/\bdeno task ([\w:-]+)/g)) scripts.push(...scriptsOf(m[1], seen));
  return scripts;
}

const cached = Object.entries(tasks).filter(([, t]) => typeof t !== "string" && t.files?.length);

Deno.test("cached stages exist, and each runs at least one task script", () => {
  assert.ok(cached.length >= 4, `cached pipeline stages: ${cached.map(([n]) => n).join(", ")}`);
  for (const [name] of cached) {
    assert.ok(scriptsOf(name).length > 0, `${name}: no tasks/*.ts found in its command`);
  }
});

for (const [name, t] of cached) {
  Deno.test(`${name}: files cover every module its task imports`, () => {
    const missing = scriptsOf(name).flatMap((s) => uncovered(graph, s, (t as TaskDef).files!));
    assert.deepEqual(missing, [], `${name}: add globs to "files" in deno.json for: ${missing.join(", ")}`);
  });
}

Deno.test("the cache-input check names a module its globs miss", () => {
  const made = g([["tasks/x.ts", "src/a/one.ts"], ["src/a/one.ts", "src/b/two.ts"], [
    "src/b/two.ts",
    "src/core/e.ts",
  ]]);
  assert.deepEqual(uncovered(made, "tasks/x.ts", ["tasks/x.ts", "src/a/**", "src/core/*.ts"]), [
    "src/b/two.ts",
  ]);
  assert.deepEqual(uncovered(made, "tasks/x.ts", ["tasks/x.ts", "src/**"]), []);
  assert.ok(globRegExp("src/**").test("src/models/engines/forest/flat.ts"));
  assert.ok(!globRegExp("src/data/*.ts").test("src/data/deep/x.ts"));
  assert.ok(globRegExp("src/**/x.ts").test("src/x.ts"));
});
