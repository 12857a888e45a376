/**
 * Moving a whole store (runs and registry) between backends, e.g. from the
 * laptop's SQLite file to a team's PostgreSQL: `deno task store:copy`.
 *
 * The destination must be empty. It takes the source's identity, so the
 * model folders the source registered (marked with that identity) keep
 * working with the copy; the artifact files themselves are not moved (they
 * stay under paths.models, which may be a shared filesystem).
 */
import { UserError } from "../core/errors.ts";
import { copyTables, countRows, type TableSpec } from "../store/copy.ts";
import { storeExists, TrackingStore } from "../tracking/store.ts";
import { REGISTRY_SCHEMA } from "./db.ts";
import type { Row } from "../store/sql.ts";
import { markCopied } from "../store/identity.ts";

/** Every table of a store, parents before children. */
export const STORE_TABLES: readonly TableSpec[] = [
  { name: "experiments", serial: "experiment_id", orderBy: "experiment_id" },
  // a parent run starts before its children, so start order keeps the parent_run_id references valid
  { name: "runs", orderBy: "start_time, seq, run_id" },
  { name: "params", orderBy: "run_id, key" },
  { name: "metrics", serial: "id", orderBy: "id" },
  { name: "tags", orderBy: "run_id, key" },
  { name: "datasets", orderBy: "run_id, name" },
  { name: "artifacts", orderBy: "run_id, name" },
  { name: "registered_models", orderBy: "name" },
  { name: "model_versions", orderBy: "name, version" },
  { name: "model_aliases", orderBy: "name, alias" },
  { name: "gate_results", serial: "id", orderBy: "id" },
  { name: "model_events", serial: "id", orderBy: "id" },
];

export interface CopyResult {
  from: string;
  to: string;
  store_id: string;
  rows: Record<string, number>;
}

export async function copyStore(fromLocation: string, toLocation: string): Promise<CopyResult> {
  if (fromLocation.trim() === toLocation.trim()) throw new UserError("--from and --to are the same store");
  // opening a SQLite path creates it: a mistyped --from would copy an empty new store
  if (!storeExists(fromLocation)) throw new UserError(`${fromLocation}: no store there (a SQLite file)`);
  const opts = { components: [REGISTRY_SCHEMA], keepStaleRuns: true };
  const from = await TrackingStore.open(fromLocation, opts);
  try {
    const to = await TrackingStore.open(toLocation, opts);
    try {
      const existing = await countRows(to.db, STORE_TABLES);
      const held = Object.entries(existing).filter(([, n]) => n > 0);
      if (held.length > 0) {
        throw new UserError(
          `${to.location} is not empty (${
            held.map(([t, n]) => `${n} ${t}`).join(", ")
          }); store:copy writes only into an empty store`,
        );
      }
      const rows = await copyTables(from.db, to.db, STORE_TABLES, async (tx) => {
        await tx.run("UPDATE store_info SET value = ? WHERE key = 'store_id'", [from.storeId]);
      });
      // the copy must hold what the source held, table by table
      const after = await countRows(to.db, STORE_TABLES);
      for (const t of STORE_TABLES) {
        if (after[t.name] !== rows[t.name]) {
          throw new Error(`store:copy: ${t.name} has ${after[t.name]} rows after copying ${rows[t.name]}`);
        }
      }
      const id = await to.db.get<Row>("SELECT value FROM store_info WHERE key = 'store_id'");
      // the copy owns the model folders now: the source stops registering into them
      await markCopied(from.db, to.location, new Date().toISOString());
      return { from: from.location, to: to.location, store_id: String(id!.value), rows };
    } finally {
      await to.close();
    }
  } finally {
    await from.close();
  }
}
