/**
 * HTTP plumbing shared by the routes: the typed error a handler throws, the
 * caller's request id rule, media types, JSON parsing, and the body reader
 * that enforces the size limit (Content-Length may be absent or lie) and the
 * read deadline. The reader stays ours rather than hono/body-limit: see readBodyText.
 */

export interface FieldProblem {
  /** record index within a batch (absent for a single record) */
  record?: number;
  field: string;
  message: string;
}

/** A client's mistake, answered with `status` and a JSON body; never a stack. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details?: FieldProblem[],
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = "HttpError";
  }
}

const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's X-Request-Id when it is sane, else a fresh UUID. */
export function requestIdFrom(header: string | null | undefined): string {
  return header && SAFE_ID.test(header) ? header : crypto.randomUUID();
}

/** The media type of a Content-Type header, lower-cased, without parameters. */
export function mediaType(contentType: string | null | undefined): string {
  if (!contentType) return "";
  if (contentType === "application/json") return contentType; // what clients send: no slicing, no lower-casing
  const semi = contentType.indexOf(";");
  return (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}

const decoder = new TextDecoder("utf-8", { fatal: true });

/** What a body read may take: bytes, and milliseconds from the handler's start (serve.read_timeout_ms). */
export interface BodyLimits {
  maxBytes: number;
  timeoutMs?: number;
}

/**
 * A body read that has a deadline, linked into the list of reads in flight:
 * a doubly linked list adds and removes with a few field writes, where a Set
 * gives every new entry an identity hash first.
 */
interface Watched {
  /** Date.now() at which it expires */
  at: number;
  /** the limit its 408 names (serve.read_timeout_ms) */
  limitMs: number;
  reject: (e: HttpError) => void;
  onExpire: (() => void) | undefined;
  prev: Watched | null;
  next: Watched | null;
}

/** the reads in flight that have a deadline, newest first */
let watched: Watched | null = null;
let sweeper: ReturnType<typeof setInterval> | undefined;
let tick = 0;
let idleTicks = 0;

function unlink(w: Watched): void {
  if (w.prev) w.prev.next = w.next;
  else if (watched === w) watched = w.next;
  else return; // expired already
  if (w.next) w.next.prev = w.prev;
  w.prev = w.next = null;
}

/** One look at the reads in flight: those past their deadline expire. Stops itself after 1 s with none. */
function sweep(): void {
  if (watched === null) {
    if (++idleTicks * tick >= 1000) {
      clearInterval(sweeper);
      sweeper = undefined;
      tick = 0;
    }
    return;
  }
  idleTicks = 0;
  const now = Date.now();
  for (let w: Watched | null = watched; w !== null;) {
    const next: Watched | null = w.next;
    if (now >= w.at) {
      unlink(w);
      w.reject(readTimeout(w.limitMs)); // first: cancelling resolves the pending read at once, as if the body ended
      w.onExpire?.();
    }
    w = next;
  }
}

function watch(
  ms: number,
  limitMs: number,
  reject: (e: HttpError) => void,
  onExpire: (() => void) | undefined,
): Watched {
  // a tenth of the deadline, at most 100 ms: a read expires within ms and ms + its tick
  const want = Math.max(1, Math.min(100, Math.floor(ms / 10)));
  if (sweeper === undefined || want < tick) {
    if (sweeper !== undefined) clearInterval(sweeper);
    tick = want;
    idleTicks = 0;
    sweeper = setInterval(sweep, want);
    Deno.unrefTimer(sweeper);
  }
  // Date.now, not performance.now: an op call, 2-3 times the cost, for precision a deadline in ms does not need
  const w: Watched = { at: Date.now() + ms, limitMs, reject, onExpire, prev: null, next: watched };
  if (watched !== null) watched.prev = w;
  watched = w;
  return w;
}

/**
 * Deno.serve has no read or idle timeouts (denoland/deno#3515), so the read
 * deadline is ours: a body not received in full within `timeoutMs` is a 408
 * with `Connection: close`, and the handler lets go of it (its worker is free
 * again and the partial body is dropped). Deno then keeps the socket until the
 * client closes it; closing it ourselves is not possible from a handler.
 *
 * The deadlines of every read in flight are kept in one list that one
 * (unref'd) interval sweeps every tenth of the deadline (at most 100 ms), not
 * a timer per request: a setTimeout, clearTimeout and Promise.race per body
 * cost 2-3 µs of the hot path (bench:serve-path). A read thus expires between
 * `ms` and `ms` + a tenth of it; the interval stops after a second with no read.
 * A read pays one promise, one list entry and one Date.now (docs/benchmarks.md:
 * with a Set and performance.now this cost about 1 µs more a request under wrk).
 * `limitMs`: the whole read's limit, which the 408 names (a streamed body's
 * chunk waits for what is left of it).
 */
function deadline<T>(
  read: Promise<T>,
  ms: number | undefined,
  onExpire?: () => void,
  limitMs?: number,
): Promise<T> {
  if (!ms) return read;
  return new Promise<T>((resolve, reject) => {
    const w = watch(ms, limitMs ?? ms, reject, onExpire);
    read.then((v) => {
      unlink(w);
      resolve(v);
    }, (e) => {
      unlink(w);
      reject(e);
    });
  });
}

function readTimeout(ms: number): HttpError {
  return new HttpError(408, `request body not received within ${ms} ms`, undefined, { connection: "close" });
}

/**
 * Reads the body as UTF-8 text, at most `maxBytes`: 413 when the declared or
 * the actual size is over, 400 when the bytes are not UTF-8 (or hold
 * U+FFFD), 408 when it has not arrived within `timeoutMs`.
 *
 * Ours, not hono/body-limit: bench:serve-path timed the service's POST /predict
 * with hono/body-limit in front of it at +8.2 to +12.5 µs per request in four
 * runs (median of 151 paired rounds each, every 95% CI above +6 µs), +29% to
 * +37% of the hand-written app.fetch (23-33 µs), far over the 5% we allow on the hot
 * path. The middleware reads `req.body` to see whether there is one, which turns
 * the request's body into a ReadableStream, and the body is then read through
 * the stream; this reader takes a Content-Length-framed body in one
 * arrayBuffer() and streams (with the same cap) only when there is no length.
 */
export async function readBodyText(req: Request, limits: number | BodyLimits): Promise<string> {
  const { maxBytes, timeoutMs } = typeof limits === "number"
    ? { maxBytes: limits, timeoutMs: undefined }
    : limits;
  const declared = req.headers.get("content-length");
  if (declared !== null) {
    const n = Number(declared);
    if (!Number.isFinite(n) || n < 0) throw new HttpError(400, "invalid Content-Length header");
    if (n > maxBytes) throw tooLarge(maxBytes);
    // framed by Content-Length: the body cannot exceed it, read it in one go as text (the fast
    // path: 1-2 µs less than arrayBuffer() and a fatal TextDecoder). text() decodes leniently, so
    // bytes that are not UTF-8 come back as U+FFFD: a body holding one is refused as not UTF-8
    // (a valid U+FFFD too: it is what a broken encoding leaves, never a value a model was trained on)
    let text: string;
    try {
      text = await deadline(req.text(), timeoutMs);
    } catch (e) {
      if (e instanceof HttpError) throw e;
      throw new HttpError(400, "could not read the request body");
    }
    if (text.includes("\uFFFD")) throw notUtf8();
    return text;
  }
  if (!req.body) return "";
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  const until = timeoutMs ? performance.now() + timeoutMs : 0;
  try {
    for (;;) {
      const left = until && Math.max(1, until - performance.now());
      const { done, value } = await deadline(reader.read(), left || undefined, () => {
        reader.cancel().catch(() => {});
      }, timeoutMs);
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        reader.cancel().catch(() => {});
        throw tooLarge(maxBytes);
      }
      chunks.push(value);
    }
  } catch (e) {
    if (e instanceof HttpError) throw e;
    throw new HttpError(400, "could not read the request body");
  }
  let bytes: Uint8Array;
  if (chunks.length === 1) bytes = chunks[0];
  else {
    bytes = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      bytes.set(c, at);
      at += c.byteLength;
    }
  }
  const text = utf8(bytes);
  // refused however the body came, as with a Content-Length (a streamed body used to let it through)
  if (text.includes("\uFFFD")) throw notUtf8();
  return text;
}

function utf8(bytes: ArrayBuffer | Uint8Array): string {
  try {
    return decoder.decode(bytes);
  } catch {
    throw notUtf8();
  }
}

function notUtf8(): HttpError {
  return new HttpError(400, "request body is not valid UTF-8");
}

function tooLarge(maxBytes: number): HttpError {
  return new HttpError(413, `request body is larger than ${maxBytes} bytes`);
}

/** Parses JSON text; 400 with the parser's one-line reason when malformed. */
export function parseJsonBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    // an empty (or blank) body is no JSON: told apart only once it failed, off the hot path
    if (text.trim() === "") throw new HttpError(400, "request body is empty, expected JSON");
    const why = e instanceof Error ? e.message.split("\n")[0].slice(0, 160) : "parse error";
    throw new HttpError(400, `malformed JSON: ${why}`);
  }
}
