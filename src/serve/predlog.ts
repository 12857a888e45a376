/**
 * The prediction log: every scored record, appended asynchronously in batches
 * to <dir>/model=<name>/date=YYYY-MM-DD/<worker>-<n>.ndjson (one JSON object
 * a line; the drift stage reads these). One folder per model, so a drift check
 * reads the records of the model it checks and no other model's columns (logs
 * written before, without the model folder, stay readable: src/drift/load.ts). A request serializes its entries into NDJSON lines
 * at once (so no request's objects stay alive until the flush, and a flush is a
 * join, not a burst of JSON work) and pushes them to a buffer; a timer (or a
 * full batch) writes it out. A write error is counted and kept for
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

/** The folder of a model's records: its name, with anything a file name cannot hold as `_`. */
export function modelFolder(name: string): string {
  return "model=" + (/^[A-Za-z0-9_.-]+$/.test(name) ? name : name.replace(/[^A-Za-z0-9_.-]/g, "_") || "_");
}

/** `{"ts":"YYYY-MM-DD...`: the UTC date of a serialized line, without parsing it */
const dateOf = (line: string): string => line.slice(7, 17);

let lastTs = NaN;
let lastIso = "";
let secondStart = NaN;
let secondPrefix = "";
/** the epoch ms whose ISO text is `YYYY-MM-DDTHH:MM:SS.mmmZ` (years 0000-9999) */
const ISO_PLAIN_MAX = 253402300799999;

/**
 * ISO time of epoch ms, as toISOString writes it, cached: a burst of requests
 * shares the millisecond, and the millisecond only changes the last digits of
 * its second's text (a Date and its text per millisecond cost more than the model).
 */
function isoOf(ts: number): string {
  if (ts === lastTs) return lastIso;
  if (!(ts >= 0 && ts <= ISO_PLAIN_MAX && Number.isInteger(ts))) lastIso = new Date(ts).toISOString();
  else {
    const ms = ts % 1000, second = ts - ms;
    if (second !== secondStart) {
      secondPrefix = new Date(second).toISOString().slice(0, 20); // through the "."
      secondStart = second;
    }
    lastIso = secondPrefix + (ms < 10 ? "00" : ms < 100 ? "0" : "") + ms + "Z";
  }
  lastTs = ts;
  return lastIso;
}

/**
 * One NDJSON line; `ts` first, so dateOf can read the date. Built from pieces:
 * the class-keyed probabilities ({"0": p, "1": q}) have integer-like keys,
 * which push JSON.stringify off its fast path for the whole object it sits in
 * (about twice the cost of the line), so they are stringified on their own.
 */
export function logLine(e: LogEntry): string {
  return logHead(e.ts, e.requestId) +
    ',"model":' + JSON.stringify(e.model) + ',"version":' + JSON.stringify(e.version) +
    ',"inputs":' + JSON.stringify(e.inputs) + ',"prediction":' + JSON.stringify(e.prediction ?? null) +
    ',"probabilities":' + JSON.stringify(e.probabilities ?? null) + "}";
}

/** The UTC day (YYYY-MM-DD) of epoch ms: the date folder of a line whose `ts` it is. */
export function logDay(ts: number): string {
  return isoOf(ts).slice(0, 10);
}

/** A line's start, the same for every record of a request: `{"ts":"<ISO time>","request_id":"<id>"` */
export function logHead(ts: number, requestId: string): string {
  return '{"ts":"' + isoOf(ts) + '","request_id":' + JSON.stringify(requestId);
}

