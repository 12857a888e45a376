/**
 * The generated reference pages match their sources: a changed task option,
 * deno.json task or config key without `deno task docs` fails here, naming the
 * page and the command that fixes it.
 */
import assert from "node:assert/strict";
import { referencePages, SPECS } from "../../tasks/docs.ts";
import { configKeys } from "../../src/config/reference.ts";
import { renderCliReference, scriptOf } from "../../src/cli/reference.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** The pages whose committed text differs from what the sources render now. */
function stalePages(rendered: Record<string, string>, read: (path: string) => string | undefined): string[] {
  return Object.entries(rendered).filter(([path, text]) => read(path) !== text).map(([path]) => path);
}

const readCommitted = (path: string) => {
  try {
    return Deno.readTextFileSync(`${ROOT}${path}`);
  } catch {
    return undefined;
  }
};

Deno.test("docs/reference pages are current (else run `deno task docs`)", () => {
  const stale = stalePages(referencePages(ROOT), readCommitted);
  assert.deepEqual(stale, [], `stale: ${stale.join(", ")}; run \`deno task docs\` and commit the pages`);
});

Deno.test("the staleness check fails on a page that differs, or is missing", () => {
  const pages = referencePages(ROOT);
  const edited = (path: string) =>
    path.endsWith("cli.md") ? pages[path].replace("--json", "--jsn") : pages[path];
  assert.deepEqual(stalePages(pages, edited), ["docs/reference/cli.md"]);
  assert.deepEqual(stalePages(pages, () => undefined).sort(), Object.keys(pages).sort());
});

Deno.test("every config key is documented with what it accepts and why", () => {
  const keys = configKeys();
  assert.ok(keys.length > 60, `${keys.length} keys`);
  const undocumented = keys.filter((k) => !k.description).map((k) => k.key);
  assert.deepEqual(undocumented, []);
  const depth = keys.find((k) => k.key === "model.max_depth")!;
  assert.equal(depth.default, null);
  assert.match(depth.type, /integer.*null|null/);
});

Deno.test("the CLI page names every deno.json task and every option of its spec", () => {
  const page = renderCliReference(
    {
      demo: { description: "A demo", command: "deno run tasks/demo.ts" },
      chain: { command: "echo", dependencies: ["demo"] },
    },
    {
      "tasks/demo.ts": {
        name: "demo",
        description: "Does a demo.",
        options: { rows: { type: "string", description: "row count", valueName: "n" } },
      },
    },
  );
  assert.match(page, /## demo\n\nA demo\./);
  assert.match(page, /\| `--rows <n>` \| row count \|/);
  assert.match(page, /## chain[\s\S]*Runs first: `demo`/);
  assert.equal(scriptOf("deno run --allow-read tasks/train.ts --run-file x"), "tasks/train.ts");
});

Deno.test("every task entry point is on the page: tasks/docs.ts lists each tasks/*.ts spec", () => {
  const denoJson = JSON.parse(Deno.readTextFileSync(`${ROOT}deno.json`)) as {
    tasks: Record<string, { command?: string } | string>;
  };
  const scripts = new Set(
    Object.values(denoJson.tasks).map((t) => scriptOf(typeof t === "string" ? t : t.command)),
  );
  for (const e of Deno.readDirSync(`${ROOT}tasks`)) {
    if (e.name.endsWith(".ts")) scripts.add(`tasks/${e.name}`);
  }
  // tasks/test.ts is a plain script (its flags go to `deno test`); tasks/docs.ts adds its own spec
  for (const s of [undefined, "tasks/test.ts", "tasks/docs.ts"]) scripts.delete(s);
  const missing = [...scripts].filter((s): s is string => s !== undefined && !(s in SPECS));
  assert.deepEqual(missing, [], `add ${missing.join(", ")} to SPECS in tasks/docs.ts`);
});
