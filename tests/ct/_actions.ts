/**
 * Just enough of GitHub Actions to run a workflow's `run:` steps on this
 * machine: `${{ }}` expressions over the contexts a step can read (github,
 * env, vars, secrets, steps, runner), `if:` conditions, and the files a step
 * talks back through (GITHUB_ENV, GITHUB_PATH, GITHUB_OUTPUT). `uses:` steps
 * need GitHub's actions and are skipped; so is any step the caller says needs
 * GitHub (the `gh` comment). Steps run as GitHub runs them:
 * `bash --noprofile --norc -eo pipefail`.
 */
import { join } from "node:path";

export type Contexts = {
  github: Record<string, unknown>;
  env: Record<string, string>;
  vars: Record<string, string>;
  secrets: Record<string, string>;
  steps: Record<string, { outputs: Record<string, string>; outcome: string }>;
  runner: Record<string, string>;
};

type Token = { kind: "str" | "id" | "op" | "num"; text: string };

function tokenize(expr: string): Token[] {
  const out: Token[] = [];
  const re = /\s*(?:('(?:[^']|'')*')|(==|!=|&&|\|\||!|\(|\)|,)|([A-Za-z_][A-Za-z0-9_.-]*)|(\d+(?:\.\d+)?))/y;
  let i = 0;
  while (i < expr.length) {
    if (/^\s*$/.test(expr.slice(i))) break;
    re.lastIndex = i;
    const m = re.exec(expr);
    if (!m) throw new Error(`expression: cannot read '${expr.slice(i)}' in '${expr}'`);
    if (m[1]) out.push({ kind: "str", text: m[1].slice(1, -1).replace(/''/g, "'") });
    else if (m[2]) out.push({ kind: "op", text: m[2] });
    else if (m[3]) out.push({ kind: "id", text: m[3] });
    else out.push({ kind: "num", text: m[4] });
    i = re.lastIndex;
  }
  return out;
}

/** Evaluates one expression (the inside of `${{ }}`, or an `if:`). Unknown values are ''. */
export function evaluate(expr: string, ctx: Contexts): unknown {
  const t = tokenize(expr);
  let p = 0;
  const peek = () => t[p]?.text;
  const lookup = (path: string): unknown => {
    let v: unknown = ctx;
    for (const part of path.split(".")) {
      v = v !== null && typeof v === "object" ? (v as Record<string, unknown>)[part] : undefined;
    }
    return v ?? "";
  };
  const truthy = (v: unknown) => v !== "" && v !== false && v !== 0 && v !== null && v !== undefined;
  const primary = (): unknown => {
    const tok = t[p++];
    if (!tok) throw new Error(`expression ends early: '${expr}'`);
    if (tok.text === "!") return !truthy(primary());
    if (tok.text === "(") {
      const v = or();
      if (t[p++]?.text !== ")") throw new Error(`expression: ')' expected in '${expr}'`);
      return v;
    }
    if (tok.kind === "str") return tok.text;
    if (tok.kind === "num") return Number(tok.text);
    if (tok.kind === "id") {
      if (peek() === "(") {
        p++;
        const args: unknown[] = [];
        while (peek() !== ")") {
          args.push(or());
          if (peek() === ",") p++;
        }
        p++;
        if (["always", "success"].includes(tok.text)) return true;
        if (tok.text === "failure" || tok.text === "cancelled") return false;
        throw new Error(`expression: function ${tok.text}() is not supported here`);
      }
      if (tok.text === "true") return true;
      if (tok.text === "false") return false;
      return lookup(tok.text);
    }
    throw new Error(`expression: unexpected '${tok.text}' in '${expr}'`);
  };
  const eq = (): unknown => {
    let v = primary();
    while (peek() === "==" || peek() === "!=") {
      const op = t[p++].text;
      const w = primary();
      v = op === "==" ? String(v) === String(w) : String(v) !== String(w);
    }
    return v;
  };
  const and = (): unknown => {
    let v = eq();
    while (peek() === "&&") {
      p++;
      const w = eq();
      v = truthy(v) ? w : v;
    }
    return v;
  };
  const or = (): unknown => {
    let v = and();
    while (peek() === "||") {
      p++;
      const w = and();
      v = truthy(v) ? v : w;
    }
    return v;
  };
  const v = or();
  if (p !== t.length) throw new Error(`expression: unexpected '${t[p].text}' in '${expr}'`);
  return v;
}

export const isTrue = (v: unknown) => v !== "" && v !== false && v !== 0 && v !== null && v !== undefined;

/** A string with its `${{ }}` parts evaluated. */
export function interpolate(text: string, ctx: Contexts): string {
  return text.replace(/\$\{\{(.*?)\}\}/g, (_, e) => String(evaluate(e, ctx)));
}

export interface Step {
  name?: string;
  id?: string;
  if?: string;
  uses?: string;
  run?: string;
  env?: Record<string, string>;
  with?: Record<string, unknown>;
}

export interface Job {
  if?: string;
  env?: Record<string, string>;
  steps: Step[];
}

export interface StepLog {
  step: string;
  status: "ran" | "skipped: uses" | "skipped: needs GitHub" | "skipped: if";
  seconds?: number;
}

