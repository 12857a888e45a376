/**
 * The docs say only what works: every `deno task <name>` in README.md and
 * docs/**\/*.md names a task in deno.json, every repo path they name in
 * backticks or in a code block (`src/...`, `tasks/...`, `bench/...`,
 * `tests/...`, `notebooks/...`, `docs/...`, `.ci/...`) exists, and every
 * relative link points at a file (and, for a `#fragment`, a heading) that
 * exists. A failure names the file and the line. The checks are shown failing
 * on made-up pages below, so a scanner that finds nothing cannot pass quietly.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";

const ROOT = normalize(new URL("../../", import.meta.url).pathname);

export interface Problem {
  file: string;
  line: number;
  message: string;
}

export interface ScanContext {
  /** the task names in deno.json */
  tasks: ReadonlySet<string>;
  /** whether a repo-relative path exists */
  exists: (repoPath: string) => boolean;
  /** the heading anchors of a repo-relative markdown file (undefined: not a markdown file we know) */
  anchors: (repoPath: string) => ReadonlySet<string> | undefined;
}

/** `deno task <name>`, also as `npx -y deno@2.9.6 task <name>` and with flags such as `-q` before the name. */
const TASK_RE = /\bdeno(?:@[\w.-]+)?\s+task\s+(?:-{1,2}[a-z][\w-]*\s+)*([A-Za-z0-9][\w:.-]*)/g;
/** a repo path: one of the checked top-level folders, then a slash */
const PATH_RE = /^(?:\.\/)?(?:src|tasks|bench|tests|notebooks|docs|\.ci)\//;
/** characters that make a path a pattern or a placeholder: check only the folder before them */
const PLACEHOLDER_RE = /[<>*{}…$[\]]/;
const LINK_RE = /\[(?:[^\]]|\\\])*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g;

