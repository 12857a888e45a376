/**
 * A training worker: receives the binned data once, then claims tree indices
 * from a shared counter until none are left, posting each grown tree back
 * (its arrays transferred, not copied). Which worker grows a tree does not
 * change the tree: its randomness comes from its index.
 */
import { type BuildSettings, type TrainData, type Tree, TreeBuilder } from "./builder.ts";

export interface WorkerInit {
  data: TrainData;
  settings: BuildSettings;
  nTrees: number;
  /** Int32Array over a SharedArrayBuffer: the next unclaimed tree index */
  counter: Int32Array;
}

export type WorkerReply =
  | { type: "tree"; index: number; tree: Tree }
  | { type: "done" }
  | { type: "error"; message: string };

function treeTransferables(tree: Tree): ArrayBuffer[] {
  return [
    tree.feature.buffer,
    tree.threshold.buffer,
    tree.child.buffer,
    tree.nanRight.buffer,
    tree.values.buffer,
    tree.leafWeight.buffer,
    tree.importance.buffer,
  ] as ArrayBuffer[];
}

// deno-lint-ignore no-explicit-any
const scope = self as any;
scope.onmessage = (e: MessageEvent<WorkerInit>) => {
  const { data, settings, nTrees, counter } = e.data;
  try {
    const builder = new TreeBuilder(data, settings);
    for (;;) {
      const index = Atomics.add(counter, 0, 1);
      if (index >= nTrees) break;
      const tree = builder.build(index);
      scope.postMessage({ type: "tree", index, tree } satisfies WorkerReply, treeTransferables(tree));
    }
    scope.postMessage({ type: "done" } satisfies WorkerReply);
  } catch (err) {
    scope.postMessage({ type: "error", message: err instanceof Error ? err.message : String(err) });
  }
};
