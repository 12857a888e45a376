/**
 * bench:serve's limit for a framework service: a bare Hono app under
 * `deno serve --parallel` that parses the JSON body of POST /predict and
 * answers JSON, with no validation, model, metrics, log or envelope. Orchard's
 * `/predict` is reported as a fraction of it, measured in the same run.
 *
 *   deno serve --parallel --port 8783 bench/serve_bare_hono.ts
 */
import { Hono } from "hono";

const app = new Hono();
app.post("/predict", async (c) => {
  const record = await c.req.json<Record<string, unknown>>();
  return c.json({ predictions: [{ prediction: 0, fields: Object.keys(record).length }] });
});
app.get("/health", (c) => c.json({ status: "ok" }));

export default app;
