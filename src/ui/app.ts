/**
 * The UI as a Hono app: server-rendered pages over the tracking store and
 * registry (the same classes the CLI uses), charts as SVG rendered here, one
 * small same-origin script, nothing from the network. `createUiApp(ctx)`
 * takes its collaborators, so tests call `app.fetch` with no server.
 *
 * Security: every store value goes through the escaping template (html.ts);
 * a Content-Security-Policy allows only this origin's script and no inline
 * script, so even a missed escape could not run; served reports (which we
 * did not write here) get a sandboxing CSP; actions need a logged-in session
 * and its CSRF token (auth.ts), and are refused (403) otherwise, or when no
 * ORCHARD_ADMIN_TOKEN was set (read-only).
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { join, resolve, sep } from "node:path";
import { UserError } from "../core/errors.ts";
import { CLIENT_JS, html, page, type Raw, type Viewer } from "./html.ts";
import type { UiContext } from "./context.ts";
import {
  cookie,
  LOGIN_COOKIE,
  readCookie,
  sameSecret,
  SESSION_COOKIE,
  SESSION_MS,
  Sessions,
} from "./auth.ts";
import { comparePage, listFiles, runPage, runsPage } from "./runs_pages.ts";
import { type Flash, modelComparePage, modelPage, modelsIndex } from "./models_pages.ts";
import { monitoringPage, statusPage } from "./status_pages.ts";
import { REPORT_NAME } from "./monitoring_data.ts";
import { gateTarget } from "../registry/format.ts";

const PAGE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-src 'self'; frame-ancestors 'self'; form-action 'self'; base-uri 'none'; object-src 'none'";
/** A stored report: its own inline styles, no scripts, no network, framed only by us. */
const REPORT_CSP =
  "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'";

export { Sessions };

function viewerOf(c: Context, sessions: Sessions): Viewer {
  const s = sessions.get(readCookie(c.req.header("cookie"), SESSION_COOKIE));
  return { adminEnabled: sessions.enabled, admin: !!s, csrf: s?.csrf, name: s?.name };
}

function send(c: Context, title: string, current: string, viewer: Viewer, body: Raw, status = 200): Response {
  return c.html(page(title, current, viewer, body), status as 200);
}

/** The request's form fields, or null when its body cannot be read as a form (a broken multipart: a 400, not a 500). */
async function readForm(c: Context): Promise<Record<string, unknown> | null> {
  try {
    return await c.req.parseBody();
  } catch {
    return null;
  }
}

/** The 400 page for a body that is no readable form. */
function unreadableForm(c: Context, viewer: Viewer): Response {
  return send(
    c,
    "Bad request",
    "",
    viewer,
    html`
      <h1>Bad request</h1>
      <p class="error" role="alert">The form could not be read: send it from the page.</p>
    `,
    400,
  );
}

function statusOf(e: unknown): number {
  const m = (e as Error).message ?? "";
  return /^unknown (run|model)|no .*version|not registered|does not exist/.test(m) ? 404 : 400;
}

/** A registry refusal in the form's words: the CLI's flags are the form's checkbox and reason field. */
export function formWords(message: string): string {
  return message
    .replace(/use --force --reason "<why>"/g, 'tick "Force past failing gates" and give a reason')
    .replace(/\(or --force\)/g, '(or tick "Also remove its aliases")')
    .replace(/--force needs --reason "<why>"/g, '"Force past failing gates" needs a reason')
    .replace(/\(register or promote --alias\), or use models archive --force/g, "(promote it with an alias)")
    .replace(/--force/g, '"Force past failing gates"')
    .replace(/--reason "<why>"/g, "a reason");
}

/** Serves one file as a download, or (inline) a stored HTML report under the sandbox CSP. */
function fileResponse(path: string, opts: { download?: string; report?: boolean } = {}): Response {
  let bytes: Uint8Array;
  try {
    const st = Deno.lstatSync(path);
    if (!st.isFile) return new Response("not found\n", { status: 404 });
    bytes = Deno.readFileSync(path);
  } catch {
    return new Response("not found\n", { status: 404 });
  }
  const headers = new Headers({ "x-content-type-options": "nosniff" });
  if (opts.report) {
    headers.set(
      "content-type",
      path.endsWith(".html") ? "text/html; charset=utf-8" : "text/plain; charset=utf-8",
    );
    headers.set("content-security-policy", REPORT_CSP);
  } else {
    headers.set("content-type", "application/octet-stream");
    headers.set(
      "content-disposition",
      `attachment; filename="${(opts.download ?? "file").replace(/[^\w.-]/g, "_")}"`,
    );
  }
  return new Response(bytes as BodyInit, { headers });
}

