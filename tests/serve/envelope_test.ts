/** The envelope: Hono's request id and secure headers set to the service's rules, and our metrics. */
import { deepStrictEqual, equal, match, notEqual, ok } from "node:assert/strict";
import { Hono } from "hono";
import { type Env, json, send } from "../../src/serve/envelope.ts";
import { HttpError } from "../../src/serve/http.ts";
import { counted, mount, SECURE_HEADERS } from "./helpers.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function routes(): Hono<Env> {
  const app = new Hono<Env>();
  app.get("/ok", (c) => {
    c.set("route", "/ok");
    return json(c, { ok: true, id: c.get("requestId") });
  });
  app.get("/own", (c) => {
    c.set("route", "/own");
    return send(c, "hello", "text/plain; charset=utf-8", {
      "content-security-policy": "default-src 'self'",
      "cache-control": "public, max-age=60",
    });
  });
  app.get("/fail", (c) => {
    c.set("route", "/fail");
    throw new HttpError(409, "it clashes");
  });
  return app;
}

function assertSecure(res: Response, what: string, except: string[] = []) {
  for (const [k, v] of Object.entries(SECURE_HEADERS)) {
    if (!except.includes(k)) equal(res.headers.get(k), v, `${what}: ${k}`);
  }
  // none of the browser-only extras Hono adds by default
  for (
    const k of ["origin-agent-cluster", "x-dns-prefetch-control", "x-download-options", "x-xss-protection"]
  ) {
    equal(res.headers.get(k), null, `${what}: ${k}`);
  }
}

Deno.test("envelope: the service's secure headers on a success, an error and a 404, and JSON", async () => {
  const { app } = mount(routes());
  for (const path of ["/ok", "/fail", "/nowhere"]) {
    const res = await app.request(path);
    assertSecure(res, path);
    equal(res.headers.get("content-type"), "application/json", path);
    await res.body?.cancel();
  }
  const head = await app.request("/ok", { method: "HEAD" });
  equal(head.status, 200);
  assertSecure(head, "HEAD /ok");
});

Deno.test("envelope: a route's own CSP and Cache-Control are kept, the rest still added", async () => {
  const { app } = mount(routes());
  const res = await app.request("/own");
  equal(await res.text(), "hello");
  equal(res.headers.get("content-security-policy"), "default-src 'self'");
  equal(res.headers.get("cache-control"), "public, max-age=60");
  assertSecure(res, "/own", ["content-security-policy", "cache-control"]);
});

Deno.test("envelope: a safe caller id (1-128 of A-Za-z0-9._:-) is echoed, any other replaced by a UUID", async () => {
  const { app } = mount(routes());
  const id = async (header?: string) => {
    const res = await app.request("/ok", { headers: header === undefined ? {} : { "x-request-id": header } });
    const body = await res.json();
    equal(body.id, res.headers.get("x-request-id"), "the handler sees the id it answers with");
    return body.id as string;
  };
  for (const good of ["abc-123", "trace.4bf92f:1", "A_b", "x".repeat(128)]) equal(await id(good), good);
  for (const bad of [undefined, "", "<script>", "a=b", "has space", "x".repeat(129), "é"]) {
    match(await id(bad), UUID, String(bad));
  }
  notEqual(await id(), await id(), "a fresh id per request");
  // the error body carries the same id as the header
  const res = await app.request("/fail", { headers: { "x-request-id": "err-1" } });
  equal(res.headers.get("x-request-id"), "err-1");
  equal((await res.json()).request_id, "err-1");
});

Deno.test("envelope: every answer is counted under its route's label, unknown paths as unmatched", async () => {
  const { app, metrics } = mount(routes());
  for (const path of ["/ok", "/ok", "/fail", "/nowhere"]) await (await app.request(path)).body?.cancel();
  deepStrictEqual(counted(metrics), {
    "/ok GET 200": 2,
    "/fail GET 409": 1,
    "unmatched GET 404": 1,
  });
  ok(
    metrics.snapshot(null, { written: 0, writeErrors: 0, dropped: 0, pending: 0, lastError: null })
      .latency["/ok"],
  );
});

