/**
 * `deno task serve [--port N] [--model URI] [--workers N]`: runs the
 * prediction service (src/serve/runner.ts: worker isolates sharing the port,
 * with idle and slow connections timed out) with least permissions. The model comes from --model, else MODEL_URI, else
 * serve.model_uri (models:/churn@champion); the port from --port, else PORT,
 * else serve.port. SIGTERM/SIGINT are passed on; the workers flush the
 * prediction log before exiting.
 *
 * The service's stderr passes through this task line by line, so that a
 * start that cannot succeed is one line and exit 2: a model that cannot be
 * loaded, or a port in use (the runner's `serve: cannot start: ...` line). This
 * task has no network permission to probe the port itself, and a probe would
 * race with whoever binds it next anyway.
 */
import { defineTask, main } from "../src/cli/task.ts";
import { UserError } from "../src/core/errors.ts";
import { optionalEnv as env } from "../src/core/env.ts";
import { serveCommand } from "../src/serve/launch.ts";

/** `serve: cannot start: why` -> `cannot start: why` */
const FATAL = /^serve: (cannot start: .*)$/;

/** Forwards the child's stderr, keeping back the fatal start-up lines; resolves with the one to report. */
async function forwardStderr(stream: ReadableStream<Uint8Array<ArrayBuffer>>, banner: string) {
  let fatal: string | null = null;
  const lines = stream.pipeThrough(new TextDecoderStream()).pipeThrough(splitLines());
  for await (const line of lines) {
    const m = FATAL.exec(line);
    if (m) {
      fatal ??= m[1];
      continue;
    }
    if (line.startsWith("serve: listening on ")) { // up: say what listens, once
      console.error(banner);
      continue;
    }
    console.error(line);
  }
  return fatal;
}

function splitLines(): TransformStream<string, string> {
  let rest = "";
  return new TransformStream({
    transform(chunk, ctl) {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop()!;
      for (const p of parts) ctl.enqueue(p);
    },
    flush(ctl) {
      if (rest) ctl.enqueue(rest);
    },
  });
}

export const spec = defineTask({
  name: "serve",
  description:
    "Serve predictions over HTTP: a Hono app in worker isolates sharing the port (POST /predict, POST /invocations,\n" +
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
      portSource: ctx.values.port !== undefined ? "--port" : "PORT",
      host: ctx.values.host,
      modelUri: ctx.values.model ?? env("MODEL_URI"),
      workers,
      sets: ctx.sets,
    });
    const child = new Deno.Command("deno", {
      args: cmd.args,
      env: { ...cmd.env, NO_COLOR: "1" },
      stdin: "null",
      stdout: "inherit",
      stderr: "piped",
    }).spawn();
    const banner = `serve: ${cmd.modelUri} on http://${cmd.host}:${cmd.port} (docs at /docs)`;
    const fatal = forwardStderr(child.stderr, banner);
    const forward = (sig: Deno.Signal) => () => {
      try {
        child.kill(sig);
      } catch { /* already gone */ }
    };
    const listeners = (["SIGTERM", "SIGINT"] as const).map((s) => [s, forward(s)] as const);
    for (const [s, fn] of listeners) Deno.addSignalListener(s, fn);
    const status = await child.status;
    for (const [s, fn] of listeners) Deno.removeSignalListener(s, fn);
    const why = await fatal;
    if (why && status.code !== 0) throw new UserError(why, 2);
    if (status.code !== 0 && !status.signal) {
      throw new UserError(`the service exited with code ${status.code}`, status.code);
    }
    return { exitCode: status.code };
  },
  summary: (r) => `serve: stopped (exit ${r.exitCode})`,
});

if (import.meta.main) await main(spec);
