/**
 * A registration killed with SIGKILL (kill -9) at one point, for faults_test.ts:
 *   deno run -A _fault.ts <store> <modelsDir> <runId> <point>
 * point: before-copy | after-copy (copied, not yet renamed) | before-commit
 * (renamed, rows inserted, COMMIT not sent) | after-commit (committed, the
 * process dies before it returns) | train (a run started and logging, never ended) |
 * fail-ended (not a fault: prints the runs failEndedRuns marked FAILED, as another process).
 */
import { DatabaseSync } from "node:sqlite";
import pg from "pg";
import { TrackingStore } from "../../src/tracking/store.ts";
import { ModelRegistry } from "../../src/registry/registry.ts";

const [location, modelsDir, runId, point] = Deno.args;
const die = (): never => {
  Deno.kill(Deno.pid, "SIGKILL");
  throw new Error("unreachable");
};

if (point === "before-copy") {
  Deno.copyFileSync = () => die();
}
if (point === "after-copy") {
  Deno.renameSync = () => die();
}
// COMMIT on either backend: SQLite's exec, or the pg client's query
const sqliteExec = DatabaseSync.prototype.exec;
DatabaseSync.prototype.exec = function (this: DatabaseSync, sql: string) {
  if (sql === "COMMIT" && point === "before-commit") die();
  const out = sqliteExec.call(this, sql);
  if (sql === "COMMIT" && point === "after-commit") die();
  return out;
};
// deno-lint-ignore no-explicit-any
const pgQuery = pg.Client.prototype.query as any;
// deno-lint-ignore no-explicit-any
(pg.Client.prototype as any).query = function (this: pg.Client, ...args: any[]) {
  if (args[0] === "COMMIT" && point === "before-commit") die();
  const out = pgQuery.apply(this, args);
  if (args[0] === "COMMIT" && point === "after-commit") {
    return Promise.resolve(out).then(() => die());
  }
  return out;
};

const store = await TrackingStore.open(location);
if (point === "fail-ended") {
  console.log(JSON.stringify(await store.failEndedRuns()));
  await store.close();
  Deno.exit(0);
}
if (point === "train") {
  const { runId: id } = await store.startRun({ experiment: "churn", runName: "killed" });
  await store.logParams(id, { max_depth: 3 });
  await store.logMetrics(id, { loss: 0.5 }, 1);
  console.log(id);
  die();
}
const registry = await ModelRegistry.open(store, { modelsDir });
await registry.register({ runId, name: "m" });
console.log("not killed");
