/**
 * Simulates a registration killed mid-way, for cli_test.ts:
 * `deno run -A _crash.ts <store> <modelsDir> <runId> before-rename|after-rename [name]`
 * (<store> a SQLite path or a postgresql:// URI; name defaults to "m")
 * exits the process abruptly (no cleanup, no COMMIT) around the rename of
 * the artifact store's temp folder (.tmp-<storeid8>-<pid>-<rand>) to
 * <name>/<version>, which LocalArtifactStore.put does inside the
 * registration's transaction.
 */
import { TrackingStore } from "../../src/tracking/store.ts";
import { ModelRegistry } from "../../src/registry/registry.ts";

const [location, modelsDir, runId, when, name = "m"] = Deno.args;
if (when !== "before-rename" && when !== "after-rename") {
  console.error(`_crash.ts: expected before-rename or after-rename, got '${when}'`);
  Deno.exit(2);
}
const store = await TrackingStore.open(location);
const registry = await ModelRegistry.open(store, { modelsDir });
const tempPrefix = `.tmp-${store.storeId.slice(0, 8)}-${Deno.pid}-`;
const rename = Deno.renameSync;
Deno.renameSync = (from: string | URL, to: string | URL) => {
  const source = String(from);
  // only the artifact put's rename (SQLite's own files are not renamed; be sure anyway)
  if (!source.slice(source.lastIndexOf("/") + 1).startsWith(tempPrefix)) return rename(from, to);
  if (when === "before-rename") Deno.exit(9);
  rename(from, to);
  Deno.exit(9);
};
await registry.register({ runId, name });
console.log("not reached");
