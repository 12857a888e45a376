/**
 * Grows a forest's trees, in parallel when asked: `nJobs - 1` Web Workers plus
 * the main thread claim tree indices from one shared counter, so no thread
 * idles while trees are left. Trees are kept by index, so the forest is the
 * same whatever the number of workers. `nJobs = 1` runs on the main thread only.
 */
import { type BuildSettings, type TrainData, type Tree, TreeBuilder } from "./builder.ts";
import type { WorkerInit, WorkerReply, WorkerWarm } from "./worker.ts";

export type TreeProgress = (done: number, total: number) => void;

function sharedCounter(): Int32Array {
  try {
    return new Int32Array(new SharedArrayBuffer(4));
  } catch {
    return new Int32Array(1);
  }
}

/**
 * How often the main thread, between its own trees, lets queued worker messages
 * (grown trees, progress) run. A `setTimeout(0)` after every tree cost ~30% of the
 * main thread's time: chained timeouts are clamped to 4 ms.
 */
const YIELD_EVERY_MS = 100;
const yieldToEvents = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

function startWorker(): Worker {
  return new Worker(new URL("./worker.ts", import.meta.url).href, { type: "module" });
}

/** Workers started by `warmUp` and not yet taken by a fit. */
let warmPool: Worker[] = [];
let idleTimer: ReturnType<typeof setTimeout> | undefined;
/** Warm workers no fit has taken are terminated after this long (an idle worker keeps the process alive). */
export const WARM_IDLE_MS = 3000;

/** How many warm workers are waiting for a fit. */
export function warmCount(): number {
  return warmPool.length;
}

/**
 * Starts the workers of the next fit now, each growing a few trees on synthetic
 * data so that its module load and JIT warm-up happen while the caller loads
 * its data, off the fit's critical path. Call it with the fit's `n_jobs`
 * (threads including the main one). The next fit takes these workers (and
 * terminates them when it ends); unused ones are terminated after
 * `WARM_IDLE_MS` (until then they keep the process alive), or by `coolDown()`. Models do not change: a tree's randomness
 * comes from its index only. Returns the number of warm workers waiting.
 */
export function warmUp(nJobs: number = navigator.hardwareConcurrency || 1): number {
  if (typeof SharedArrayBuffer === "undefined") return 0;
  const want = Math.max(0, Math.floor(nJobs) - 1);
  while (warmPool.length < want) {
    const w = startWorker();
    w.postMessage({ type: "warm" } satisfies WorkerWarm);
    warmPool.push(w);
  }
  if (idleTimer !== undefined) clearTimeout(idleTimer);
  const timer = setTimeout(coolDown, WARM_IDLE_MS);
  idleTimer = timer;
  try {
    Deno.unrefTimer(timer); // the timer alone does not keep the process alive
  } catch { /* not Deno */ }
  return warmPool.length;
}

/** Terminates the warm workers no fit has taken. */
export function coolDown(): void {
  if (idleTimer !== undefined) clearTimeout(idleTimer);
  idleTimer = undefined;
  for (const w of warmPool) w.terminate();
  warmPool = [];
}

/** Workers for `nJobs` threads (the main thread is one): warm ones first, the rest started now, so they load while data is binned. */
export function spawnWorkers(nJobs: number, nTrees: number): Worker[] {
  if (typeof SharedArrayBuffer === "undefined") return [];
  const k = Math.max(0, Math.min(nJobs, nTrees) - 1);
  const taken = warmPool.splice(0, k);
  coolDown(); // the pool is for the next fit only: surplus warm workers go

  while (taken.length < k) taken.push(startWorker());
  return taken;
}

export async function growTrees(
  data: TrainData,
  settings: BuildSettings,
  nTrees: number,
  nJobs: number,
  onProgress?: TreeProgress,
  started?: Worker[],
): Promise<Tree[]> {
  const trees: (Tree | undefined)[] = new Array(nTrees);
  let done = 0;
  const got = (index: number, tree: Tree) => {
    trees[index] = tree;
    done++;
    onProgress?.(done, nTrees);
  };
  const counter = sharedCounter();
  const shared = counter.buffer instanceof SharedArrayBuffer;
  const workers: Worker[] = started ?? (shared ? spawnWorkers(nJobs, nTrees) : []);
  const nWorkers = workers.length;
  const finished: Promise<void>[] = [];
  try {
    for (let w = 0; w < nWorkers; w++) {
      const worker = workers[w];
      const ended = new Promise<void>((resolve, reject) => {
        worker.onmessage = (e: MessageEvent<WorkerReply>) => {
          const msg = e.data;
          if (msg.type === "tree") got(msg.index, msg.tree);
          else if (msg.type === "done") resolve();
          else reject(new Error(`forest worker: ${msg.message}`));
        };
        worker.onerror = (e) => {
          e.preventDefault();
          reject(new Error(`forest worker: ${e.message}`));
        };
      });
      ended.catch(() => {}); // awaited below; this keeps an early main-thread failure from leaving it unhandled
      finished.push(ended);
      worker.postMessage({ data, settings, nTrees, counter } satisfies WorkerInit);
    }
    // the main thread takes trees too
    const builder = new TreeBuilder(data, settings);
    let lastYield = performance.now();
    for (;;) {
      const index = Atomics.add(counter, 0, 1);
      if (index >= nTrees) break;
      got(index, builder.build(index));
      if (nWorkers > 0 && performance.now() - lastYield >= YIELD_EVERY_MS) {
        await yieldToEvents();
        lastYield = performance.now();
      }
    }
    await Promise.all(finished);
  } finally {
    for (const w of workers) w.terminate();
  }
  for (let t = 0; t < nTrees; t++) if (!trees[t]) throw new Error(`forest: tree ${t} was not grown`);
  return trees as Tree[];
}
