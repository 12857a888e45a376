/**
 * Issue 12, defect 4, in the service: when the URI moves to a version its
 * callers would notice (another target, task, class set or input signature),
 * the holder keeps serving the old model and /ready says why (200: the old
 * model still serves); /admin/reload to such a model is a 422 naming the
 * reason. A compatible version swaps in as before. Real small models (fit,
 * then save).
 */
import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import { join } from "node:path";
import { fit } from "../../src/models/model.ts";
import { loadArtifact } from "../../src/models/artifact.ts";
import { ModelHolder } from "../../src/serve/holder.ts";
import { Metrics } from "../../src/serve/metrics.ts";
import { opsRoutes } from "../../src/serve/routes/ops.ts";
import type { ModelLoader } from "../../src/serve/types.ts";
import { makeRows, type Row } from "./fixture.ts";
import { makeApp, mount, post } from "./helpers.ts";

const root = await Deno.makeTempDir({ prefix: "orchard-serve-compat-" });

async function save(name: string, rows: Record<string, unknown>[], target: string, seed: number) {
  const model = await fit(rows, { target, n_estimators: 4, max_depth: 4, n_jobs: 1, random_state: seed });
  return model.save(join(root, name));
}

const rows = (seed: number) => makeRows(300, seed) as unknown as Record<string, unknown>[];
const map = (seed: number, f: (r: Row) => Record<string, unknown>) => makeRows(300, seed).map(f);

/** The versions of models:/churn: 1 and 2 the same model; 3..5 not. */
const DIRS: Record<string, string> = {
  "1": await save("v1", rows(3), "churn", 3),
  "2": await save("v2", rows(19), "churn", 19),
  // the classes 0/1 instead of No/Yes
  "3": await save("v3", map(5, (r) => ({ ...r, churn: r.churn === "Yes" ? "1" : "0" })), "churn", 5),
  // one input fewer
  "4": await save("v4", map(7, ({ paperless: _, ...r }) => r), "churn", 7),
  // the target renamed
  "5": await save("v5", map(9, ({ churn, ...r }) => ({ ...r, churned: churn })), "churned", 9),
};

/** A registry stand-in: models:/churn@champion points at `alias.version`; models:/churn/<v> at v. */
function fakeRegistry() {
  const alias = { version: "1" };
  const loads: string[] = [];
  const versionOf = (uri: string) => uri.endsWith("@champion") ? alias.version : uri.split("/").at(-1)!;
  const loader: ModelLoader = (uri) => {
    const version = versionOf(uri);
    loads.push(version);
    return Promise.resolve({
      uri,
      name: "churn",
      version,
      dir: DIRS[version],
      model: loadArtifact(DIRS[version]),
    });
  };
  const resolver = (uri: string) => {
    const version = versionOf(uri);
    return Promise.resolve({ version, dir: DIRS[version] });
  };
  return { alias, loads, loader, resolver };
}

async function ready(holder: ModelHolder) {
  const { app } = mount(opsRoutes({ holder, metrics: new Metrics("test"), worker: "test" }));
  const res = await app.request("/ready");
  return { status: res.status, body: await res.json() };
}

