/**
 * bench:serve's upper bound: `deno serve --parallel` answering every request
 * with a constant JSON body, reading nothing. No framework, no body parse.
 *
 *   deno serve --parallel --port 8782 bench/serve_bare_deno.ts
 */
const BODY = '{"status":"ok"}';
const HEADERS = { "content-type": "application/json" };

export default {
  fetch(): Response {
    return new Response(BODY, { headers: HEADERS });
  },
} satisfies Deno.ServeDefaultExport;
