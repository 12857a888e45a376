/**
 * The code version a run was made from: the git commit and whether the work
 * tree had uncommitted changes. Uses `git` when the task may run it
 * (--allow-run=git); otherwise reads .git/HEAD (commit only, dirty unknown).
 * Never throws: outside a repository the commit is null.
 */
import { dirname, isAbsolute, join, resolve } from "node:path";

export interface GitInfo {
  /** full commit hash, or null outside a git repository */
  commit: string | null;
  /** uncommitted changes to tracked or untracked files; null when unknown */
  dirty: boolean | null;
}

function runGit(args: string[], cwd?: string): string | undefined {
  try {
    const out = new Deno.Command("git", { args, cwd, stdout: "piped", stderr: "null" }).outputSync();
    if (!out.success) return undefined;
    return new TextDecoder().decode(out.stdout);
  } catch {
    return undefined; // no --allow-run, or git missing
  }
}

function readText(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
}

/** Finds the git dir from `cwd` upward (follows the "gitdir:" file of worktrees). */
function findGitDir(cwd: string): string | undefined {
  let dir = resolve(cwd);
  for (;;) {
    const dotGit = join(dir, ".git");
    let stat: Deno.FileInfo | undefined;
    try {
      stat = Deno.statSync(dotGit);
    } catch { /* not here */ }
    if (stat?.isDirectory) return dotGit;
    if (stat?.isFile) {
      const m = /^gitdir:\s*(.+)$/m.exec(readText(dotGit) ?? "");
      if (m) return isAbsolute(m[1].trim()) ? m[1].trim() : resolve(dir, m[1].trim());
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** The HEAD commit read from .git files alone (no git binary, no --allow-run). */
export function commitFromFiles(cwd: string): string | null {
  try {
    const gitDir = findGitDir(cwd);
    if (!gitDir) return null;
    const head = readText(join(gitDir, "HEAD"))?.trim();
    if (!head) return null;
    if (/^[0-9a-f]{40,64}$/.test(head)) return head;
    const ref = /^ref:\s*(.+)$/.exec(head)?.[1];
    if (!ref) return null;
    // a worktree keeps its refs in the common dir
    const common = readText(join(gitDir, "commondir"))?.trim();
    const dirs = [gitDir, ...(common ? [resolve(gitDir, common)] : [])];
    for (const d of dirs) {
      const loose = readText(join(d, ref))?.trim();
      if (loose && /^[0-9a-f]{40,64}$/.test(loose)) return loose;
      const packed = readText(join(d, "packed-refs"));
      const line = packed?.split("\n").find((l) => l.endsWith(` ${ref}`));
      if (line) return line.split(" ")[0];
    }
    return null;
  } catch {
    return null;
  }
}

export function gitInfo(cwd = "."): GitInfo {
  const head = runGit(["rev-parse", "HEAD"], cwd)?.trim();
  if (head && /^[0-9a-f]{40,64}$/.test(head)) {
    const status = runGit(["status", "--porcelain", "--untracked-files=normal"], cwd);
    return { commit: head, dirty: status === undefined ? null : status.trim() !== "" };
  }
  return { commit: commitFromFiles(cwd), dirty: null };
}

/** The run tags for the code version: "git.commit" and "git.dirty" ("unknown" when not known). */
export function gitTags(info: GitInfo = gitInfo()): Record<string, string> {
  return {
    "git.commit": info.commit ?? "unknown",
    "git.dirty": info.dirty === null ? "unknown" : String(info.dirty),
  };
}
