/** For the tests that launch the service: its params.yaml, and a free port. */
import { join } from "node:path";
import { loadConfig } from "../../src/config/load.ts";
import { serveCommand } from "../../src/serve/launch.ts";

/**
 * Writes `root`/params.yaml: models, predictions and the tracking store under
 * `root`, then the `extra` lines (e.g. a serve: section). Returns its path.
 */
export async function writeServeParams(root: string, extra: string[] = []): Promise<string> {
  const path = join(root, "params.yaml");
  await Deno.writeTextFile(
    path,
    [
      "paths:",
      `  models: ${root}/models`,
      `  predictions: ${root}/predictions`,
      "tracking:",
      `  store: ${root}/models/orchard.db`,
      ...extra,
      "",
    ].join("\n"),
  );
  return path;
}

/** A port nothing listens on now (the OS picks it). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

export interface SpawnedService {
  child: Deno.ChildProcess;
  base: string;
  port: number;
}

/**
 * Starts the service with the command line and permissions of `deno task serve`
 * (serveCommand) on a free port of 127.0.0.1, from the params.yaml at `cfgPath`.
 */
export function spawnService(cfgPath: string, opts: {
  model: string;
  workers?: number;
  env?: Record<string, string>;
  stderr?: "null" | "piped";
}): SpawnedService {
  const port = freePort();
  const cmd = serveCommand({
    config: loadConfig({ path: cfgPath }),
    configPath: cfgPath,
    host: "127.0.0.1",
    port,
    workers: opts.workers ?? 1,
    modelUri: opts.model,
  });
  const child = new Deno.Command("deno", {
    args: cmd.args,
    env: { ...cmd.env, ...opts.env },
    stdout: "null",
    stderr: opts.stderr ?? "null",
  }).spawn();
  return { child, base: `http://127.0.0.1:${port}`, port };
}

/** Polls `base`/ready until it answers 200 (true) or `seconds` pass (false). */
export async function waitReady(base: string, seconds = 30): Promise<boolean> {
  for (let i = 0; i < seconds * 10; i++) {
    const up = await fetch(`${base}/ready`).then(async (r) => {
      await r.body?.cancel();
      return r.ok;
    }, () => false);
    if (up) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/**
 * Reads a raw connection until the server closes it, or closes it after
 * `limitMs`: what came, after how long, and whether it was the server that closed.
 */
export async function readToClose(conn: Deno.Conn, limitMs: number) {
  const t0 = performance.now();
  const buf = new Uint8Array(4096);
  const dec = new TextDecoder();
  let text = "";
  let closedByServer = true;
  const timer = setTimeout(() => {
    closedByServer = false;
    conn.close();
  }, limitMs);
  try {
    while (true) {
      const n = await conn.read(buf);
      if (n === null) break;
      text += dec.decode(buf.subarray(0, n));
    }
  } catch { /* reset by the server, or closed at the limit */ }
  clearTimeout(timer);
  try {
    conn.close();
  } catch { /* closed */ }
  return { text, ms: performance.now() - t0, closedByServer };
}