export function createUiApp(ctx: UiContext): Hono {
  const app = new Hono();
  const sessions = ctx.sessions;

  app.use("*", async (c, next) => {
    const t0 = performance.now();
    await next();
    c.res.headers.set("server-timing", `app;dur=${(performance.now() - t0).toFixed(1)}`);
    if (!c.res.headers.has("content-security-policy")) c.res.headers.set("content-security-policy", PAGE_CSP);
    c.res.headers.set("x-content-type-options", "nosniff");
    c.res.headers.set("referrer-policy", "same-origin");
    c.res.headers.set("x-frame-options", "SAMEORIGIN");
  });

  app.onError((e, c) => {
    const viewer = viewerOf(c, sessions);
    if (e instanceof UserError) {
      return send(
        c,
        "Error",
        "",
        viewer,
        html`
          <h1>Not possible</h1>
          <p class="error" role="alert">${e.message}</p>
        `,
        statusOf(e),
      );
    }
    console.error(`ui: ${e instanceof Error ? (Deno.env.get("ORCHARD_DEBUG") ? e.stack : e.message) : e}`);
    return send(
      c,
      "Error",
      "",
      viewer,
      html`
        <h1>Internal error</h1>
        <p class="error" role="alert">${(e as Error).message}</p>
      `,
      500,
    );
  });

  app.notFound((c) =>
    send(
      c,
      "Not found",
      "",
      viewerOf(c, sessions),
      html`
        <h1>Not found</h1>
        <p>No page at ${c.req.path}.</p>
      `,
      404,
    )
  );

  app.get(
    "/static/ui.js",
    (c) =>
      c.body(CLIENT_JS, 200, {
        "content-type": "text/javascript; charset=utf-8",
        "cache-control": "max-age=3600",
      }),
  );

  app.get("/", async (c) => send(c, "Status", "/", viewerOf(c, sessions), await statusPage(ctx)));

  app.get("/runs", async (c) => {
    const q = c.req.queries();
    const one = (k: string) => q[k]?.[0];
    const num = (k: string) => (one(k) && /^\d+$/.test(one(k)!) ? Number(one(k)) : undefined);
    const body = await runsPage(ctx, {
      experiment: one("experiment") || undefined,
      q: one("q"),
      sort: one("sort"),
      cols: (q.cols ?? []).flatMap((s) => s.split(",")).map((s) => s.trim()).filter(Boolean),
      page: num("page"),
      size: num("size"),
    });
    return send(c, "Runs", "/runs", viewerOf(c, sessions), body);
  });

  app.get("/compare", async (c) => {
    // the same run twice is one run: comparing it with itself says nothing
    const ids = [...new Set((c.req.queries("run") ?? []).map((r) => r.trim().toLowerCase()).filter(Boolean))];
    const viewer = viewerOf(c, sessions);
    if (ids.length < 2) {
      return send(
        c,
        "Compare",
        "/runs",
        viewer,
        html`
          <h1>Compare runs</h1>
          <p class="error" role="alert">Select at least two runs to compare.</p>
          <p><a href="/runs">Back to runs</a></p>
        `,
        400,
      );
    }
    return send(c, "Compare", "/runs", viewer, await comparePage(ctx, ids, c.req.query("metric")));
  });

  app.get(
    "/runs/:id",
    async (c) => send(c, "Run", "/runs", viewerOf(c, sessions), await runPage(ctx, c.req.param("id"))),
  );

  app.get("/runs/:id/report", async (c) => {
    const run = await ctx.store.getRun(await ctx.store.resolveRunId(c.req.param("id")));
    const path = run.artifacts.report;
    if (!path) return c.text("no report\n", 404);
    return fileResponse(path, { report: true });
  });

  const artifact = async (c: Context, name: string, file?: string) => {
    const run = await ctx.store.getRun(await ctx.store.resolveRunId(c.req.param("id") ?? ""));
    const path = run.artifacts[name];
    if (!path) return c.text("no such artifact\n", 404);
    if (file === undefined) {
      if (listFiles(path) !== null) return c.text("a directory: download its files\n", 404);
      return fileResponse(path, { download: path.split(/[\\/]/).pop() });
    }
    // a plain file directly inside the artifact's directory, nothing else
    const names = listFiles(path);
    if (!names || !names.includes(file)) return c.text("no such file\n", 404);
    const full = resolve(path, file);
    if (!full.startsWith(resolve(path) + sep)) return c.text("no such file\n", 404);
    return fileResponse(full, { download: file });
  };
  app.get("/runs/:id/artifacts/:name", (c) => artifact(c, c.req.param("name")));
  app.get("/runs/:id/artifacts/:name/:file", (c) => artifact(c, c.req.param("name"), c.req.param("file")));

  app.get(
    "/models",
    async (c) => send(c, "Models", "/models", viewerOf(c, sessions), await modelsIndex(ctx)),
  );
  /**
   * A done action's message, by a random id the redirect after it carries: the page after a POST is a GET
   * (reloading it moves nothing again), and the message shows once.
   */
  const flashes = new Map<string, { flash: Flash; expires: number }>();
  const keepFlash = (flash: Flash): string => {
    const now = Date.now();
    for (const [k, v] of flashes) if (v.expires < now) flashes.delete(k);
    const id = crypto.randomUUID();
    flashes.set(id, { flash, expires: now + 60_000 });
    return id;
  };
  const takeFlash = (id: string | undefined): Flash | undefined => {
    const kept = id ? flashes.get(id) : undefined;
    if (id) flashes.delete(id);
    return kept && kept.expires >= Date.now() ? kept.flash : undefined;
  };

  app.get("/models/:name", async (c) => {
    const name = c.req.param("name");
    return send(
      c,
      `Model ${name}`,
      "/models",
      viewerOf(c, sessions),
      await modelPage(ctx, name, viewerOf(c, sessions), takeFlash(c.req.query("done"))),
    );
  });
  app.get("/models/:name/compare", async (c) => {
    const name = c.req.param("name");
    const a = Number(c.req.query("a")), b = Number(c.req.query("b"));
    if (!Number.isInteger(a) || !Number.isInteger(b) || a < 1 || b < 1) {
      throw new UserError("compare needs two versions (a and b)");
    }
    return send(
      c,
      `Compare ${name}`,
      "/models",
      viewerOf(c, sessions),
      await modelComparePage(ctx, name, a, b),
    );
  });

  /** The checks every state-changing request passes: admin enabled, a session, its CSRF token, our origin. */
  const guard = async (c: Context): Promise<{ viewer: Viewer; form: Record<string, string> } | Response> => {
    const viewer = viewerOf(c, sessions);
    const refuse = (why: string) =>
      send(
        c,
        "Refused",
        "",
        viewer,
        html`
          <h1>Refused</h1>
          <p class="error" role="alert">${why}</p>
        `,
        403,
      );
    if (!sessions.enabled) {
      return refuse("Read-only: this UI was started without ORCHARD_ADMIN_TOKEN, so it takes no actions.");
    }
    if (!viewer.admin) return refuse("Log in with the admin token to take actions.");
    const origin = c.req.header("origin");
    if (origin && origin !== new URL(c.req.url).origin) return refuse("Cross-origin request refused.");
    const body = await readForm(c);
    if (!body) return unreadableForm(c, viewer);
    const form: Record<string, string> = {};
    for (const [k, v] of Object.entries(body)) if (typeof v === "string") form[k] = v;
    if (!form.csrf || !viewer.csrf || !sameSecret(form.csrf, viewer.csrf)) {
      return refuse("Missing or wrong CSRF token: reload the page and try again.");
    }
    return { viewer, form };
  };

  const action = (verb: "promote" | "stage" | "archive" | "rollback") => async (c: Context) => {
    const g = await guard(c);
    if (g instanceof Response) return g;
    const { viewer, form } = g;
    const name = c.req.param("name")!;
    const force = form.force === "1" || form.force === "on";
    const reason = form.reason?.trim() || undefined;
    // recorded in the registry's history as who made the move
    const actor = `ui:${viewer.name ?? "admin"}`;
    let flash: Flash;
    let status = 200;
    try {
      const r = verb === "promote"
        ? await ctx.modelsAction(["promote", name, form.version ?? ""], {
          alias: form.alias?.trim() || "champion",
          force,
          reason,
          actor,
        })
        : verb === "stage"
        ? await ctx.modelsAction(["promote", name, form.version ?? ""], {
          stage: form.stage,
          force,
          reason,
          actor,
        })
        : verb === "archive"
        ? await ctx.modelsAction(["archive", name, form.version ?? ""], { force, reason, actor })
        : await ctx.modelsAction(["rollback", name], { alias: form.alias?.trim() || "champion", actor });
      // Post/Redirect/Get: the model's page, with the message, at its own URL
      return c.redirect(
        `/models/${encodeURIComponent(name)}?done=${keepFlash({ ok: describeResult(r) })}`,
        303,
      );
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      flash = { error: formWords(e.message) };
      status = 422;
    }
    return send(c, `Model ${name}`, "/models", viewer, await modelPage(ctx, name, viewer, flash), status);
  };
  app.post("/models/:name/promote", action("promote"));
  app.post("/models/:name/stage", action("stage"));
  app.post("/models/:name/archive", action("archive"));
  app.post("/models/:name/rollback", action("rollback"));

  app.get("/monitoring", (c) => {
    const p = Number(c.req.query("page") ?? 1);
    return send(
      c,
      "Monitoring",
      "/monitoring",
      viewerOf(c, sessions),
      monitoringPage(ctx, Number.isInteger(p) ? p : 1),
    );
  });
  app.get("/reports/:file", (c) => {
    const file = c.req.param("file");
    if (!REPORT_NAME.test(file)) return c.text("not found\n", 404);
    return fileResponse(join(ctx.reportsDir, file), { report: true });
  });

  // ---------------------------------------------------------------- login
  app.get("/login", (c) => {
    const viewer = viewerOf(c, sessions);
    if (!sessions.enabled) {
      return send(
        c,
        "Log in",
        "",
        viewer,
        html`
          <h1>Log in</h1>
          <p class="notice"
            role="note">Read-only: this UI was started without ORCHARD_ADMIN_TOKEN; there is nothing to log in to.</p>
        `,
      );
    }
    const token = Sessions.newLoginToken();
    c.header("set-cookie", cookie(LOGIN_COOKIE, token, 600));
    return send(c, "Log in", "", viewer, loginForm(token, c.req.query("error") === "1"));
  });
  app.post("/login", async (c) => {
    const viewer = viewerOf(c, sessions);
    if (!sessions.enabled) {
      return send(
        c,
        "Refused",
        "",
        viewer,
        html`
          <h1>Refused</h1>
          <p class="error" role="alert">Read-only: no admin token set.</p>
        `,
        403,
      );
    }
    const body = await readForm(c);
    if (!body) return unreadableForm(c, viewer);
    const expected = readCookie(c.req.header("cookie"), LOGIN_COOKIE);
    if (typeof body.csrf !== "string" || !expected || !sameSecret(body.csrf, expected)) {
      return send(
        c,
        "Refused",
        "",
        viewer,
        html`
          <h1>Refused</h1>
          <p class="error" role="alert">Missing or wrong CSRF token: <a href="/login">reload the login form</a>.</p>
        `,
        403,
      );
    }
    let started;
    try {
      started = sessions.login(
        typeof body.token === "string" ? body.token : "",
        typeof body.name === "string" ? body.name : "",
      );
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      const token = Sessions.newLoginToken();
      c.header("set-cookie", cookie(LOGIN_COOKIE, token, 600));
      return send(c, "Log in", "", viewer, loginForm(token, false, e.message), 400);
    }
    if (!started) {
      const token = Sessions.newLoginToken();
      c.header("set-cookie", cookie(LOGIN_COOKIE, token, 600));
      return send(c, "Log in", "", viewer, loginForm(token, true), 401);
    }
    c.header("set-cookie", cookie(SESSION_COOKIE, started.cookie, SESSION_MS / 1000), { append: true });
    c.header("set-cookie", cookie(LOGIN_COOKIE, "", 0), { append: true });
    return c.redirect("/models", 303);
  });
  app.post("/logout", async (c) => {
    const g = await guard(c);
    if (g instanceof Response) return g;
    sessions.logout(readCookie(c.req.header("cookie"), SESSION_COOKIE));
    c.header("set-cookie", cookie(SESSION_COOKIE, "", 0));
    return c.redirect("/", 303);
  });

  return app;
}

