/**
 * Bounded connections end to end (issue 14, part 4), through the runner with
 * the command line and permissions of `deno task serve` (2 workers): 200
 * connections whose headers trickle in and 100 that send nothing are all
 * closed after serve.idle_timeout_ms, a body that never completes is a 408
 * after serve.read_timeout_ms and its connection is then closed too, and the
 * service answers /predict throughout and exits 0 on SIGTERM.
 */
import { equal, match, ok } from "node:assert/strict";
import { sampleRecord, trainFixture } from "./fixture.ts";
import { readToClose, spawnService, waitReady, writeServeParams } from "./launch_helpers.ts";

const IDLE_MS = 800;
const READ_MS = 600;
const enc = new TextEncoder();
const dec = new TextDecoder();

Deno.test({
  name:
    "e2e bounds: trickling and idle connections are closed, a stalled body is 408 then closed, /predict answers",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "orchard-serve-bounds-" });
    const artifact = await trainFixture(`${root}/t1`, { seed: 5, trees: 4 });
    const cfgPath = await writeServeParams(root, [
      "serve:",
      `  idle_timeout_ms: ${IDLE_MS}`,
      `  read_timeout_ms: ${READ_MS}`,
    ]);
    const { child, base, port } = spawnService(cfgPath, { model: artifact, workers: 2, stderr: "piped" });
    const predict = async () => {
      const res = await fetch(`${base}/predict`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(sampleRecord(3)),
      });
      await res.body?.cancel();
      return res.status;
    };
    try {
      ok(await waitReady(base), "the service came up");

      const connect = () => Deno.connect({ hostname: "127.0.0.1", port });
      const trickling = await Promise.all(Array.from({ length: 200 }, connect));
      const silent = await Promise.all(Array.from({ length: 100 }, connect));
      let dripping = true;
      const head = enc.encode("POST /predict HTTP/1.1\r\nHost: x\r\nX-Slow: " + "a".repeat(200));
      const drips = trickling.map(async (c) => {
        for (let i = 0; i < head.length && dripping; i++) {
          try {
            await c.write(head.subarray(i, i + 1));
          } catch {
            return;
          }
          await new Promise((r) => setTimeout(r, 100));
        }
      });
      // a body announced at 1,000 bytes that stops after 10
      const stalled = await connect();
      await stalled.write(enc.encode(
        'POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"tenure":',
      ));
      // the service answers throughout
      const statuses = await Promise.all(Array.from({ length: 20 }, predict));
      ok(statuses.every((s) => s === 200), String(statuses));

      const limit = IDLE_MS * 4 + 2000;
      const all = await Promise.all([...trickling, ...silent].map((c) => readToClose(c, limit)));
      dripping = false;
      await Promise.all(drips);
      const open = all.filter((r) => !r.closedByServer).length;
      equal(open, 0, `${open} of 300 connections still open after ${limit} ms`);
      ok(all.every((r) => r.text === ""), "no answer to headers that never completed");

      // /metrics counts them over both workers
      const metrics = await (await fetch(`${base}/metrics`)).text();
      const closed = Number(/^orchard_connections_idle_closed_total (\d+)$/m.exec(metrics)?.[1]);
      ok(closed >= 300, `orchard_connections_idle_closed_total ${closed}`);
      match(metrics, /^orchard_connections_refused_total 0$/m);
      match(metrics, /^orchard_connections_open \d+$/m);

      const cut = await readToClose(stalled, READ_MS + IDLE_MS * 4 + 2000);
      ok(cut.text.startsWith("HTTP/1.1 408"), cut.text);
      ok(cut.closedByServer, "the stalled connection was closed after its 408");
      equal(await predict(), 200);
    } finally {
      child.kill("SIGTERM");
      const status = await child.status;
      const err = dec.decode(await new Response(child.stderr).arrayBuffer());
      equal(status.code, 0, err);
      await Deno.remove(root, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name:
    "e2e bounds: serve.engine plain starts one worker on Deno.serve, says so, answers and stops with exit 0",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "orchard-serve-plain-" });
    const artifact = await trainFixture(`${root}/t1`, { seed: 6, trees: 3 });
    const cfgPath = await writeServeParams(root, ["serve:", "  engine: plain"]);
    // two asked for: Deno.serve cannot share one socket between workers without an unstable API
    const { child, base } = spawnService(cfgPath, { model: artifact, workers: 2, stderr: "piped" });
    try {
      ok(await waitReady(base), "the service came up");
      const res = await fetch(`${base}/predict`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(sampleRecord(2)),
      });
      equal(res.status, 200);
      ok("prediction" in (await res.json()).predictions[0]);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      // no connection bounds to report
      ok(!/^orchard_connections_open /m.test(metrics), "no connection gauge without the engine");
    } finally {
      child.kill("SIGTERM");
      const status = await child.status;
      const err = dec.decode(await new Response(child.stderr).arrayBuffer());
      equal(status.code, 0, err);
      match(
        err,
        /serve\.engine is plain: Deno\.serve on one worker \(not 2\), idle connections are not timed out/,
      );
      match(err, /listening on http:\/\/127\.0\.0\.1:\d+ \(1 worker\)/);
      await Deno.remove(root, { recursive: true }).catch(() => {});
    }
  },
});
