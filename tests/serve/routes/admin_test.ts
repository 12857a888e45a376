/**
 * The admin sub-app alone, mounted under /admin: 403 for everything without a
 * token; with one, hono/bearer-auth, whose every failure is our 401 body with
 * the orchard-admin challenge; then /admin/reload's own checks.
 */
import { deepStrictEqual, equal, throws } from "node:assert/strict";
import { UserError } from "../../../src/core/errors.ts";
import { ModelHolder } from "../../../src/serve/holder.ts";
import { adminRoutes } from "../../../src/serve/routes/admin.ts";
import { dirLoader, trainFixture } from "../fixture.ts";
import { counted, mount, post } from "../helpers.ts";

const root = await Deno.makeTempDir({ prefix: "orchard-serve-admin-" });
const v1 = await trainFixture(`${root}/v1`, { seed: 3, trees: 4 });
const v2 = await trainFixture(`${root}/v2`, { seed: 9, trees: 4 });
const loader = dirLoader({
  "models:/churn@champion": { name: "churn", version: "1", dir: v1 },
  "models:/churn/2": { name: "churn", version: "2", dir: v2 },
});
const TOKEN = "s3cret.Token_~+/-==";

async function admin(adminToken: string | null) {
  const holder = new ModelHolder({ uri: "models:/churn@champion", loader });
  await holder.reload();
  return { ...mount(adminRoutes({ holder, worker: "w1", adminToken }), "/admin"), holder };
}
const auth = (value = `Bearer ${TOKEN}`) => ({ authorization: value });

Deno.test("admin: without a token every /admin route is 403, naming the variable to set", async () => {
  const { app, holder } = await admin(null);
  for (const path of ["/admin/reload", "/admin/anything", "/admin"]) {
    const res = await app.request(post(path, "", "application/json", auth()));
    equal(res.status, 403, path);
    deepStrictEqual((await res.json()).error, "admin API disabled: set ORCHARD_ADMIN_TOKEN to enable it");
  }
  holder.stop();
});

Deno.test("admin: no header, another scheme, a malformed or a wrong token: 401 with the challenge", async () => {
  const { app, holder, metrics } = await admin(TOKEN);
  const cases = [
    undefined,
    "Basic czNjcmV0",
    "Bearer",
    "Bearer two words",
    "Bearer wrong",
    `Bearer ${TOKEN}x`,
  ];
  for (const value of cases) {
    const res = await app.request(post("/admin/reload", "", "application/json", value ? auth(value) : {}));
    equal(res.status, 401, String(value));
    equal(res.headers.get("www-authenticate"), 'Bearer realm="orchard-admin"');
    equal(res.headers.get("content-type"), "application/json");
    const body = await res.json();
    deepStrictEqual([body.error, body.error_code], ["missing or wrong bearer token", "UNAUTHORIZED"]);
  }
  deepStrictEqual(counted(metrics), { "/admin POST 401": cases.length });
  equal(holder.loads, 1, "no reload without the token");
  holder.stop();
});

Deno.test("admin: the right token (any case of the scheme) reloads; another URI swaps the version", async () => {
  const { app, holder } = await admin(TOKEN);
  let res = await app.request(post("/admin/reload", "", "application/json", auth(`bearer ${TOKEN}`)));
  equal(res.status, 200);
  deepStrictEqual(await res.json(), {
    model: "churn",
    version: "1",
    changed: false,
    previous: "1",
    workers: [{ worker: "w1", version: "1", changed: false }],
  });
  res = await app.request(
    post("/admin/reload", { model_uri: "models:/churn/2" }, "application/json", auth()),
  );
  deepStrictEqual((await res.json()).version, "2");
  equal(holder.current!.version, "2");
  holder.stop();
});

Deno.test("admin: reload's own checks: 413 over 64 KB, 415, 422 naming model_uri, 405 with Allow", async () => {
  const { app, holder } = await admin(TOKEN);
  const check = async (req: Request, status: number, error: string | RegExp) => {
    const res = await app.request(req);
    equal(res.status, status);
    const body = await res.json();
    if (typeof error === "string") equal(body.error, error);
    else equal(error.test(body.error), true, body.error);
    return { res, body };
  };
  await check(
    post("/admin/reload", "x".repeat(70_000), "application/json", auth()),
    413,
    "request body is larger than 65536 bytes",
  );
  await check(
    post("/admin/reload", "{}", "text/plain", auth()),
    415,
    "expected Content-Type: application/json",
  );
  const { body } = await check(
    post("/admin/reload", { model_uri: 5 }, "application/json", auth()),
    422,
    "model_uri: expected a non-empty string",
  );
  deepStrictEqual(body.details, [{ field: "model_uri", message: "expected a non-empty string" }]);
  await check(post("/admin/reload", [1], "application/json", auth()), 422, /expected a JSON object/);
  await check(
    post("/admin/reload", { model_uri: "models:/nope/1" }, "application/json", auth()),
    422,
    /^could not load models:\/nope\/1: .*; still serving version 1$/,
  );
  const { res } = await check(
    new Request("http://local/admin/reload", { headers: auth() }),
    405,
    "GET is not allowed on /admin/reload (use POST)",
  );
  equal(res.headers.get("allow"), "POST");
  holder.stop();
});

Deno.test("admin: a token no Authorization header can carry is refused at start-up, naming the variable", () => {
  const holder = new ModelHolder({ uri: "models:/churn@champion", loader });
  for (const bad of ["with space", "p@ss!", "tab\there", "=leading"]) {
    throws(
      () => adminRoutes({ holder, worker: "w1", adminToken: bad }),
      (e: Error) => e instanceof UserError && /^ORCHARD_ADMIN_TOKEN: /.test(e.message),
      bad,
    );
  }
});
