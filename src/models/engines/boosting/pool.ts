/**
 * Where the tree jobs run. `LocalExecutor` runs every block on the calling
 * thread. `WorkerPool` adds Web Workers that share the arena's memory
 * (SharedArrayBuffers): a job is published by bumping a generation word, every
 * thread (the main one too) claims blocks from it, and the main thread waits
 * until all blocks are done. A block's result does not depend on
 * which thread ran it, so any number of workers gives the same trees.
 *
 * The main thread blocks in Atomics.wait between its own blocks (Deno allows
 * it); workers spin briefly after a job (the next one follows within
 * microseconds) and then sleep in Atomics.wait.
 */
import type { BoostBins } from "./bins.ts";
import type { Executor } from "./grower.ts";
import {
  type Arena,
  chunkCount,
  countAll,
  GRAD_BLOCK,
  JOB_FIELDS,
  RF,
  rootSegments,
  rowStride,
  runBlock,
  Scratch,
  scratchLayout,
  SET_WORDS,
  type SplitSettings,
  VALID_BLOCK,
} from "./kernels.ts";
import { simdMemory } from "./simd.ts";
import {
  C_BLOCKS,
  C_DONE,
  C_ERROR,
  C_STOP,
  C_WORD,
  CTL_WORDS,
  GEN_MASK,
  TICKET_BITS,
  TICKET_MASK,
  type WorkerInit,
  type WorkerReply,
} from "./protocol.ts";

const canShare = typeof SharedArrayBuffer !== "undefined";

function sharedBuffer(bytes: number): ArrayBuffer | SharedArrayBuffer {
  return canShare ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
}

const f64 = (n: number) => new Float64Array(sharedBuffer(8 * n));
const i32 = (n: number) => new Int32Array(sharedBuffer(4 * n));
const u8 = (n: number) => new Uint8Array(sharedBuffer(n));

/** Histogram slots to allocate: one per leaf that can be open at once, within about 512 MB. */
export function slotCount(p: number, maxLeaves: number): number {
  const bytes = p * 256 * 20;
  const cap = Math.max(4, Math.floor((512 << 20) / bytes));
  return Math.max(3, Math.min(Number.isFinite(maxLeaves) ? maxLeaves + 1 : cap, cap));
}

/**
 * The most row chunks a leaf's histogram is cut into: as many as the whole
 * data would take, within about 32 MB of partials (room is kept for two
 * targets' chunks in one job).
 */
export function maxChunkCount(n: number, p: number): number {
  const cap = Math.max(2, 2 * Math.floor((32 << 20) / (p * 256 * 20) / 2));
  return Math.min(cap, chunkCount(n, Infinity));
}

let useSimd = true;

/** Whether fits started from now on run the histogram loops as WebAssembly SIMD (the default), for tests. */
export function setSimdKernels(on: boolean): void {
  useSimd = on;
}

/** The arena of one fit: the binned data and every buffer the jobs touch. */
export function createArena(
  bins: BoostBins,
  W: number,
  nSlots: number,
  maxNodes: number,
  goss: boolean,
  /** trees may take every row: the JOB_GRAD_ROOT buffers and all rows' counts */
  rootJobs: boolean,
  valid: { X: Float64Array; y: Float64Array; w: Float64Array } | undefined,
  mono: Int8Array,
  y: Float64Array,
  w: Float64Array,
  /** threads that will run jobs (each gets scratch buffers) */
  threads = 1,
): Arena {
  const { n, p } = bins;
  const stride = rowStride(p);
  const maxChunks = maxChunkCount(n, p), room = maxChunks > 1 ? 2 * maxChunks : 0;
  // what the WebAssembly kernels read, and the threads' scratch buffers, in one memory (simd.ts)
  const parts = [n * stride, n * p, 16 * n * W, 4 * n, 4 * n, 256], at: number[] = [];
  let bytes = 0;
  for (const z of parts) {
    at.push(bytes);
    bytes += (z + 15) & ~15;
  }
  const scratch = scratchLayout(stride, p), scratchAt = bytes;
  bytes += threads * scratch.bytes;
  const mem = useSimd ? simdMemory(bytes, canShare) : null;
  const buf = mem ? mem.buffer : sharedBuffer(bytes);
  const codes = new Uint8Array(buf, at[0], n * stride);
  for (let i = 0; i < n; i++) codes.set(bins.codes.subarray(i * p, (i + 1) * p), i * stride);
  const colCodes = new Uint8Array(buf, at[1], n * p);
  for (let f = 0; f < p; f++) for (let i = 0, o = f; i < n; i++, o += p) colCodes[f * n + i] = bins.codes[o];
  const share = <T extends Int32Array | Float64Array | Uint8Array | Int8Array>(a: T): T => {
    if (!canShare) return a;
    const C = a.constructor as { new (b: SharedArrayBuffer): T };
    const s = new C(new SharedArrayBuffer(a.byteLength));
    s.set(a as never);
    return s;
  };
  const a: Arena = {
    n,
    p,
    stride,
    codes,
    words: new Int32Array(buf, at[0], (n * stride) >> 2),
    colCodes,
    rows: new Int32Array(buf, at[3], n),
    rows2: new Int32Array(buf, at[4], n),
    lut: new Uint8Array(buf, at[5], 256),
    part: i32(2),
    nBins: share(bins.nBins),
    isCat: share(bins.isCat),
    rareBin: share(bins.rareBin),
    mono: share(mono),
    gh: new Float64Array(buf, at[2], 2 * n * W),
    hist: f64(nSlots * p * 512),
    cnt: i32(nSlots * p * 256),
    feats: i32(p),
    res: f64(2 * p * RF),
    resBits: i32(2 * p * SET_WORDS),
    job: f64(JOB_FIELDS),
    tFeat: i32(maxNodes),
    tChild: i32(maxNodes),
    tValue: f64(maxNodes),
    tRight: i32(8 * maxNodes),
    tThr: f64(maxNodes),
    tNanRight: u8(maxNodes),
    tCat: u8(maxNodes),
    score: f64(goss ? n : 0),
    vX: valid ? share(valid.X) : f64(0),
    vRaw: f64(valid ? valid.y.length * W : 0),
    vY: valid ? share(valid.y) : f64(0),
    vW: valid ? share(valid.w) : f64(0),
    vLoss: f64(valid ? 2 * Math.ceil(valid.y.length / VALID_BLOCK) : 0),
    raw: f64(n * W),
    y: share(y),
    w: share(w),
    seg: f64(rootJobs ? rootSegments(n) * p * 512 : 0),
    segGH: f64(rootJobs ? 2 * rootSegments(n) : 0),
    tLoss: f64(2 * Math.max(rootSegments(n), Math.ceil(n / GRAD_BLOCK))),
    chunkHist: f64(room * p * 512),
    chunkCnt: i32(room * p * 256),
    maxChunks,
    simd: mem ? 1 : 0,
    mem,
    scratchAt,
    scratchBytes: scratch.bytes,
    rootCnt: i32(rootJobs ? p * 256 : 0),
    lStart: i32(maxNodes),
    lEnd: i32(maxNodes),
    lValue: f64(maxNodes),
    lBuf: u8(maxNodes),
  };
  if (rootJobs) countAll(a);
  return a;
}

