/** The ops sub-app alone: /health, /ready (loading, ready, draining), /model, /metrics, 405 with Allow. */
import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import { ModelHolder } from "../../../src/serve/holder.ts";
import { Metrics } from "../../../src/serve/metrics.ts";
import { opsRoutes, type ServeState } from "../../../src/serve/routes/ops.ts";
import { dirLoader, trainFixture } from "../fixture.ts";
import { mount } from "../helpers.ts";

const root = await Deno.makeTempDir({ prefix: "orchard-serve-ops-" });
const dir = await trainFixture(`${root}/m`, { seed: 3, trees: 4 });
const loader = dirLoader({ "models:/churn@champion": { name: "churn", version: "4", dir } });

function ops() {
  const holder = new ModelHolder({ uri: "models:/churn@champion", loader });
  const metrics = new Metrics("w-test");
  const state: ServeState = { draining: false };
  const { app } = mount(opsRoutes({ holder, metrics, worker: "w-test", state }), "/", metrics);
  return { app, holder, state };
}

Deno.test("ops: /health answers while loading; /ready is 503 loading, 200 ready, 503 draining", async () => {
  const { app, holder, state } = ops();
  let res = await app.request("/health");
  equal(res.status, 200);
  deepStrictEqual(await res.json(), { status: "ok", worker: "w-test" });
  res = await app.request("/ready");
  equal(res.status, 503);
  deepStrictEqual(await res.json(), {
    status: "loading",
    model: null,
    version: null,
    worker: "w-test",
    error: null,
    prediction_log: { ok: true, last_error: null, pending: 0, dropped: 0 },
  });
  await holder.reload();
  res = await app.request("/ready");
  equal(res.status, 200);
  const ready = await res.json();
  deepStrictEqual([ready.status, ready.model, ready.version], ["ready", "churn", "4"]);
  state.draining = true;
  res = await app.request("/ready");
  equal(res.status, 503);
  equal((await res.json()).status, "draining");
  holder.stop();
});

Deno.test("ops: /model is 503 before a load, then the served model's description", async () => {
  const { app, holder } = ops();
  let res = await app.request("/model");
  equal(res.status, 503);
  const err = await res.json();
  equal(err.error_code, "SERVICE_UNAVAILABLE");
  match(err.error, /model not loaded yet/);
  await holder.reload();
  res = await app.request("/model");
  equal(res.status, 200);
  const m = await res.json();
  deepStrictEqual(
    Object.keys(m),
    [
      "name",
      "version",
      "uri",
      "loaded_at",
      "signature",
      "metrics",
      "classes",
      "positive_class",
      "params",
      "lineage",
    ],
  );
  deepStrictEqual([m.name, m.version, m.uri], ["churn", "4", "models:/churn@champion"]);
  ok(!Number.isNaN(Date.parse(m.loaded_at)));
  holder.stop();
});

Deno.test("ops: /metrics is Prometheus text with this worker's model", async () => {
  const { app, holder } = ops();
  await holder.reload();
  await (await app.request("/health")).body?.cancel();
  const res = await app.request("/metrics");
  equal(res.status, 200);
  equal(res.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  const text = await res.text();
  match(text, /orchard_model_info\{model="churn",version="4"\} 1/);
  match(text, /orchard_http_requests_total\{route="\/health",method="GET",status="200"\} 1/);
  holder.stop();
});

Deno.test("ops: HEAD works, other methods get 405 with Allow: GET, HEAD", async () => {
  const { app } = ops();
  const head = await app.request("/health", { method: "HEAD" });
  equal(head.status, 200);
  equal(await head.text(), "");
  for (const path of ["/health", "/ready", "/model", "/metrics"]) {
    const res = await app.request(path, { method: "POST" });
    equal(res.status, 405, path);
    equal(res.headers.get("allow"), "GET, HEAD");
    equal((await res.json()).error, `POST is not allowed on ${path} (use GET, HEAD)`);
  }
});