export class PredictionLog {
  /** serialized lines waiting to be written, oldest first */
  private pending: string[] = [];
  /** the partition of each pending line (same index): "model=<name>/date=<day>" */
  private pendingParts: string[] = [];
  /** modelFolder of the last model seen: a worker serves one model at a time */
  private lastModel = "";
  private lastFolder = "";
  private lastDay = "";
  private lastPart = "";
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
    this.pushLine(entry.model, logLine(entry));
  }

  /**
   * Appends one already serialized line (logLine's text, `ts` first) of model
   * `model`'s records; `day` (logDay of its ts) saves reading the date back
   * out of the line (a slice of a line built from pieces flattens it).
   */
  pushLine(model: string, line: string, day: string = dateOf(line)): void {
    if (model !== this.lastModel) {
      this.lastModel = model;
      this.lastFolder = modelFolder(model);
      this.lastDay = "";
    }
    if (day !== this.lastDay) {
      this.lastDay = day;
      this.lastPart = this.lastFolder + "/date=" + day;
    }
    if (this.closed) {
      this.writeSync(this.lastPart, line); // after close (shutdown): nothing may wait for a timer
      return;
    }
    this.pending.push(line);
    this.pendingParts.push(this.lastPart);
    this.dropOverCap();
    if (this.pending.length >= this.opts.batchSize) {
      // a batch filled while a write is in flight: that writer goes round again
      if (this.flushing) this.again = true;
      else queueMicrotask(() => void this.flush());
    }
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

  /**
   * Past maxPending, drops the oldest lines (counted), down to 90% of the cap:
   * dropping one line per push would move the whole buffer on every request
   * while the disk is stuck (a 100,000-line splice is 50-400 µs).
   */
  private dropOverCap(): void {
    if (this.pending.length <= this.maxPending) return;
    const over = this.pending.length - Math.floor(this.maxPending * 0.9);
    if (over > 0) {
      this.pending.splice(0, over);
      this.pendingParts.splice(0, over);
      this.dropped += over;
    }
  }

  private noteWriteError(e: unknown): void {
    this.writeErrors++;
    this.lastError = (e instanceof Error ? e.message : String(e)).split("\n")[0].slice(0, 200);
  }

  /** Groups serialized lines by model folder and UTC date: "model=<name>/date=<day>" -> lines. */
  private byPartition(lines: string[], parts: string[]): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (let i = 0; i < lines.length; i++) {
      const key = parts[i];
      let group = out.get(key);
      if (!group) out.set(key, group = []);
      group.push(lines[i]);
    }
    return out;
  }

  private writeSync(partition: string, line: string): void {
    try {
      const dir = `${this.opts.dir}/${partition}`;
      Deno.mkdirSync(dir, { recursive: true });
      Deno.writeTextFileSync(`${dir}/${this.worker}-final.ndjson`, line + "\n", { append: true });
      this.written++;
    } catch (e) {
      this.noteWriteError(e);
      this.dropped++;
    }
  }

  private async writeOut(): Promise<void> {
    const batch = this.pending, parts = this.pendingParts;
    this.pending = [];
    this.pendingParts = [];
    let failed: string[] = [], failedParts: string[] = [];
    for (const [partition, lines] of this.byPartition(batch, parts)) {
      const text = lines.join("\n") + "\n";
      try {
        const path = await this.fileFor(partition, text.length);
        await this.append(path, text);
        this.files.get(partition)!.bytes += text.length;
        this.written += lines.length;
        this.lastError = null;
      } catch (e) {
        this.noteWriteError(e);
        failed = failed.concat(lines);
        failedParts = failedParts.concat(lines.map(() => partition));
      }
    }
    if (failed.length) {
      // retry later, oldest first, within the cap
      this.pending = failed.concat(this.pending);
      this.pendingParts = failedParts.concat(this.pendingParts);
      this.dropOverCap();
    }
  }

  private async fileFor(partition: string, adding: number): Promise<string> {
    let f = this.files.get(partition);
    const dir = `${this.opts.dir}/${partition}`;
    if (!f) {
      await Deno.mkdir(dir, { recursive: true });
      f = { n: 0, bytes: 0 };
      this.files.set(partition, f);
    } else if (f.bytes > 0 && f.bytes + adding > this.maxFileBytes) {
      f.n++;
      f.bytes = 0;
    }
    return `${dir}/${this.worker}-${f.n}.ndjson`;
  }
}
