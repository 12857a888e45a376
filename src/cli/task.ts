/**
 * The shape every task entry point shares: flags through node:util parseArgs
 * (JSR's @std/cli is unreachable here), `--help`, `--config`, repeated
 * `--set key=value`, `--json`, and one error policy: a UserError prints one
 * line and exits 2; so does a denied read or write (Deno's sandbox or the OS),
 * naming the path; anything else prints one line and exits 1. Set
 * ORCHARD_DEBUG=1 to see a stack. A task's declared outputs (`writes`) are
 * checked before it runs, so a refused write costs no work and leaves nothing.
 */
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import type { Config } from "../config/schema.ts";
import { loadConfig } from "../config/load.ts";
import { errorLine, UserError, UserErrors } from "../core/errors.ts";
import { removeStaleTemps } from "../core/atomic.ts";
import { isFolder, permissionCause, PermissionError, refusalReason } from "../core/fs_errors.ts";

export { PermissionError };

export interface OptionSpec {
  type: "string" | "boolean";
  multiple?: boolean;
  short?: string;
  description: string;
  /** shown in --help */
  valueName?: string;
}

export type OptionSpecs = Record<string, OptionSpec>;

/** The parsed value of one option, typed from its spec: a string, a flag, or a list when repeatable. */
export type OptionValue<O extends OptionSpec> = O["type"] extends "boolean"
  ? O["multiple"] extends true ? boolean[] | undefined : boolean | undefined
  : O["multiple"] extends true ? string[] | undefined
  : string | undefined;

export type OptionValues<O extends OptionSpecs> = { [K in keyof O]: OptionValue<O[K]> };

export interface TaskContext<O extends OptionSpecs = OptionSpecs> {
  values: OptionValues<O>;
  positionals: string[];
  json: boolean;
  /** the loaded config (params.yaml plus --set); loaded and validated before `run`, so bad config fails first */
  config: Config;
  /** the raw --set overrides, for tasks that spawn other tasks */
  sets: string[];
  configPath?: string;
}

export interface TaskSpec<R, O extends OptionSpecs = OptionSpecs> {
  name: string;
  description: string;
  /** extra usage line, e.g. "runs [list|compare A B]" */
  usage?: string;
  options?: O;
  positionals?: boolean;
  /** does the work and returns the result, the same whatever the output mode */
  run(ctx: TaskContext<O>): R | Promise<R>;
  /** the human summary printed on success */
  summary?(result: R): string;
  /** the object printed under --json (default: the result itself) */
  json?(result: R): unknown;
  /**
   * A result that is a failure the caller asked to be told of (drift --fail-on-drift):
   * the message is printed after the result and the task exits 1.
   */
  failure?(result: R, ctx: TaskContext<O>): string | undefined;
  /**
   * The files and folders this run will write (falsy entries are skipped), checked
   * after the config is loaded and before `run`: one the task's permissions or the
   * file system refuse is one line naming it and exit 2, before any work is done.
   */
  writes?(ctx: TaskContext<O>): (WriteTarget | undefined | null | false | "")[];
}

/** An output a task will write, for the check before it runs (see `TaskSpec.writes`). */
export interface WriteTarget {
  /** the file or folder as the user or the config gave it */
  path: string;
  /** a folder the task writes into; default: a file, written atomically (a temp file beside it) */
  dir?: boolean;
  /** what named it, for the message: "--output", "paths.models" */
  source?: string;
}

function granted(desc: Deno.PermissionDescriptor): boolean {
  let state = Deno.permissions.querySync(desc).state;
  // an interactive `deno run` without the flag asks once, up front; elsewhere this is "denied"
  if (state === "prompt") state = Deno.permissions.requestSync(desc).state;
  return state === "granted";
}

/** True when the folder's mode bits certainly refuse this process a write (never guesses "no"). */
function modeRefuses(info: Deno.FileInfo): boolean {
  if (Deno.build.os === "windows" || info.mode === null) return false;
  // asking for these would prompt: only read them when the task already has them
  const may = (kind: "uid" | "gid") => Deno.permissions.querySync({ name: "sys", kind }).state === "granted";
  if (!may("uid") || !may("gid")) return false;
  const uid = Deno.uid(), gid = Deno.gid();
  if (uid === null || uid === 0) return false;
  if (info.uid === uid) return (info.mode & 0o200) === 0;
  if (info.gid === gid) return (info.mode & 0o020) === 0;
  // a supplementary group may grant it: refuse only when neither group nor others may write
  return (info.mode & 0o022) === 0;
}

/**
 * Creates and removes an empty file in `folder`: mode bits miss a read-only
 * mount, an ACL, and root (whom they never stop), and only the OS can say.
 * Its name is a temp file's, so the stale-temp sweep takes it if a kill lands
 * between the two steps. A folder outside --allow-write is left to the write.
 */
