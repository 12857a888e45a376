/**
 * A concurrent writer for store_test.ts: `deno run -A _writer.ts <store> <worker> <runs> <shared-run-id>`
 * (<store> a SQLite path or a postgresql:// URI) starts <runs> runs, logs
 * params/metrics/tags to each, and also logs one metric step per run into a
 * shared run, then prints "ok".
 */
import { TrackingStore } from "../../src/tracking/store.ts";

const [location, worker, count, shared] = Deno.args;
const store = await TrackingStore.open(location);
try {
  for (let i = 0; i < Number(count); i++) {
    const { runId } = await store.startRun({
      experiment: `exp-${Number(worker) % 2}`,
      runName: `w${worker}-${i}`,
    });
    await store.logParams(runId, { worker: Number(worker), i });
    await store.logMetrics(runId, { score: Number(worker) * 1000 + i, loss: 1 / (i + 1) });
    await store.setTags(runId, { worker });
    await store.logMetric(shared, "progress", i, Number(worker) * 1000 + i);
    await store.endRun(runId, "FINISHED");
  }
} finally {
  await store.close();
}
console.log("ok");
