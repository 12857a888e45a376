/**
 * Swagger UI for GET /docs, served from the swagger-ui-dist npm package in
 * node_modules (no CDN: the page works offline). The assets are read once,
 * at start-up; the init script is a file, not inline, so the CSP stays strict.
 */

/** The CSP of the /docs pages: their own scripts and styles, nothing from elsewhere. */
export const DOCS_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "connect-src 'self'; font-src 'self' data:; frame-ancestors 'none'";

export interface DocsAssets {
  css: string;
  bundle: string;
}

export const DOCS_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Orchard prediction service</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;

export const DOCS_INIT =
  `window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });\n`;

/** The directory of the installed swagger-ui-dist package. */
function swaggerDir(): string {
  const entry = new URL(import.meta.resolve("swagger-ui-dist"));
  return decodeURIComponent(entry.pathname.replace(/\/[^/]*$/, ""));
}

export async function loadDocsAssets(dir = swaggerDir()): Promise<DocsAssets> {
  const [css, bundle] = await Promise.all([
    Deno.readTextFile(`${dir}/swagger-ui.css`),
    Deno.readTextFile(`${dir}/swagger-ui-bundle.js`),
  ]);
  return { css, bundle };
}
