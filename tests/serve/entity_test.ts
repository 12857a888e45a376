/**
 * /predict by entity id and /features (issue 17, part 5), in process on a
 * SQLite online store: an id alone predicts what the full stored record does,
 * request fields override stored ones, batches mix ids and records, the
 * on_missing policy (reject: 422 naming feature and entity; missing: imputed),
 * unknown entities and features are 4xx naming them, the prediction log holds
 * the joined inputs, and a model without a feature service is unchanged.
 */
import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import { SqliteOnlineStore } from "../../src/featurestore/online.ts";
import { entityId, featureSource, type OnMissing } from "../../src/serve/entity.ts";
import { dirLoader, sampleRecord, trainFixture } from "./fixture.ts";
import { C1, C2_ACCOUNT, C3_ACCOUNT, fillStore, trainEntityModel } from "./entity_fixture.ts";
import { makeApp, noStack, post } from "./helpers.ts";

const root = await Deno.makeTempDir({ prefix: "orchard-serve-entity-" });
const entityDir = await trainEntityModel(`${root}/m`);
const plainDir = await trainFixture(`${root}/plain2`, { seed: 5, trees: 4 });
const dbPath = `${root}/fs/online.db`;
{
  const store = SqliteOnlineStore.open(dbPath);
  await fillStore(store);
  await store.close();
}
const loader = dirLoader({
  "models:/churn@champion": { name: "churn", version: "1", dir: entityDir },
  "models:/plain@champion": { name: "plain", version: "1", dir: plainDir },
});

async function withApp(
  fn: (t: Awaited<ReturnType<typeof makeApp>>) => Promise<void>,
  opts: { onMissing?: OnMissing; uri?: string; models?: Record<string, OnMissing> } = {},
) {
  const features = featureSource({ location: dbPath, onMissing: opts.onMissing, models: opts.models });
  const t = await makeApp(loader, { features, uri: opts.uri, maxBatch: 50 });
  try {
    await fn(t);
  } finally {
    await t.close();
    await features.close();
  }
}

async function json(res: Response) {
  const text = await res.text();
  ok(noStack(text), text);
  return JSON.parse(text);
}

const predictions = async (t: Awaited<ReturnType<typeof makeApp>>, body: unknown) => {
  const res = await t.app.request(post("/predict", body));
  const b = await json(res);
  equal(res.status, 200, JSON.stringify(b));
  return b.predictions;
};

Deno.test("predict by entity id: the id alone answers what the stored record does; request fields override", async () => {
  await withApp(async (t) => {
    deepStrictEqual(await predictions(t, { customer_id: "C-1" }), await predictions(t, C1));
    const changed = { ...C1, tenure: 70, contract: "Two year" };
    deepStrictEqual(
      await predictions(t, { customer_id: "C-1", tenure: 70, contract: "Two year" }),
      await predictions(t, changed),
    );
    // a request with every input looks nothing up: the id of an unknown entity does not matter then
    deepStrictEqual(await predictions(t, { customer_id: "C-404", ...C1 }), await predictions(t, C1));
    // an expired view's values given in the request: the fresh view fills the rest
    const c2 = { tenure: 12, monthly_charges: 40, ...C2_ACCOUNT };
    deepStrictEqual(
      await predictions(t, { customer_id: "C-2", tenure: 12, monthly_charges: 40 }),
      await predictions(t, c2),
    );
  });
});

Deno.test("predict by entity id: a batch mixes ids and full records, in order; the log holds the joined inputs", async () => {
  await withApp(async (t) => {
    const full = sampleRecord(4);
    const batch = [{ customer_id: "C-1" }, full, { customer_id: "C-3", tenure: 3, monthly_charges: 20 }];
    const expected = await predictions(t, [C1, full, { tenure: 3, monthly_charges: 20, ...C3_ACCOUNT }]);
    deepStrictEqual(await predictions(t, batch), expected);
    await t.log.flush();
    const lines: Record<string, unknown>[] = [];
    for await (const f of Deno.readDir(t.logDir)) {
      for (const path of await walk(`${t.logDir}/${f.name}`)) {
        for (const l of (await Deno.readTextFile(path)).trim().split("\n")) lines.push(JSON.parse(l));
      }
    }
    const inputs = lines.slice(-3).map((l) => l.inputs);
    deepStrictEqual(inputs[0], C1);
    deepStrictEqual(inputs[2], { tenure: 3, monthly_charges: 20, ...C3_ACCOUNT });
  });
});

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isDirectory) out.push(...await walk(`${dir}/${e.name}`));
    else out.push(`${dir}/${e.name}`);
  }
  return out;
}

