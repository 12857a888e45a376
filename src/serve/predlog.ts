/**
 * The prediction log: every scored record, appended asynchronously in batches
 * to <dir>/model=<name>/date=YYYY-MM-DD/<worker>-<n>.ndjson (one JSON object
 * a line; the drift stage reads these). One folder per model, so a drift check
 * reads the records of the model it checks and no other model's columns (logs
 * written before, without the model folder, stay readable: src/drift/load.ts).
 *
 * A request serializes its entries into NDJSON lines at once and the log
 * encodes each line into its partition's byte buffer as it is pushed (UTF-8,
 * TextEncoder.encodeInto into a 256 KB chunk): no request's objects or text
 * stay alive until the flush, and a flush is a write of bytes already encoded
 * to a file kept open, not a join and an encode of 500 lines (which held the
 * worker ~0.8 ms in process, in the p99's way, and cost 1.3-2.4 µs a line:
 * docs/benchmarks.md). A timer (or a full batch) writes the buffers out. A
 * write error is counted and kept for /ready and /metrics, the unwritten bytes
 * are retried from where the write stopped, and past `maxPending` lines the
 * oldest are dropped (counted, whole lines): the log never crashes or blocks
 * the service.
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
  /**
   * the write primitive: appends `bytes` to the file at `path` in full, or rejects (tests inject
   * failures); default: a file per path kept open in append mode (FileAppender)
   */
  append?: (path: string, bytes: Uint8Array) => Promise<void>;
}

/** Appends bytes to files it keeps open, one handle per path, until `release` or `closeAll`. */
class FileAppender {
  private readonly open = new Map<string, Deno.FsFile>();

  /** Writes the chunk's bytes from `start`, moving `start` past each byte written (so a retry resumes there). */
  async write(path: string, c: Chunk): Promise<void> {
    let f = this.open.get(path);
    if (!f) {
      f = await Deno.open(path, { append: true, create: true });
      this.open.set(path, f);
    }
    try {
      while (c.start < c.at) c.start += await f.write(c.buf.subarray(c.start, c.at));
    } catch (e) {
      this.release(path); // reopened on the retry: the handle may be what failed
      throw e;
    }
  }

  /** Closes the handle of a file no more lines will go to (a rolled-over file, a past day). */
  release(path: string): void {
    const f = this.open.get(path);
    if (!f) return;
    this.open.delete(path);
    try {
      f.close();
    } catch { /* already closed */ }
  }

  closeAll(): void {
    for (const path of [...this.open.keys()]) this.release(path);
  }
}

/** The size of a partition's byte chunks: lines are encoded into them as they are pushed. */
const CHUNK_BYTES = 256 * 1024;

/** Encoded lines of one partition, oldest first: bytes [start, at) of buf, line i ending at ends[i] (exclusive). */
interface Chunk {
  buf: Uint8Array;
  start: number;
  at: number;
  /** end offset (past the newline) of each line in buf */
  ends: number[];
  /** index into ends of the first line not yet written or dropped */
  first: number;
}

/** A partition's file state and queue: "model=<name>/date=<day>". */
interface Partition {
  key: string;
  chunks: Chunk[];
  /** the file number (<worker>-<n>.ndjson) and its bytes so far */
  n: number;
  bytes: number;
  /** whether the folder exists (made on the first write) */
  made: boolean;
}

const encoder = new TextEncoder();

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

/**
 * A line's start, the same for every record of a request: `{"ts":"<ISO time>","request_id":"<id>"`.
 * `plainId`: the id is JSON text as it is (one the service made or accepted: http.ts requestIdFrom,
 * `A-Za-z0-9._:-` or a UUID), so it is quoted, not stringified (a call into the runtime per request).
 */
export function logHead(ts: number, requestId: string, plainId = false): string {
  return '{"ts":"' + isoOf(ts) + '","request_id":' +
    (plainId ? '"' + requestId + '"' : JSON.stringify(requestId));
}

