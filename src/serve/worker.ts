/// <reference lib="deno.worker" />
/**
 * One worker of runner.ts: loads the service (service.ts), listens on the
 * shared socket with bounded connections (connections.ts), and
 * answers the runner's messages. It never exits by itself: a start that
 * cannot succeed, and the end of a shutdown, are messages to the runner,
 * which prints them and ends the process.
 */
import { serveConnections } from "./connections.ts";
import { errorLine } from "../core/errors.ts";
import { type Service, StartError, startService } from "./service.ts";
import type { ConnectionServer } from "./connections.ts";

export type RunnerMessage =
  | { t: "listen"; host: string; port: number; plain: boolean }
  | { t: "stop"; signal: string };

export type WorkerMessage =
  | { t: "listening"; port: number; guarded: boolean }
  | { t: "fatal"; line: string }
  | { t: "stopped"; line: string };

/** how long a shutdown waits for requests in flight before the worker reports stopped */
const DRAIN_MS = 2000;

const tell = (m: WorkerMessage) => self.postMessage(m);
let service: Service | null = null;
let server: ConnectionServer | null = null;

const loading = startService().then((s) => {
  service = s;
}, (e) => tell({ t: "fatal", line: `serve: ${e instanceof StartError ? e.message : errorLine(e)}` }));

function listen(host: string, port: number, plain: boolean): void {
  const s = service!;
  try {
    server = serveConnections(s.app.fetch, {
      hostname: host,
      port,
      shared: !plain,
      plain,
      idleTimeoutMs: s.config.serve.idle_timeout_ms,
      maxConnections: s.config.serve.max_connections,
    });
    const srv = server;
    if (srv.guarded) s.metrics.connections = () => ({ open: srv.connections(), ...srv.stats() });
    tell({ t: "listening", port: srv.addr.port, guarded: srv.guarded });
  } catch (e) {
    const line = e instanceof Deno.errors.AddrInUse
      ? `serve: cannot start: ${host}:${port} is in use (another process listens there; choose --port)`
      : `serve: cannot start: cannot listen on ${host}:${port}: ${errorLine(e)}`;
    tell({ t: "fatal", line });
  }
}

async function stop(signal: string): Promise<void> {
  await loading;
  if (!service) return;
  const line = await service.shutdown(signal);
  if (server) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([server.shutdown(), new Promise((r) => timer = setTimeout(r, DRAIN_MS))]);
    clearTimeout(timer);
  }
  tell({ t: "stopped", line });
}

self.onmessage = (e: MessageEvent<RunnerMessage>) => {
  const m = e.data;
  // listens once loaded (a failed load has told the runner already)
  if (m.t === "listen") void loading.then(() => service && listen(m.host, m.port, m.plain));
  else if (m.t === "stop") void stop(m.signal);
};
