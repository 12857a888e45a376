import { deepStrictEqual, equal, match as assertMatch, ok } from "node:assert/strict";
import { dirLoader, makeRows, sampleRecord, trainFixture } from "./fixture.ts";
import { makeApp, noStack, post } from "./helpers.ts";
import { Hono } from "hono";
import { pathOf } from "../../src/serve/routes.ts";

const root = await Deno.makeTempDir({ prefix: "orchard-serve-test-" });
const v1 = await trainFixture(`${root}/v1`, { seed: 3 });
const v2 = await trainFixture(`${root}/v2`, { seed: 11 });
const table = {
  "models:/churn@champion": { name: "churn", version: "1", dir: v1 },
  "models:/churn/2": { name: "churn", version: "2", dir: v2 },
};
const loader = dirLoader(table);

async function body(res: Response) {
  const text = await res.text();
  ok(noStack(text), `stack leaked: ${text}`);
  return text ? JSON.parse(text) : null;
}

/**
 * What every response carries, the prediction routes' API header set included (envelope.ts API_HEADERS):
 * a request id, in the X-Request-Id header except on a 200 from /predict to a caller that sent none,
 * which names it in its body and has no header but Content-Type (envelope.ts lean).
 */
function checkEnvelope(res: Response, path: string) {
  if (path === "/predict" && res.status === 200) {
    deepStrictEqual([...res.headers.keys()].filter((k) => k !== "content-length"), ["content-type"]);
    equal(res.headers.get("content-type"), "application/json");
  } else ok(res.headers.get("x-request-id"), "x-request-id header");
  if (path !== "/predict" && path !== "/invocations") {
    equal(res.headers.get("x-content-type-options"), "nosniff");
    equal(res.headers.get("cache-control"), "no-store");
    // routes other than the prediction ones also carry the browser's secure headers
    equal(res.headers.get("x-frame-options"), "DENY");
    ok(res.headers.get("content-security-policy"));
    equal(res.headers.get("referrer-policy"), "no-referrer");
  }
}

Deno.test("ready is 503 before the model loads and 200 with name and version after", async () => {
  const t = await makeApp(loader, { load: false });
  try {
    let res = await t.app.request("/ready");
    equal(res.status, 503);
    checkEnvelope(res, "/ready");
    equal((await body(res)).status, "loading");
    res = await t.app.request(post("/predict", sampleRecord()));
    equal(res.status, 503);
    await body(res);
    res = await t.app.request("/model");
    equal(res.status, 503);
    await body(res);
    await t.holder.reload();
    res = await t.app.request("/ready");
    equal(res.status, 200);
    const b = await body(res);
    deepStrictEqual([b.status, b.model, b.version], ["ready", "churn", "1"]);
    res = await t.app.request("/health");
    equal(res.status, 200);
    equal((await body(res)).status, "ok");
  } finally {
    await t.close();
  }
});

Deno.test("predict: one record and a batch, in the agreed shape, same as the artifact", async () => {
  const t = await makeApp(loader);
  try {
    const rec = sampleRecord(5);
    let res = await t.app.request(post("/predict", rec));
    equal(res.status, 200);
    checkEnvelope(res, "/predict");
    const one = await body(res);
    equal(one.model, "churn");
    equal(one.version, "1");
    assertMatch(one.request_id, /^[0-9a-f-]{36}$/);
    deepStrictEqual(Object.keys(one), ["model", "version", "request_id", "predictions"]);
    equal(one.predictions.length, 1);
    const expected = t.holder.current!.model.predictRecords([rec]);
    deepStrictEqual(one.predictions, JSON.parse(JSON.stringify(expected)));
    const p = one.predictions[0];
    ok(["Yes", "No"].includes(p.prediction));
    const sum = Object.values(p.probabilities as Record<string, number>).reduce((a, b) => a + b, 0);
    ok(Math.abs(sum - 1) < 1e-9);

    const batch = makeRows(20, 9).map(({ churn: _, ...r }) => r);
    res = await t.app.request(post("/predict", batch));
    equal(res.status, 200);
    const many = await body(res);
    equal(many.predictions.length, 20);
    deepStrictEqual(
      many.predictions,
      JSON.parse(JSON.stringify(t.holder.current!.model.predictRecords(batch))),
    );
  } finally {
    await t.close();
  }
});

