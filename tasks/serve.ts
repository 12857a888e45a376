/**
 * `deno task serve [--port N] [--model URI] [--workers N]`: runs the
 * prediction service (src/serve/app.ts) under `deno serve --parallel` with
 * least permissions. The model comes from --model, else MODEL_URI, else
 * serve.model_uri (models:/churn@champion); the port from --port, else PORT,
 * else serve.port. SIGTERM/SIGINT are passed on; the workers flush the
 * prediction log before exiting.
 */
import { defineTask, main } from "../src/cli/task.ts";
import { UserError } from "../src/core/errors.ts";
import { optionalEnv as env } from "../src/core/env.ts";
import { serveCommand } from "../src/serve/launch.ts";

export const spec = defineTask({
  name: "serve",
  description:
    "Serve predictions over HTTP: Hono under `deno serve --parallel` (POST /predict, POST /invocations,\n" +
    "GET /health /ready /model /metrics /openapi.json /docs, POST /admin/reload with ORCHARD_ADMIN_TOKEN).",
  options: {
    port: { type: "string", description: "port (default: PORT, else serve.port)", valueName: "n" },
    host: { type: "string", description: "address to listen on (default serve.host)", valueName: "addr" },
    model: {
      type: "string",
      description: "model URI (default: MODEL_URI, else serve.model_uri)",
      valueName: "uri",
    },
    workers: {
      type: "string",
      description: "worker isolates (default serve.workers, else one per core)",
      valueName: "n",
    },
  },
  async run(ctx) {
    const config = ctx.config;
    const workersText = ctx.values.workers;
    const workers = workersText === undefined ? undefined : Number(workersText);
    if (workers !== undefined && (!Number.isInteger(workers) || workers < 1)) {
      throw new UserError(`--workers ${workersText}: expected a positive whole number`);
    }
    const cmd = serveCommand({
      config,
      configPath: ctx.configPath,
      port: ctx.values.port ?? env("PORT"),
      host: ctx.values.host,
      modelUri: ctx.values.model ?? env("MODEL_URI"),
      workers,
      sets: ctx.sets,
    });
    console.error(`serve: ${cmd.modelUri} on http://${cmd.host}:${cmd.port} (docs at /docs)`);
    const child = new Deno.Command("deno", {
      args: cmd.args,
      env: cmd.env,
      stdin: "null",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn();
    const forward = (sig: Deno.Signal) => () => {
      try {
        child.kill(sig);
      } catch { /* already gone */ }
    };
    const listeners = (["SIGTERM", "SIGINT"] as const).map((s) => [s, forward(s)] as const);
    for (const [s, fn] of listeners) Deno.addSignalListener(s, fn);
    const status = await child.status;
    for (const [s, fn] of listeners) Deno.removeSignalListener(s, fn);
    if (status.code !== 0 && !status.signal) {
      throw new UserError(`the service exited with code ${status.code}`, status.code);
    }
    return { exitCode: status.code };
  },
  summary: (r) => `serve: stopped (exit ${r.exitCode})`,
});

if (import.meta.main) await main(spec);
