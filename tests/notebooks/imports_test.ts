/** Notebooks use Orchard as a user would: through the public API (src/mod.ts, "@orchard/orchard") only. */
import assert from "node:assert/strict";
import { readNotebook } from "../../src/notebooks/nbformat.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** Import specifiers in code that reach into Orchard by path instead of through the public API. */
export function internalImports(code: string): string[] {
  const specs = [...code.matchAll(/(?:from|import)\s*\(?\s*["']([^"']+)["']/g)].map((m) => m[1]);
  return specs.filter((s) =>
    s.startsWith("@/") || s.startsWith(".") || s.startsWith("/") || s.includes("src/")
  );
}

Deno.test("every notebook imports Orchard from the public API only", () => {
  const dir = `${ROOT}notebooks`;
  const files = [...Deno.readDirSync(dir)].filter((e) => e.name.endsWith(".ipynb")).map((e) => e.name).sort();
  assert.ok(files.length >= 3);
  for (const f of files) {
    const nb = readNotebook(`${dir}/${f}`);
    const code = nb.cells.filter((c) => c.cell_type === "code").map((c) =>
      Array.isArray(c.source) ? c.source.join("") : c.source
    ).join("\n");
    assert.match(code, /from "@orchard\/orchard"/, `${f} uses the public API`);
    assert.deepEqual(internalImports(code), [], `${f} imports internals`);
  }
});

Deno.test("the import check flags internal paths and passes packages", () => {
  assert.deepEqual(
    internalImports(
      `import { a } from "@/models/x.ts";\nimport b from "../src/y.ts";\nimport pl from "nodejs-polars";
import { c } from "@orchard/orchard"; const d = await import("./z.ts");`,
    ),
    ["@/models/x.ts", "../src/y.ts", "./z.ts"],
  );
});
