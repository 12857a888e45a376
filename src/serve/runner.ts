/**
 * The service's process, as `deno task serve` starts it (launch.ts):
 * `deno run ... src/serve/runner.ts --host H --port P --workers N`.
 * Like `deno serve --parallel`, N worker isolates accept from one listening
 * socket, but each serves the connections it accepts itself and times out
 * idle and slow ones (connections.ts, worker.ts).
 *
 * Every worker loads the service at once and listens as soon as it has (all
 * ask for the same address, port 0 too: Deno gives them its one socket); the
 * runner prints
 * `serve: listening on http://H:P (N workers)` once all are up. A worker's
 * fatal start-up line is printed alone and ends the process with exit 2.
 * SIGTERM and SIGINT stop every worker (each drains and flushes its
 * prediction log) and end it with exit 0.
 *
 * `--engine plain` (serve.engine), or a Deno without the per-connection
 * engine: one worker on Deno.serve as it is, no idle timeouts (connections.ts),
 * and a line that says so.
 */
import { parseArgs } from "node:util";
import { hasConnectionEngine } from "./connections.ts";
import type { RunnerMessage, WorkerMessage } from "./worker.ts";

const { values } = parseArgs({
  options: {
    host: { type: "string", default: "0.0.0.0" },
    port: { type: "string", default: "8000" },
    workers: { type: "string" },
    engine: { type: "string", default: "guarded" },
  },
});
const host = values.host!;
const port = Number(values.port);
const asked = values.workers ? Number(values.workers) : navigator.hardwareConcurrency || 1;
if (!Number.isInteger(port) || port < 0 || port > 65535 || !Number.isInteger(asked) || asked < 1) {
  console.error(`serve: cannot start: --port ${values.port} --workers ${values.workers}: expected numbers`);
  Deno.exit(2);
}
if (values.engine !== "guarded" && values.engine !== "plain") {
  console.error(`serve: cannot start: --engine ${values.engine}: expected guarded or plain`);
  Deno.exit(2);
}
const plain = values.engine === "plain" || !hasConnectionEngine();
// Deno.serve shares a socket between workers only with an unstable API: plain is one worker
const count = plain ? 1 : asked;
if (plain) {
  const why = values.engine === "plain"
    ? "serve.engine is plain"
    : "this Deno has no per-connection HTTP engine";
  console.error(
    `serve: ${why}: Deno.serve on one worker${
      asked > 1 ? ` (not ${asked})` : ""
    }, idle connections are not timed out`,
  );
}

const fail = (line: string, code = 2): never => {
  console.error(line);
  Deno.exit(code);
};

const workers: Worker[] = [];
const listening = new Set<number>();
const stopped = new Set<number>();
let boundPort = port;

const send = (i: number, m: RunnerMessage) => workers[i].postMessage(m);

for (let i = 0; i < count; i++) {
  const w = new Worker(new URL("./worker.ts", import.meta.url), {
    type: "module",
    name: `serve-worker-${i}`,
  });
  workers.push(w);
  w.onmessage = (e: MessageEvent<WorkerMessage>) => onMessage(i, e.data);
  w.onerror = (e) => {
    e.preventDefault();
    fail(`serve: worker ${i} failed: ${e.message}`, 1);
  };
  send(i, { t: "listen", host, port, plain });
}

function onMessage(i: number, m: WorkerMessage): void {
  switch (m.t) {
    case "fatal":
      return fail(m.line);
    case "listening":
      listening.add(i);
      boundPort = m.port;
      if (listening.size === count) {
        const shown = host.includes(":") ? `[${host}]` : host;
        console.error(
          `serve: listening on http://${shown}:${boundPort} (${count} worker${count === 1 ? "" : "s"})`,
        );
      }
      return;
    case "stopped":
      console.log(m.line);
      stopped.add(i);
      if (stopped.size === count) Deno.exit(0);
      return;
  }
}

let stopping = false;
for (const sig of ["SIGTERM", "SIGINT"] as const) {
  try {
    Deno.addSignalListener(sig, () => {
      if (stopping) return;
      stopping = true;
      // a worker still loading has nothing to flush; it reports stopped once loaded
      for (let i = 0; i < count; i++) send(i, { t: "stop", signal: sig });
    });
  } catch { /* signals unavailable (e.g. Windows SIGTERM) */ }
}
