/**
 * The status page: each pipeline stage of the project's deno.json with its
 * last run and state (from declared inputs and outputs), the register and
 * drift stages' own records, and whether a retrain is pending and why.
 */
import assert from "node:assert/strict";
import { backendTest } from "../_support/backends.ts";
import { openUiContext } from "../../src/ui/server.ts";
import { createUiApp } from "../../src/ui/app.ts";
import { seedRuns, testConfig } from "./_support.ts";

function write(path: string, text: string, atMs?: number): void {
  Deno.mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  Deno.writeTextFileSync(path, text);
  if (atMs !== undefined) Deno.utimeSync(path, atMs / 1000, atMs / 1000);
}

function driftCsv(runAt: string, drifted: boolean): string {
  return "run_at,column,type,test,statistic,p_value,score,threshold,drifted\n" +
    ["a", "b"].map((c) => `${runAt},${c},numeric,psi,0.5,,0.5,0.2,${drifted}`).join("\n") + "\n";
}

backendTest(
  "status: pipeline stages cached or stale with the reason, register's record, retrain pending",
  async (b) => {
    const root = b.root;
    const t0 = Date.UTC(2026, 10, 1);
    write(
      `${root}/deno.json`,
      JSON.stringify({
        tasks: {
          "pipeline:prep": { command: "x", files: ["data/raw/*.csv"], output: ["data/processed/train.csv"] },
          "pipeline:train": {
            command: "x",
            dependencies: ["pipeline:prep"],
            files: ["data/processed/train.csv", "src/**"],
            output: ["models/pipeline_run.txt"],
          },
          "pipeline:register": { command: "x", dependencies: ["pipeline:train"] },
          "pipeline:drift": { command: "x", dependencies: ["pipeline:register"] },
        },
      }),
    );
    write(`${root}/data/raw/c.csv`, "x", t0);
    write(`${root}/data/processed/train.csv`, "x", t0 + 1000);
    write(`${root}/src/model.ts`, "x", t0 + 5000); // edited after train's output
    const seeded = await seedRuns(b.location, 1);
    const runId = seeded.plain[0];
    write(`${root}/models/pipeline_run.txt`, runId, t0 + 2000);
    const config = testConfig(root, b.location);
    const ctx = await openUiContext(config, { adminToken: "", projectDir: root });
    try {
      const dir = `${root}/models/artifacts/${runId}`;
      write(`${dir}/model.bin`, runId);
      await ctx.store.logArtifact(runId, "model", dir);
      const r = await ctx.registry.register({ runId, name: "churn" });
      const v = await ctx.registry.getVersion("churn", r.version);
      const app = createUiApp(ctx);
      const status = async () => await (await app.fetch(new Request("http://ui/"))).text();

      let page = await status();
      const stages = /<table id="stages">([\s\S]*?)<\/table>/.exec(page)![1];
      const row = (task: string) => new RegExp(`${task}</td>([\\s\\S]*?)</tr>`).exec(stages)![1];
      assert.match(row("pipeline:prep"), /up to date/);
      assert.match(row("pipeline:prep"), /2026-11-01 00:00:01Z/, "last run: the output's time");
      assert.match(row("pipeline:train"), /stale/);
      assert.match(row("pipeline:train"), /changed since: <span class="mono">src\/model.ts/);
      assert.match(row("pipeline:register"), /not cached/);
      assert.match(
        row("pipeline:register"),
        new RegExp(`churn v${v.version} \\(run ${runId.slice(0, 8)}\\)`),
      );
      assert.match(page, /Based on file times/);
      assert.match(page, /not pending \(no drift check yet\)/);

      // dataset drift after the newest version: pending, with the times it is based on
      const after = new Date(v.created + 3600_000).toISOString();
      write(`${root}/data/monitoring/drift_summary.csv`, driftCsv(after, true));
      page = await status();
      assert.match(page, /class="fail">pending<\/span>\s*\(dataset drift at/);
      assert.match(page, /last drift check/);
      // a retrain run trained after the drift but never registered is named
      const { runId: retrain } = await ctx.store.startRun({ experiment: "exp", runName: "retrain" });
      write(`${root}/models/retrain_run.txt`, retrain, v.created + 7200_000);
      page = await status();
      assert.match(page, new RegExp(`retrain run <a class="mono" href="/runs/${retrain}">`));
      assert.match(page, /but not registered/);

      // no drift found, or drift older than the newest version: not pending, and why
      write(`${root}/data/monitoring/drift_summary.csv`, driftCsv(after, false));
      assert.match(await status(), /not pending \(the last drift check found no dataset drift\)/);
      const before = new Date(v.created - 3600_000).toISOString();
      write(`${root}/data/monitoring/drift_summary.csv`, driftCsv(before, true));
      assert.match(await status(), /not pending \(a version was registered after the drift/);
      // another model's drift check is not this model's
      write(
        `${root}/data/monitoring/drift_summary.csv`,
        driftCsv(after, true).replace("drifted\n", "drifted,model\n").replace(/true\n/g, "true,pricing\n"),
      );
      assert.match(await status(), /not pending \(no drift check yet\)/);
    } finally {
      await ctx.store.close();
    }
  },
);
