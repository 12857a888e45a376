/**
 * Issue 12, defect 3, end to end: a model loaded by path is verified against
 * its checksum record like one loaded by a models:/ URI. One flipped byte in
 * models/artifacts/<run>/model.bin makes the service's admin reload answer
 * 422 naming the file (the model verified at the last load keeps serving), a
 * service started on it never becomes ready, and `deno task predict` exits 2
 * with one line naming the file. Untampered artifacts load and predict exactly
 * as the model that saved them.
 */
import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import { join } from "node:path";
import { fit, Model } from "../../src/models/model.ts";
import { registryLoader } from "../../src/registry/loader.ts";
import { ModelHolder } from "../../src/serve/holder.ts";
import { readTable } from "../../src/data/io.ts";
import { makeRows, toCsv } from "./fixture.ts";
import { makeApp, post } from "./helpers.ts";
import { spawnService, writeServeParams } from "./launch_helpers.ts";
import { flipLeafValue } from "../models/_tamper.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const TOKEN = "tamper-token";
const CHANGED = "checksum mismatch \\(the artifact was changed after it was saved\\)";
/** A path as a regular-expression source. */
const re = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

/** Two small forests saved as the train stage saves them, under <root>/models/artifacts/<run>. */
async function saveModels(root: string): Promise<{ run1: string; run2: string }> {
  const out: string[] = [];
  for (const [run, seed] of [["run1", 3], ["run2", 19]] as const) {
    const model = await fit(makeRows(300, seed) as unknown as Record<string, unknown>[], {
      target: "churn",
      algorithm: "forest",
      n_estimators: 8,
      max_depth: 6,
      n_jobs: 1,
      random_state: seed,
    });
    out.push(model.save(join(root, "models", "artifacts", run)));
  }
  return { run1: out[0], run2: out[1] };
}

const records = makeRows(20, 41).map(({ churn: _, ...r }) => r);
/** What the service answers for `records`: the saved model's predictions, as JSON. */
const expected = (dir: string) => JSON.parse(JSON.stringify(Model.load(dir).predictRows(records)));
const auth = { authorization: `Bearer ${TOKEN}` };

Deno.test("tampered path artifact: the service's admin reload refuses it with 422 naming model.bin; an untampered one swaps in", async () => {
  const root = await Deno.makeTempDir({ prefix: "orchard-serve-tamper-" });
  // the service's own loader, on plain paths (no tracking store)
  const loader = registryLoader({ store: join(root, "none.db"), modelsDir: join(root, "models") });
  const { run1, run2 } = await saveModels(root);
  const before1 = expected(run1), before2 = expected(run2);
  const t = await makeApp(loader, { uri: run1, adminToken: TOKEN });
  try {
    let res = await t.app.request(post("/predict", records));
    equal(res.status, 200);
    deepStrictEqual((await res.json()).predictions, before1);

    flipLeafValue(join(run1, "model.bin"));
    res = await t.app.request(post("/admin/reload", "", "application/json", auth));
    const body = await res.json();
    equal(res.status, 422, JSON.stringify(body));
    match(
      body.error,
      new RegExp(`^could not load ${re(run1)}: ${re(run1)}/model\\.bin: ${CHANGED}; still serving`),
    );
    equal(t.holder.failures, 1);
    // the copy verified at the last load keeps serving, unchanged
    res = await t.app.request(post("/predict", records));
    equal(res.status, 200);
    deepStrictEqual((await res.json()).predictions, before1);

    // switching to the tampered artifact by URI is refused the same way
    res = await t.app.request(post("/admin/reload", { model_uri: run1 }, "application/json", auth));
    equal(res.status, 422);
    match((await res.json()).error, new RegExp(`${re(run1)}/model\\.bin: ${CHANGED}`));

    // an untampered artifact reloads and predicts exactly as the model that saved it
    res = await t.app.request(post("/admin/reload", { model_uri: run2 }, "application/json", auth));
    const swapped = await res.json();
    equal(res.status, 200, JSON.stringify(swapped));
    equal(swapped.changed, true);
    equal(t.holder.current!.dir, run2);
    res = await t.app.request(post("/predict", records));
    deepStrictEqual((await res.json()).predictions, before2);
    ok(JSON.stringify(before1) !== JSON.stringify(before2), "the two models differ");

    // a holder started on the tampered artifact never serves it
    const fresh = new ModelHolder({ uri: run1, loader });
    const first = await fresh.reload();
    match(first.error ?? "", new RegExp(`^${re(run1)}/model\\.bin: ${CHANGED}$`));
    equal(fresh.current, null);
    fresh.stop();
  } finally {
    await t.close();
    await Deno.remove(root, { recursive: true });
  }
});

