/**
 * `deno task store:copy --from models/orchard.db --to postgresql://...`: move a
 * whole store (runs and registry) to another backend. The destination must
 * be empty; it takes the source's identity, so the registered model folders
 * keep working with it. The source is left as it was.
 */
import { defineTask, main } from "../src/cli/task.ts";
import { UserError } from "../src/core/errors.ts";
import { copyStore } from "../src/registry/copy_store.ts";
import { storeLocation, trackingLocation } from "../src/config/paths.ts";
import { isPostgresUri } from "../src/store/sql.ts";

export const spec = defineTask({
  name: "store:copy",
  description:
    "Copy a whole store (runs, params, metrics, registry) into an empty store on another backend,\n" +
    "e.g. from the SQLite file to a team's PostgreSQL. Artifact files stay under paths.models.",
  options: {
    from: {
      type: "string",
      description: "the store to copy: a SQLite file or postgresql:// URI (default: the configured store)",
      valueName: "store",
    },
    to: {
      type: "string",
      description: "the empty destination: a SQLite file or postgresql:// URI",
      valueName: "store",
    },
  },
  // a SQLite destination is a file this task may create: not a folder, not outside --allow-write
  writes: (ctx) => {
    const to = ctx.values.to && storeLocation(ctx.values.to, "--to");
    return [to && !isPostgresUri(to) && { path: to, source: "--to" }];
  },
  async run(ctx) {
    const given = ctx.values.to;
    if (!given) throw new UserError("store:copy needs --to <sqlite file | postgresql://...>");
    const to = storeLocation(given, "--to");
    const from = ctx.values.from ? storeLocation(ctx.values.from, "--from") : trackingLocation(ctx.config);
    return await copyStore(from, to);
  },
  summary: (r) =>
    `store:copy: ${r.from} -> ${r.to} (store id ${r.store_id.slice(0, 8)}): ` +
    Object.entries(r.rows).filter(([, n]) => n > 0).map(([t, n]) => `${n} ${t}`).join(", "),
});

if (import.meta.main) await main(spec);
