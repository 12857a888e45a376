/**
 * An engine plugin end to end, each step as a user runs it (the task with its
 * deno.json permissions, in a project of its own): train with
 * `model.algorithm: knn` from plugins/knn.ts, register, serve (deno task serve's command line) and
 * batch predict; and a missing plugin at load time is one line naming it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { churnRows, toCsv } from "../models/_data.ts";
import { loadConfig } from "../../src/config/load.ts";
import { serveCommand } from "../../src/serve/launch.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const PLUGIN = join(ROOT, "plugins/knn.ts");
const TASKS = JSON.parse(Deno.readTextFileSync(join(ROOT, "deno.json"))).tasks as Record<
  string,
  { command: string }
>;

/** `deno task <name> <args>` as deno.json defines it, run in `cwd`. */
async function task(name: string, cwd: string, args: string[]) {
  const words = TASKS[name].command.split(" ").slice(1); // drop "deno"
  const script = words.pop()!;
  const out = await new Deno.Command(Deno.execPath(), {
    args: [...words, `--config=${join(ROOT, "deno.json")}`, join(ROOT, script), ...args],
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

function project(plugins: string[]): string {
  const dir = Deno.makeTempDirSync({ prefix: "orchard-plugin-e2e-" });
  const rows = churnRows(300, 4);
  Deno.writeTextFileSync(join(dir, "train.csv"), toCsv(rows.slice(0, 240)));
  Deno.writeTextFileSync(join(dir, "valid.csv"), toCsv(rows.slice(240)));
  Deno.mkdirSync(join(dir, "data"));
  Deno.writeTextFileSync(join(dir, "data/new.csv"), toCsv(rows.slice(240).map(({ churned: _, ...r }) => r)));
  Deno.writeTextFileSync(
    join(dir, "params.yaml"),
    [
      "model:",
      "  algorithm: knn",
      `  plugins: [${plugins.map((p) => JSON.stringify(p)).join(", ")}]`,
      "  engine_params: { k: 9 }",
      "registry:",
      "  model_name: knnmodel",
      "",
    ].join("\n"),
  );
  return dir;
}

Deno.test({
  name: "a plugin engine goes end to end: train -> register -> serve -> predict",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = project([PLUGIN]);
    try {
      const t = await task("train", dir, [
        "--data=train.csv",
        "--validation=valid.csv",
        "--target=churned",
        "--model-name=knnmodel",
        "--no-report",
        "--json",
      ]);
      assert.equal(t.code, 0, t.stderr);
      const trained = JSON.parse(t.stdout);
      assert.ok(trained.metrics.roc_auc > 0.5, `knn AUC ${trained.metrics.roc_auc}`);
      const manifest = JSON.parse(Deno.readTextFileSync(join(dir, trained.artifact, "artifact.json")));
      assert.equal(manifest.engine, "knn");

      const r = await task("register", dir, [
        `--run=${trained.run_id}`,
        "--name=knnmodel",
        "--alias=champion",
        "--force",
        "--reason=e2e",
        "--json",
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout).version, 1);

      const p = await task("predict", dir, [
        "--model=models:/knnmodel@champion",
        "--input=data/new.csv",
        "--output=data/scored.csv",
      ]);
      assert.equal(p.code, 0, p.stderr);
      const scored = Deno.readTextFileSync(join(dir, "data/scored.csv")).trim().split("\n");
      assert.equal(scored.length, 61);

      // serve: the plugin is loaded in each worker, under the service's own permissions
      const config = loadConfig({ path: join(dir, "params.yaml") });
      const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const port = (l.addr as Deno.NetAddr).port;
      l.close();
      const prev = Deno.cwd();
      Deno.chdir(dir);
      const cmd = serveCommand({
        config,
        host: "127.0.0.1",
        port,
        workers: 1,
        modelUri: "models:/knnmodel@champion",
      });
      Deno.chdir(prev);
      // (the project here has no deno.json of its own: use the repository's import map)
      const args = [cmd.args[0], `--config=${join(ROOT, "deno.json")}`, ...cmd.args.slice(1)];
      const child = new Deno.Command("deno", {
        args,
        env: cmd.env,
        cwd: dir,
        stdout: "null",
        stderr: "piped",
      })
        .spawn();
      try {
        let ready: Record<string, unknown> | undefined;
        for (let i = 0; i < 300 && !ready; i++) {
          try {
            const res = await fetch(`http://127.0.0.1:${port}/ready`);
            const body = await res.json();
            if (res.status === 200) ready = body;
          } catch { /* not up yet */ }
          if (!ready) await new Promise((res) => setTimeout(res, 100));
        }
        if (!ready) {
          try {
            child.kill("SIGKILL");
          } catch { /* it exited */ }
          const err = new TextDecoder().decode((await child.output()).stderr);
          assert.fail(`the service did not become ready:\n${err}`);
        }
        assert.equal(ready.model, "knnmodel");
        const record = Object.fromEntries(
          Object.entries(churnRows(1, 99)[0]).filter(([k]) => k !== "churned"),
        );
        const res = await fetch(`http://127.0.0.1:${port}/predict`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(record),
        });
        const body = await res.json();
        assert.equal(res.status, 200, JSON.stringify(body));
        const prediction = body.predictions[0];
        const probs = Object.values(prediction.probabilities as Record<string, number>);
        assert.ok(Math.abs(probs.reduce((a, b) => a + b, 0) - 1) < 1e-9);
      } finally {
        try {
          child.kill("SIGTERM");
          await child.status;
          await child.stderr.cancel();
        } catch { /* it exited, and its output was read */ }
      }
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test("a model of a plugin engine that is not loaded is one line naming the engine", async () => {
  const dir = project([PLUGIN]);
  try {
    const t = await task("train", dir, ["--data=train.csv", "--target=churned", "--no-report", "--json"]);
    assert.equal(t.code, 0, t.stderr);
    const artifact = JSON.parse(t.stdout).artifact;
    Deno.writeTextFileSync(join(dir, "params.yaml"), "model:\n  algorithm: forest\n");
    const p = await task("predict", dir, [
      `--model=${artifact}`,
      "--input=data/new.csv",
      "--output=data/x.csv",
    ]);
    assert.equal(p.code, 2, p.stderr);
    const lines = p.stderr.trim().split("\n").filter((l) => !l.startsWith("Task "));
    assert.equal(lines.length, 1, p.stderr);
    assert.match(lines[0], /engine = knn: no such engine .*model\.plugins/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a plugin module that cannot be loaded, or exports no engine, is one line", async () => {
  const dir = project(["./plugins/missing.ts"]);
  try {
    const t = await task("train", dir, ["--data=train.csv", "--target=churned", "--no-report"]);
    assert.equal(t.code, 2, t.stderr);
    assert.match(t.stderr, /model\.plugins: cannot load \.\/plugins\/missing\.ts/);
    assert.equal(t.stderr.trim().split("\n").length, 1, t.stderr);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
