/**
 * `deno task ui [--host 127.0.0.1] [--port 5000] [--service URL]`: the web UI
 * (src/ui/) over the tracking store and registry the config names, read-only
 * unless ORCHARD_ADMIN_TOKEN is set. Runs until interrupted.
 */
import { defineTask, main } from "../src/cli/task.ts";
import { startUi } from "../src/ui/server.ts";

export const spec = defineTask({
  name: "ui",
  description: "Serve the web UI: status, runs, models and monitoring pages over the tracking store and\n" +
    "registry (tracking.store or ORCHARD_TRACKING_URI). Read-only unless ORCHARD_ADMIN_TOKEN is set;\n" +
    "then log in with that token to set aliases, promote, archive and roll back.",
  usage: "ui [--host 127.0.0.1] [--port 5000] [--service http://127.0.0.1:8000]",
  options: {
    host: { type: "string", description: "interface to listen on (default 127.0.0.1)", valueName: "host" },
    port: {
      type: "string",
      description: "port to listen on (default 5000; 0: any free port)",
      valueName: "N",
    },
    service: {
      type: "string",
      description: "a running prediction service whose /ready and /metrics the status page shows",
      valueName: "URL",
    },
  },
  run: async (ctx) => {
    const ui = await startUi(ctx.config, ctx.values);
    console.error(
      `ui: serving ${ui.ctx.store.location} on ${ui.url}${ui.ctx.sessions.enabled ? "" : " (read-only)"}`,
    );
    const stop = () => ui.shutdown().catch(() => {});
    for (const sig of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(sig, stop);
    await ui.finished;
    return { url: ui.url };
  },
  summary: () => "ui: stopped",
});

if (import.meta.main) await main(spec);