async function runPredict(cwd: string, model: string, output: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    // the permissions of `deno task predict` (deno.json)
    args: [
      "run",
      "--allow-read",
      "--allow-write=data,models",
      "--allow-ffi",
      "--allow-sys",
      "--allow-env=LOG_TOKENS,LOG_STREAM,ORCHARD_DEBUG",
      `--config=${join(ROOT, "deno.json")}`,
      join(ROOT, "tasks/predict.ts"),
      "--model",
      model,
      "--input",
      "in.csv",
      "--output",
      output,
    ],
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("tampered path artifact: deno task predict exits 2 with one line naming model.bin; untampered predicts identically", async () => {
  const root = await Deno.makeTempDir({ prefix: "orchard-predict-tamper-" });
  try {
    const { run1 } = await saveModels(root);
    const rows = makeRows(20, 41);
    await Deno.writeTextFile(join(root, "in.csv"), toCsv(rows));
    await Deno.writeTextFile(join(root, "params.yaml"), "data:\n  target: churn\n");

    let r = await runPredict(root, "models/artifacts/run1", "data/ok.csv");
    equal(r.code, 0, r.stderr);
    const scored = readTable(join(root, "data/ok.csv")).toRecords();
    const want = Model.load(run1).predictRows(records);
    deepStrictEqual(scored.map((s) => s.prediction), want.map((p) => p.prediction));
    for (let i = 0; i < want.length; i++) equal(scored[i].probability_Yes, want[i].probabilities!.Yes);

    flipLeafValue(join(run1, "model.bin"));
    r = await runPredict(root, "models/artifacts/run1", "data/bad.csv");
    equal(r.code, 2, r.stderr);
    equal(
      r.stderr,
      "predict: models/artifacts/run1/model.bin: checksum mismatch (the artifact was changed after it was saved)\n",
    );
    let written = true;
    try {
      Deno.statSync(join(root, "data/bad.csv"));
    } catch {
      written = false;
    }
    equal(written, false, "nothing scored with a tampered model");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

async function readyBody(base: string): Promise<{ status: number; body: Record<string, unknown> } | null> {
  try {
    const res = await fetch(`${base}/ready`);
    return { status: res.status, body: await res.json() };
  } catch {
    return null; // not listening yet
  }
}

/** The service with the command line and permissions of `deno task serve`, on a path model. */
async function startService(root: string, model: string, stderr: "null" | "piped" = "null") {
  const cfgPath = await writeServeParams(root, ["serve:", "  reload_poll_ms: 200"]);
  const { child, base } = spawnService(cfgPath, { model, env: { ORCHARD_ADMIN_TOKEN: TOKEN }, stderr });
  return { child, base };
}

/** Polls /ready until `done` says so (or throws after `ms`). */
async function waitFor(
  base: string,
  done: (r: { status: number; body: Record<string, unknown> }) => boolean,
  ms = 30_000,
) {
  const until = Date.now() + ms;
  let last = null;
  while (Date.now() < until) {
    last = await readyBody(base);
    if (last && done(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`service: condition not reached; last /ready: ${JSON.stringify(last)}`);
}

Deno.test({
  name: "tampered path artifact: the service refuses it on /admin/reload and at start, naming model.bin",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "orchard-serve-tamper-e2e-" });
    const { run1 } = await saveModels(root);
    const want = expected(run1);
    let svc = await startService(root, run1);
    try {
      await waitFor(svc.base, (r) => r.status === 200);
      const predict = async () => {
        const res = await fetch(`${svc.base}/predict`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(records),
        });
        equal(res.status, 200);
        return (await res.json()).predictions;
      };
      deepStrictEqual(await predict(), want);

      flipLeafValue(join(run1, "model.bin"));
      const res = await fetch(`${svc.base}/admin/reload`, { method: "POST", headers: auth });
      const body = await res.json();
      equal(res.status, 422, JSON.stringify(body));
      match(body.error, new RegExp(`${re(run1)}/model\\.bin: ${CHANGED}; still serving version local`));
      deepStrictEqual(await predict(), want, "the model verified at start keeps serving");

      // restarted on the tampered artifact: one line naming the file, exit 2, at once
      svc.child.kill("SIGTERM");
      await svc.child.status;
      svc = await startService(root, run1, "piped");
      const out = await svc.child.output();
      equal(out.code, 2);
      const lines = new TextDecoder().decode(out.stderr).trim().split("\n");
      equal(lines.length, 1, lines.join("\n"));
      match(
        lines[0],
        new RegExp(`serve: cannot start: cannot load ${re(run1)}: ${re(run1)}/model\\.bin: ${CHANGED}$`),
      );
    } finally {
      try {
        svc.child.kill("SIGKILL");
      } catch { /* exited */ }
      await svc.child.status;
      await Deno.remove(root, { recursive: true });
    }
  },
});
