/**
 * Simulates a registration killed mid-way, for cli_test.ts:
 * `deno run -A _crash.ts <db> <modelsDir> <runId> before-rename|after-rename`
 * exits the process abruptly (no cleanup, no COMMIT) around the rename.
 */
import { TrackingStore } from "../../src/tracking/store.ts";
import { ModelRegistry } from "../../src/registry/registry.ts";

const [db, modelsDir, runId, when] = Deno.args;
const rename = Deno.renameSync;
Deno.renameSync = (from: string | URL, to: string | URL) => {
  if (when === "before-rename") Deno.exit(9);
  rename(from, to);
  Deno.exit(9);
};
const store = TrackingStore.open(db);
new ModelRegistry(store, { modelsDir }).register({ runId, name: "m" });
console.log("not reached");
