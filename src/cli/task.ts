/**
 * The shape every task entry point shares: flags through node:util parseArgs
 * (JSR's @std/cli is unreachable here), `--help`, `--config`, repeated
 * `--set key=value`, `--json`, and one error policy: a UserError prints one
 * line and exits 2; anything else prints one line and exits 1. Set
 * ORCHARD_DEBUG=1 to see a stack.
 */
import { parseArgs } from "node:util";
import type { Config } from "../config/schema.ts";
import { loadConfig } from "../config/load.ts";
import { errorLine, UserError, UserErrors } from "../core/errors.ts";

export interface OptionSpec {
  type: "string" | "boolean";
  multiple?: boolean;
  short?: string;
  description: string;
  /** shown in --help */
  valueName?: string;
}

export interface TaskContext {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
  json: boolean;
  /** the loaded config (params.yaml plus --set); loaded and validated before `run`, so bad config fails first */
  config: Config;
  /** the raw --set overrides, for tasks that spawn other tasks */
  sets: string[];
  configPath?: string;
}

export interface TaskSpec<R> {
  name: string;
  description: string;
  /** extra usage line, e.g. "runs [list|compare A B]" */
  usage?: string;
  options?: Record<string, OptionSpec>;
  positionals?: boolean;
  run(ctx: TaskContext): R | Promise<R>;
  /** the human summary printed on success (the JSON form prints the result itself) */
  summary?(result: R): string;
}

const COMMON: Record<string, OptionSpec> = {
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

export function helpText<R>(spec: TaskSpec<R>): string {
  const all = { ...(spec.options ?? {}), ...COMMON };
  const rows = Object.entries(all).map(([name, o]) => {
    const flag = `--${name}${o.type === "string" ? ` <${o.valueName ?? "value"}>` : ""}`;
    return `  ${(o.short ? `-${o.short}, ` : "    ") + flag.padEnd(34)} ${o.description}`;
  });
  const usage = spec.usage ?? `${spec.name} [options]`;
  return `deno task ${usage}\n\n${spec.description}\n\nOptions:\n${rows.join("\n")}\n`;
}

function parseTaskArgs<R>(spec: TaskSpec<R>, argv: string[]) {
  const options = Object.fromEntries(
    Object.entries({ ...(spec.options ?? {}), ...COMMON }).map(([k, o]) => [
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
    throw new UserError(`${msg} (see --help)`);
  }
}

/** Runs a task and returns its exit code; does not call Deno.exit (tests use it). */
export async function executeTask<R>(spec: TaskSpec<R>, argv: string[]): Promise<number> {
  try {
    const { values, positionals } = parseTaskArgs(spec, argv);
    if (values.help) {
      console.log(helpText(spec));
      return 0;
    }
    const sets = (values.set as string[] | undefined) ?? [];
    const configPath = values.config as string | undefined;
    // Load and validate config and overrides up front, so bad config fails before any work.
    const ctx: TaskContext = {
      values: values as TaskContext["values"],
      positionals,
      json: Boolean(values.json),
      sets,
      configPath,
      config: loadConfig({ path: configPath, sets }),
    };
    const result = await spec.run(ctx);
    if (ctx.json) console.log(JSON.stringify(result));
    else if (spec.summary) console.log(spec.summary(result));
    return 0;
  } catch (e) {
    return reportError(spec.name, e);
  }
}

function reportError(name: string, e: unknown): number {
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

/** Entry point for `tasks/*.ts`: run, then exit with the task's code. */
export async function main<R>(spec: TaskSpec<R>): Promise<never> {
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
