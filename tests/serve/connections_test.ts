/**
 * serveConnections (issue 14, part 4: slow or idle connections time out), on
 * real sockets: an idle keep-alive and headers that trickle in are closed
 * after idleTimeoutMs, a handler that takes longer is not cut, a connection
 * past maxConnections is closed as it arrives, and shutdown stops accepting.
 */
import { equal, ok } from "node:assert/strict";
import { type FetchHandler, hasConnectionEngine, serveConnections } from "../../src/serve/connections.ts";
import { readToClose as readUntilClosed } from "./launch_helpers.ts";

const readToClose = (conn: Deno.Conn) => readUntilClosed(conn, 5000);

const IDLE_MS = 300;
const enc = new TextEncoder();

function start(handler: FetchHandler = () => new Response("ok"), maxConnections = 100) {
  return serveConnections(handler, {
    hostname: "127.0.0.1",
    port: 0,
    idleTimeoutMs: IDLE_MS,
    maxConnections,
  });
}

Deno.test("connections: answers, then an idle keep-alive is closed after the idle timeout", async () => {
  const server = start();
  try {
    ok(server.guarded, "this Deno has the per-connection engine");
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
    await conn.write(enc.encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    const { text, ms } = await readToClose(conn);
    ok(text.startsWith("HTTP/1.1 200"), text);
    ok(text.endsWith("ok"), text);
    // closed after the idle time (plus at most a sweep tick), not held open
    ok(ms >= IDLE_MS - 20 && ms < IDLE_MS * 3 + 200, `closed after ${ms} ms`);
    equal(server.stats().idleClosed, 1);
    equal(server.connections(), 0);
  } finally {
    await server.shutdown();
  }
});

Deno.test("connections: headers that trickle in a byte at a time are cut off, and a silent connection too", async () => {
  const server = start();
  try {
    const silent = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
    const trickling = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
    let stop = false;
    const head = enc.encode("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + "a".repeat(100));
    const drip = (async () => {
      for (let i = 0; i < head.length && !stop; i++) {
        try {
          await trickling.write(head.subarray(i, i + 1));
        } catch {
          return; // closed by the server
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const [a, b] = await Promise.all([readToClose(silent), readToClose(trickling)]);
    stop = true;
    await drip;
    equal(a.text, "");
    equal(b.text, "");
    // well before the 5 s read limit: the server closed both
    ok(a.ms < IDLE_MS * 3 + 200 && b.ms < IDLE_MS * 3 + 200, `${a.ms} / ${b.ms} ms`);
    equal(server.stats().idleClosed, 2);
  } finally {
    await server.shutdown();
  }
});

Deno.test("connections: a request in its handler longer than the idle timeout is answered, not cut", async () => {
  const server = start(async () => {
    await new Promise((r) => setTimeout(r, IDLE_MS * 3));
    return new Response("slow but fine");
  });
  try {
    const res = await fetch(`http://127.0.0.1:${server.addr.port}/`);
    equal(res.status, 200);
    equal(await res.text(), "slow but fine");
    equal(server.stats().idleClosed, 0);
  } finally {
    await server.shutdown();
  }
});

Deno.test("connections: one past maxConnections is closed as it arrives; the others are served", async () => {
  const server = start(undefined, 2);
  try {
    const held = [
      await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port }),
      await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port }),
    ];
    // both accepted before the third arrives
    for (let i = 0; i < 50 && server.connections() < 2; i++) await new Promise((r) => setTimeout(r, 10));
    equal(server.connections(), 2);
    const extra = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
    const refused = await readToClose(extra);
    equal(refused.text, "");
    ok(refused.ms < IDLE_MS, `closed after ${refused.ms} ms`);
    equal(server.stats().refused, 1);
    await held[0].write(enc.encode("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    ok((await readToClose(held[0])).text.startsWith("HTTP/1.1 200"));
    held[1].close();
  } finally {
    await server.shutdown();
  }
});

Deno.test("connections: shutdown stops accepting and resolves finished", async () => {
  const server = start();
  const port = server.addr.port;
  equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), "ok");
  await server.shutdown();
  await server.finished;
  let refused = false;
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port })).close();
  } catch {
    refused = true;
  }
  ok(refused, "nothing listens after shutdown");
});

Deno.test("connections: plain is Deno.serve as it is, unguarded, even when shared is asked for", async () => {
  // shared on Deno.serve would need reusePort, an unstable API: plain listens on a socket of its own
  const server = serveConnections(() => new Response("plain"), {
    hostname: "127.0.0.1",
    port: 0,
    shared: true,
    plain: true,
    idleTimeoutMs: IDLE_MS,
    maxConnections: 1,
  });
  try {
    equal(server.guarded, false);
    ok(hasConnectionEngine(), "this Deno has the per-connection engine: plain is chosen, not forced");
    // maxConnections is not enforced without the engine: two at once are both answered
    const port = server.addr.port;
    const [a, b] = await Promise.all([
      fetch(`http://127.0.0.1:${port}/`),
      fetch(`http://127.0.0.1:${port}/`),
    ]);
    equal(await a.text(), "plain");
    equal(await b.text(), "plain");
    equal(server.connections(), 0);
  } finally {
    await server.shutdown();
  }
  await server.finished;
});
