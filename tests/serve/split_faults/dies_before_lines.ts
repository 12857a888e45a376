/// <reference lib="deno.worker" />
/**
 * The real helper of split.ts, failing after its answer: from its second
 * batch on it never sends the half's log lines and throws a moment later.
 */
const real = self.postMessage.bind(self);
let lines = 0;
(self as unknown as { postMessage: (r: { t: string }, t?: Transferable[]) => void }).postMessage = (r, t) => {
  if (r.t === "lines" && ++lines > 1) {
    setTimeout(() => {
      throw new Error("helper failed building the log lines");
    }, 20);
    return;
  }
  real(r, t ?? []);
};
await import("../../../src/serve/split_worker.ts");
