/**
 * A large /predict batch scored on two cores: the body is cut in two at a
 * record boundary, a helper thread of the worker (split_worker.ts, a Worker
 * holding the same model version) parses, validates and scores the second
 * half while the worker does the first, and the answer and the prediction-log
 * lines are the halves' joined. The answer is the same bytes as the whole
 * body's (tests/serve/split_test.ts), because each record's answer and log
 * line depend on that record alone.
 *
 * Anything unusual goes the usual way instead, so every error is the one the
 * whole body gets: a half that does not parse, a record either half refuses,
 * more records in all than max_batch, a helper that is still busy with
 * another batch, is not holding this model version yet (it loads it in the
 * background on the first large batch after a swap), failed, or cannot load the
 * model (a plugin engine, which the helper has not registered).
 *
 * Why: on the slower 2-core machine a 10,000-record batch took 48-56 ms in
 * process, about 20 of it in JSON.parse and 15-20 in the trees, both in one
 * thread while the other core idled (docs/benchmarks.md, "Serving").
 */
import type { LoadedModel } from "../models/artifact.ts";
import type { ServedModel } from "./holder.ts";
import { explainTable } from "./explain.ts";
import { parseJsonBody } from "./http.ts";
import { logHead } from "./predlog.ts";
import { scoredInArrays, type ScoredTable, scoreTable, TableWriter } from "./scoring.ts";
import type { ValueLimits } from "./validation.ts";

/** One half of a split batch scored: its table, each row's probabilities text, its answer's predictions. */
export interface ScoredPart {
  table: ScoredTable;
  probs: string[];
  /** the predictions of the answer's array, comma-separated */
  answer: string;
}

/** A half parsed and validated, not scored yet: its records and the validator's columns. */
export interface ValidPart {
  body: unknown;
  columns: unknown[][];
  rows: number;
}

/** Parses and validates a JSON body of records as /predict does (throws what the route would answer). */
export function validatePart(m: ServedModel, text: string, maxBatch: number): ValidPart {
  const body = parseJsonBody(text);
  const columns = m.validator.table(body, maxBatch);
  return { body, columns, rows: columns.length ? columns[0].length : Array.isArray(body) ? body.length : 1 };
}

/** Scores a validated half; `top` > 0: with each record's explanation (?explain=true&top=N). */
export function scoreValid(m: ServedModel, v: ValidPart, top = 0): ScoredPart {
  const table = scoreTable(m, v.columns, Array.isArray(v.body) ? v.body : [v.body]);
  const probs = new Array<string>(table.rows);
  const why = top > 0 ? explainTable(m, table, top).map((e) => JSON.stringify(e)) : null;
  return { table, probs, answer: answerRows(TableWriter.of(m), table, probs, why) };
}

/** validatePart, then scoreValid. */
export function scorePart(m: ServedModel, text: string, maxBatch: number, top = 0): ScoredPart {
  return scoreValid(m, validatePart(m, text, maxBatch), top);
}

/**
 * The predictions of a scored table as the answer's array holds them,
 * comma-separated, filling `probs` (each row's probabilities text, which its
 * log line reuses) when given; `explained` adds each row's explanation text.
 */
export function answerRows(
  w: TableWriter,
  t: ScoredTable,
  probs: string[] | null,
  explained: readonly string[] | null = null,
): string {
  let out = "";
  for (let i = 0; i < t.rows; i++) {
    const p = w.probabilities(t, i);
    if (probs) probs[i] = p;
    const one = w.predictionObject(t, i, p);
    if (i) out += ",";
    out += explained ? one.slice(0, -1) + ',"explanation":' + explained[i] + "}" : one;
  }
  return out;
}

/** A part's log lines, encoded back to back; line k ends (past its newline) at ends[k]. */
export interface EncodedLines {
  bytes: Uint8Array<ArrayBuffer>;
  ends: Int32Array<ArrayBuffer>;
}

const encoder = new TextEncoder();

