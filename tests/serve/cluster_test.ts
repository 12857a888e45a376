/**
 * The workers' coordination (src/serve/cluster.ts): a worker that starts
 * after another must still be known to it, and know it, long before the next
 * heartbeat; otherwise a SIGTERM in the service's first second lets an idle
 * worker's shutdown barrier wait for no one, and its exit ends the process
 * before the busy worker has flushed its prediction log.
 */
import { deepStrictEqual, equal } from "node:assert/strict";
import { Cluster, type ClusterHandlers } from "../../src/serve/cluster.ts";
import type { MetricsSnapshot } from "../../src/serve/metrics.ts";

function handlers(onFlush: () => Promise<void> = () => Promise.resolve()): ClusterHandlers {
  return {
    snapshot: () => ({}) as MetricsSnapshot,
    reload: () => Promise.resolve({ version: null, changed: false }),
    flush: onFlush,
  };
}

const tick = (ms = 50) => new Promise((r) => setTimeout(r, ms));

Deno.test("a worker that starts later is known to the earlier one and knows it, before any heartbeat", async () => {
  const channel = `orchard-cluster-test-${crypto.randomUUID()}`;
  // an hour between heartbeats: only the start-up messages can introduce the two
  const a = new Cluster(channel, "a", handlers(), 3_600_000);
  await tick();
  const b = new Cluster(channel, "b", handlers(), 3_600_000);
  try {
    await tick();
    deepStrictEqual(a.livePeers(), ["b"]);
    deepStrictEqual(b.livePeers(), ["a"], "the later worker learns of the earlier one at once");
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("the later worker's shutdown waits until the earlier, busy one has flushed", async () => {
  const channel = `orchard-cluster-test-${crypto.randomUUID()}`;
  let flushed = false;
  const a = new Cluster(
    channel,
    "a",
    handlers(async () => {
      await tick(100);
      flushed = true;
    }),
    3_600_000,
  );
  await tick();
  const b = new Cluster(channel, "b", handlers(), 3_600_000);
  try {
    await tick();
    await b.shutdown(2000);
    equal(flushed, true, "b's barrier returned only after a had flushed");
  } finally {
    a.close();
    b.close();
  }
});
