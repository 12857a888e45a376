/**
 * Coordination between the service's workers (isolates in one
 * process) over a BroadcastChannel: heartbeats carrying each worker's metrics
 * snapshot, on-demand metric collection for /metrics, reload fan-out for
 * POST /admin/reload, and a shutdown barrier so every worker flushes its
 * prediction log before the process exits.
 */
import type { MetricsSnapshot } from "./metrics.ts";

type Msg =
  | { t: "hb"; from: string; snap: MetricsSnapshot }
  | { t: "collect"; from: string; id: string }
  | { t: "snap"; from: string; to: string; id: string; snap: MetricsSnapshot }
  | { t: "reload"; from: string; id: string; uri?: string }
  | {
    t: "reloaded";
    from: string;
    to: string;
    id: string;
    version: string | null;
    changed: boolean;
    error?: string;
  }
  | { t: "term"; from: string }
  | { t: "flushed"; from: string }
  | { t: "bye"; from: string };

export interface ClusterHandlers {
  snapshot(): MetricsSnapshot;
  reload(uri?: string): Promise<{ version: string | null; changed: boolean; error?: string }>;
  /** flush the prediction log (shutdown) */
  flush(): Promise<void>;
}

export interface PeerReload {
  worker: string;
  version: string | null;
  changed: boolean;
  error?: string;
}

const STALE_MS = 5000;

export class Cluster {
  private readonly ch: BroadcastChannel;
  private readonly peers = new Map<string, { seen: number; snap: MetricsSnapshot }>();
  private readonly waiting = new Map<string, (m: Msg) => void>();
  private readonly flushedPeers = new Set<string>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private closed = false;

  constructor(
    channel: string,
    readonly worker: string,
    private readonly h: ClusterHandlers,
    heartbeatMs = 1000,
  ) {
    this.ch = new BroadcastChannel(channel);
    this.ch.onmessage = (e: MessageEvent<Msg>) => void this.onMessage(e.data);
    const timer = setInterval(() => this.heartbeat(), heartbeatMs);
    Deno.unrefTimer(timer);
    this.timer = timer;
    this.heartbeat();
  }

  private post(m: Msg): void {
    if (!this.closed) this.ch.postMessage(m);
  }

  heartbeat(): void {
    this.post({ t: "hb", from: this.worker, snap: this.h.snapshot() });
  }

  /** Live peers (seen within the last few seconds). */
  livePeers(): string[] {
    const now = Date.now();
    for (const [id, p] of this.peers) if (now - p.seen > STALE_MS) this.peers.delete(id);
    return [...this.peers.keys()];
  }

  private async onMessage(m: Msg): Promise<void> {
    if (!m || typeof m !== "object" || m.from === this.worker) return;
    switch (m.t) {
      case "hb": {
        const known = this.peers.has(m.from);
        this.peers.set(m.from, { seen: Date.now(), snap: m.snap });
        // a new peer missed our start-up heartbeat (it was not listening yet): introduce ourselves now,
        // so a SIGTERM before the next beat still finds it in the shutdown barrier
        if (!known) this.heartbeat();
        break;
      }
      case "collect":
        this.post({ t: "snap", from: this.worker, to: m.from, id: m.id, snap: this.h.snapshot() });
        break;
      case "reload": {
        const r = await this.h.reload(m.uri);
        this.post({ t: "reloaded", from: this.worker, to: m.from, id: m.id, ...r });
        break;
      }
      case "term":
        await this.h.flush();
        this.post({ t: "flushed", from: this.worker });
        break;
      case "flushed":
        this.flushedPeers.add(m.from);
        this.waiting.get("flushed")?.(m);
        break;
      case "bye":
        this.peers.delete(m.from);
        break;
      case "snap":
      case "reloaded":
        if (m.to === this.worker) {
          this.peers.set(m.from, {
            seen: Date.now(),
            snap: m.t === "snap" ? m.snap : this.peers.get(m.from)?.snap!,
          });
          this.waiting.get(m.id)?.(m);
        }
        break;
    }
  }

  /** Asks every live peer for a reply to `msg` and gathers them until all answered or the timeout. */
  private gather<T extends Msg>(msg: Msg & { id: string }, timeoutMs: number): Promise<T[]> {
    const expected = new Set(this.livePeers());
    const got: T[] = [];
    if (expected.size === 0) return Promise.resolve(got);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiting.delete(msg.id);
        resolve(got);
      };
      const timer = setTimeout(done, timeoutMs);
      this.waiting.set(msg.id, (m) => {
        got.push(m as T);
        expected.delete(m.from);
        if (expected.size === 0) done();
      });
      this.post(msg);
    });
  }

  /** Fresh metric snapshots from every peer; a peer that does not answer in time counts with its last heartbeat. */
  async collect(timeoutMs = 100): Promise<MetricsSnapshot[]> {
    const replies = await this.gather<Extract<Msg, { t: "snap" }>>(
      { t: "collect", from: this.worker, id: crypto.randomUUID() },
      timeoutMs,
    );
    const out = new Map<string, MetricsSnapshot>();
    for (const id of this.livePeers()) out.set(id, this.peers.get(id)!.snap);
    for (const r of replies) out.set(r.from, r.snap);
    return [...out.values()].filter(Boolean);
  }

  /** Tells every peer to reload; resolves with each peer's outcome (peers silent past the timeout are left out). */
  async reloadAll(uri: string | undefined, timeoutMs = 30_000): Promise<PeerReload[]> {
    const replies = await this.gather<Extract<Msg, { t: "reloaded" }>>(
      { t: "reload", from: this.worker, id: crypto.randomUUID(), uri },
      timeoutMs,
    );
    return replies.map((r) => ({ worker: r.from, version: r.version, changed: r.changed, error: r.error }));
  }

  /** Shutdown barrier: asks peers to flush and waits for them (bounded). */
  async shutdown(timeoutMs = 5000): Promise<void> {
    const expected = new Set(this.livePeers());
    this.post({ t: "flushed", from: this.worker });
    this.post({ t: "term", from: this.worker });
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && [...expected].some((p) => !this.flushedPeers.has(p))) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.waiting.set("flushed", () => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    this.waiting.delete("flushed");
  }

  close(): void {
    if (this.closed) return;
    this.post({ t: "bye", from: this.worker });
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.ch.close();
  }
}
