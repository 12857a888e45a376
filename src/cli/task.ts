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