function probeWrite(folder: string, label: string, path: string): void {
  const rand = crypto.getRandomValues(new Uint32Array(1))[0].toString(36);
  const probe = join(folder, `.write-check.tmp-${Deno.pid}-${rand}`);
  try {
    Deno.openSync(probe, { write: true, createNew: true }).close();
  } catch (e) {
    const denied = e instanceof Deno.errors.NotCapable ? undefined : permissionCause(e);
    if (denied) {
      throw new PermissionError(`${label}: ${refusalReason(denied)}: ${folder} is not writable`, path, {
        cause: e,
      });
    }
    return; // anything else (a full disk, a race): the write itself will tell
  }
  try {
    Deno.removeSync(probe);
  } catch { /* the sweep takes it */ }
}

/**
 * Throws a one-line user error when `target` cannot be written: outside the task's
 * --allow-write, under a file, or in a folder the OS will not let this user write
 * (mode bits, then an empty probe file, created and removed).
 */
export function checkWritable(target: WriteTarget): void {
  const folder = target.dir ? target.path : dirname(target.path) || ".";
  const label = target.source ? `${target.source} ${target.path}` : target.path;
  // a file target that is a folder would fail only at the end, after all the work (and its parent's
  // permission would be the wrong thing to blame)
  if (!target.dir && isFolder(target.path)) throw new UserError(`${label}: is a folder; name a file`);
  if (!granted({ name: "write", path: folder })) {
    throw new PermissionError(
      `${label}: no permission to write "${folder}" (outside this task's --allow-write in deno.json)`,
      target.path,
    );
  }
  // the nearest folder that exists must be a folder this user may write to
  let p = folder;
  for (let up = 0; up < 256; up++) {
    let info: Deno.FileInfo;
    try {
      info = Deno.statSync(p);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) {
        p = join(p, "..");
        continue;
      }
      return; // not allowed to look (no --allow-read there): the write itself will tell
    }
    if (!info.isDirectory) throw new UserError(`${label}: ${p} is not a folder`);
    if (modeRefuses(info)) {
      throw new PermissionError(
        `${label}: permission denied: ${p} is not writable by this user`,
        target.path,
      );
    }
    probeWrite(p, label, target.path);
    return;
  }
}

/** A task spec whose `ctx.values` are typed from its `options` (no casts in tasks). */
export function defineTask<R, const O extends OptionSpecs = Record<never, OptionSpec>>(
  spec: TaskSpec<R, O>,
): TaskSpec<R, O> {
  return spec;
}

export const COMMON_OPTIONS: Record<string, OptionSpec> = {
  config: { type: "string", description: "config file (default params.yaml)", valueName: "file" },
  set: {
    type: "string",
    multiple: true,
    description: "override a config key, typed by the schema (repeatable)",
    valueName: "dotted.key=value",
  },
  json: { type: "boolean", description: "print one JSON object on stdout" },
  help: { type: "boolean", short: "h", description: "show this help" },
};

/** What help and parsing read of a spec (any task's spec fits it, whatever its result and options). */
export type TaskShape = Pick<TaskSpec<unknown>, "name" | "description" | "usage" | "options" | "positionals">;

export function helpText(spec: TaskShape): string {
  const all = { ...(spec.options ?? {}), ...COMMON_OPTIONS };
  const rows = Object.entries(all).map(([name, o]) => {
    const flag = `--${name}${o.type === "string" ? ` <${o.valueName ?? "value"}>` : ""}`;
    return `  ${(o.short ? `-${o.short}, ` : "    ") + flag.padEnd(34)} ${o.description}`;
  });
  const usage = spec.usage ?? `${spec.name} [options]`;
  return `deno task ${usage}\n\n${spec.description}\n\nOptions:\n${rows.join("\n")}\n`;
}

function parseTaskArgs(spec: TaskShape, argv: string[]) {
  const options = Object.fromEntries(
    Object.entries({ ...(spec.options ?? {}), ...COMMON_OPTIONS }).map(([k, o]) => [
      k,
      // parseArgs rejects keys set to undefined
      { type: o.type, ...(o.multiple ? { multiple: true } : {}), ...(o.short ? { short: o.short } : {}) },
    ]),
  );
  try {
    return parseArgs({ args: argv, options, allowPositionals: spec.positionals ?? false, strict: true });
  } catch (e) {
    // node's messages are long and mention parseArgs internals; keep the first sentence.
    const msg = errorLine(e).replace(/\. To specify.*$/, "").replace(/^TypeError \[\w+\]: /, "");
    // `--port -1`: a value that starts with '-' reads as another option
    const dashed = /^Option '(--[\w-]+)' argument is ambiguous/.exec(msg)?.[1];
    if (dashed) {
      throw new UserError(`${dashed}: its value starts with '-'; write it as ${dashed}=<value> (see --help)`);
    }
    throw new UserError(`${msg} (see --help)`);
  }
}