/** The log lines of a scored part, stamped `ts` with request id `rid`, encoded as UTF-8. */
export function encodedLogLines(m: ServedModel, part: ScoredPart, rid: string, ts: number): EncodedLines {
  const w = TableWriter.of(m), t = part.table, head = logHead(ts, rid, true);
  const lines = new Array<string>(t.rows);
  let room = 0;
  for (let i = 0; i < t.rows; i++) {
    room += (lines[i] = w.logLine(head, t, i, part.probs[i])).length * 3 + 1; // UTF-8: at most 3 bytes a UTF-16 unit
  }
  const bytes = new Uint8Array(room), ends = new Int32Array(t.rows);
  let at = 0;
  for (let i = 0; i < t.rows; i++) {
    at += encoder.encodeInto(lines[i], bytes.subarray(at)).written;
    bytes[at++] = 10;
    ends[i] = at;
  }
  // a buffer of the lines' own size: the log holds it until it is written (room is up to 3x that)
  return { bytes: bytes.slice(0, at), ends };
}

/**
 * Where a JSON array of records may be cut in two: text[0, firstEnd) + "]" and
 * "[" + text[secondStart..] are its halves. The cut is the first `}` at or past
 * the middle followed by a comma and a `{` (whitespace allowed between), or
 * the last such before the middle when there is none after it. It may
 * fall inside a string or a nested value; then the first half does not parse
 * (it ends inside the string, or with more than the outer array open), so the
 * body goes the usual way and nothing is scored from a wrong cut. null: no
 * such place, or the text is no array.
 */
export function cutInTwo(text: string): { firstEnd: number; secondStart: number } | null {
  let i = 0;
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  if (text.charCodeAt(i) !== 91) return null; // [
  const mid = text.length >> 1;
  for (let at = text.indexOf("}", mid); at >= 0; at = text.indexOf("}", at + 1)) {
    const start = nextRecord(text, at);
    if (start > 0) return { firstEnd: at + 1, secondStart: start };
  }
  // none after the middle (a long first record): the last before it
  for (let at = text.lastIndexOf("}", mid); at > i; at = text.lastIndexOf("}", at - 1)) {
    const start = nextRecord(text, at);
    if (start > 0) return { firstEnd: at + 1, secondStart: start };
  }
  return null;
}

/** The index of the `{` after text[at] = `}` when a comma comes between them (and whitespace), else -1. */
function nextRecord(text: string, at: number): number {
  let k = at + 1;
  while (isSpace(text.charCodeAt(k))) k++;
  if (text.charCodeAt(k) !== 44) return -1; // ,
  k++;
  while (isSpace(text.charCodeAt(k))) k++;
  return text.charCodeAt(k) === 123 ? k : -1; // {
}

/** JSON's whitespace: space, tab, line feed, carriage return. */
function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

/** Which model version a helper must hold to score for `m`: its folder and manifest. null: not splittable. */
export function modelKey(m: ServedModel): string | null {
  const lm = m.model as Partial<LoadedModel>;
  if (!lm.manifest || !scoredInArrays(m)) return null;
  return `${m.dir}\n${m.version}\n${lm.manifest.manifest_sha256 ?? JSON.stringify(lm.manifest.files)}`;
}

/** What the worker asks of its helper. */
export type SplitRequest =
  | {
    t: "load";
    key: string;
    uri: string;
    name: string;
    version: string;
    dir: string;
    limits: ValueLimits;
  }
  | {
    /** parse and validate (answered `validated` with the count), then wait for go or drop */
    t: "score";
    id: number;
    key: string;
    text: string;
    maxBatch: number;
    rid: string;
    ts: number;
    log: boolean;
    /** contributions per record to explain (0: no explanations) */
    top: number;
  }
  /** score the half validated (`go`), or forget it (`drop`: the batch goes the one-thread way) */
  | { t: "go"; id: number }
  | { t: "drop"; id: number };

/**
 * The helper's answers. A scored half's log lines follow in a message of their
 * own, so building them is not on the batch's latency (as the worker's own
 * half's lines are built after the answer is handed over).
 */
export type SplitReply =
  | { t: "loaded"; key: string; ok: boolean; error?: string }
  | { t: "validated"; id: number; rows: number }
  | { t: "scored"; id: number; ok: false }
  | {
    t: "scored";
    id: number;
    ok: true;
    rows: number;
    answer: string;
    /** classification: the predicted class index of each row (the metrics count them) */
    label: Int32Array | null;
  }
  | { t: "lines"; id: number; lines: EncodedLines | null };

/**
 * The helper's half, scored; its log lines when they come (null: none asked,
 * or the helper failed: then `text`, the half's body, is scored again for them).
 */
export type HelperPart = Extract<SplitReply, { ok: true; t: "scored" }> & {
  lines: Promise<EncodedLines | null>;
  text: string;
};

