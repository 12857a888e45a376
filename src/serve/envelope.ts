/**
 * The envelope every response of the service gets, whatever the route: a
 * request id, the secure headers, `Cache-Control: no-store`, and one count and
 * latency observation in the metrics under the route's label. The request id
 * and the secure headers are Hono's own middleware (hono/request-id,
 * hono/secure-headers), configured to give exactly the headers the service
 * answered with before. The metrics and the route label are ours: Hono has no
 * middleware for them.
 *
 * Measured with bench:serve-path against the hand-written envelope they
 * replaced, on POST /predict through app.fetch (four runs, median of 151
 * paired rounds each, reference 23-33 µs): the two together -0.27 to +0.35 µs
 * (within ±1%, every 95% CI spanning 0), and createApp as built -0.25 to
 * +0.25 µs (within ±1.1%): no difference beyond noise. Taken one at a time
 * they pull opposite ways: hono/secure-headers alone is faster (-1.3 to
 * -1.7 µs: setting headers on a built response costs less in Deno than passing
 * them in its init), hono/request-id alone slower (+1.4 to +2.7 µs) only
 * because its id is a prepared header of the context, so a response must be
 * built with c.body, which copied the old 11-header init into a Headers object
 * one at a time. Used together, as here, the init carries the content type alone.
 *
 * The prediction routes (the hot path) are dispatched before this middleware
 * and give themselves the envelope with `reply`: by default Content-Type and
 * X-Request-Id only (API_HEADERS; a 200 from /predict to a caller that sent no
 * id: Content-Type alone, `lean`), with serve.prediction_headers full the same
 * headers as the middleware's (ENVELOPE_HEADERS, checked against it by
 * tests/serve/envelope_test.ts); the same request id rule and the same metrics
 * observation, in one function
 * call and with no Headers object in the init: bench:serve-path timed a
 * Response with these 11 headers in its init at 6-10 µs, with the content type
 * in the init and the other ten appended to the built Response at 1.4-1.7 µs
 * (Deno validates and copies a record or a Headers object in an init through
 * WebIDL; append takes one pair).
 */
import type { Context, MiddlewareHandler } from "hono";
import { requestId, type RequestIdVariables } from "hono/request-id";
import { secureHeaders } from "hono/secure-headers";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { requestIdFrom } from "./http.ts";
import type { Metrics } from "./metrics.ts";

/** What a handler can read from the context: the request id, and the route label it sets for metrics. */
export type Env = { Variables: RequestIdVariables & { route: string } };

/**
 * The JSON media type, without a charset: RFC 8259 defines none for it (JSON is
 * UTF-8), and Deno's HTTP layer answers a 200 whose one header is exactly
 * `Content-Type: application/json` on its fast static path (`lean`).
 */
export const JSON_TYPE = "application/json";

/**
 * Hono's request id, with our rule for a caller's id: 1 to 128 of `A-Za-z0-9._:-`
 * (requestIdFrom). Hono's own check (word characters, `-` and `=`) would drop ids
 * with dots or colons (trace ids such as `4bf92f.1`) and take ones with `=`, so
 * limitLength 0 hands every caller's value to the generator, which applies ours.
 */
export const REQUEST_ID_OPTIONS: NonNullable<Parameters<typeof requestId>[0]> = {
  headerName: "X-Request-Id",
  limitLength: 0,
  generator: (c) => requestIdFrom(c.req.header("x-request-id")),
};

/**
 * Hono's secure headers, set to the service's set (docs/reference/http.md):
 * X-Frame-Options DENY, a CSP that allows nothing, and none of the browser-only
 * extras Hono adds by default. overwrite: false keeps a header a route set
 * itself (the /docs pages relax the CSP for their own scripts).
 */
export const SECURE_HEADER_OPTIONS: NonNullable<Parameters<typeof secureHeaders>[0]> = {
  contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
  xFrameOptions: "DENY",
  originAgentCluster: false,
  xDnsPrefetchControl: false,
  xDownloadOptions: false,
  xXssProtection: false,
  removePoweredBy: false,
  overwrite: false,
};

