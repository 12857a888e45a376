/**
 * Fail fast at start-up (issue 14, part 3), through `tasks/serve.ts` as
 * `deno task serve` runs it: an unknown model, an artifact that fails its
 * first load, and a port in use are each one line on stderr and exit 2,
 * within seconds (no retry loop, no Deno stack trace).
 */
import { equal, match, ok } from "node:assert/strict";
import { join } from "node:path";
import { trainFixture } from "./fixture.ts";
import { freePort, writeServeParams } from "./launch_helpers.ts";

async function writeConfig(root: string): Promise<string> {
  const cfg = await writeServeParams(root);
  await Deno.mkdir(join(root, "models"), { recursive: true });
  return cfg;
}

/** Runs `deno task serve` (its permissions) to the end, or kills it after `ms`. */
async function serveTask(cfg: string, args: string[], ms = 20_000) {
  const t0 = performance.now();
  const child = new Deno.Command("deno", {
    args: [
      "run",
      "--allow-run=deno",
      "--allow-read",
      "--allow-env",
      "tasks/serve.ts",
      "--config",
      cfg,
      "--host",
      "127.0.0.1",
      ...args,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), ms);
  const out = await child.output();
  clearTimeout(timer);
  const lines = new TextDecoder().decode(out.stderr).split("\n").filter((l) => l.trim() !== "");
  return { code: out.code, lines, seconds: (performance.now() - t0) / 1000 };
}

Deno.test({
  name: "start-up: an unknown model is one line and exit 2, within seconds",
  sanitizeResources: false,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "orchard-serve-start-" });
    try {
      const cfg = await writeConfig(root);
      const r = await serveTask(cfg, ["--model", "models:/nope@champion", "--port", String(freePort())]);
      equal(r.code, 2, r.lines.join("\n"));
      equal(r.lines.length, 1, r.lines.join("\n"));
      match(r.lines[0], /^serve: cannot start: cannot load models:\/nope@champion: .*nope/);
      ok(r.seconds < 15, `took ${r.seconds.toFixed(1)} s`);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name: "start-up: an artifact that fails its first load is one line and exit 2",
  sanitizeResources: false,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "orchard-serve-start-" });
    try {
      const cfg = await writeConfig(root);
      const broken = join(root, "models", "broken");
      await Deno.mkdir(broken, { recursive: true });
      await Deno.writeTextFile(join(broken, "manifest.json"), "{not json");
      const r = await serveTask(cfg, ["--model", broken, "--port", String(freePort())]);
      equal(r.code, 2, r.lines.join("\n"));
      equal(r.lines.length, 1, r.lines.join("\n"));
      match(r.lines[0], /^serve: cannot start: cannot load /);
      ok(!/\bat \S+ \(/.test(r.lines[0]), "no stack");
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name: "start-up: a port in use is one line and exit 2, not Deno's stack trace",
  sanitizeResources: false,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "orchard-serve-start-" });
    const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    try {
      const cfg = await writeConfig(root);
      const artifact = await trainFixture(join(root, "train"), { trees: 4 });
      const port = (busy.addr as Deno.NetAddr).port;
      const r = await serveTask(cfg, ["--model", artifact, "--port", String(port), "--workers", "2"]);
      equal(r.code, 2, r.lines.join("\n"));
      equal(r.lines.length, 1, r.lines.join("\n"));
      equal(
        r.lines[0],
        `serve: cannot start: 127.0.0.1:${port} is in use (another process listens there; choose --port)`,
      );
    } finally {
      busy.close();
      await Deno.remove(root, { recursive: true });
    }
  },
});