/** Runs a task and returns its exit code; does not call Deno.exit (tests use it). */
export async function executeTask<R, O extends OptionSpecs>(
  spec: TaskSpec<R, O>,
  argv: string[],
): Promise<number> {
  try {
    const { values, positionals } = parseTaskArgs(spec, argv);
    if (values.help) {
      console.log(helpText(spec));
      return 0;
    }
    const sets = (values.set as string[] | undefined) ?? [];
    const configPath = values.config as string | undefined;
    // Load and validate config and overrides up front, so bad config fails before any work.
    const ctx: TaskContext<O> = {
      // parseArgs parsed exactly these options, so its values have the spec's types
      values: values as unknown as OptionValues<O>,
      positionals,
      json: Boolean(values.json),
      sets,
      configPath,
      config: loadConfig({ path: configPath, sets }),
    };
    const targets = (spec.writes?.(ctx) ?? []).filter((t): t is WriteTarget => Boolean(t));
    for (const target of targets) checkWritable(target);
    // a killed earlier run's temp files go when the stage next runs (never a live run's)
    for (const target of targets) removeStaleTemps(target.dir ? target.path : dirname(target.path) || ".");
    const result = await spec.run(ctx);
    if (ctx.json) console.log(JSON.stringify(spec.json ? spec.json(result) : result));
    else if (spec.summary) console.log(spec.summary(result));
    const failed = spec.failure?.(result, ctx);
    if (failed) {
      console.error(`${spec.name}: ${failed}`);
      return 1;
    }
    return 0;
  } catch (e) {
    return reportError(spec.name, e);
  }
}

/** The one line for a denied access; Deno's and the OS's messages name the path. */
export function permissionLine(e: Error): string {
  const line = errorLine(e);
  // `Requires write access to "../out.csv", run again with the --allow-write flag`
  const m = /^Requires (.+?), run again with the (--allow-[\w-]+) flag/.exec(line);
  if (m) return `permission denied: requires ${m[1]} (outside this task's ${m[2]} in deno.json)`;
  return /permission denied/i.test(line) ? line : `permission denied: ${line}`;
}

function reportError(name: string, e: unknown): number {
  if (e instanceof PermissionError) {
    console.error(`${name}: ${errorLine(e)}`);
    if (debugEnabled()) console.error(e);
    return e.exitCode;
  }
  const denied = e instanceof UserError ? undefined : permissionCause(e);
  if (denied) {
    console.error(`${name}: ${permissionLine(denied)}`);
    if (debugEnabled()) console.error(e);
    return 2;
  }
  if (e instanceof UserErrors) {
    for (const p of e.problems) console.error(`${name}: ${p}`);
    return e.exitCode;
  }
  if (e instanceof UserError) {
    console.error(`${name}: ${errorLine(e)}`);
    return e.exitCode;
  }
  if (debugEnabled()) console.error(e);
  else console.error(`${name}: internal error: ${errorLine(e)} (set ORCHARD_DEBUG=1 for details)`);
  return 1;
}

/**
 * The task a `deno task` process runs, by its module (tasks/features_materialize.ts ->
 * features:materialize), or undefined when the main module is no task (a test, a notebook).
 */
function taskOfMainModule(): string | undefined {
  const m = /\/tasks\/([a-z_]+)\.ts$/.exec(Deno.mainModule);
  if (!m) return undefined;
  return m[1] === "generate" ? "data:generate" : m[1].replaceAll("_", ":");
}

/**
 * A task module's imports are evaluated before its `main` runs, so a failure while
 * one loads (nodejs-polars' native module refused by the OS or the sandbox) would be
 * Deno's stack trace: in a task process it reaches the same error policy instead.
 * Registered here, in the module every task imports before any that loads polars.
 */
const loadingTask = taskOfMainModule();
if (loadingTask) {
  globalThis.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    Deno.exit(reportError(loadingTask, event.reason));
  });
}

/** Entry point for `tasks/*.ts`: run, then exit with the task's code. */
export async function main<R, O extends OptionSpecs>(spec: TaskSpec<R, O>): Promise<never> {
  const code = await executeTask(spec, Deno.args);
  Deno.exit(code);
}

function debugEnabled(): boolean {
  try {
    return Boolean(Deno.env.get("ORCHARD_DEBUG"));
  } catch {
    return false; // no --allow-env: stay quiet
  }
}
