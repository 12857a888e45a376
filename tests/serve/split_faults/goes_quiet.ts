/// <reference lib="deno.worker" />
/** The real helper of split.ts, except that it never answers a batch: a stuck helper. */
import "../../../src/serve/split_worker.ts";
const real = self.onmessage!;
self.onmessage = (e: MessageEvent<{ t: string }>) => {
  if (e.data.t === "score") return;
  real.call(self, e);
};
