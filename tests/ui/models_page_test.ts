/** The UI's model page lists the metrics `deno task models` does: the gated ones, then the headline ones. */
import assert from "node:assert/strict";
import { backendTest } from "../_support/backends.ts";
import { openUiContext } from "../../src/ui/server.ts";
import { createUiApp } from "../../src/ui/app.ts";
import { testConfig } from "./_support.ts";

backendTest(
  "model page: roc_auc and recall are columns even with ten metrics that sort before them",
  async (b) => {
    const ctx = await openUiContext(testConfig(b.root, b.location), {});
    try {
      const { runId } = await ctx.store.startRun({ experiment: "exp" });
      // eight metric names that sort before recall and roc_auc
      await ctx.store.logMetrics(runId, {
        accuracy: 0.8,
        brier: 0.1,
        f1: 0.6,
        fn: 3,
        fp: 4,
        log_loss: 0.4,
        pr_auc: 0.7,
        precision: 0.65,
        recall: 0.55,
        roc_auc: 0.85,
      });
      const dir = `${b.root}/models/artifacts/${runId}`;
      Deno.mkdirSync(dir, { recursive: true });
      Deno.writeTextFileSync(`${dir}/model.bin`, runId);
      await ctx.store.logArtifact(runId, "model", dir);
      await ctx.store.endRun(runId);
      await ctx.registry.register({ runId, name: "m" });
      const page = await (await createUiApp(ctx).fetch(new Request("http://ui/models/m"))).text();
      const head = /<thead>([\s\S]*?)<\/thead>/.exec(page)![1];
      for (const metric of ["roc_auc", "recall"]) assert.match(head, new RegExp(`>${metric}<`), metric);
      assert.doesNotMatch(head, />fn<|>brier</);
    } finally {
      await ctx.store.close();
    }
  },
);