export class PredictionLog {
  /** the partitions with lines waiting, and their files, in the order they were first used */
  private readonly parts = new Map<string, Partition>();
  /** lines waiting to be written, over every partition */
  private pendingLines = 0;
  /** modelFolder of the last model seen: a worker serves one model at a time */
  private lastModel = "";
  private lastFolder = "";
  private lastDay = "";
  private last: Partition | null = null;
  /** emptied chunk buffers, kept for reuse (a 256 KB allocation zeroes its memory) */
  private readonly spare: Uint8Array[] = [];
  private timer: ReturnType<typeof setInterval> | undefined;
  /** deferred pushes (`later`), run by one timer after the current task, or by the next flush */
  private deferred: (() => void)[] = [];
  private deferredTimer = false;
  private flushing: Promise<void> | null = null;
  private again = false;
  private closed = false;
  private readonly files = new FileAppender();
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
    const p = this.partitionOf(model, day);
    if (this.closed) {
      this.writeSync(p.key, line, 1); // after close (shutdown): nothing may wait for a timer
      return;
    }
    this.encode(p, line);
    this.added(1);
  }

  /**
   * Appends lines serialized and encoded elsewhere (a batch's second half,
   * scored by a helper thread: split.ts), all of model `model` on day `day`:
   * `bytes` holds them back to back, line k ending with its newline just
   * before `ends[k]`. The buffer becomes the log's (it is not copied).
   */
  pushEncoded(model: string, day: string, bytes: Uint8Array, ends: ArrayLike<number>): void {
    const n = ends.length;
    if (n === 0) return;
    const p = this.partitionOf(model, day);
    const end = ends[n - 1];
    if (this.closed) {
      this.writeSync(p.key, bytes.subarray(0, end), n);
      return;
    }
    p.chunks.push({ buf: bytes.subarray(0, end), start: 0, at: end, ends: Array.from(ends), first: 0 });
    this.added(n);
  }

  /** The partition of a line of `model` on `day`, after every deferred push (lines in answer order). */
  private partitionOf(model: string, day: string): Partition {
    if (this.deferred.length) this.runDeferred(); // lines in the order their requests were answered
    if (model !== this.lastModel) {
      this.lastModel = model;
      this.lastFolder = modelFolder(model);
      this.lastDay = "";
    }
    if (day !== this.lastDay || this.last === null) {
      this.lastDay = day;
      this.last = this.partition(this.lastFolder + "/date=" + day);
    }
    return this.last;
  }

  /** Counts lines just queued, drops the oldest past the cap and starts a write once a batch is full. */
  private added(lines: number): void {
    this.pendingLines += lines;
    this.dropOverCap();
    if (this.pendingLines >= this.opts.batchSize) {
      // a batch filled while a write is in flight: that writer goes round again
      if (this.flushing) this.again = true;
      else queueMicrotask(() => void this.flush());
    }
  }

  /**
   * Runs `push` (which pushes lines) after the current task: a batch's lines
   * are serialized after its answer is handed to the HTTP layer, off the
   * batch's latency (10,000 records: ~11 ms of log lines). A flush (and so
   * close) and any later line run every deferred push first: a flush writes
   * every line of every request answered before it, and lines stay in the
   * order their requests were answered.
   */
  later(push: () => void): void {
    this.deferred.push(push);
    if (!this.deferredTimer) {
      this.deferredTimer = true;
      setTimeout(() => this.runDeferred(), 0);
    }
  }

  private runDeferred(): void {
    this.deferredTimer = false;
    const q = this.deferred;
    this.deferred = [];
    for (const push of q) {
      try {
        push();
      } catch (e) {
        this.noteWriteError(e); // a line that cannot be serialized is an error to see, never the service's end
      }
    }
  }

  /** Writes everything buffered so far; concurrent calls share one writer. Never rejects. */
  flush(): Promise<void> {
    if (this.deferred.length) this.runDeferred();
    if (this.flushing) {
      this.again = true;
      return this.flushing;
    }
    if (this.pendingLines === 0) return Promise.resolve();
    this.flushing = (async () => {
      try {
        do {
          this.again = false;
          await this.writeOut();
        } while (this.again && this.pendingLines > 0 && this.lastError === null);
      } finally {
        this.flushing = null;
      }
    })();
    return this.flushing;
  }

  /** Stops the timer, flushes what is left and closes the files (SIGTERM, tests). */
  async close(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
    if (this.flushing) await this.flushing;
    if (this.pendingLines) await this.flush();
    this.closed = true;
    this.files.closeAll();
  }

  stats(): LogStats {
    return {
      written: this.written,
      writeErrors: this.writeErrors,
      dropped: this.dropped,
      pending: this.pendingLines,
      lastError: this.lastError,
    };
  }

  private partition(key: string): Partition {
    let p = this.parts.get(key);
    if (!p) this.parts.set(key, p = { key, chunks: [], n: 0, bytes: 0, made: false });
    return p;
  }

  /** Encodes one line and its newline at the end of the partition's last chunk (a new one when it is full). */
  private encode(p: Partition, line: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 unit, so this room always holds the line
    const need = line.length * 3 + 1;
    let c = p.chunks.length ? p.chunks[p.chunks.length - 1] : null;
    if (!c || c.buf.length - c.at < need) {
      const size = Math.max(CHUNK_BYTES, need);
      const buf = size === CHUNK_BYTES && this.spare.length ? this.spare.pop()! : new Uint8Array(size);
      c = { buf, start: 0, at: 0, ends: [], first: 0 };
      p.chunks.push(c);
    }
    const { written } = encoder.encodeInto(line, c.buf.subarray(c.at));
    c.at += written;
    c.buf[c.at++] = 10;
    c.ends.push(c.at);
  }

  /**
   * Past maxPending, drops the oldest lines (counted), down to 90% of the cap:
   * dropping one line per push would move the whole buffer on every request
   * while the disk is stuck.
   */
  private dropOverCap(): void {
    if (this.pendingLines <= this.maxPending) return;
    const want = this.pendingLines - Math.floor(this.maxPending * 0.9);
    let over = want;
    // lines of a write in flight are not in the queues: only queued lines can go
    for (const p of this.parts.values()) {
      while (over > 0 && p.chunks.length) {
        const c = p.chunks[0], left = c.ends.length - c.first;
        if (left <= over) {
          over -= left;
          this.recycle(p.chunks.shift()!);
        } else {
          c.first += over;
          c.start = c.ends[c.first - 1];
          over = 0;
        }
      }
      if (over === 0) break;
    }
    this.pendingLines -= want - over;
    this.dropped += want - over;
  }

  private recycle(c: Chunk): void {
    if (c.buf.length === CHUNK_BYTES && this.spare.length < 4) this.spare.push(c.buf);
  }

  private noteWriteError(e: unknown): void {
    this.writeErrors++;
    this.lastError = (e instanceof Error ? e.message : String(e)).split("\n")[0].slice(0, 200);
  }

  /** `lines` lines after close: a line of text, or encoded lines each ending in a newline. */
  private writeSync(partition: string, text: string | Uint8Array, lines: number): void {
    try {
      const dir = `${this.opts.dir}/${partition}`;
      Deno.mkdirSync(dir, { recursive: true });
      const path = `${dir}/${this.worker}-final.ndjson`;
      if (typeof text === "string") Deno.writeTextFileSync(path, text + "\n", { append: true });
      else Deno.writeFileSync(path, text, { append: true });
      this.written += lines;
    } catch (e) {
      this.noteWriteError(e);
      this.dropped += lines;
    }
  }

  /**
   * Writes each partition's chunks in order, oldest first. A chunk is taken off
   * its queue before the write is awaited (pushes meanwhile go to a new one) and
   * put back at the front, from the first byte not written, when the write fails.
   */
  private async writeOut(): Promise<void> {
    for (const p of [...this.parts.values()]) {
      if (p.chunks.length === 0) continue;
      const batch = p.chunks;
      p.chunks = [];
      let i = 0;
      try {
        const dir = `${this.opts.dir}/${p.key}`;
        if (!p.made) {
          await Deno.mkdir(dir, { recursive: true });
          p.made = true;
        }
        let adding = 0;
        for (const c of batch) adding += c.at - c.start;
        if (p.bytes > 0 && p.bytes + adding > this.maxFileBytes) {
          this.files.release(this.fileOf(p));
          p.n++;
          p.bytes = 0;
        }
        const path = this.fileOf(p);
        for (; i < batch.length; i++) {
          const c = batch[i], from = c.start;
          try {
            await this.put(path, c);
          } finally {
            p.bytes += c.start - from;
            this.countWritten(c);
          }
          this.recycle(c);
        }
        this.lastError = null;
      } catch (e) {
        this.noteWriteError(e);
        // retry later, from the first byte not written, oldest first: ahead of what was pushed meanwhile
        p.chunks = batch.slice(i).concat(p.chunks);
      }
      // a past day's partition with nothing left: its file is done
      if (p.chunks.length === 0 && p !== this.last) {
        this.files.release(this.fileOf(p));
        this.parts.delete(p.key);
      }
    }
  }

  /** Appends a chunk from its `start`; on success `start` is its end. */
  private async put(path: string, c: Chunk): Promise<void> {
    if (!this.opts.append) return this.files.write(path, c);
    await this.opts.append(path, c.buf.subarray(c.start, c.at)); // all or nothing
    c.start = c.at;
  }

  /** Counts the chunk's lines that are now in the file whole (those ending at or before `start`). */
  private countWritten(c: Chunk): void {
    let k = c.first;
    while (k < c.ends.length && c.ends[k] <= c.start) k++;
    this.written += k - c.first;
    this.pendingLines -= k - c.first;
    c.first = k;
  }

  private fileOf(p: Partition): string {
    return `${this.opts.dir}/${p.key}/${this.worker}-${p.n}.ndjson`;
  }
}