Deno.test("predict by entity id, on_missing reject: 422 naming each feature and the entity; unknown entity 404", async () => {
  await withApp(async (t) => {
    let res = await t.app.request(post("/predict", { customer_id: "C-2" }));
    let b = await json(res);
    equal(res.status, 422);
    match(b.error, /expired|missing/);
    match(b.error, /"C-2"/);
    deepStrictEqual(b.details.map((d: { field: string }) => d.field).sort(), ["monthly_charges", "tenure"]);
    ok(
      b.details.every((d: { message: string }) =>
        /expired in the online store for customer_id "C-2"/.test(d.message)
      ),
    );

    res = await t.app.request(post("/predict", [{ customer_id: "C-1" }, { customer_id: "C-3" }]));
    b = await json(res);
    equal(res.status, 422);
    deepStrictEqual(b.details.map((d: { record: number; field: string }) => [d.record, d.field]), [
      [1, "tenure"],
      [1, "monthly_charges"],
    ]);
    match(b.details[0].message, /missing in the online store for customer_id "C-3"/);

    res = await t.app.request(post("/predict", { customer_id: "C-404" }));
    b = await json(res);
    equal(res.status, 404);
    match(b.error, /unknown entity.*customer_id "C-404"/);

    for (const bad of [{}, [], "", true, 1.5, "x".repeat(2000)]) {
      res = await t.app.request(post("/predict", { customer_id: bad }));
      b = await json(res);
      equal(res.status, 422, JSON.stringify(bad));
      equal(b.details[0].field, "customer_id");
    }
    // an id that is a whole number is looked up as its text
    res = await t.app.request(post("/predict", { customer_id: 7 }));
    equal(res.status, 404);
    match((await json(res)).error, /"7"/);
  });
});

Deno.test("predict by entity id, on_missing missing: a missing or expired feature is a missing value", async () => {
  const check = async (t: Awaited<ReturnType<typeof makeApp>>) => {
    const nulls = { tenure: null, monthly_charges: null };
    deepStrictEqual(
      await predictions(t, { customer_id: "C-2" }),
      await predictions(t, { ...nulls, ...C2_ACCOUNT }),
    );
    deepStrictEqual(
      await predictions(t, { customer_id: "C-3" }),
      await predictions(t, { ...nulls, ...C3_ACCOUNT }),
    );
    // an entity the store has nothing for is all missing values under this policy
    const all = { ...nulls, contract: null, paperless: null };
    deepStrictEqual(await predictions(t, { customer_id: "C-404" }), await predictions(t, all));
  };
  await withApp(check, { onMissing: "missing" });
  // the per-model setting wins over the default
  await withApp(check, { onMissing: "reject", models: { churn: "missing" } });
});

Deno.test("a model without a feature service: an id is one more ignored field; /features is a 404 naming it", async () => {
  await withApp(async (t) => {
    const rec = sampleRecord(2);
    deepStrictEqual(await predictions(t, { customer_id: "C-1", ...rec }), await predictions(t, rec));
    const res = await t.app.request(post("/predict", { customer_id: "C-1" }));
    equal(res.status, 422);
    const f = await t.app.request("/features?customer_id=C-1");
    equal(f.status, 404);
    match((await json(f)).error, /plain version 1 was not trained on a feature service/);
  }, { uri: "models:/plain@champion" });
});

