/**
 * The admin API, mounted under /admin: POST /admin/reload re-resolves the
 * model URI (or switches to a given one) in this worker and every peer. Off
 * unless the service was started with a token: then every /admin/* route
 * answers 403. With one, Hono's bearer-auth checks `Authorization: Bearer`
 * (timing-safe), and each of its failures (no header, a malformed one, a
 * wrong token) is our 401 JSON body with the same WWW-Authenticate challenge.
 * Not on the prediction hot path. Bodies are read by the service's own reader
 * (http.ts), capped at 64 KiB, as on every route that reads one.
 */
import { Hono } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { UserError } from "../../core/errors.ts";
import type { Cluster } from "../cluster.ts";
import { type Env, json } from "../envelope.ts";
import { allowOnly } from "../errors.ts";
import type { ModelHolder } from "../holder.ts";
import { HttpError, mediaType, parseJsonBody, readBodyText } from "../http.ts";

export interface AdminOptions {
  holder: ModelHolder;
  worker: string;
  cluster?: Cluster | null;
  /** the bearer token for /admin/*; without one every admin route answers 403 */
  adminToken?: string | null;
}

/** RFC 6750's b64token, the only tokens an `Authorization: Bearer` header can carry (and bearer-auth accepts). */
const BEARER_TOKEN = /^[A-Za-z0-9._~+/-]+=*$/;
const CHALLENGE = 'Bearer realm="orchard-admin"';
const MAX_RELOAD_BODY = 64 * 1024;

function unauthorized(): never {
  throw new HttpError(401, "missing or wrong bearer token", undefined, { "www-authenticate": CHALLENGE });
}

/** Mount with `app.route("/admin", adminRoutes(...))`. Throws a UserError for a token no header can carry. */
export function adminRoutes(opts: AdminOptions): Hono<Env> {
  const { holder, worker } = opts;
  const cluster = opts.cluster ?? null;
  const token = opts.adminToken || null;
  if (token !== null && !BEARER_TOKEN.test(token)) {
    throw new UserError(
      "ORCHARD_ADMIN_TOKEN: a bearer token may hold only letters, digits and . _ ~ + / - (and = at the end)",
    );
  }
  const app = new Hono<Env>();

  app.use("*", async (c, next) => {
    c.set("route", "/admin");
    if (!token) throw new HttpError(403, "admin API disabled: set ORCHARD_ADMIN_TOKEN to enable it");
    await next();
  });
  if (token) {
    app.use(
      "*",
      bearerAuth({
        token,
        realm: "orchard-admin",
        noAuthenticationHeader: { message: unauthorized },
        invalidAuthenticationHeader: { message: unauthorized },
        invalidToken: { message: unauthorized },
      }),
    );
  }

  app.post("/reload", async (c) => {
    c.set("route", "/admin/reload");
    const text = await readBodyText(c.req.raw, MAX_RELOAD_BODY);
    let uri: string | undefined;
    if (text.trim() !== "") {
      if (mediaType(c.req.header("content-type")) !== "application/json") {
        throw new HttpError(415, "expected Content-Type: application/json");
      }
      const body = parseJsonBody(text) as { model_uri?: unknown };
      if (body === null || typeof body !== "object" || Array.isArray(body)) {
        throw new HttpError(422, 'expected a JSON object, e.g. {"model_uri": "models:/churn@champion"}');
      }
      if (body.model_uri !== undefined) {
        if (typeof body.model_uri !== "string" || body.model_uri.trim() === "") {
          throw new HttpError(422, "model_uri: expected a non-empty string", [{
            field: "model_uri",
            message: "expected a non-empty string",
          }]);
        }
        uri = body.model_uri;
      }
    }
    const [own, peers] = await Promise.all([
      holder.reload({ uri }),
      cluster ? cluster.reloadAll(uri) : Promise.resolve([]),
    ]);
    if (own.error) {
      throw new HttpError(
        422,
        `could not load ${uri ?? holder.uri}: ${own.error}; still serving version ${own.version ?? "none"}`,
      );
    }
    return json(c, {
      model: holder.current?.name ?? null,
      version: own.version,
      changed: own.changed,
      previous: own.previous,
      workers: [{ worker, version: own.version, changed: own.changed }, ...peers],
    });
  });

  allowOnly(app, "/reload", "POST");
  return app;
}
