/**
 * Tasks as a user runs them: `deno run` with exactly the flags of the task's
 * deno.json command, in a temp project directory (relative permission paths
 * such as --allow-write=data,models resolve against it, as under `deno task`).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { churnRows, toCsv } from "../models/_data.ts";

export const repo = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));
export const DENO_JSON = repo("deno.json");

export interface TaskCommand {
  /** the `--allow-*` and other flags of `deno run` */
  flags: string[];
  /** the script, relative to the project root */
  script: string;
}

/** Every task of deno.json whose command is one `deno run`, by name. */
export function denoRunTasks(): Record<string, TaskCommand> {
  const tasks = JSON.parse(Deno.readTextFileSync(DENO_JSON)).tasks as Record<string, { command: string }>;
  const out: Record<string, TaskCommand> = {};
  for (const [name, t] of Object.entries(tasks)) {
    const words = t.command.trim().split(/\s+/);
    if (words[0] !== "deno" || words[1] !== "run" || t.command.includes("&&")) continue;
    const script = words.slice(2).find((w) => !w.startsWith("-"));
    assert.ok(script, `${name}: no script in ${t.command}`);
    out[name] = { flags: words.slice(2).filter((w) => w.startsWith("--")), script };
  }
  return out;
}

export interface Out {
  code: number;
  stdout: string;
  stderr: string;
}

const decoder = new TextDecoder();

/** Runs task `name` in `cwd` with its deno.json permissions. */
export async function runTask(
  cwd: string,
  name: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<Out> {
  const task = denoRunTasks()[name];
  assert.ok(task, `no deno run task ${name}`);
  assert.ok(!task.flags.includes("-A") && !task.flags.includes("--allow-all"), `${name}: least privilege`);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--config", DENO_JSON, ...task.flags, repo(task.script), ...args],
    cwd,
    stdout: "piped",
    stderr: "piped",
    // ORCHARD_DEBUG empty: the developer's own setting must not change what the tests see
    env: { NO_COLOR: "1", ORCHARD_DEBUG: "", ...env },
  }).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/**
 * A temp dir holding a project in `<root>/proj` (params.yaml, train.csv, score.csv), so
 * `../x` from the project is a real, writable place outside it.
 */
export function tempProject(): { root: string; dir: string; cleanup(): void } {
  const root = Deno.makeTempDirSync({ prefix: "orchard-perm-" });
  const dir = join(root, "proj");
  Deno.mkdirSync(dir);
  const rows = churnRows(200, 5);
  Deno.writeTextFileSync(join(dir, "train.csv"), toCsv(rows));
  Deno.writeTextFileSync(join(dir, "score.csv"), toCsv(rows.slice(0, 40).map(({ churned: _c, ...r }) => r)));
  Deno.writeTextFileSync(join(dir, "params.yaml"), "model:\n  n_estimators: 5\n  n_jobs: 1\n");
  return { root, dir, cleanup: () => Deno.removeSync(root, { recursive: true }) };
}

export function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Every file under `dir`, relative, sorted. */
export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const e of Deno.readDirSync(d)) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory) walk(join(d, e.name), r);
      else out.push(r);
    }
  };
  if (exists(dir)) walk(dir, "");
  return out.sort();
}
