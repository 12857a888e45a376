/** The error policy: every failure as our one-line JSON body with MLflow's error_code and the request id. */
import { deepStrictEqual, equal } from "node:assert/strict";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { UserError } from "../../src/core/errors.ts";
import type { Env } from "../../src/serve/envelope.ts";
import { allowOnly } from "../../src/serve/errors.ts";
import { HttpError } from "../../src/serve/http.ts";
import { mount, noStack } from "./helpers.ts";

function failing(): Hono<Env> {
  const app = new Hono<Env>();
  app.get("/http", () => {
    throw new HttpError(422, "invalid input: 1 problem (tenure)", [{
      record: 0,
      field: "tenure",
      message: "missing",
    }], {
      "retry-after": "1",
    });
  });
  app.get("/user", () => {
    throw new UserError("no model at models/x\n  (hint: run deno task pipeline)");
  });
  app.get("/hono", () => {
    throw new HTTPException(401, { message: "token expired" });
  });
  app.get("/hono-bare", () => {
    throw new HTTPException(413);
  });
  app.get("/bug", () => {
    throw new Error("boom\n    at secret (file:///x.ts:1:1)");
  });
  app.post("/invocations", (c) => {
    c.set("route", "/invocations");
    throw new HttpError(400, "expected one of dataframe_split, dataframe_records, instances, inputs");
  });
  app.post("/only-post", (c) => c.body("{}"));
  allowOnly(app, "/only-post", "POST");
  return app;
}
async function error(app: Hono<Env>, path: string, init?: RequestInit) {
  const res = await app.request(path, { ...init, headers: { "x-request-id": "rid-7", ...init?.headers } });
  const text = await res.text();
  equal(noStack(text), true, text);
  equal(res.headers.get("content-type"), "application/json");
  return { res, body: JSON.parse(text) };
}

Deno.test("errors: an HttpError keeps its status, details and headers", async () => {
  const { res, body } = await error(mount(failing()).app, "/http");
  equal(res.status, 422);
  equal(res.headers.get("retry-after"), "1");
  deepStrictEqual(body, {
    error: "invalid input: 1 problem (tenure)",
    error_code: "INVALID_PARAMETER_VALUE",
    request_id: "rid-7",
    details: [{ record: 0, field: "tenure", message: "missing" }],
  });
});

Deno.test("errors: a UserError is a 422 with its first line", async () => {
  const { res, body } = await error(mount(failing()).app, "/user");
  equal(res.status, 422);
  deepStrictEqual(body, {
    error: "no model at models/x",
    error_code: "INVALID_PARAMETER_VALUE",
    request_id: "rid-7",
  });
});

Deno.test("errors: a Hono HTTPException gets our body, with a message even when it has none", async () => {
  const { app } = mount(failing());
  let { res, body } = await error(app, "/hono");
  equal(res.status, 401);
  deepStrictEqual(body, { error: "token expired", error_code: "UNAUTHORIZED", request_id: "rid-7" });
  ({ res, body } = await error(app, "/hono-bare"));
  equal(res.status, 413);
  deepStrictEqual(body, { error: "payload too large", error_code: "PAYLOAD_TOO_LARGE", request_id: "rid-7" });
});

Deno.test("errors: a bug is a 500 'internal error' with no detail, logged as one line with the request id", async () => {
  const lines: string[] = [];
  const orig = console.error;
  console.error = (...a: unknown[]) => lines.push(a.join(" "));
  try {
    const { res, body } = await error(mount(failing()).app, "/bug");
    equal(res.status, 500);
    deepStrictEqual(body, { error: "internal error", error_code: "INTERNAL_ERROR", request_id: "rid-7" });
  } finally {
    console.error = orig;
  }
  deepStrictEqual(lines, ["serve: internal error on GET /bug [rid-7]: Error: boom"]);
});

Deno.test("errors: /invocations errors also carry MLflow's message", async () => {
  const { res, body } = await error(mount(failing()).app, "/invocations", { method: "POST" });
  equal(res.status, 400);
  equal(body.error_code, "BAD_REQUEST");
  equal(body.message, body.error);
});

Deno.test("errors: 404 names the method and path; 405 names the allowed methods, with Allow", async () => {
  const { app } = mount(failing());
  let { res, body } = await error(app, "/nowhere", { method: "PUT" });
  equal(res.status, 404);
  deepStrictEqual(body, { error: "no route for PUT /nowhere", error_code: "NOT_FOUND", request_id: "rid-7" });
  ({ res, body } = await error(app, "/only-post"));
  equal(res.status, 405);
  equal(res.headers.get("allow"), "POST");
  deepStrictEqual(body, {
    error: "GET is not allowed on /only-post (use POST)",
    error_code: "METHOD_NOT_ALLOWED",
    request_id: "rid-7",
  });
  equal((await app.request("/only-post", { method: "POST" })).status, 200);
});
