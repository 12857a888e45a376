/**
 * The module graph of the repo as `deno info --json` sees it (static, dynamic
 * and type-only imports), and the checks the structure tests make on it:
 * cycles between files or folders, imports that go up from src/core, and cache
 * globs that miss a module a task imports. Pure functions over the graph, so
 * the tests can show each check failing on a graph made up for the purpose.
 */
import { relative } from "node:path";

export const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

/** repo-relative file -> the repo-relative files it imports */
export type Graph = Map<string, Set<string>>;

interface InfoModule {
  specifier: string;
  dependencies?: { code?: { specifier?: string }; type?: { specifier?: string } }[];
}

function localPath(specifier: string | undefined): string | undefined {
  if (!specifier?.startsWith("file://")) return undefined;
  const path = relative(ROOT, decodeURIComponent(new URL(specifier).pathname));
  return path.startsWith("..") ? undefined : path;
}

/** The local import graph reachable from `entries` (repo-relative paths). */
export async function moduleGraph(entries: string[]): Promise<Graph> {
  const graph: Graph = new Map();
  // deno info takes one root: a throwaway module in a temp dir imports every entry
  const dir = await Deno.makeTempDir({ prefix: "orchard-graph-" });
  try {
    const root = `${dir}/entries.ts`;
    await Deno.writeTextFile(root, entries.map((e) => `import "file://${ROOT}/${e}";`).join("\n") + "\n");
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", "--config", `${ROOT}/deno.json`, root],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) throw new Error(`deno info failed: ${new TextDecoder().decode(out.stderr)}`);
    const info = JSON.parse(new TextDecoder().decode(out.stdout)) as { modules: InfoModule[] };
    for (const m of info.modules) {
      const from = localPath(m.specifier);
      if (!from) continue;
      const deps = graph.get(from) ?? new Set<string>();
      for (const d of m.dependencies ?? []) {
        for (const s of [d.code?.specifier, d.type?.specifier]) {
          const to = localPath(s);
          if (to && to !== from) deps.add(to);
        }
      }
      graph.set(from, deps);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  return graph;
}

/** Every cycle as its strongly connected component (Tarjan), each sorted; [] when acyclic. */
export function cycles(graph: Graph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const found: string[][] = [];
  let next = 0;
  const nodes = new Set([...graph.keys(), ...[...graph.values()].flatMap((s) => [...s])]);
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || graph.get(v)?.has(v)) found.push(scc.sort());
    }
  };
  for (const v of [...nodes].sort()) if (!index.has(v)) visit(v);
  return found.sort((a, b) => a[0].localeCompare(b[0]));
}

/** The folder graph of src/: src/<a>/... importing src/<b>/... is an edge a -> b. */
export function folderGraph(graph: Graph): Graph {
  const folder = (p: string) => /^src\/([^/]+)\//.exec(p)?.[1];
  const out: Graph = new Map();
  for (const [from, deps] of graph) {
    const a = folder(from);
    if (!a) continue;
    for (const to of deps) {
      const b = folder(to);
      if (b && b !== a) out.set(a, (out.get(a) ?? new Set()).add(b));
    }
  }
  return out;
}

/** Imports from src/core to anything in the repo outside src/core, as "from -> to". */
export function coreViolations(graph: Graph): string[] {
  const out: string[] = [];
  for (const [from, deps] of graph) {
    if (!from.startsWith("src/core/")) continue;
    for (const to of deps) if (!to.startsWith("src/core/")) out.push(`${from} -> ${to}`);
  }
  return out.sort();
}

/** A deno.json `files` glob as a RegExp: `**` any path, `*` within one segment. */
export function globRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*" && glob[i + 1] === "*") {
      re += ".*";
      i++;
      if (glob[i + 1] === "/") i++;
    } else if (c === "*") re += "[^/]*";
    else re += c.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/** The modules of `graph` reachable from `entry` that no glob covers. */
export function uncovered(graph: Graph, entry: string, globs: string[]): string[] {
  const res = globs.map(globRegExp);
  const seen = new Set<string>();
  const todo = [entry];
  while (todo.length) {
    const m = todo.pop()!;
    if (seen.has(m)) continue;
    seen.add(m);
    for (const d of graph.get(m) ?? []) todo.push(d);
  }
  return [...seen].filter((m) => !res.some((r) => r.test(m))).sort();
}

/** Every .ts file under `dir` (repo-relative). */
export function tsFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of Deno.readDirSync(`${ROOT}/${d}`)) {
      const p = `${d}/${e.name}`;
      if (e.isDirectory) walk(p);
      else if (e.name.endsWith(".ts")) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}
