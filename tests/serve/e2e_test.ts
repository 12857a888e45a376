/**
 * End to end through the runner (2 workers) on a free port, with
 * the command line and permissions of `deno task serve`, a real registry and
 * real trained artifacts: ready, predict, metrics across workers, the alias
 * moving with /admin/reload reaching every worker, and SIGTERM flushing the
 * prediction log of every worker.
 */
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { loadConfig } from "../../src/config/load.ts";
import { ModelRegistry } from "../../src/registry/registry.ts";
import { serveCommand } from "../../src/serve/launch.ts";
import { TrackingStore } from "../../src/tracking/store.ts";
import { sampleRecord, trainFixture } from "./fixture.ts";
import { freePort, writeServeParams } from "./launch_helpers.ts";

async function waitReady(base: string, ms = 30_000): Promise<Record<string, unknown>> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    try {
      const res = await fetch(`${base}/ready`);
      const b = await res.json();
      if (res.status === 200) return b;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("service did not become ready");
}

Deno.test({
  name: "e2e: the runner with the registry: predict, metrics, alias move, SIGTERM flush",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "orchard-serve-e2e-" });
    const a1 = await trainFixture(`${root}/t1`, { seed: 3, trees: 8 });
    const a2 = await trainFixture(`${root}/t2`, { seed: 19, trees: 8 });
    const cfgPath = await writeServeParams(root, [
      "serve:",
      "  log_flush_ms: 60000", // only SIGTERM flushes in this test
      "  reload_poll_ms: 60000",
    ]);
    const config = loadConfig({ path: cfgPath });
    const store = await TrackingStore.open(config.tracking.store);
    const registry = await ModelRegistry.open(store, { modelsDir: config.paths.models });
    for (const dir of [a1, a2]) {
      const { runId } = await store.startRun({ experiment: "e2e" });
      await store.logArtifact(runId, "model", dir);
      await store.endRun(runId, "FINISHED");
      await registry.register({
        runId,
        name: "churn",
        alias: (await registry.hasModel("churn")) ? undefined : "champion",
      });
    }
    const port = freePort();
    const cmd = serveCommand({ config, configPath: cfgPath, host: "127.0.0.1", port, workers: 2 });
    deepStrictEqual(cmd.modelUri, "models:/churn@champion");
    const child = new Deno.Command("deno", {
      args: cmd.args,
      env: { ...cmd.env, ORCHARD_ADMIN_TOKEN: "e2e-token" },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const base = `http://127.0.0.1:${port}`;
    try {
      let ready;
      try {
        ready = await waitReady(base);
      } catch (e) {
        try {
          child.kill("SIGKILL");
        } catch { /* already exited */ }
        const err = new TextDecoder().decode((await child.output()).stderr);
        throw new Error(`${(e as Error).message}; service stderr:\n${err}`);
      }
      deepStrictEqual([ready.model, ready.version], ["churn", "1"]);
      let n = 0;
      const predict = async () => {
        const res = await fetch(`${base}/predict`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(sampleRecord(n++)),
        });
        equal(res.status, 200);
        // no X-Request-Id sent: the answer names its id in the body and has one header (Deno's fast path)
        equal(res.headers.get("x-request-id"), null);
        equal(res.headers.get("content-type"), "application/json");
        const answer = await res.json();
        ok(answer.request_id);
        return answer;
      };
      for (let i = 0; i < 40; i++) equal((await predict()).version, "1");
      // wait for both workers' heartbeats, then a scrape covers both
      await new Promise((r) => setTimeout(r, 1200));
      const text = await (await fetch(`${base}/metrics`)).text();
      ok(text.includes("orchard_workers 2"), text);
      ok(text.includes('orchard_model_info{model="churn",version="1"} 2'), text);
      ok(/orchard_http_requests_total\{route="\/predict",method="POST",status="200"\} 40\n/.test(text), text);

      // the alias moves; one reload request reaches every worker
      await registry.promote("churn", 2, { alias: "champion" });
      equal((await fetch(`${base}/admin/reload`, { method: "POST" })).status, 401);
      const r = await fetch(`${base}/admin/reload`, {
        method: "POST",
        headers: { authorization: "Bearer e2e-token" },
      });
      const body = await r.json();
      equal(r.status, 200, JSON.stringify(body));
      equal(body.workers.length, 2, JSON.stringify(body));
      ok(body.workers.every((w: { version: string }) => w.version === "2"), JSON.stringify(body));
      for (let i = 0; i < 20; i++) equal((await predict()).version, "2");

      child.kill("SIGTERM");
      const status = await child.status;
      equal(status.code, 0);
      const files: string[] = [];
      // one folder per model: model=churn/date=<day>/<worker>-<n>.ndjson
      equal([...Deno.readDirSync(`${root}/predictions`)].map((e) => e.name).join(), "model=churn");
      for await (const d of Deno.readDir(`${root}/predictions/model=churn`)) {
        for await (const f of Deno.readDir(`${root}/predictions/model=churn/${d.name}`)) {
          files.push(`${root}/predictions/model=churn/${d.name}/${f.name}`);
        }
      }
      ok(files.length >= 1);
      const lines = (await Promise.all(files.map((f) => Deno.readTextFile(f)))).join("").trim().split("\n")
        .map((l) => JSON.parse(l));
      equal(lines.length, 60, "every prediction was flushed on SIGTERM");
      equal(lines.filter((l) => l.version === "2").length, 20);
      ok(
        lines.every((l) =>
          l.model === "churn" && typeof l.request_id === "string" && l.inputs.tenure !== undefined
        ),
      );
    } finally {
      try {
        child.kill("SIGKILL");
      } catch { /* exited */ }
      await child.stdout.cancel().catch(() => {});
      await child.stderr.cancel().catch(() => {});
      await store.close();
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name: "e2e: the same app as a module for a plain `deno serve --parallel src/serve/app.ts`",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "orchard-deno-serve-" });
    const artifact = await trainFixture(`${root}/t1`, { seed: 7, trees: 4 });
    const cfgPath = await writeServeParams(root);
    const port = freePort();
    const child = new Deno.Command("deno", {
      args: ["serve", "--parallel", "-A", "--host=127.0.0.1", `--port=${port}`, "src/serve/app.ts"],
      env: { MODEL_URI: artifact, ORCHARD_CONFIG: cfgPath, DENO_JOBS: "2" },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const base = `http://127.0.0.1:${port}`;
    try {
      await waitReady(base);
      const res = await fetch(`${base}/predict`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(sampleRecord(2)),
      });
      equal(res.status, 200);
      ok((await res.json()).request_id);
      child.kill("SIGTERM");
      const out = await child.output();
      equal(out.code, 0, new TextDecoder().decode(out.stderr));
      ok(new TextDecoder().decode(out.stdout).includes("SIGTERM: prediction log flushed"));
    } finally {
      try {
        child.kill("SIGKILL");
      } catch { /* exited */ }
      await Deno.remove(root, { recursive: true });
    }
  },
});