export class LocalExecutor implements Executor {
  readonly featureBlocks = 1;
  private readonly scratch: Scratch;
  constructor(private readonly a: Arena, private readonly s: SplitSettings) {
    this.scratch = new Scratch(a, 0);
  }
  run(nBlocks: number): void {
    for (let b = 0; b < nBlocks; b++) runBlock(this.a, this.s, b, this.scratch);
  }
}

/** Workers for `n` extra threads; start them early so they load while the data is binned. */
export function spawnBoostWorkers(n: number): Worker[] {
  if (!canShare) return [];
  return Array.from(
    { length: n },
    () => new Worker(new URL("./worker.ts", import.meta.url).href, { type: "module" }),
  );
}

export class WorkerPool implements Executor {
  readonly featureBlocks: number;
  private readonly ctl = new Int32Array(new SharedArrayBuffer(4 * CTL_WORDS));
  private readonly scratch: Scratch;
  private closed = false;
  private gen = 0;

  private constructor(
    private readonly a: Arena,
    private readonly s: SplitSettings,
    private readonly workers: Worker[],
  ) {
    // one block per thread: each gathers the leaf's rows for its features, so more blocks gather more
    this.featureBlocks = workers.length + 1;
    this.scratch = new Scratch(a, 0);
  }

  /** Hands the arena to started workers and waits until each is listening. */
  static async start(a: Arena, s: SplitSettings, workers: Worker[]): Promise<WorkerPool> {
    const pool = new WorkerPool(a, s, workers);
    try {
      await Promise.all(workers.map((wk, i) =>
        new Promise<void>((resolve, reject) => {
          wk.onmessage = (e: MessageEvent<WorkerReply>) => {
            if (e.data.type === "ready") resolve();
            else reject(new Error(`boosting worker: ${e.data.message}`));
          };
          wk.onerror = (e) => {
            e.preventDefault();
            reject(new Error(`boosting worker: ${e.message}`));
          };
          wk.postMessage({ arena: a, settings: s, ctl: pool.ctl, thread: i + 1 } satisfies WorkerInit);
        })
      ));
    } catch (err) {
      pool.close();
      throw err;
    }
    return pool;
  }

  run(nBlocks: number): void {
    const ctl = this.ctl;
    // First a word no thread can claim from, so a worker that read the last job's word (its ticket past that
    // job's blocks) cannot claim with it once the new, larger count is up: its compare-and-swap would succeed on
    // the unchanged word, run a block of the new job before the word is published, and count it done early.
    this.gen = (this.gen + 1) & GEN_MASK;
    Atomics.store(ctl, C_WORD, (this.gen << TICKET_BITS) | TICKET_MASK);
    Atomics.store(ctl, C_BLOCKS, nBlocks);
    Atomics.store(ctl, C_DONE, 0);
    Atomics.store(ctl, C_WORD, this.gen << TICKET_BITS);
    Atomics.notify(ctl, C_WORD);
    for (;;) {
      const w = Atomics.load(ctl, C_WORD), b = w & TICKET_MASK;
      if (b >= nBlocks) break;
      if (Atomics.compareExchange(ctl, C_WORD, w, w + 1) !== w) continue;
      runBlock(this.a, this.s, b, this.scratch);
      Atomics.add(ctl, C_DONE, 1);
    }
    for (let spins = 0;; spins++) {
      const done = Atomics.load(ctl, C_DONE);
      if (done >= nBlocks) break;
      if (spins > 2000) Atomics.wait(ctl, C_DONE, done, 5);
    }
    if (Atomics.load(ctl, C_ERROR) !== 0) throw new Error("boosting worker: a job failed");
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.ctl, C_STOP, 1);
    this.gen = (this.gen + 1) & GEN_MASK;
    Atomics.store(this.ctl, C_WORD, this.gen << TICKET_BITS);
    Atomics.notify(this.ctl, C_WORD);
    for (const w of this.workers) w.terminate();
  }
}
