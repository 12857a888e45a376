/**
 * An HTTP server whose connections are bounded in time and number, on Deno's
 * own HTTP engine.
 *
 * Deno.serve (and so `deno serve`) closes no connection of its own accord: an
 * idle keep-alive, or headers that trickle in a byte at a time, hold a socket
 * for ever (denoland/deno#3515; Deno 2.9 has no header or idle timeout).
 * node:http in Deno does time them out, but serves 24-38k req/s here against
 * 68-74k for Deno.serve. So this server accepts the connections itself
 * (Deno.listen; with `shared`, one socket every worker of the process accepts
 * from, as `deno serve --parallel` does: a free worker takes the next
 * connection, where SO_REUSEPORT's hash would leave one worker with more) and
 * hands each to the same native HTTP engine Deno.serve runs, through Deno's
 * internal `serveHttpOnConnection`; the requests then take Deno.serve's path
 * (same throughput, bench:serve).
 *
 * What it bounds, swept once a second at most, not a timer per request:
 * - a connection with no request in its handler for `idleTimeoutMs` is shut
 *   down: an idle keep-alive, headers that never complete (the handler only
 *   sees a request once its headers are in), or an answer its client does not
 *   read;
 * - a worker holds at most `maxConnections`; one past that is closed at once.
 * A body that never completes is the handler's to cut (serve.read_timeout_ms,
 * http.ts): while a request is in its handler, its connection is not idle.
 *
 * `serveHttpOnConnection` is not public API: where a Deno lacks it, or with
 * `plain`, this is Deno.serve as it is (no connection bounds, `guarded: false`)
 * on a socket of its own: Deno.serve shares one between workers only with
 * reusePort, which needs --unstable-net, so the runner then starts one worker.
 */

export type FetchHandler = (req: Request, info: Deno.ServeHandlerInfo) => Response | Promise<Response>;

export interface ConnectionLimits {
  /** a connection with no request in progress this long is closed */
  idleTimeoutMs: number;
  /** connections held by this listener at once; more are closed on accept */
  maxConnections: number;
}

export interface ServeConnectionsOptions extends ConnectionLimits {
  hostname: string;
  port: number;
  /**
   * every worker of this process that listens on the address accepts from one
   * socket (Deno's loadBalanced listener, as under `deno serve --parallel`)
   */
  shared?: boolean;
  /** Deno.serve as it is, without the per-connection engine (serve.engine: plain); never `shared` */
  plain?: boolean;
  onError?: (error: unknown) => Response | Promise<Response>;
}

export interface ConnectionServer {
  readonly addr: Deno.NetAddr;
  /** false when this Deno lacks the per-connection engine: Deno.serve, unbounded connections */
  readonly guarded: boolean;
  /** connections open now */
  connections(): number;
  /** connections closed for idling, and refused for being one too many */
  stats(): { idleClosed: number; refused: number };
  /** stops accepting and shuts every connection down (in-flight requests finish) */
  shutdown(): Promise<void>;
  readonly finished: Promise<void>;
}

interface HttpConnection {
  finished: Promise<void>;
  shutdown(): Promise<void>;
}

type ServeOnConnection = (
  conn: Deno.Conn,
  signal: AbortSignal | undefined,
  handler: FetchHandler,
  onError: (error: unknown) => Response | Promise<Response>,
  onListen: (scheme: string) => void,
) => HttpConnection;

/** whether this Deno has the per-connection HTTP engine the bounded server runs on */
export function hasConnectionEngine(): boolean {
  return nativeServeOnConnection() !== null;
}

/** Deno's per-connection HTTP engine (ext/http's serveHttpOnConnection), if this Deno has it. */
function nativeServeOnConnection(): ServeOnConnection | null {
  const internal = (Deno as unknown as Record<symbol, unknown>)[
    (Deno as unknown as { internal: symbol }).internal
  ] as Record<string, unknown> | undefined;
  const fn = internal?.serveHttpOnConnection;
  return typeof fn === "function" && fn.length >= 4 ? fn as ServeOnConnection : null;
}

/** One accepted connection: requests in its handler now, and when the last one left. */
interface Tracked {
  http: HttpConnection | null;
  busy: number;
  idleSince: number;
}

const defaultOnError = (): Response =>
  new Response(JSON.stringify({ error: "internal error" }), {
    status: 500,
    headers: { "content-type": "application/json" },
  });