/** Counts every request under the label its route set (unmatched: no route), with its latency. */
export function observe(metrics: Metrics): MiddlewareHandler<Env> {
  return async function observe(c, next) {
    const t0 = performance.now();
    c.set("route", "unmatched");
    await next();
    const res = c.res;
    if (!res.headers.has("cache-control")) res.headers.set("cache-control", "no-store");
    metrics.observe(c.get("route"), c.req.method, res.status, (performance.now() - t0) / 1000);
  };
}

/** The whole envelope, outermost first: metrics time everything inside. */
export function envelope(metrics: Metrics): MiddlewareHandler<Env>[] {
  return [observe(metrics), requestId(REQUEST_ID_OPTIONS), secureHeaders(SECURE_HEADER_OPTIONS)];
}

/**
 * What hono/secure-headers (SECURE_HEADER_OPTIONS) and the observe middleware
 * put on every response, besides the content type and the request id.
 */
export const ENVELOPE_HEADERS: readonly (readonly [string, string])[] = [
  ["cache-control", "no-store"],
  ["content-security-policy", "default-src 'none'; frame-ancestors 'none'"],
  ["cross-origin-opener-policy", "same-origin"],
  ["cross-origin-resource-policy", "same-origin"],
  ["referrer-policy", "no-referrer"],
  ["strict-transport-security", "max-age=15552000; includeSubDomains"],
  ["x-content-type-options", "nosniff"],
  ["x-frame-options", "DENY"],
  ["x-permitted-cross-domain-policies", "none"],
];

/**
 * The headers of the prediction routes' answers by default (serve.prediction_headers
 * "api"), besides Content-Type and X-Request-Id: none. The answer to a POST is
 * stored by no cache unless it says how long it is fresh (RFC 9111 4.2.1; it
 * never does), so `Cache-Control: no-store` changes nothing there, and the
 * other headers of ENVELOPE_HEADERS tell a browser how to treat a document it
 * loads by GET (framing, sniffing a script or a style, referrers, HSTS). Each
 * header costs Deno's HTTP layer about 1-2.5 µs of CPU per response under
 * wrk (docs/benchmarks.md). "full"
 * gives the prediction routes the whole envelope.
 */
export const API_HEADERS: readonly (readonly [string, string])[] = [];

/** Which header set the prediction routes answer with (serve.prediction_headers). */
export type PredictionHeaders = "api" | "full";

export function predictionHeaderSet(which: PredictionHeaders): readonly (readonly [string, string])[] {
  return which === "full" ? ENVELOPE_HEADERS : API_HEADERS;
}

/**
 * A JSON response with the envelope, built without Hono's context (the hot
 * path): the content type in the init, then `headers` (default the whole
 * envelope), the request id and any `extra` appended to the built Response.
 */
export function reply(
  text: string,
  status: number,
  requestId: string,
  extra?: Record<string, string>,
  headers: readonly (readonly [string, string])[] = ENVELOPE_HEADERS,
): Response {
  const res = new Response(text, { status, headers: { "content-type": JSON_TYPE } });
  const h = res.headers;
  for (let i = 0; i < headers.length; i++) h.append(headers[i][0], headers[i][1]);
  h.append("x-request-id", requestId);
  if (extra) { for (const k in extra) h.set(k, extra[k]); }
  return res;
}

/** The init of a lean answer: one header, the exact content type Deno's fast path takes (shared, never mutated). */
const LEAN_INIT: ResponseInit = { headers: { "content-type": JSON_TYPE } };

/**
 * A 200 JSON answer with `Content-Type: application/json` and no other header:
 * Deno serves a Response built so (status 200, a string body, that one header
 * in the init) on its fast static path. Any further header, even one appended
 * after construction, or another content type, takes the general path, which
 * cost 11-12 µs of CPU more per /predict answer under wrk (docs/benchmarks.md,
 * "Serving"), a fifth of the whole request.
 */
export function lean(text: string): Response {
  return new Response(text, LEAN_INIT);
}

/** A JSON response (the envelope adds the request id and the secure headers). */
export function json(c: Context<Env>, value: unknown, status = 200): Response {
  return c.body(JSON.stringify(value), status as ContentfulStatusCode, { "content-type": JSON_TYPE });
}

/** A response of already-serialized text with its content type and any extra headers. */
export function send(
  c: Context<Env>,
  text: string,
  contentType = JSON_TYPE,
  extra?: Record<string, string>,
  status = 200,
): Response {
  return c.body(text, status as ContentfulStatusCode, { "content-type": contentType, ...extra });
}
