/**
 * A concurrent writer for store_test.ts: `deno run -A _writer.ts <db> <worker> <runs> <shared-run-id>`
 * starts <runs> runs, logs params/metrics/tags to each, and also logs one
 * metric step per run into a shared run, then prints "ok".
 */
import { TrackingStore } from "../../src/tracking/store.ts";

const [path, worker, count, shared] = Deno.args;
const store = TrackingStore.open(path);
for (let i = 0; i < Number(count); i++) {
  const { runId } = store.startRun({ experiment: `exp-${Number(worker) % 2}`, runName: `w${worker}-${i}` });
  store.logParams(runId, { worker: Number(worker), i });
  store.logMetrics(runId, { score: Number(worker) * 1000 + i, loss: 1 / (i + 1) });
  store.setTags(runId, { worker });
  store.logMetric(shared, "progress", i, Number(worker) * 1000 + i);
  store.endRun(runId, "FINISHED");
}
store.close();
console.log("ok");