export function serveConnections(handler: FetchHandler, opts: ServeConnectionsOptions): ConnectionServer {
  const onError = opts.onError ?? defaultOnError;
  const native = opts.plain ? null : nativeServeOnConnection();
  if (!native) return unguarded(handler, opts, onError);
  const serveOn: ServeOnConnection = native;

  const listener = Deno.listen({
    hostname: opts.hostname,
    port: opts.port,
    transport: "tcp",
    // not in Deno's types: the option `deno serve --parallel` listens with. Against reusePort
    // (a socket per worker, connections hashed to them) the tail of bench:serve fell by half
    ...(opts.shared ? { loadBalanced: true } : {}),
  } as Deno.TcpListenOptions);
  const open = new Set<Tracked>();
  let idleClosed = 0;
  let refused = 0;
  let stopping = false;

  const close = (t: Tracked) => {
    open.delete(t);
    t.http?.shutdown().catch(() => {}); // a peer already gone
  };

  // once a second at most: a connection may idle for idleTimeoutMs plus one tick
  const tick = Math.max(10, Math.min(1000, Math.floor(opts.idleTimeoutMs / 4)));
  const sweeper = setInterval(() => {
    const deadline = Date.now() - opts.idleTimeoutMs;
    for (const t of open) {
      if (t.busy === 0 && t.idleSince < deadline) {
        idleClosed++;
        close(t);
      }
    }
  }, tick);

  const accepting = (async () => {
    while (!stopping) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (e) {
        if (stopping || e instanceof Deno.errors.BadResource) return; // the listener closed
        // out of file descriptors, or a connection reset before accept: keep accepting
        await new Promise((r) => setTimeout(r, 10));
        continue;
      }
      if (stopping || open.size >= opts.maxConnections) {
        refused++;
        try {
          conn.close();
        } catch { /* already closed by the peer */ }
        continue;
      }
      adopt(conn);
    }
  })();

  /** Serves one accepted connection, counting its requests in and out of the handler. */
  function adopt(conn: Deno.Conn): void {
    // Date.now: 90 ns a call here against 215 for performance.now (an op), and ms are enough
    const t: Tracked = { http: null, busy: 0, idleSince: Date.now() };
    const done = () => {
      t.busy--;
      t.idleSince = Date.now();
    };
    // made once per connection: a request's promise takes them, no closure per request
    const answered = (r: Response) => {
      done();
      return r;
    };
    const failed = (e: unknown): never => {
      done();
      throw e;
    };
    const tracked: FetchHandler = (req, info) => {
      t.busy++;
      let res: Response | Promise<Response>;
      try {
        res = handler(req, info);
      } catch (e) {
        return failed(e);
      }
      if (res instanceof Promise) return res.then(answered, failed);
      done(); // a sync answer skips the promise
      return res;
    };
    open.add(t);
    try {
      t.http = serveOn(conn, undefined, tracked, onError, () => {});
      // a reset by the peer rejects `finished`: the connection is gone either way
      const gone = () => open.delete(t);
      t.http.finished.then(gone, gone);
    } catch {
      open.delete(t);
      try {
        conn.close();
      } catch { /* gone */ }
    }
  }

  let finishing: Promise<void> | null = null;
  const shutdown = () => {
    finishing ??= (async () => {
      stopping = true;
      clearInterval(sweeper);
      try {
        listener.close();
      } catch { /* closed */ }
      await Promise.all([...open].map((t) => t.http?.shutdown().catch(() => {})));
      open.clear();
      await accepting;
    })();
    return finishing;
  };
  let resolveFinished!: () => void;
  const finished = new Promise<void>((r) => resolveFinished = r);
  return {
    addr: listener.addr as Deno.NetAddr,
    guarded: true,
    connections: () => open.size,
    stats: () => ({ idleClosed, refused }),
    shutdown: () => shutdown().then(resolveFinished),
    finished,
  };
}

/** Deno.serve as it is, on a socket of its own (`shared` would need reusePort, an unstable API). */
function unguarded(
  handler: FetchHandler,
  opts: ServeConnectionsOptions,
  onError: (error: unknown) => Response | Promise<Response>,
): ConnectionServer {
  const server = Deno.serve({
    hostname: opts.hostname,
    port: opts.port,
    onError,
    onListen: () => {},
  }, handler);
  return {
    addr: server.addr as Deno.NetAddr,
    guarded: false,
    connections: () => 0,
    stats: () => ({ idleClosed: 0, refused: 0 }),
    shutdown: () => server.shutdown(),
    finished: server.finished,
  };
}
