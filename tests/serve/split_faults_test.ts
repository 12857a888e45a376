/**
 * The batch splitter (split.ts) against a costly body and a failing helper:
 * a body over max_batch is refused before either half is scored; a helper that
 * fails after its answer loses none of its half's log lines; a helper that
 * stops answering is timed out and the request answered on one thread; a
 * half's encoded log lines hold a buffer of their own size.
 */
import { equal, ok } from "node:assert/strict";
import { fit } from "../../src/models/model.ts";
import { loadArtifact } from "../../src/models/artifact.ts";
import { prepare } from "../../src/serve/holder.ts";
import { BatchSplitter, encodedLogLines, scorePart } from "../../src/serve/split.ts";
import type { ModelLoader } from "../../src/serve/types.ts";
import { makeRows } from "./fixture.ts";
import { makeApp, post, readLogLines, type TestApp } from "./helpers.ts";

const root = await Deno.makeTempDir({ prefix: "orchard-serve-split-faults-" });
const rows = makeRows(400, 23) as unknown as Record<string, unknown>[];
const dir = (await fit(rows, {
  target: "churn",
  algorithm: "boosting",
  n_estimators: 8,
  max_depth: 4,
  random_state: 5,
}))
  .save(`${root}/m`);
const loader: ModelLoader = (uri) =>
  Promise.resolve({ uri, name: "churn", version: "1", dir, model: loadArtifact(dir) });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fault = (name: string) => new URL(`./split_faults/${name}.ts`, import.meta.url);

function batch(t: TestApp, n: number): Record<string, unknown>[] {
  const inputs = t.holder.current!.validator.columns.map((c) => c.name);
  return Array.from(
    { length: n },
    (_, k) => Object.fromEntries(inputs.map((c) => [c, rows[k % rows.length][c] ?? null])),
  );
}

const app = (splitter: BatchSplitter) =>
  makeApp(loader, { uri: "models:/churn/1", maxBatch: 300, maxBodyBytes: 4_000_000, splitter });

async function warm(t: TestApp, s: BatchSplitter, body: unknown): Promise<void> {
  // the helper's first load includes compiling it (type-checked under deno test, slow on a fresh clone)
  for (const until = Date.now() + 60_000; Date.now() < until && s.splits === 0;) {
    await (await t.app.request(post("/predict", body))).text();
    if (s.splits === 0) await sleep(20);
  }
  ok(s.splits > 0, "the helper never took the model");
}

async function logged(t: TestApp, rid: string): Promise<number> {
  return (await readLogLines(t)).filter((l) => JSON.parse(l).request_id === rid).length;
}

Deno.test("split faults: a body over max_batch is a 413 before either half is scored or explained", async () => {
  const splitter = new BatchSplitter({ minBytes: 1 });
  const t = await app(splitter);
  try {
    await warm(t, splitter, batch(t, 250));
    const est = (t.holder.current!.model as unknown as {
      estimator: { predictProba: (X: { rows: number }) => unknown };
    }).estimator;
    let scored = 0;
    const predictProba = est.predictProba.bind(est);
    est.predictProba = (X) => (scored += X.rows, predictProba(X));
    const res = await t.app.request(post("/predict?explain=true&top=3", batch(t, 598)));
    equal(res.status, 413);
    equal(scored, 0, `the worker scored ${scored} rows of a body answered 413`);
  } finally {
    await t.close();
  }
});

Deno.test("split faults: a helper that fails after its answer loses none of its half's log lines", async () => {
  const splitter = new BatchSplitter({ minBytes: 1, workerUrl: fault("dies_before_lines") });
  const t = await app(splitter);
  try {
    const body = batch(t, 250);
    await warm(t, splitter, body);
    await splitter.drain();
    const res = await t.app.request(post("/predict", body, "application/json", { "x-request-id": "lost" }));
    equal(res.status, 200);
    await res.text();
    for (let k = 0; k < 100 && (await logged(t, "lost")) < 250; k++) await sleep(20);
    equal(await logged(t, "lost"), 250);
    equal(t.log.stats().dropped, 0);
  } finally {
    await t.close();
  }
});

Deno.test("split faults: a helper that stops answering is timed out, and the batch answered on one thread", async () => {
  const splitter = new BatchSplitter({ minBytes: 1, workerUrl: fault("goes_quiet") });
  const t = await app(splitter);
  try {
    const body = batch(t, 250);
    const want =
      await (await t.app.request(post("/predict", body, "application/json", { "x-request-id": "q" })))
        .text();
    // until the helper, once it holds the model, has been given a batch and timed out (it loads in the background)
    const timedOut = () => (splitter as unknown as { failures: number }).failures > 0;
    for (let k = 0; k < 1500 && !timedOut(); k++) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const answer = Promise.resolve(
        t.app.request(post("/predict", body, "application/json", { "x-request-id": "q" })),
      )
        .then((r) => r.text());
      const got = await Promise.race([answer, new Promise((r) => timer = setTimeout(() => r("hung"), 5000))]);
      clearTimeout(timer);
      equal(got, want);
      if (!timedOut()) await sleep(20);
    }
    ok(timedOut(), "the helper was never timed out");
    equal(splitter.splits, 0);
  } finally {
    await t.close();
  }
});

Deno.test("split faults: a half's encoded log lines hold a buffer of their own size", () => {
  const m = prepare({ uri: "u", name: "churn", version: "1", dir, model: loadArtifact(dir) });
  const inputs = m.validator.columns.map((c) => c.name);
  const recs = rows.slice(0, 200).map((r) => Object.fromEntries(inputs.map((c) => [c, r[c] ?? null])));
  const lines = encodedLogLines(m, scorePart(m, JSON.stringify(recs), 1000), "rid", Date.now());
  equal(lines.bytes.buffer.byteLength, lines.bytes.byteLength);
  equal(lines.ends.length, 200);
});