Deno.test("predict: a caller's request id is echoed, an unsafe one replaced", async () => {
  const t = await makeApp(loader);
  try {
    let res = await t.app.request(
      post("/predict", sampleRecord(), "application/json", { "x-request-id": "abc-123" }),
    );
    equal(res.headers.get("x-request-id"), "abc-123");
    equal((await res.json()).request_id, "abc-123");
    res = await t.app.request(
      post("/predict", sampleRecord(), "application/json", { "x-request-id": "<script>" }),
    );
    assertMatch(res.headers.get("x-request-id")!, /^[0-9a-f-]{36}$/);
    equal((await res.json()).request_id, res.headers.get("x-request-id"));
    // no id sent: the answer's id is in its body alone (one header, Deno's fast path), and it is the log's
    res = await t.app.request(post("/predict", sampleRecord()));
    equal(res.headers.get("x-request-id"), null);
    assertMatch((await res.json()).request_id, /^[0-9a-f-]{36}$/);
  } finally {
    await t.close();
  }
});

Deno.test("predict: extra fields are ignored, unknown categories and nulls are scored", async () => {
  const t = await makeApp(loader);
  try {
    const rec = sampleRecord(7);
    const base = await body(await t.app.request(post("/predict", rec)));
    const extra = await body(
      await t.app.request(post("/predict", { ...rec, unexpected: [1, 2], another: "x" })),
    );
    deepStrictEqual(extra.predictions, base.predictions);
    let res = await t.app.request(post("/predict", { ...rec, contract: "Lifetime (never seen)" }));
    equal(res.status, 200);
    await body(res);
    res = await t.app.request(post("/predict", { ...rec, tenure: null, contract: null }));
    equal(res.status, 200);
    await body(res);
  } finally {
    await t.close();
  }
});

Deno.test("predict: missing and mistyped fields get 422 listing each field", async () => {
  const t = await makeApp(loader);
  try {
    const { tenure: _, ...rec } = sampleRecord(2);
    let res = await t.app.request(post("/predict", { ...rec, monthly_charges: "cheap", contract: { a: 1 } }));
    equal(res.status, 422);
    checkEnvelope(res, "/predict");
    const b = await body(res);
    const fields = b.details.map((d: { field: string }) => d.field).sort();
    deepStrictEqual(fields, ["contract", "monthly_charges", "tenure"]);
    assertMatch(b.details.find((d: { field: string }) => d.field === "tenure").message, /missing/);
    assertMatch(
      b.details.find((d: { field: string }) => d.field === "monthly_charges").message,
      /expected a number/,
    );

    res = await t.app.request(post("/predict", [sampleRecord(1), { ...sampleRecord(2), tenure: "x" }]));
    equal(res.status, 422);
    const bb = await body(res);
    deepStrictEqual(bb.details.map((d: { record: number; field: string }) => [d.record, d.field]), [[
      1,
      "tenure",
    ]]);

    for (const bad of [42, "text", null, true, []]) {
      res = await t.app.request(post("/predict", JSON.stringify(bad)));
      equal(res.status, 422, `body ${JSON.stringify(bad)}`);
      await body(res);
    }
  } finally {
    await t.close();
  }
});

