/**
 * What the main thread (pool.ts) and a boosting worker (worker.ts) share: the
 * layout of the control words and the messages they exchange. Kept apart so
 * neither side imports the other.
 */
import type { Arena, SplitSettings } from "./kernels.ts";

/**
 * Control words (Int32Array over a SharedArrayBuffer). C_WORD holds the job's
 * generation and its next unclaimed block together, so a block is claimed by
 * one compare-and-swap that fails if a newer job was published meanwhile: a
 * thread can never run a block of one job with another job's block count.
 */
export const C_WORD = 0, C_DONE = 1, C_BLOCKS = 2, C_STOP = 3, C_ERROR = 4;
export const CTL_WORDS = 8;
export const TICKET_BITS = 15, TICKET_MASK = (1 << TICKET_BITS) - 1, GEN_MASK = 0xffff;

export interface WorkerInit {
  arena: Arena;
  settings: SplitSettings;
  ctl: Int32Array;
  /** the worker's thread number (1, 2, ...; the main thread is 0): which scratch buffers are its */
  thread: number;
}

export type WorkerReply = { type: "ready" } | { type: "error"; message: string };
