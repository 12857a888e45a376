import assert, { deepEqual, equal, throws } from "node:assert/strict";
import { ConfigSchema } from "../../src/config/schema.ts";
import type { DriftRun } from "../../src/drift/run.ts";
import { checkCron, RETRAIN_STEPS, scheduledDriftCheck } from "../../src/drift/schedule.ts";
import { spec as scheduleTask } from "../../tasks/drift_schedule.ts";

const config = ConfigSchema.parse({});
const fakeRun = (drift: boolean) => (): DriftRun =>
  ({
    json: {
      dataset_drift: drift,
      drift_share: drift ? 0.6 : 0.1,
      columns: [],
      quality: [],
      report: "r.html",
    },
    reportPath: "r.html",
  }) as unknown as DriftRun;

Deno.test("schedule handler: dataset drift retrains and registers a challenger; only the gates make it champion", async () => {
  const calls: string[][] = [];
  const r = await scheduledDriftCheck({
    config,
    drift: fakeRun(true),
    runTask: (args) => (calls.push(args), Promise.resolve(0)),
    passThrough: ["--set", "model.n_estimators=10"],
    log: () => {},
  });
  equal(r.status, "retrained");
  deepEqual(calls.map((c) => c[0]), ["prep", "features", "train", "register"]);
  const register = calls.at(-1)!;
  assert(register.includes("challenger"));
  // register takes exactly the run train just made, not whatever run is latest
  const train = calls[2];
  equal(register[register.indexOf("--run-file") + 1], train[train.indexOf("--run-file") + 1]);
  assert(!register.includes("latest"));
  // champion is requested without --force: the registry applies it only when the gates pass
  assert(!register.includes("--force") && !register.includes("--reason"));
  assert(calls.every((c) => c.join(" ").endsWith("--set model.n_estimators=10")));
});

Deno.test("schedule handler: no drift runs nothing; a failing step stops retraining; drift errors are reported", async () => {
  const calls: string[][] = [];
  const none = await scheduledDriftCheck({
    config,
    drift: fakeRun(false),
    runTask: (a) => (calls.push(a), Promise.resolve(0)),
    log: () => {},
  });
  equal(none.status, "no_drift");
  equal(calls.length, 0);
  const failing = await scheduledDriftCheck({
    config,
    drift: fakeRun(true),
    runTask: (a) => (calls.push(a), Promise.resolve(a[0] === "train" ? 1 : 0)),
    log: () => {},
  });
  equal(failing.status, "retrain_failed");
  deepEqual(failing.steps.map((s) => s.task), ["prep", "features", "train"]);
  const broken = await scheduledDriftCheck({
    config,
    drift: () => {
      throw new Error("current data is empty (0 rows)");
    },
    log: () => {},
  });
  equal(broken.status, "drift_failed");
  equal(broken.error, "current data is empty (0 rows)");
  equal(RETRAIN_STEPS.at(-1)!.includes("challenger"), true);
  const unstartable = await scheduledDriftCheck({
    config,
    drift: fakeRun(true),
    runTask: () => Promise.reject(new Deno.errors.NotCapable("Requires run access")),
    log: () => {},
  });
  equal(unstartable.status, "retrain_failed");
  deepEqual(unstartable.steps, [{ task: "prep", code: -1 }]);
  // drift:schedule --once exits 1 with one line for each failure, 0 otherwise
  const failure = (r: Parameters<NonNullable<typeof scheduleTask.failure>>[0]) =>
    scheduleTask.failure!(r, {} as never);
  equal(failure(none), undefined);
  equal(failure(failing), "retraining failed: 'train' exited 1; no challenger was registered");
  equal(failure(broken), "the drift check failed: current data is empty (0 rows)");
  equal(failure(unstartable), "retraining failed: Requires run access");
  equal(failure({ scheduled: "0 2 * * *" }), undefined);
});

Deno.test("schedule: the default is nightly and bad cron expressions are user errors", () => {
  equal(checkCron(config.drift.schedule), "0 2 * * *");
  throws(() => checkCron("every night"), /5-field cron/);
  throws(() => checkCron("0 2 * *"), /5-field cron/);
});
