/** The docs sub-app alone: /openapi.json from the served signature, Swagger UI under /docs with its own CSP. */
import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import { DOCS_CSP, type DocsAssets } from "../../../src/serve/docs.ts";
import { ModelHolder } from "../../../src/serve/holder.ts";
import { docsRoutes } from "../../../src/serve/routes/docs.ts";
import { dirLoader, trainFixture } from "../fixture.ts";
import { mount } from "../helpers.ts";

const root = await Deno.makeTempDir({ prefix: "orchard-serve-docs-" });
const dir = await trainFixture(`${root}/m`, { seed: 6, trees: 4 });
const loader = dirLoader({ "models:/churn@champion": { name: "churn", version: "1", dir } });
const assets: DocsAssets = { css: "body { margin: 0 }", bundle: "window.SwaggerUIBundle = () => {};" };

function docs(d: Promise<DocsAssets> | null) {
  const holder = new ModelHolder({ uri: "models:/churn@champion", loader });
  return { app: mount(docsRoutes({ holder, maxBatch: 7, docs: d })).app, holder };
}

Deno.test("docs: /openapi.json describes the served signature, before a load too, and is cached", async () => {
  const { app, holder } = docs(null);
  let res = await app.request("/openapi.json");
  equal(res.status, 200);
  equal((await res.json()).openapi, "3.1.0");
  await holder.reload();
  res = await app.request("/openapi.json");
  equal(res.headers.get("content-type"), "application/json");
  equal(res.headers.get("cache-control"), "no-store");
  const text = await res.text();
  deepStrictEqual(Object.keys(JSON.parse(text).components.schemas.Record.properties).sort(), [
    "contract",
    "monthly_charges",
    "paperless",
    "tenure",
  ]);
  equal(await (await app.request("/openapi.json")).text(), text);
  holder.stop();
});

Deno.test("docs: Swagger UI pages relax the CSP for their own assets and may be cached", async () => {
  const { app } = docs(Promise.resolve(assets));
  for (
    const [path, type, body] of [
      ["/docs", "text/html", /swagger-ui-bundle\.js/],
      ["/docs/", "text/html", /swagger-ui\.css/],
      ["/docs/swagger-ui.css", "text/css", /margin: 0/],
      ["/docs/swagger-ui-bundle.js", "text/javascript", /SwaggerUIBundle/],
      ["/docs/init.js", "text/javascript", /url: "\/openapi\.json"/],
    ] as const
  ) {
    const res = await app.request(path);
    equal(res.status, 200, path);
    match(res.headers.get("content-type")!, new RegExp(`^${type}; charset=utf-8$`));
    equal(res.headers.get("content-security-policy"), DOCS_CSP, path);
    equal(res.headers.get("cache-control"), "public, max-age=3600", path);
    equal(res.headers.get("x-frame-options"), "DENY", path);
    match(await res.text(), body);
  }
});

Deno.test("docs: 404 naming why when Swagger UI is off or unreadable; 405 on /docs", async () => {
  const missing = Promise.reject(new Error("ENOENT"));
  missing.catch(() => {});
  for (
    const [d, why] of [[null, "API docs are not enabled"], [
      missing,
      "API docs are unavailable (swagger-ui-dist not installed)",
    ]] as const
  ) {
    const res = await docs(d).app.request("/docs");
    equal(res.status, 404);
    const body = await res.json();
    deepStrictEqual([body.error, body.error_code], [why, "NOT_FOUND"]);
  }
  const { app } = docs(Promise.resolve(assets));
  for (const path of ["/docs", "/openapi.json", "/docs/", "/docs/init.js", "/docs/swagger-ui.css"]) {
    const res = await app.request(path, { method: "POST" });
    equal(res.status, 405, path);
    equal(res.headers.get("allow"), "GET, HEAD");
    await res.body?.cancel();
  }
});

Deno.test("docs: /openapi.json states the error body every error has, MLflow's instances in both forms, and what reload answers", async () => {
  const { app, holder } = docs(null);
  await holder.reload();
  const doc = await (await app.request("/openapi.json")).json();
  const error = doc.components.schemas.Error;
  for (const key of ["error", "error_code", "request_id"]) {
    ok(error.required.includes(key), key);
    ok(error.properties[key], key);
  }
  ok(error.properties.message, "MLflow's message on /invocations");
  // {"instances": [...]} and {"instances": {column: [...]}} are both taken
  const instances = JSON.stringify(doc.components.schemas.InvocationsRequest);
  match(instances, /"instances":\{"anyOf":\[\{"type":"array"/);
  match(instances, /"instances":\{"anyOf":\[[^\]]*\]?[^\]]*"type":"object"/);
  const reload = doc.paths["/admin/reload"].post.responses;
  deepStrictEqual(Object.keys(reload).sort(), ["200", "401", "403", "415", "422"]);
  holder.stop();
});