Deno.test("hardening: 400 malformed JSON, 413 too large, 415 content type, 404, 405", async () => {
  const t = await makeApp(loader, { maxBatch: 5, maxBodyBytes: 2000 });
  try {
    const cases: [Request, number][] = [
      [post("/predict", "{bad json"), 400],
      [post("/predict", ""), 400],
      [post("/predict", `{"tenure": ${"1".repeat(3000)}}`), 413],
      [post("/predict", Array.from({ length: 6 }, () => sampleRecord())), 413],
      [post("/predict", sampleRecord(), "text/plain"), 415],
      [new Request("http://local/predict", { method: "POST", body: "{}" }), 415],
      [post("/invocations", "a,b\n1,2", "application/xml"), 415],
      [post("/invocations", "{nope"), 400],
      [new Request("http://local/nowhere"), 404],
      [new Request("http://local/predict"), 405],
      [new Request("http://local/health", { method: "DELETE" }), 405],
    ];
    for (const [req, status] of cases) {
      const desc = `${req.method} ${new URL(req.url).pathname} ${req.headers.get("content-type")}`;
      const res = await t.app.request(req);
      equal(res.status, status, desc);
      checkEnvelope(res, req.method === "POST" ? new URL(req.url).pathname : "");
      const b = await body(res);
      equal(typeof b.error, "string", desc);
      ok(!b.error.includes("\n"), "one line");
      if (status === 405) ok(res.headers.get("allow"));
    }
    // a chunked body without Content-Length is still capped
    const big = new ReadableStream({
      start(c) {
        for (let i = 0; i < 10; i++) c.enqueue(new TextEncoder().encode(" ".repeat(500)));
        c.close();
      },
    });
    const res = await t.app.request(
      new Request("http://local/predict", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: big,
      }),
    );
    equal(res.status, 413);
    await body(res);
  } finally {
    await t.close();
  }
});

Deno.test("invocations: every MLflow input format gives the same labels as /predict", async () => {
  const t = await makeApp(loader);
  try {
    const rows = makeRows(6, 21).map(({ churn: _, ...r }) => r);
    const cols = Object.keys(rows[0]);
    const expected = (await body(await t.app.request(post("/predict", rows)))).predictions.map(
      (p: { prediction: unknown }) => p.prediction,
    );
    const bodies: [unknown, string?][] = [
      [{ dataframe_split: { columns: cols, data: rows.map((r) => cols.map((c) => (r as never)[c])) } }],
      [{
        dataframe_split: {
          index: [0, 1, 2, 3, 4, 5],
          columns: cols,
          data: rows.map((r) => cols.map((c) => (r as never)[c])),
        },
      }],
      [{ dataframe_records: rows }],
      [{ instances: rows }],
      [{ inputs: rows }],
      [{ inputs: Object.fromEntries(cols.map((c) => [c, rows.map((r) => (r as never)[c])])) }],
      [{ dataframe_records: rows, params: { anything: 1 } }],
      [
        [cols.join(","), ...rows.map((r) => cols.map((c) => `"${(r as never)[c]}"`).join(","))].join("\r\n") +
        "\r\n",
        "text/csv",
      ],
    ];
    for (const [b, type] of bodies) {
      const res = await t.app.request(post("/invocations", b, type ?? "application/json"));
      const out = await body(res);
      equal(res.status, 200, JSON.stringify(out));
      deepStrictEqual(out, { predictions: expected });
    }
    for (
      const bad of [
        {},
        { dataframe_records: rows, instances: rows },
        { dataframe_split: { columns: cols, data: [[1, 2]] } },
        { dataframe_split: { columns: cols } },
        { inputs: { a: [1, 2], b: [1] } },
        { dataframe_records: rows, extra: 1 },
      ]
    ) {
      const res = await t.app.request(post("/invocations", bad));
      equal(res.status, 400, JSON.stringify(bad));
      const out = await body(res);
      equal(out.error_code, "BAD_REQUEST");
      equal(typeof out.message, "string");
    }
    const res = await t.app.request(
      post("/invocations", { dataframe_records: [{ ...rows[0], tenure: "ten" }] }),
    );
    equal(res.status, 422);
    equal((await body(res)).details[0].field, "tenure");
    const csvBad = await t.app.request(post("/invocations", 'tenure,contract\n"unterminated', "text/csv"));
    equal(csvBad.status, 400);
    await body(csvBad);
  } finally {
    await t.close();
  }
});

