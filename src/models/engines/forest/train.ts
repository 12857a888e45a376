/**
 * Grows a forest's trees, in parallel when asked: `nJobs - 1` Web Workers plus
 * the main thread claim tree indices from one shared counter, so no thread
 * idles while trees are left. Trees are kept by index, so the forest is the
 * same whatever the number of workers. `nJobs = 1` runs on the main thread only.
 */
import { type BuildSettings, type TrainData, type Tree, TreeBuilder } from "./builder.ts";
import type { WorkerInit, WorkerReply } from "./worker.ts";

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

/** Workers for `nJobs` threads (the main thread is one); start them early so they load while data is binned. */
export function spawnWorkers(nJobs: number, nTrees: number): Worker[] {
  if (typeof SharedArrayBuffer === "undefined") return [];
  const k = Math.max(0, Math.min(nJobs, nTrees) - 1);
  return Array.from(
    { length: k },
    () => new Worker(new URL("./worker.ts", import.meta.url).href, { type: "module" }),
  );
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
