/**
 * A large batch on two threads end to end (split.ts), through the runner with
 * the command line and least permissions of `deno task serve` (2 workers): the
 * helper thread starts and loads the model under those permissions, batches are
 * split (orchard_batches_split_total), a split answer is the same bytes as the
 * one-thread answer of the same body, and after SIGTERM the prediction log
 * holds every record of every batch once.
 */
import { equal, ok } from "node:assert/strict";
import { makeRows, trainFixture } from "./fixture.ts";
import { spawnService, waitReady, writeServeParams } from "./launch_helpers.ts";

Deno.test({
  name: "e2e split: under deno task serve's permissions large batches are split, answered and logged alike",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "orchard-serve-split-e2e-" });
    const artifact = await trainFixture(`${root}/t1`, { seed: 7, trees: 4 });
    const cfgPath = await writeServeParams(root, [
      "serve:",
      "  split_batch_bytes: 20000",
      "  max_batch: 2000",
    ]);
    const { child, base } = spawnService(cfgPath, { model: artifact, workers: 2, stderr: "piped" });
    const batch = makeRows(1000, 11).map(({ churn: _, ...rec }) => rec);
    const body = JSON.stringify(batch);
    ok(body.length > 20000);
    const predict = async () => {
      const res = await fetch(`${base}/predict`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-request-id": "big.1" },
        body,
      });
      return { status: res.status, text: await res.text() };
    };
    const splits = async () => {
      const text = await (await fetch(`${base}/metrics`)).text();
      const line = text.split("\n").find((l) => l.startsWith("orchard_batches_split_total "));
      return Number(line?.split(" ")[1] ?? NaN);
    };
    let sent = 0;
    try {
      ok(await waitReady(base), "the service came up");
      // the first batch a worker sees is scored on one thread (its helper loads the model meanwhile)
      const first = await predict();
      sent++;
      equal(first.status, 200);
      equal(JSON.parse(first.text).predictions.length, 1000);
      equal(await splits(), 0);
      for (const until = Date.now() + 60_000; Date.now() < until && (await splits()) < 3;) {
        const r = await predict();
        sent++;
        equal(r.status, 200);
        equal(r.text, first.text, "a split answer is the one-thread answer");
        await new Promise((r) => setTimeout(r, 50));
      }
      ok((await splits()) >= 3, "batches were split");
    } finally {
      child.kill("SIGTERM");
      const status = await child.status;
      const err = new TextDecoder().decode(await new Response(child.stderr).arrayBuffer());
      equal(status.code, 0, err);
      ok(!err.includes("helper"), err);
    }
    // every record of every batch, once
    let lines = 0;
    for await (const m of Deno.readDir(`${root}/predictions`)) {
      for await (const d of Deno.readDir(`${root}/predictions/${m.name}`)) {
        for await (const f of Deno.readDir(`${root}/predictions/${m.name}/${d.name}`)) {
          const text = await Deno.readTextFile(`${root}/predictions/${m.name}/${d.name}/${f.name}`);
          lines += text.split("\n").filter((l) => l.includes('"request_id":"big.1"')).length;
        }
      }
    }
    equal(lines, sent * 1000);
    await Deno.remove(root, { recursive: true }).catch(() => {});
  },
});