Deno.test("model, openapi and docs describe the served model", async () => {
  const t = await makeApp(loader, { docs: true });
  try {
    let res = await t.app.request("/model");
    equal(res.status, 200);
    const m = await body(res);
    deepStrictEqual([m.name, m.version], ["churn", "1"]);
    deepStrictEqual(m.signature.inputs.map((c: { name: string }) => c.name), [
      "tenure",
      "monthly_charges",
      "contract",
      "paperless",
    ]);
    equal(typeof m.metrics, "object");
    deepStrictEqual(m.classes.sort(), ["No", "Yes"]);

    res = await t.app.request("/openapi.json");
    equal(res.status, 200);
    const doc = await body(res);
    equal(doc.openapi, "3.1.0");
    const record = doc.components.schemas.Record;
    deepStrictEqual(Object.keys(record.properties).sort(), [
      "contract",
      "monthly_charges",
      "paperless",
      "tenure",
    ]);
    deepStrictEqual(record.required.sort(), ["contract", "monthly_charges", "paperless", "tenure"]);
    // the string cap the service enforces (serve.max_string_length), in characters as JSON Schema counts
    ok(
      JSON.stringify(record.properties.contract).includes('"maxLength":1024'),
      JSON.stringify(record.properties.contract),
    );
    for (
      const p of ["/predict", "/invocations", "/health", "/ready", "/model", "/metrics", "/admin/reload"]
    ) ok(doc.paths[p], p);

    res = await t.app.request("/docs");
    equal(res.status, 200);
    const html = await res.text();
    assertMatch(html, /swagger-ui-bundle\.js/);
    ok(!/https?:\/\//.test(html), "no external URL: works offline");
    assertMatch(res.headers.get("content-security-policy")!, /script-src 'self'/);
    for (
      const [asset, type] of [["swagger-ui-bundle.js", "javascript"], ["swagger-ui.css", "css"], [
        "init.js",
        "javascript",
      ]]
    ) {
      res = await t.app.request(`/docs/${asset}`);
      equal(res.status, 200, asset);
      assertMatch(res.headers.get("content-type")!, new RegExp(type));
      ok((await res.text()).length > 20);
    }
  } finally {
    await t.close();
  }
});

Deno.test("metrics: request counts, latency histogram, predictions by class, model version", async () => {
  const t = await makeApp(loader);
  try {
    const rows = makeRows(10, 4).map(({ churn: _, ...r }) => r);
    const preds = await body(await t.app.request(post("/predict", rows)));
    await (await t.app.request(post("/predict", "{bad"))).text();
    await (await t.app.request(post("/predict", sampleRecord()))).text();
    const res = await t.app.request("/metrics");
    equal(res.status, 200);
    assertMatch(res.headers.get("content-type")!, /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    assertMatch(text, /orchard_http_requests_total\{route="\/predict",method="POST",status="200"\} 2/);
    assertMatch(text, /orchard_http_requests_total\{route="\/predict",method="POST",status="400"\} 1/);
    assertMatch(text, /orchard_http_request_duration_seconds_bucket\{route="\/predict",le="\+Inf"\} 3/);
    assertMatch(text, /orchard_http_request_duration_seconds_count\{route="\/predict"\} 3/);
    assertMatch(text, /orchard_model_info\{model="churn",version="1"\} 1/);
    const byClass: Record<string, number> = {};
    for (const p of preds.predictions) byClass[p.prediction] = (byClass[p.prediction] ?? 0) + 1;
    const one = (await t.holder.current!.model.predictRecords([sampleRecord()]))[0].prediction as string;
    byClass[one] = (byClass[one] ?? 0) + 1;
    let total = 0;
    for (const [cls, n] of Object.entries(byClass)) {
      assertMatch(
        text,
        new RegExp(`orchard_predictions_total\\{model="churn",version="1",class="${cls}"\\} ${n}\\n`),
      );
      total += n;
    }
    equal(total, 11);
    // buckets are cumulative and monotone
    const buckets = [...text.matchAll(/duration_seconds_bucket\{route="\/predict",le="[^"]+"\} (\d+)/g)].map((
      m,
    ) => Number(m[1]));
    ok(buckets.every((v, i) => i === 0 || v >= buckets[i - 1]));
  } finally {
    await t.close();
  }
});

Deno.test("admin: disabled without a token, 401 on a wrong one, reload swaps the version", async () => {
  const off = await makeApp(loader);
  try {
    const res = await off.app.request(
      post("/admin/reload", "", "application/json", { authorization: "Bearer anything" }),
    );
    equal(res.status, 403);
    await body(res);
    const other = await off.app.request("/admin/anything");
    equal(other.status, 403);
    await body(other);
  } finally {
    await off.close();
  }
  const t = await makeApp(loader, { adminToken: "s3cret-token" });
  try {
    for (const auth of [undefined, "Bearer wrong", "Basic s3cret-token", "Bearer s3cret-tokenX"]) {
      const res = await t.app.request(
        post("/admin/reload", "", "application/json", auth ? { authorization: auth } : {}),
      );
      equal(res.status, 401, String(auth));
      equal(res.headers.get("www-authenticate"), 'Bearer realm="orchard-admin"');
      await body(res);
    }
    const auth = { authorization: "Bearer s3cret-token" };
    let res = await t.app.request(post("/admin/reload", "", "application/json", auth));
    equal(res.status, 200);
    let b = await body(res);
    deepStrictEqual([b.version, b.changed], ["1", false]);
    res = await t.app.request(
      post("/admin/reload", { model_uri: "models:/churn/2" }, "application/json", auth),
    );
    b = await body(res);
    equal(res.status, 200, JSON.stringify(b));
    deepStrictEqual([b.version, b.changed, b.previous], ["2", true, "1"]);
    equal((await body(await t.app.request(post("/predict", sampleRecord())))).version, "2");
    res = await t.app.request(
      post("/admin/reload", { model_uri: "models:/nope/9" }, "application/json", auth),
    );
    equal(res.status, 422);
    assertMatch((await body(res)).error, /still serving version 2/);
    res = await t.app.request(post("/admin/reload", { model_uri: 5 }, "application/json", auth));
    equal(res.status, 422);
    await body(res);
    equal((await body(await t.app.request("/ready"))).version, "2");
  } finally {
    await t.close();
  }
});

Deno.test("every prediction is logged with inputs, outputs, version and request id", async () => {
  const t = await makeApp(loader);
  try {
    const rows = makeRows(3, 8).map(({ churn: _, ...r }) => r);
    const res = await t.app.request(
      post("/predict", rows.map((r) => ({ ...r, extra: 1 })), "application/json", {
        "x-request-id": "rid-1",
      }),
    );
    const out = await body(res);
    await (await t.app.request(post("/invocations", { dataframe_records: [rows[0]] }))).text();
    await t.log.flush();
    const day = new Date().toISOString().slice(0, 10);
    const files = [...Deno.readDirSync(`${t.logDir}/model=churn/date=${day}`)].map((e) => e.name);
    deepStrictEqual(files, ["test-0.ndjson"]);
    const lines = Deno.readTextFileSync(`${t.logDir}/model=churn/date=${day}/test-0.ndjson`).trim().split(
      "\n",
    ).map((l) => JSON.parse(l));
    equal(lines.length, 4);
    deepStrictEqual(Object.keys(lines[0]), [
      "ts",
      "request_id",
      "model",
      "version",
      "inputs",
      "prediction",
      "probabilities",
    ]);
    equal(lines[0].request_id, "rid-1");
    deepStrictEqual(lines[0].inputs, rows[0]);
    deepStrictEqual(
      lines.slice(0, 3).map((l) => l.prediction),
      out.predictions.map((p: { prediction: unknown }) => p.prediction),
    );
    deepStrictEqual(lines[1].probabilities, out.predictions[1].probabilities);
    equal(lines[0].version, "1");
    ok(!Number.isNaN(Date.parse(lines[0].ts)));
  } finally {
    await t.close();
  }
});

Deno.test("a prediction-log write error shows in /ready and /metrics and never fails a request", async () => {
  const t = await makeApp(loader);
  try {
    // make the log directory unwritable: replace it with a file
    await Deno.remove(t.logDir, { recursive: true });
    await Deno.writeTextFile(t.logDir, "not a directory");
    const res = await t.app.request(post("/predict", sampleRecord()));
    equal(res.status, 200);
    await body(res);
    await t.log.flush();
    const ready = await t.app.request("/ready");
    equal(ready.status, 200);
    const r = await body(ready);
    equal(r.status, "degraded");
    equal(r.prediction_log.ok, false);
    ok(r.prediction_log.last_error);
    const text = await (await t.app.request("/metrics")).text();
    assertMatch(text, /orchard_prediction_log_write_errors_total [1-9]/);
    assertMatch(text, /orchard_prediction_log_failing 1/);
    assertMatch(text, /orchard_prediction_log_pending 1/);
    // recovers when the directory is back: the buffered entry is written
    await Deno.remove(t.logDir);
    await Deno.mkdir(t.logDir);
    await t.log.flush();
    equal((await body(await t.app.request("/ready"))).status, "ready");
    equal(t.log.stats().written, 1);
  } finally {
    await t.close();
  }
});

Deno.test("no response carries a stack trace, even when the model throws", async () => {
  const broken = async (uri: string) => {
    const r = await loader("models:/churn@champion");
    return {
      ...r,
      uri,
      model: {
        ...r.model,
        predictRecords: () => {
          throw new Error("boom\n    at secret (file:///x.ts:1:1)");
        },
        // the service scores a request as one matrix through the artifact's engine: it throws there too
        estimator: {
          ...(r.model as unknown as { estimator: object }).estimator,
          kind: "classifier",
          predictProba: () => {
            throw new Error("boom\n    at secret (file:///x.ts:1:1)");
          },
        },
      },
    };
  };
  const t = await makeApp(broken);
  const errors: unknown[] = [];
  const orig = console.error;
  console.error = (...a: unknown[]) => errors.push(a);
  try {
    const res = await t.app.request(post("/predict", sampleRecord()));
    equal(res.status, 500);
    checkEnvelope(res, "/predict");
    const b = await body(res);
    deepStrictEqual(Object.keys(b).sort(), ["error", "error_code", "request_id"]);
    equal(b.error, "internal error");
    equal(errors.length, 1);
  } finally {
    console.error = orig;
    await t.close();
  }
});

Deno.test("app: pathOf reads a request URL's path as Hono's router does", () => {
  equal(pathOf("http://127.0.0.1:8000/predict"), "/predict");
  equal(pathOf("http://h/predict?explain=true&top=3"), "/predict");
  equal(pathOf("http://h/predict/"), "/predict/");
  equal(pathOf("http://h"), "/");
  equal(pathOf("http://h/a/b?c=/d"), "/a/b");
});

Deno.test("app: POST /predict and /invocations dispatched before Hono answer as the routed app does, mounted or not", async () => {
  const t = await makeApp(loader);
  try {
    // createApp's own fetch takes the direct dispatch; a parent app that mounts it goes through Hono's router
    const parent = new Hono().route("/", t.app);
    for (
      const [path, body] of [["/predict", sampleRecord()], ["/invocations", {
        dataframe_records: [sampleRecord()],
      }]] as const
    ) {
      const direct = await t.app.fetch(post(path, body, "application/json", { "x-request-id": "same.id" }));
      const routed = await parent.fetch(post(path, body, "application/json", { "x-request-id": "same.id" }));
      equal(direct.status, 200);
      equal(routed.status, 200);
      equal(await direct.text(), await routed.text());
      deepStrictEqual([...direct.headers], [...routed.headers]);
    }
    // only POST on the exact paths: a query string is still /predict, other methods and paths are Hono's
    equal((await t.app.fetch(post("/predict?x=1", sampleRecord()))).status, 200);
    equal((await t.app.fetch(new Request("http://local/predict", { method: "PUT" }))).status, 405);
    equal((await t.app.fetch(post("/predict/", sampleRecord()))).status, 404);
    equal((await t.app.fetch(new Request("http://local/predict"))).status, 405);
  } finally {
    await t.close();
  }
});