const PREDICTION_CASES = (
  sampleRecord: (i?: number) => Record<string, unknown>,
  post: typeof import("./helpers.ts").post,
) =>
  [
    [post("/predict", sampleRecord(), "application/json", { "x-request-id": "h-1" }), 200],
    [post("/predict", [sampleRecord(1), sampleRecord(2)]), 200],
    [post("/predict", { tenure: "x" }), 422],
    [post("/predict", "{", "application/json"), 400],
    [post("/predict", "x", "text/plain"), 415],
    [post("/invocations", { instances: [sampleRecord()] }), 200],
    [post("/invocations", { nope: 1 }), 400],
  ] as [Request, number][];

Deno.test("envelope: the prediction routes answer with the API header set by default, the whole envelope with prediction_headers full", async () => {
  const { loadArtifact } = await import("../../src/models/artifact.ts");
  const { API_HEADERS } = await import("../../src/serve/envelope.ts");
  const { makeApp, post } = await import("./helpers.ts");
  const { sampleRecord, trainFixture } = await import("./fixture.ts");
  const root = await Deno.makeTempDir({ prefix: "orchard-envelope-" });
  const dir = await trainFixture(`${root}/m`, { trees: 3 });
  const loader = (uri: string) =>
    Promise.resolve({ uri, name: "churn", version: "1", dir, model: loadArtifact(dir) });
  const names = (res: Response) =>
    [...res.headers.keys()].filter((k) => k !== "content-length" && k !== "allow").sort();
  const api = ["content-type", "x-request-id", ...API_HEADERS.map(([k]) => k)].sort();
  for (const which of ["api", "full"] as const) {
    const t = await makeApp(loader, { predictionHeaders: which === "api" ? undefined : "full" });
    try {
      const health = await t.app.request("/health", { headers: { "x-request-id": "h-1" } });
      await health.body?.cancel();
      assertSecure(health, `${which} /health`);
      for (const [req, status] of PREDICTION_CASES(sampleRecord, post)) {
        const what = `${which}: ${req.method} ${new URL(req.url).pathname} ${status}`;
        const res = await t.app.request(req);
        equal(res.status, status, what);
        if (which === "full") {
          deepStrictEqual(names(res), names(health), what);
          assertSecure(res, what);
        } else {
          // a 200 from /predict to a caller that sent no id: its id in the body, Content-Type alone (lean)
          const lean = status === 200 && req.url.endsWith("/predict") && !req.headers.has("x-request-id");
          deepStrictEqual(names(res), lean ? ["content-type"] : api, what);
          for (const [k, v] of API_HEADERS) equal(res.headers.get(k), v, `${what}: ${k}`);
        }
        equal(res.headers.get("content-type"), "application/json", what);
        const body = await res.json();
        if (status !== 200 || req.url.endsWith("/predict")) {
          const id = res.headers.get("x-request-id") ?? body.request_id;
          match(id, /^(h-1|[0-9a-f-]{36})$/, what);
          equal(body.request_id, id, what);
        }
      }
      // another method on a prediction path goes through the envelope middleware: the whole envelope
      const wrong = await t.app.request(new Request("http://local/predict"));
      equal(wrong.status, 405);
      deepStrictEqual(names(wrong), names(health));
      await wrong.body?.cancel();
      const echoed = await t.app.request(
        post("/predict", sampleRecord(), "application/json", { "x-request-id": "p.1:2" }),
      );
      equal(echoed.headers.get("x-request-id"), "p.1:2");
      await echoed.body?.cancel();
      deepStrictEqual(
        Object.entries(counted(t.metrics)).filter(([k]) => !k.startsWith("/health")).sort(),
        [
          ["/invocations POST 200", 1],
          ["/invocations POST 400", 1],
          ["/predict GET 405", 1],
          ["/predict POST 200", 3],
          ["/predict POST 400", 1],
          ["/predict POST 415", 1],
          ["/predict POST 422", 1],
        ],
      );
    } finally {
      await t.close();
    }
  }
  await Deno.remove(root, { recursive: true });
});