/** A batch scored in two halves: the worker's, then the helper's. */
export interface SplitScore {
  own: ScoredPart;
  theirs: HelperPart;
  /** the log lines' time stamp, the same for both halves */
  ts: number;
}

/**
 * An explained batch is split from a body this many times smaller: SHAP costs
 * about 60 times the scoring a record (bench:serve-path: 10,000 records 1.2 s
 * explained against 20 ms scored), so a batch of 70 records explained (31 KB
 * at the default 1 MB) is as much work as 4,000 scored.
 */
const EXPLAIN_RATIO = 32;

/**
 * How long the worker waits for the helper: this many times what the same step
 * took the worker on its own half, and never less than MIN_WAIT_MS. A helper
 * that takes longer is taken for stuck: it is stopped and the batch goes the
 * one-thread way.
 */
const WAIT_FACTOR = 4;
const MIN_WAIT_MS = 250;

export interface SplitterOptions {
  /** a body of at least this many characters is split (serve.split_batch_bytes) */
  minBytes: number;
  /** the helper's module (default split_worker.ts next to this one) */
  workerUrl?: URL;
  /** a helper that failed this many times is not started again */
  maxFailures?: number;
  /** called once when the helper is given up on, with why */
  onGiveUp?: (why: string) => void;
}

/** The worker's side: one helper thread, started on the first large batch, one batch at a time. */
export class BatchSplitter {
  private readonly minBytes: number;
  /** the same for a batch asked with ?explain=true */
  private readonly minExplainBytes: number;
  private worker: Worker | null = null;
  /** the model version the helper said it holds */
  private held: string | null = null;
  /** the version it was last asked to load */
  private asked: string | null = null;
  private busy = false;
  private nextId = 1;
  private readonly waiting = new Map<number, (r: SplitReply | null) => void>();
  /** each batch's helper half's log lines, until they come (or none will) */
  private readonly lineWaits = new Map<number, PromiseWithResolvers<EncodedLines | null>>();
  private failures = 0;
  private closed = false;
  /** batches scored in two halves so far */
  splits = 0;

  constructor(private readonly opts: SplitterOptions) {
    this.minBytes = opts.minBytes;
    this.minExplainBytes = Math.ceil(opts.minBytes / EXPLAIN_RATIO);
  }

  /**
   * Scores a body in two halves, or null when it goes the usual way (too
   * small, not a model the helper holds yet, the helper busy, or anything the
   * halves refuse: the whole body then gets the route's own answer). `top` >
   * 0: each record explained with its top contributions (?explain=true).
   */
  async score(
    m: ServedModel,
    text: string,
    maxBatch: number,
    rid: string,
    log: boolean,
    top = 0,
  ): Promise<SplitScore | null> {
    if (this.closed || this.busy || !this.wants(text.length, top > 0)) return null;
    const key = modelKey(m);
    if (key === null || !this.holds(m, key)) return null;
    const cut = cutInTwo(text);
    if (!cut) return null;
    this.busy = true;
    const id = this.nextId++;
    let result: SplitScore | null = null;
    try {
      const ts = Date.now(), second = "[" + text.slice(cut.secondStart);
      const lines = log ? this.linesOf(id) : Promise.resolve(null);
      this.worker!.postMessage(
        { t: "score", id, key, text: second, maxBatch, rid, ts, log, top } satisfies SplitRequest,
      );
      // both halves validated before either is scored: a body over max_batch costs two parses, not two scorings
      let t0 = performance.now();
      let valid: ValidPart | null = null;
      try {
        valid = validatePart(m, text.slice(0, cut.firstEnd) + "]", maxBatch);
      } catch { /* the whole body gets the route's answer */ }
      const counted = await this.next(id, performance.now() - t0);
      if (!valid || counted?.t !== "validated" || valid.rows + counted.rows > maxBatch) {
        if (counted?.t === "validated") this.worker?.postMessage({ t: "drop", id } satisfies SplitRequest);
        return null;
      }
      this.worker!.postMessage({ t: "go", id } satisfies SplitRequest);
      t0 = performance.now();
      let own: ScoredPart | null = null;
      try {
        own = scoreValid(m, valid, top);
      } catch { /* as above */ }
      const scored = await this.next(id, performance.now() - t0);
      if (!own || scored?.t !== "scored" || !scored.ok) return null;
      this.splits++;
      this.failures = 0; // what gives the helper up is failures in a row
      return result = { own, theirs: { ...scored, lines, text: second }, ts };
    } finally {
      this.busy = false;
      this.waiting.delete(id);
      // a batch that goes the one-thread way logs there: any lines of its helper half are not wanted
      if (!result) this.endLines(id);
    }
  }

