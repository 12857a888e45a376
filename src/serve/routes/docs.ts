/**
 * The service describing itself: GET /openapi.json (an OpenAPI 3.1 document
 * built from the served model's signature, cached per model version) and
 * Swagger UI under /docs, served from the installed swagger-ui-dist (no CDN).
 * The /docs pages relax the CSP for their own scripts and styles and may be
 * cached; everything else the service answers is no-store.
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { DOCS_CSP, DOCS_HTML, DOCS_INIT, type DocsAssets } from "../docs.ts";
import { type Env, send } from "../envelope.ts";
import { allowOnly } from "../errors.ts";
import type { ModelHolder, ServedModel } from "../holder.ts";
import { HttpError } from "../http.ts";
import { buildOpenApi } from "../openapi.ts";

export interface DocsOptions {
  holder: ModelHolder;
  /** the batch limit the document states */
  maxBatch: number;
  /** Swagger UI's assets, read at start-up; absent: /docs answers 404 */
  docs?: Promise<DocsAssets> | null;
}

const DOCS_HEADERS = { "content-security-policy": DOCS_CSP, "cache-control": "public, max-age=3600" };

export function docsRoutes(opts: DocsOptions): Hono<Env> {
  const { holder, maxBatch } = opts;
  const openapiCache = new WeakMap<ServedModel, string>();
  let openapiNoModel: string | undefined;
  const app = new Hono<Env>();

  app.get("/openapi.json", (c) => {
    c.set("route", "/openapi.json");
    const m = holder.current;
    let text = m ? openapiCache.get(m) : openapiNoModel;
    if (!text) {
      text = JSON.stringify(buildOpenApi(m, maxBatch));
      if (m) openapiCache.set(m, text);
      else openapiNoModel = text;
    }
    return send(c, text);
  });

  const asset = (pick: (d: DocsAssets) => string, type: string) => async (c: Context<Env>) => {
    c.set("route", "/docs");
    if (!opts.docs) throw new HttpError(404, "API docs are not enabled");
    let assets: DocsAssets;
    try {
      assets = await opts.docs;
    } catch {
      throw new HttpError(404, "API docs are unavailable (swagger-ui-dist not installed)");
    }
    return send(c, pick(assets), type, DOCS_HEADERS);
  };
  const html = asset(() => DOCS_HTML, "text/html; charset=utf-8");
  app.get("/docs", html);
  app.get("/docs/", html);
  app.get("/docs/swagger-ui.css", asset((d) => d.css, "text/css; charset=utf-8"));
  app.get("/docs/swagger-ui-bundle.js", asset((d) => d.bundle, "text/javascript; charset=utf-8"));
  app.get("/docs/init.js", asset(() => DOCS_INIT, "text/javascript; charset=utf-8"));

  allowOnly(app, "/openapi.json", "GET, HEAD");
  for (
    const path of ["/docs", "/docs/", "/docs/swagger-ui.css", "/docs/swagger-ui-bundle.js", "/docs/init.js"]
  ) {
    allowOnly(app, path, "GET, HEAD");
  }
  return app;
}
