/**
 * A boosting worker: receives the fit's shared arena once, then runs blocks of
 * whatever job the main thread publishes (pool.ts) until told to stop.
 */
import { runBlock, Scratch } from "./kernels.ts";
import {
  C_BLOCKS,
  C_DONE,
  C_ERROR,
  C_STOP,
  C_WORD,
  TICKET_MASK,
  type WorkerInit,
  type WorkerReply,
} from "./protocol.ts";

/**
 * How long a worker keeps checking for the next job before it sleeps: while a
 * tree grows, jobs come back to back (the main thread partitions a leaf's rows
 * in between, up to a millisecond or two), and waking a sleeping thread takes
 * longer than most jobs.
 */
const SPIN_MS = 5;

// deno-lint-ignore no-explicit-any
const scope = self as any;
scope.onmessage = (e: MessageEvent<WorkerInit>) => {
  const { arena, settings, ctl, thread } = e.data;
  const scratch = new Scratch(arena, thread);
  scope.postMessage({ type: "ready" } satisfies WorkerReply);
  for (;;) {
    if (Atomics.load(ctl, C_STOP) !== 0) break;
    const w = Atomics.load(ctl, C_WORD), b = w & TICKET_MASK;
    // read after the word: a newer job's count only comes with a changed word, and the claim below fails
    const nBlocks = Atomics.load(ctl, C_BLOCKS);
    if (b < nBlocks) {
      if (Atomics.compareExchange(ctl, C_WORD, w, w + 1) !== w) continue;
      try {
        runBlock(arena, settings, b, scratch);
      } catch {
        Atomics.store(ctl, C_ERROR, 1);
      }
      if (Atomics.add(ctl, C_DONE, 1) + 1 >= nBlocks) Atomics.notify(ctl, C_DONE);
      continue;
    }
    let spins = 0, since = 0;
    while (Atomics.load(ctl, C_WORD) === w) {
      if ((++spins & 1023) !== 0) continue;
      const now = performance.now();
      if (since === 0) since = now;
      else if (now - since > SPIN_MS) Atomics.wait(ctl, C_WORD, w);
    }
  }
  scope.close();
};