  /** Whether a body of `length` characters is large enough to split (`explained`: asked with ?explain=true). */
  wants(length: number, explained: boolean): boolean {
    return length >= (explained ? this.minExplainBytes : this.minBytes);
  }

  /** Resolves once the log lines of every half scored so far have come (at most `ms`). */
  async drain(ms = 2000): Promise<void> {
    const left = [...this.lineWaits.values()].map((w) => w.promise);
    if (!left.length) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([Promise.all(left), new Promise((r) => timer = setTimeout(r, ms))]);
    clearTimeout(timer);
  }

  /** Stops the helper (the service's shutdown, after `drain`; tests). */
  close(): void {
    this.closed = true;
    this.stop();
  }

  /** Whether the helper holds the version; if not, asks it to load it (in the background). */
  private holds(m: ServedModel, key: string): boolean {
    if (this.held === key && this.worker) return true;
    if (this.asked === key && this.worker) return false; // loading, or it could not
    const w = this.start();
    if (!w) return false;
    this.asked = key;
    this.held = null;
    w.postMessage(
      {
        t: "load",
        key,
        uri: m.uri,
        name: m.name,
        version: m.version,
        dir: m.dir,
        limits: m.limits,
      } satisfies SplitRequest,
    );
    return false;
  }

  /**
   * The helper's next answer about batch `id`, or null when it fails or takes
   * over WAIT_FACTOR times `ownMs` (then it is stopped as stuck).
   */
  private next(id: number, ownMs: number): Promise<SplitReply | null> {
    const ms = Math.max(MIN_WAIT_MS, WAIT_FACTOR * ownMs);
    return new Promise<SplitReply | null>((resolve) => {
      const timer = setTimeout(() => this.failed(`no answer in ${Math.round(ms)} ms`), ms);
      this.waiting.set(id, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
    });
  }

  /** Resolves half `id`'s lines as none, if anything waits for them. */
  private endLines(id: number, lines: EncodedLines | null = null): void {
    this.lineWaits.get(id)?.resolve(lines);
    this.lineWaits.delete(id);
  }

  /** The promise of half `id`'s log lines (made when it is asked). */
  private linesOf(id: number): Promise<EncodedLines | null> {
    const w = Promise.withResolvers<EncodedLines | null>();
    this.lineWaits.set(id, w);
    return w.promise;
  }

  private start(): Worker | null {
    if (this.worker) return this.worker;
    if (this.closed || this.failures >= (this.opts.maxFailures ?? 3)) return null;
    let w: Worker;
    try {
      w = new Worker(this.opts.workerUrl ?? new URL("./split_worker.ts", import.meta.url), {
        type: "module",
      });
    } catch (e) {
      this.failed(e instanceof Error ? e.message : String(e));
      return null;
    }
    w.onmessage = (e: MessageEvent<SplitReply>) => this.received(e.data);
    w.onerror = (e) => {
      e.preventDefault(); // the helper's failure is not the worker's
      this.failed(e.message);
    };
    w.onmessageerror = () => this.failed("a message could not be read");
    return this.worker = w;
  }

  private received(r: SplitReply): void {
    if (r.t === "loaded") {
      if (r.key === this.asked && r.ok) this.held = r.key;
      return;
    }
    if (r.t === "lines") {
      this.endLines(r.id, r.lines);
      return;
    }
    // "validated" or "scored": what `next` waits for
    const resolve = this.waiting.get(r.id);
    this.waiting.delete(r.id);
    resolve?.(r);
  }

  /** The helper failed (an error, or stuck): stopped, and given up on after maxFailures in a row. */
  private failed(why: string): void {
    this.failures++;
    this.stop();
    if (this.failures === (this.opts.maxFailures ?? 3)) {
      this.opts.onGiveUp?.(`batch helper thread failed ${this.failures} times (last: ${why})`);
    }
  }

  private stop(): void {
    this.worker?.terminate();
    this.worker = null;
    this.held = this.asked = null;
    for (const resolve of this.waiting.values()) resolve(null);
    this.waiting.clear();
    for (const w of this.lineWaits.values()) w.resolve(null);
    this.lineWaits.clear();
  }
}