Deno.test("/features: values and a status per value; unknown entity, feature and field are 4xx naming them", async () => {
  await withApp(async (t) => {
    let res = await t.app.request("/features?customer_id=C-1");
    let b = await json(res);
    equal(res.status, 200, JSON.stringify(b));
    equal(b.feature_service, "churn_online");
    equal(b.join_key, "customer_id");
    deepStrictEqual(b.features, ["tenure", "monthly_charges", "contract", "paperless"]);
    deepStrictEqual(b.rows, [{
      customer_id: "C-1",
      values: C1,
      statuses: { tenure: "present", monthly_charges: "present", contract: "present", paperless: "present" },
    }]);
    ok(res.headers.get("x-request-id"));

    res = await t.app.request(
      post("/features", { customer_id: ["C-2", "C-3"], features: ["tenure", "contract"] }),
    );
    b = await json(res);
    equal(res.status, 200, JSON.stringify(b));
    deepStrictEqual(b.rows, [
      {
        customer_id: "C-2",
        values: { tenure: null, contract: C2_ACCOUNT.contract },
        statuses: { tenure: "expired", contract: "present" },
      },
      {
        customer_id: "C-3",
        values: { tenure: null, contract: C3_ACCOUNT.contract },
        statuses: { tenure: "missing", contract: "present" },
      },
    ]);
    res = await t.app.request("/features?customer_id=C-1&features=tenure,paperless");
    deepStrictEqual((await json(res)).features, ["tenure", "paperless"]);

    res = await t.app.request("/features?customer_id=C-404");
    b = await json(res);
    equal(res.status, 404);
    match(b.error, /customer_id "C-404"/);
    res = await t.app.request(post("/features", { customer_id: "C-1", features: ["tenure", "nope"] }));
    b = await json(res);
    equal(res.status, 422);
    match(b.error, /unknown feature nope/);
    res = await t.app.request("/features?customer=C-1");
    b = await json(res);
    equal(res.status, 422);
    match(b.error, /unknown query parameter customer/);
    res = await t.app.request("/features");
    equal(res.status, 422);
    match((await json(res)).error, /missing customer_id/);
    res = await t.app.request(post("/features", { ids: ["C-1"] }));
    equal(res.status, 422);
    match((await json(res)).error, /unknown field ids/);
    res = await t.app.request(post("/features", { customer_id: [] }));
    equal(res.status, 422);
    res = await t.app.request(
      post("/features", { customer_id: Array.from({ length: 51 }, (_, i) => `C-${i}`) }),
    );
    equal(res.status, 413);
    res = await t.app.request(post("/features", "{", "application/json"));
    equal(res.status, 400);
    res = await t.app.request("/features", { method: "PUT" });
    equal(res.status, 405);
    equal(res.headers.get("allow"), "GET, POST");
  });
});

Deno.test("an online store that cannot open is a 503 naming it, never a 500", async () => {
  const features = featureSource({ location: "redis://127.0.0.1:1" });
  const t = await makeApp(loader, { features });
  try {
    for (
      const res of [
        await t.app.request(post("/predict", { customer_id: "C-1" })),
        await t.app.request("/features?customer_id=C-1"),
      ]
    ) {
      const b = await json(res);
      equal(res.status, 503, JSON.stringify(b));
      match(b.error, /online store unavailable/);
    }
    // a full record needs no store
    equal((await t.app.request(post("/predict", C1))).status, 200);
  } finally {
    await t.close();
  }
});

Deno.test("openapi: /features and the entity record of a model with a feature service", async () => {
  await withApp(async (t) => {
    const doc = await json(await t.app.request("/openapi.json"));
    ok(doc.paths["/features"].get && doc.paths["/features"].post);
    deepStrictEqual(doc.components.schemas.EntityRecord.required, ["customer_id"]);
    ok(doc.components.schemas.FeaturesResponse);
  });
});

Deno.test({
  name: "entity tests: cleanup",
  fn: async () => {
    await Deno.remove(root, { recursive: true });
  },
});

Deno.test("entityId: at most 1,024 characters, counted as code points as the OpenAPI maxLength counts them", () => {
  equal(entityId("😀".repeat(1024), "customer_id"), "😀".repeat(1024));
  let refused = false;
  try {
    entityId("😀".repeat(1025), "customer_id");
  } catch (e) {
    refused = (e as { status?: number }).status === 422;
  }
  ok(refused, "1,025 characters are a 422");
});
