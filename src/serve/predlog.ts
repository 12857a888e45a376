/**
 * The prediction log: every scored record, appended asynchronously in batches
 * to <dir>/date=YYYY-MM-DD/<worker>-<n>.ndjson (one JSON object a line; the
 * drift stage reads these). Requests only push to an in-memory buffer; a timer
 * (or a full batch) writes it out. A write error is counted and kept for
 * /ready and /metrics, the entries are retried, and past `maxPending` the
 * oldest are dropped (counted): the log never crashes or blocks the service.
 */
import type { LogStats } from "./metrics.ts";

export interface LogEntry {
  /** epoch milliseconds */
  ts: number;
  requestId: string;
  model: string;
  version: string;
  inputs: Record<string, unknown>;
  prediction: unknown;
  probabilities?: Record<string, number>;
}

export interface PredictionLogOptions {
  dir: string;
  /** file-name-safe id of this writer (one per worker) */
  worker: string;
  flushMs: number;
  batchSize: number;
  /** entries kept across failing writes before the oldest are dropped */
  maxPending?: number;
  /** start a new file (<worker>-<n+1>) past this size */
  maxFileBytes?: number;
  /** the append primitive (tests inject failures) */
  append?: (path: string, text: string) => Promise<void>;
}

async function defaultAppend(path: string, text: string): Promise<void> {
  await Deno.writeTextFile(path, text, { append: true, create: true });
}

export class PredictionLog {
  private pending: LogEntry[] = [];
  private timer: ReturnType<typeof setInterval> | undefined;
  private flushing: Promise<void> | null = null;
  private again = false;
  private closed = false;
  private readonly files = new Map<string, { n: number; bytes: number }>();
  private readonly append: (path: string, text: string) => Promise<void>;
  private readonly maxPending: number;
  private readonly maxFileBytes: number;
  readonly worker: string;
  written = 0;
  writeErrors = 0;
  dropped = 0;
  lastError: string | null = null;
  lastErrorAt: number | null = null;

  constructor(private readonly opts: PredictionLogOptions) {
    if (!/^[A-Za-z0-9_.-]+$/.test(opts.worker)) {
      throw new Error(`prediction log: bad worker id '${opts.worker}'`);
    }
    this.worker = opts.worker;
    this.append = opts.append ?? defaultAppend;
    this.maxPending = opts.maxPending ?? Math.max(100_000, opts.batchSize * 10);
    this.maxFileBytes = opts.maxFileBytes ?? 64 * 1024 * 1024;
  }

  /** Starts the periodic flush (unref'd: it never keeps the process alive). */
  start(): this {
    if (this.timer === undefined && !this.closed) {
      const timer = setInterval(() => void this.flush(), this.opts.flushMs);
      Deno.unrefTimer(timer);
      this.timer = timer;
    }
    return this;
  }

  push(entry: LogEntry): void {
    if (this.closed) {
      this.writeSync(entry); // after close (shutdown): nothing may wait for a timer
      return;
    }
    this.pending.push(entry);
    if (this.pending.length > this.maxPending) {
      const over = this.pending.length - this.maxPending;
      this.pending.splice(0, over);
      this.dropped += over;
    }
    if (this.pending.length >= this.opts.batchSize && !this.flushing) queueMicrotask(() => void this.flush());
  }

  /** Writes everything buffered so far; concurrent calls share one writer. Never rejects. */
  flush(): Promise<void> {
    if (this.flushing) {
      this.again = true;
      return this.flushing;
    }
    if (this.pending.length === 0) return Promise.resolve();
    this.flushing = (async () => {
      try {
        do {
          this.again = false;
          await this.writeOut();
        } while (this.again && this.pending.length > 0 && this.lastError === null);
      } finally {
        this.flushing = null;
      }
    })();
    return this.flushing;
  }

  /** Stops the timer and flushes what is left (SIGTERM, tests). */
  async close(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
    if (this.flushing) await this.flushing;
    if (this.pending.length) await this.flush();
    this.closed = true;
  }

  stats(): LogStats {
    return {
      written: this.written,
      writeErrors: this.writeErrors,
      dropped: this.dropped,
      pending: this.pending.length,
      lastError: this.lastError,
    };
  }

  /** Groups entries by UTC date as NDJSON lines (serialized here, off the request path). */
  private serialize(batch: LogEntry[]): Map<string, string[]> {
    const byDate = new Map<string, string[]>();
    for (const e of batch) {
      const iso = new Date(e.ts).toISOString();
      const date = iso.slice(0, 10);
      const line = JSON.stringify({
        ts: iso,
        request_id: e.requestId,
        model: e.model,
        version: e.version,
        inputs: e.inputs,
        prediction: e.prediction,
        probabilities: e.probabilities ?? null,
      });
      let lines = byDate.get(date);
      if (!lines) byDate.set(date, lines = []);
      lines.push(line);
    }
    return byDate;
  }

  private writeSync(entry: LogEntry): void {
    for (const [date, lines] of this.serialize([entry])) {
      try {
        const dir = `${this.opts.dir}/date=${date}`;
        Deno.mkdirSync(dir, { recursive: true });
        Deno.writeTextFileSync(`${dir}/${this.worker}-final.ndjson`, lines.join("\n") + "\n", {
          append: true,
        });
        this.written++;
      } catch (e) {
        this.writeErrors++;
        this.dropped++;
        this.lastError = (e instanceof Error ? e.message : String(e)).split("\n")[0].slice(0, 200);
      }
    }
  }

  private async writeOut(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    const byDate = this.serialize(batch);
    let failed: LogEntry[] = [];
    for (const [date, lines] of byDate) {
      const text = lines.join("\n") + "\n";
      try {
        const path = await this.fileFor(date, text.length);
        await this.append(path, text);
        this.files.get(date)!.bytes += text.length;
        this.written += lines.length;
        this.lastError = null;
      } catch (e) {
        this.writeErrors++;
        this.lastError = (e instanceof Error ? e.message : String(e)).split("\n")[0].slice(0, 200);
        this.lastErrorAt = Date.now();
        failed = failed.concat(batch.filter((x) => new Date(x.ts).toISOString().slice(0, 10) === date));
      }
    }
    if (failed.length) {
      // retry later, oldest first, within the cap
      this.pending = failed.concat(this.pending);
      if (this.pending.length > this.maxPending) {
        const over = this.pending.length - this.maxPending;
        this.pending.splice(0, over);
        this.dropped += over;
      }
    }
  }

  private async fileFor(date: string, adding: number): Promise<string> {
    let f = this.files.get(date);
    const dir = `${this.opts.dir}/date=${date}`;
    if (!f) {
      await Deno.mkdir(dir, { recursive: true });
      f = { n: 0, bytes: 0 };
      this.files.set(date, f);
    } else if (f.bytes > 0 && f.bytes + adding > this.maxFileBytes) {
      f.n++;
      f.bytes = 0;
    }
    return `${dir}/${this.worker}-${f.n}.ndjson`;
  }
}