/** Parses KEY=VALUE lines and KEY<<EOF heredocs of GITHUB_ENV / GITHUB_OUTPUT. */
export function readKeyValues(path: string): Record<string, string> {
  let text = "";
  try {
    text = Deno.readTextFileSync(path);
  } catch {
    return {};
  }
  const out: Record<string, string> = {};
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const here = /^([^=<]+)<<(.+)$/.exec(lines[i]);
    if (here) {
      const body: string[] = [];
      for (i++; i < lines.length && lines[i] !== here[2]; i++) body.push(lines[i]);
      out[here[1]] = body.join("\n");
    } else if (lines[i].includes("=")) {
      const k = lines[i].slice(0, lines[i].indexOf("="));
      out[k] = lines[i].slice(k.length + 1);
    }
  }
  return out;
}

/**
 * Runs a job's steps in order in `cwd`. `needsGitHub(step)` names the run
 * steps to skip besides `uses:` ones. A failing step throws with its output's tail.
 */
export async function runJob(
  job: Job,
  opts: {
    cwd: string;
    runnerTemp: string;
    workflowEnv: Record<string, string>;
    github: Record<string, unknown>;
    vars?: Record<string, string>;
    secrets?: Record<string, string>;
    baseEnv: Record<string, string>;
    needsGitHub: (step: Step) => boolean;
    onStep?: (log: StepLog) => void;
  },
): Promise<{ log: StepLog[]; ctx: Contexts }> {
  const ctx: Contexts = {
    github: opts.github,
    env: {},
    vars: opts.vars ?? {},
    secrets: opts.secrets ?? {},
    steps: {},
    runner: { os: "Linux", temp: opts.runnerTemp },
  };
  const withEnv = (extra: Record<string, string> | undefined) => {
    for (const [k, v] of Object.entries(extra ?? {})) ctx.env[k] = interpolate(String(v), ctx);
  };
  withEnv(opts.workflowEnv);
  withEnv(job.env);
  const log: StepLog[] = [];
  const note = (l: StepLog) => (log.push(l), opts.onStep?.(l));
  if (job.if !== undefined && !isTrue(evaluate(job.if, ctx))) {
    throw new Error(`the job's if: is false: ${job.if}`);
  }
  const paths: string[] = [];
  const fileEnv: Record<string, string> = {};
  Deno.mkdirSync(opts.runnerTemp, { recursive: true });
  for (const [n, step] of job.steps.entries()) {
    const label = step.name ?? step.uses ?? step.run?.split("\n")[0] ?? `step ${n}`;
    if (step.uses) {
      note({ step: label, status: "skipped: uses" });
      continue;
    }
    // the step's own env is in its if:'s env context, as on GitHub
    const stepCtx = { ...ctx, env: { ...ctx.env } };
    for (const [k, v] of Object.entries(step.env ?? {})) stepCtx.env[k] = interpolate(String(v), stepCtx);
    if (step.if !== undefined && !isTrue(evaluate(step.if, stepCtx))) {
      note({ step: label, status: "skipped: if" });
      continue;
    }
    if (opts.needsGitHub(step)) {
      note({ step: label, status: "skipped: needs GitHub" });
      continue;
    }
    const script = interpolate(step.run!, stepCtx);
    const files = {
      GITHUB_ENV: join(opts.runnerTemp, `env_${n}`),
      GITHUB_PATH: join(opts.runnerTemp, `path_${n}`),
      GITHUB_OUTPUT: join(opts.runnerTemp, `output_${n}`),
    };
    for (const f of Object.values(files)) Deno.writeTextFileSync(f, "");
    const basePath = opts.baseEnv.PATH ?? "";
    const env = {
      ...opts.baseEnv,
      ...stepCtx.env,
      ...fileEnv,
      ...files,
      CI: "true",
      GITHUB_ACTIONS: "true",
      GITHUB_EVENT_NAME: String(opts.github.event_name ?? ""),
      GITHUB_WORKSPACE: opts.cwd,
      RUNNER_TEMP: opts.runnerTemp,
      PATH: [...paths, basePath].filter(Boolean).join(":"),
    };
    const t0 = performance.now();
    const out = await new Deno.Command("bash", {
      args: ["--noprofile", "--norc", "-eo", "pipefail", "-c", script],
      cwd: opts.cwd,
      env,
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const seconds = (performance.now() - t0) / 1000;
    if (out.code !== 0) {
      const tail = (b: Uint8Array) => new TextDecoder().decode(b).split("\n").slice(-25).join("\n");
      throw new Error(`step '${label}' failed (exit ${out.code}):\n${tail(out.stdout)}\n${tail(out.stderr)}`);
    }
    Object.assign(fileEnv, readKeyValues(files.GITHUB_ENV));
    Object.assign(ctx.env, readKeyValues(files.GITHUB_ENV));
    const added = Deno.readTextFileSync(files.GITHUB_PATH).split("\n").map((s) => s.trim()).filter(Boolean);
    paths.unshift(...added.reverse());
    if (step.id) ctx.steps[step.id] = { outputs: readKeyValues(files.GITHUB_OUTPUT), outcome: "success" };
    note({ step: label, status: "ran", seconds });
  }
  return { log, ctx };
}
