/**
 * The scheduled drift check behind `deno task drift:schedule`: each tick runs
 * the drift check; on dataset drift it runs the retraining pipeline
 * (prep -> features -> train) and registers the new run as @challenger,
 * asking for @champion without --force: the promotion gates alone decide
 * whether it becomes champion (a failing version stays a challenger).
 */
import { errorLine, UserError } from "../core/errors.ts";
import { log } from "../core/progress.ts";
import type { Config } from "../config/schema.ts";
import { type DriftRun, type DriftRunOptions, runDrift } from "./run.ts";

/** Where the retraining train step writes its run id, for register to read (never "latest"). */
const RETRAIN_RUN_FILE = "models/retrain_run.txt";

/** The retraining pipeline run on drift, as `deno task` argument lists. */
export const RETRAIN_STEPS: string[][] = [
  ["prep"],
  ["features"],
  ["train", "--run-file", RETRAIN_RUN_FILE],
  // exactly the run just trained; always @challenger, @champion only when the promotion gates pass (never --force)
  ["register", "--run-file", RETRAIN_RUN_FILE, "--alias", "challenger", "--alias", "champion"],
];

export interface TickDeps {
  config: Config;
  /** extra flags passed to every spawned task (--config, --set ...) */
  passThrough?: string[];
  drift?: (opts: DriftRunOptions) => DriftRun | Promise<DriftRun>;
  /** runs `deno task <args>` and resolves to its exit code */
  runTask?: (args: string[]) => Promise<number>;
  now?: Date;
  log?: (msg: string) => void;
}

export interface TickResult {
  ran_at: string;
  status: "no_drift" | "retrained" | "retrain_failed" | "drift_failed";
  dataset_drift: boolean | null;
  drift_share: number | null;
  report: string | null;
  steps: { task: string; code: number }[];
  error?: string;
}

/**
 * Runs `deno task <args>` with the `deno` on PATH: the task's --allow-run=deno
 * grants that name, which need not be the path Deno.execPath() reports.
 */
async function spawnTask(args: string[]): Promise<number> {
  const child = new Deno.Command("deno", { args: ["task", ...args], stdout: "inherit", stderr: "inherit" });
  return (await child.output()).code;
}

/** One scheduled check: drift, then retrain + register as challenger on dataset drift. */
export async function scheduledDriftCheck(deps: TickDeps): Promise<TickResult> {
  const say = deps.log ?? log;
  const now = deps.now ?? new Date();
  const base: TickResult = {
    ran_at: now.toISOString(),
    status: "no_drift",
    dataset_drift: null,
    drift_share: null,
    report: null,
    steps: [],
  };
  let run: DriftRun;
  try {
    run = await (deps.drift ?? runDrift)({ config: deps.config, now });
  } catch (e) {
    say(`drift:schedule: drift check failed: ${errorLine(e)}`);
    return { ...base, status: "drift_failed", error: errorLine(e) };
  }
  const result: TickResult = {
    ...base,
    dataset_drift: run.json.dataset_drift,
    drift_share: run.json.drift_share,
    report: run.reportPath,
  };
  say(
    `drift:schedule: drift share ${run.json.drift_share.toFixed(3)}; dataset drift ${run.json.dataset_drift}`,
  );
  if (!run.json.dataset_drift) return result;
  const runTask = deps.runTask ?? spawnTask;
  for (const step of RETRAIN_STEPS) {
    const args = [...step, ...(deps.passThrough ?? [])];
    say(`drift:schedule: deno task ${args.join(" ")}`);
    let code: number;
    try {
      code = await runTask(args);
    } catch (e) {
      say(`drift:schedule: could not start 'deno task ${step[0]}': ${errorLine(e)}`);
      result.steps.push({ task: step[0], code: -1 });
      return { ...result, status: "retrain_failed", error: errorLine(e) };
    }
    result.steps.push({ task: step[0], code });
    if (code !== 0) {
      say(`drift:schedule: '${step[0]}' failed (exit ${code}); retraining stopped`);
      return { ...result, status: "retrain_failed" };
    }
  }
  return { ...result, status: "retrained" };
}

/** Validates a five-field cron expression enough to give a one-line error before Deno.cron does. */
export function checkCron(expr: string): string {
  const fields = expr.trim().split(/\s+/);
  if (fields.length !== 5 || fields.some((f) => !/^[\d*,\/-]+$/.test(f))) {
    throw new UserError(`drift.schedule = '${expr}': expected a 5-field cron expression like "0 2 * * *"`);
  }
  return fields.join(" ");
}
