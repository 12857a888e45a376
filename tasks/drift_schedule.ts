/**
 * `deno task drift:schedule`: a long-running scheduler on Deno.cron (params
 * drift.schedule, "0 2 * * *" = nightly at 02:00 UTC by default). Each tick is
 * `scheduledDriftCheck` from src/drift/schedule.ts (drift check, then retrain
 * and register a @challenger on dataset drift).
 */
import { defineTask, main, type TaskContext } from "../src/cli/task.ts";
import { errorLine, UserError } from "../src/core/errors.ts";
import { log } from "../src/core/progress.ts";
import { checkCron, scheduledDriftCheck, type TickDeps, type TickResult } from "../src/drift/schedule.ts";

function passThrough(ctx: TaskContext): string[] {
  return [...(ctx.configPath ? ["--config", ctx.configPath] : []), ...ctx.sets.flatMap((s) => ["--set", s])];
}

export const spec = defineTask({
  name: "drift:schedule",
  description: "Run the drift check on the cron schedule in params (drift.schedule); retrain and register " +
    "a @challenger on dataset drift. --once runs one check now and exits.",
  options: { once: { type: "boolean", description: "run one check now and exit (no scheduler)" } },
  async run(ctx): Promise<TickResult | { scheduled: string }> {
    const config = ctx.config;
    const deps: TickDeps = { config, passThrough: passThrough(ctx) };
    if (ctx.values.once) return await scheduledDriftCheck(deps);
    const schedule = checkCron(config.drift.schedule);
    try {
      Deno.cron("orchard-drift", schedule, async () => {
        const r = await scheduledDriftCheck({ ...deps, config: ctx.config, now: new Date() });
        log(`drift:schedule: ${r.status}${r.report ? ` (${r.report})` : ""}`);
      });
    } catch (e) {
      throw new UserError(`drift.schedule = '${schedule}': ${errorLine(e)}`);
    }
    log(`drift:schedule: scheduled '${schedule}' (UTC); Ctrl-C to stop`);
    await new Promise(() => {}); // run until killed
    return { scheduled: schedule };
  },
  summary: (r) => JSON.stringify(r),
  // a one-off check run by cron or CI must fail when its drift check or retraining did
  failure: (r) => {
    if (!("status" in r)) return undefined;
    if (r.status === "drift_failed") return `the drift check failed: ${r.error}`;
    if (r.status !== "retrain_failed") return undefined;
    const failed = r.steps.at(-1);
    return r.error
      ? `retraining failed: ${r.error}`
      : `retraining failed: '${failed?.task}' exited ${failed?.code}; no challenger was registered`;
  },
});

if (import.meta.main) await main(spec);