Deno.test("hot swap: the holder refuses a version with other classes, keeps serving, and /ready says why", async () => {
  const reg = fakeRegistry();
  const errors: string[] = [];
  const holder = new ModelHolder({
    uri: "models:/churn@champion",
    loader: reg.loader,
    resolver: reg.resolver,
    pollMs: 0,
    onError: (message) => errors.push(message),
  });
  equal((await holder.start()).version, "1");
  const record = makeRows(1, 77).map(({ churn: _, ...r }) => r);
  const before = holder.current!.model.predictRecords(record);

  reg.alias.version = "3";
  await holder.poll();
  equal(holder.current!.version, "1", "the old model keeps serving");
  equal(holder.current!.dir, DIRS["1"]);
  deepStrictEqual(holder.current!.model.predictRecords(record), before);
  const reason = `not swapping to version 3: it would change the classes from ["No","Yes"] to ["0","1"]; ` +
    "restart the service to serve it";
  deepStrictEqual(holder.refused, { version: "3", reason });
  deepStrictEqual(errors, [reason]);
  const r = await ready(holder);
  equal(r.status, 200);
  equal(r.body.status, "ready");
  equal(r.body.version, "1");
  deepStrictEqual(r.body.refused, { version: "3", reason });
  equal(r.body.error, null);

  // polling again does not load the refused version again
  await holder.poll();
  await holder.poll();
  deepStrictEqual(reg.loads, ["1", "3"]);
  equal(errors.length, 1);

  // a compatible version swaps in and clears the refusal
  reg.alias.version = "2";
  await holder.poll();
  equal(holder.current!.version, "2");
  equal(holder.refused, null);
  ok(!("refused" in (await ready(holder)).body), "nothing refused: /ready has its usual fields only");
  holder.stop();
});

Deno.test("hot swap: another input signature or another target is refused; moving the alias back clears the refusal", async () => {
  const reg = fakeRegistry();
  const holder = new ModelHolder({
    uri: "models:/churn@champion",
    loader: reg.loader,
    resolver: reg.resolver,
  });
  await holder.start();
  reg.alias.version = "4";
  await holder.poll();
  equal(holder.current!.version, "1");
  deepStrictEqual(holder.refused, {
    version: "4",
    reason: "not swapping to version 4: it would change the input signature (removed paperless); " +
      "restart the service to serve it",
  });
  reg.alias.version = "5";
  await holder.poll();
  equal(holder.current!.version, "1");
  equal(holder.refused!.version, "5");
  match(
    holder.refused!.reason,
    /: it would change the target from 'churn' to 'churned'; restart the service to serve it$/,
  );
  // the alias rolled back to the served version: nothing is refused any more
  reg.alias.version = "1";
  await holder.poll();
  equal(holder.refused, null);
  deepStrictEqual(reg.loads, ["1", "4", "5"]);
  holder.stop();
});

Deno.test("admin reload to an incompatible model is a 422 naming the reason; reload({allowIncompatible}) and a fresh start serve it", async () => {
  const reg = fakeRegistry();
  const auth = { authorization: "Bearer compat-token" };
  const t = await makeApp(reg.loader, { adminToken: "compat-token" });
  try {
    let res = await t.app.request(
      post("/admin/reload", { model_uri: "models:/churn/5" }, "application/json", auth),
    );
    const body = await res.json();
    equal(res.status, 422, JSON.stringify(body));
    match(
      body.error,
      /^could not load models:\/churn\/5: not swapping to version 5: it would change the target/,
    );
    match(body.error, /still serving version 1$/);
    equal(t.holder.current!.version, "1");
    res = await t.app.request(post("/predict", [makeRows(1, 5).map(({ churn: _, ...r }) => r)[0]]));
    equal(res.status, 200);
    equal((await res.json()).version, "1");
    equal((await (await t.app.request("/ready")).json()).refused.version, "5");
    // a compatible one swaps as before
    res = await t.app.request(
      post("/admin/reload", { model_uri: "models:/churn/2" }, "application/json", auth),
    );
    equal(res.status, 200);
    equal(t.holder.current!.version, "2");
    equal(t.holder.refused, null);

    // in code, the check can be waived
    const forced = await t.holder.reload({ uri: "models:/churn/5", allowIncompatible: true });
    deepStrictEqual([forced.changed, forced.version, forced.error], [true, "5", undefined]);
  } finally {
    await t.close();
  }
  // a service started on it serves it: there is nothing to compare with
  const fresh = new ModelHolder({ uri: "models:/churn/5", loader: reg.loader });
  const first = await fresh.start();
  deepStrictEqual([first.changed, first.version], [true, "5"]);
  ok(fresh.refused === null);
  fresh.stop();
});

globalThis.addEventListener("unload", () => Deno.removeSync(root, { recursive: true }));