function loginForm(csrf: string, failed: boolean, nameError?: string): Raw {
  return html`<h1>Log in</h1>
<form method="post" action="/login" aria-labelledby="login-h">
<h2 id="login-h">Admin token</h2>
${failed ? html`<p class="error" role="alert" id="login-error">That is not the admin token.</p>` : ""}
${nameError ? html`<p class="error" role="alert" id="name-error">${nameError}</p>` : ""}
<input type="hidden" name="csrf" value="${csrf}">
<p><label for="login-name">Your name (recorded with your actions as ui:&lt;name&gt;)</label>
<input type="text" id="login-name" name="name" value="admin" required pattern="[A-Za-z0-9._@\\-]{1,64}" autocomplete="username"${
    nameError
      ? html`
        aria-describedby="name-error"
      `
      : ""
  }></p>
<p><label for="token">Token (ORCHARD_ADMIN_TOKEN)</label>
<input type="password" id="token" name="token" required autocomplete="current-password" autofocus${
    failed
      ? html`
        aria-describedby="login-error"
      `
      : ""
  }></p>
<button type="submit" class="primary">Log in</button>
</form>`;
}

function describeResult(r: Awaited<ReturnType<UiContext["modelsAction"]>>): string {
  switch (r.command) {
    case "promote": {
      const what = gateTarget(r.outcome.target);
      const from = r.outcome.previousVersion !== null && r.outcome.previousVersion !== r.version
        ? ` (was v${r.outcome.previousVersion})`
        : "";
      return `${r.name}: ${what} -> version ${r.version}${from}${r.outcome.gates?.forced ? " (forced)" : ""}`;
    }
    case "archive":
      return `${r.name}: version ${r.version} archived`;
    case "rollback":
      return `${r.name}: @${r.alias} rolled back to version ${r.to}${
        r.from !== null ? ` (was v${r.from})` : ""
      }`;
    default:
      return "done";
  }
}
