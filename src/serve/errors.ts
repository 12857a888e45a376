/**
 * The service's error policy, in one place for every sub-app: whatever fails
 * (our HttpError, a UserError from below, an HTTPException from a Hono
 * middleware, or a bug) is answered as one JSON error body with MLflow's
 * error_code and the request id, never a stack; a bug is logged as one line.
 * Also the 404 for unknown paths and the 405 (with Allow) for known ones.
 */
import type { Context, Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { UserError } from "../core/errors.ts";
import { type Env, send } from "./envelope.ts";
import { type FieldProblem, HttpError } from "./http.ts";

/** MLflow's names for the statuses the service answers with. */
export const ERROR_CODES: Readonly<Record<number, string>> = {
  400: "BAD_REQUEST",
  401: "UNAUTHORIZED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  405: "METHOD_NOT_ALLOWED",
  408: "REQUEST_TIMEOUT",
  413: "PAYLOAD_TOO_LARGE",
  415: "UNSUPPORTED_MEDIA_TYPE",
  422: "INVALID_PARAMETER_VALUE",
  503: "SERVICE_UNAVAILABLE",
  500: "INTERNAL_ERROR",
};

/** The body of every error response. */
export interface ErrorBody {
  error: string;
  error_code: string;
  request_id: string;
  /** the same text as error, on /invocations only: MLflow clients read "message" */
  message?: string;
  details?: FieldProblem[];
}

/** 503 while the holder has no model yet. */
export function noModel(): HttpError {
  return new HttpError(503, "model not loaded yet (see /ready)");
}

/** Any error as the status, JSON body and extra headers of our error answer (a bug is logged as one line). */
export function errorAnswer(
  e: Error,
  rid: string,
  route: string | undefined,
  method: string,
  path: string,
): { status: number; text: string; headers: Record<string, string> | undefined } {
  let status = 500, message = "internal error";
  let details: FieldProblem[] | undefined, headers: Record<string, string> | undefined;
  if (e instanceof HttpError) {
    status = e.status;
    message = e.message;
    details = e.details;
    headers = e.headers;
  } else if (e instanceof UserError) {
    status = 422;
    message = e.message.split("\n")[0];
  } else if (e instanceof HTTPException) {
    status = e.status;
    message = e.message.split("\n")[0] || (ERROR_CODES[status] ?? "error").toLowerCase().replaceAll("_", " ");
    const auth = e.res?.headers.get("www-authenticate");
    if (auth) headers = { "www-authenticate": auth };
  } else {
    console.error(`serve: internal error on ${method} ${path} [${rid}]: ${String(e).split("\n")[0]}`);
  }
  const body: ErrorBody = { error: message, error_code: ERROR_CODES[status] ?? "ERROR", request_id: rid };
  if (route === "/invocations") body.message = message;
  if (details) body.details = details;
  return { status, text: JSON.stringify(body), headers };
}

/** app.onError: any error as our JSON body. */
export function onError(e: Error, c: Context<Env>): Response {
  let rid = c.get("requestId");
  if (!rid) { // failed before the request-id middleware ran
    rid = crypto.randomUUID();
    c.header("x-request-id", rid);
  }
  const a = errorAnswer(e, rid, c.get("route"), c.req.method, c.req.path);
  return send(c, a.text, undefined, a.headers, a.status);
}

/**
 * app.notFound: a 404 in our body. It returns the response rather than throw it,
 * so the envelope middleware finishes as for any other answer (secure headers,
 * and the request counted under route "unmatched").
 */
export function notFound(c: Context<Env>): Response {
  return onError(new HttpError(404, `no route for ${c.req.method} ${c.req.path}`), c);
}

/**
 * A known path asked with another method: 405 with Allow. Register it after the
 * path's own routes, so it only answers the methods they do not.
 */
export function allowOnly(app: Hono<Env>, path: string, methods: string): void {
  app.all(path, (c) => {
    c.set("route", c.req.path);
    throw new HttpError(405, `${c.req.method} is not allowed on ${c.req.path} (use ${methods})`, undefined, {
      allow: methods,
    });
  });
}