/** GitHub's heading anchor: lower-case, punctuation dropped, spaces to hyphens. */
export function slug(heading: string): string {
  return heading
    .replace(/`/g, "")
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

/** Every heading anchor of a markdown text, with GitHub's -1, -2 suffixes for repeats. */
export function headingAnchors(text: string): Set<string> {
  const out = new Set<string>();
  const seen = new Map<string, number>();
  let fence: string | null = null;
  for (const line of text.split("\n")) {
    const f = /^\s*(```|~~~)/.exec(line);
    if (f) {
      fence = fence === null ? f[1] : (fence === f[1] ? null : fence);
      continue;
    }
    if (fence !== null) continue;
    const h = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!h) continue;
    const base = slug(h[1]);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** The repo path a token names (a placeholder's folder), or null when the token is not a repo path. */
export function repoPathOf(token: string): string | null {
  const t = token.replace(/^["'(]+/, "").replace(/[)"',;:.]+$/, "");
  if (!PATH_RE.test(t)) return null;
  const cut = t.search(PLACEHOLDER_RE);
  const path = cut < 0 ? t : t.slice(0, t.lastIndexOf("/", cut) + 1);
  return path.replace(/^\.\//, "");
}

/** The problems of one markdown file; `file` is repo-relative. */
export function scanMarkdown(file: string, text: string, ctx: ScanContext): Problem[] {
  const problems: Problem[] = [];
  const lines = text.split("\n");
  let fence: string | null = null;
  lines.forEach((line, i) => {
    const at = (message: string) => problems.push({ file, line: i + 1, message });
    const f = /^\s*(```|~~~)/.exec(line);
    if (f) {
      fence = fence === null ? f[1] : (fence === f[1] ? null : fence);
      return;
    }
    const inFence = fence !== null;

    for (const m of line.matchAll(TASK_RE)) {
      const name = m[1].replace(/[.,:;)]+$/, "");
      if (!ctx.tasks.has(name)) at(`\`deno task ${name}\`: no task '${name}' in deno.json`);
    }

    // repo paths: every token of a code block line, or of an inline code span
    const spans = inFence ? [line] : [...line.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
    for (const span of spans) {
      for (const token of span.split(/[\s=]+/)) {
        const path = repoPathOf(token);
        if (path !== null && !ctx.exists(path)) at(`\`${path}\`: no such file or folder in the repo`);
      }
    }

    if (inFence) return;
    const prose = line.replace(/`[^`]*`/g, "");
    for (const m of prose.matchAll(LINK_RE)) {
      const target = m[1];
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:
      const [pathPart, fragment] = target.split("#", 2) as [string, string | undefined];
      const resolved = pathPart === "" ? file : normalize(join(dirname(file), decodeURIComponent(pathPart)));
      if (resolved.startsWith("..")) continue; // outside the repo (../shared/...)
      if (!ctx.exists(resolved)) {
        at(`link (${target}): ${resolved} does not exist`);
        continue;
      }
      if (fragment !== undefined && resolved.endsWith(".md")) {
        const anchors = ctx.anchors(resolved);
        if (anchors && !anchors.has(fragment)) at(`link (${target}): no heading #${fragment} in ${resolved}`);
      }
    }
  });
  return problems;
}

/** README.md and every docs/**\/*.md, repo-relative, sorted. */
function markdownFiles(): string[] {
  const out = ["README.md"];
  const walk = (dir: string) => {
    for (const e of Deno.readDirSync(join(ROOT, dir))) {
      const p = join(dir, e.name);
      if (e.isDirectory) walk(p);
      else if (e.name.endsWith(".md")) out.push(p);
    }
  };
  walk("docs");
  return out.sort();
}

function repoContext(): ScanContext {
  const deno = JSON.parse(Deno.readTextFileSync(join(ROOT, "deno.json"))) as {
    tasks: Record<string, unknown>;
  };
  const cache = new Map<string, Set<string>>();
  return {
    tasks: new Set(Object.keys(deno.tasks)),
    exists: (p) => existsSync(join(ROOT, p)),
    anchors: (p) => {
      if (!cache.has(p)) cache.set(p, headingAnchors(Deno.readTextFileSync(join(ROOT, p))));
      return cache.get(p);
    },
  };
}

const format = (ps: Problem[]) => ps.map((p) => `${p.file}:${p.line}: ${p.message}`).join("\n");

Deno.test("every deno task, repo path and link in README.md and docs/ exists", () => {
  const ctx = repoContext();
  const files = markdownFiles();
  assert.ok(files.length >= 10, `found only ${files.length} markdown files`);
  const problems = files.flatMap((f) => scanMarkdown(f, Deno.readTextFileSync(join(ROOT, f)), ctx));
  assert.deepEqual(problems, [], `\n${format(problems)}`);
});

Deno.test("the docs name the quick-start commands exactly", () => {
  const readme = Deno.readTextFileSync(join(ROOT, "README.md"));
  assert.ok(readme.includes("npx -y deno@2.9.6 task pipeline"));
  assert.ok(readme.includes("npx -y deno@2.9.6 task test"));
  assert.ok(readme.split("\n").length <= 160, "README.md stays short (docs/ holds the rest)");
});

// --- the checks, shown failing on made-up pages ---------------------------------

const FAKE: ScanContext = {
  tasks: new Set(["train", "bench:serve", "pipeline"]),
  exists: (p) => ["src/", "src/core/", "src/core/errors.ts", "docs/a.md", "docs/b.md", "tasks/"].includes(p),
  anchors: (p) => (p === "docs/b.md" ? new Set(["the-heading", "metrics-under---parallel"]) : undefined),
};

Deno.test("a missing task is named with its file and line", () => {
  const page = [
    "Run `deno task train` and `deno task -q bench:serve`.",
    "```sh",
    "npx -y deno@2.9.6 task pipeline",
    "deno task trian --json",
    "```",
    "Then deno task bench:forest.",
  ].join("\n");
  assert.deepEqual(scanMarkdown("docs/a.md", page, FAKE).map((p) => `${p.line}: ${p.message}`), [
    "4: `deno task trian`: no task 'trian' in deno.json",
    "6: `deno task bench:forest`: no task 'bench:forest' in deno.json",
  ]);
  // placeholders and prose about tasks in general are not task names
  assert.deepEqual(scanMarkdown("docs/a.md", "every `deno task …` and `deno task <name>`", FAKE), []);
});

Deno.test("a missing repo path in backticks or a code block is named", () => {
  const page = [
    "The errors are in `src/core/errors.ts`, the old ones were in `src/cli/errors.ts`.",
    "Every domain is `src/<domain>/`; globs like `src/core/**` check their folder; `data/raw/x.csv` is output.",
    "```sh",
    "deno run --allow-read bench/forest_bench.ts",
    "```",
    "`tasks/` holds the tasks; `../shared/reference/sklearn_rf.py` lies outside the repo.",
  ].join("\n");
  assert.deepEqual(scanMarkdown("docs/a.md", page, FAKE).map((p) => `${p.line}: ${p.message}`), [
    "1: `src/cli/errors.ts`: no such file or folder in the repo",
    "4: `bench/forest_bench.ts`: no such file or folder in the repo",
  ]);
  assert.equal(repoPathOf("src/<domain>/"), "src/");
  assert.equal(repoPathOf("(src/core/errors.ts),"), "src/core/errors.ts");
  assert.equal(repoPathOf("models/churn/1"), null);
});

Deno.test("a broken relative link or anchor is named", () => {
  const page = [
    "See [b](b.md), [its heading](b.md#the-heading) and [metrics](b.md#metrics-under---parallel).",
    "Not [c](c.md), nor [a gone heading](b.md#gone), nor [up](../README.md).",
    "[web](https://example.com/x.md) and [outside](../../shared/reference/README.md) are not checked.",
    "`[code](nothere.md)` is code, not a link.",
  ].join("\n");
  assert.deepEqual(scanMarkdown("docs/a.md", page, FAKE).map((p) => `${p.line}: ${p.message}`), [
    "2: link (c.md): docs/c.md does not exist",
    "2: link (b.md#gone): no heading #gone in docs/b.md",
    "2: link (../README.md): README.md does not exist",
  ]);
});

Deno.test("heading anchors follow GitHub's slugs", () => {
  const anchors = headingAnchors(
    [
      "# Metrics under `--parallel`",
      "## From an experiment cell to a `src` function to a task",
      "## Aliases: champion and challenger",
      "```sh",
      "# not a heading",
      "```",
      "## Benchmark",
      "## Benchmark",
    ].join("\n"),
  );
  assert.deepEqual([...anchors], [
    "metrics-under---parallel",
    "from-an-experiment-cell-to-a-src-function-to-a-task",
    "aliases-champion-and-challenger",
    "benchmark",
    "benchmark-1",
  ]);
  assert.equal(relative(ROOT, join(ROOT, "docs")), "docs");
});
