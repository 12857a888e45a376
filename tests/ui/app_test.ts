/**
 * The UI app in process (app.fetch, no server), on SQLite and PostgreSQL:
 * the runs table filters with the CLI's grammar (same runs as `runs --filter`),
 * shows filter errors inline, sorts, pages and keeps children under their
 * parent; store values come out escaped; actions are refused without the
 * token, without a session and without the CSRF token, and work with them,
 * recorded in the alias history as the CLI records them.
 */
import assert from "node:assert/strict";
import { backendTest } from "../_support/backends.ts";
import { createUiApp, formWords } from "../../src/ui/app.ts";
import { openUiContext } from "../../src/ui/server.ts";
import { queryRuns } from "../../src/ui/runs_query.ts";
import { runsCommand } from "../../src/tracking/commands.ts";
import { seedRuns, testConfig, XSS_ATTR, XSS_NAME } from "./_support.ts";
import { escapeHtml } from "../../src/report/html.ts";
import { TrackingStore } from "../../src/tracking/store.ts";

backendTest("runs table: the CLI's filter, inline errors, sort, nesting and paging", async (b) => {
  const seeded = await seedRuns(b.location);
  const ctx = await openUiContext(testConfig(b.root, b.location));
  try {
    const filter = "metrics.roc_auc > 0.7 and params.max_depth >= 4";
    const cli = await runsCommand(b.location, ["list"], { filter });
    const ui = await queryRuns(ctx.store, { filter });
    assert.equal(cli.command, "list");
    const cliIds = new Set(cli.command === "list" ? cli.runs.map((r) => r.runId) : []);
    const uiIds = new Set(ui.rows.filter((r) => !r.context).map((r) => r.runId));
    assert.deepEqual(uiIds, cliIds, "the same runs as deno task runs --filter");

    // children matched without their parent: the parent comes as a context row, children under it
    const nested = await queryRuns(ctx.store, {
      filter: "params.max_depth >= 10",
      sort: "metrics.roc_auc desc",
    });
    assert.deepEqual(nested.rows.map((r) => [r.runId, r.depth, r.context]), [
      [seeded.parent, 0, true],
      [seeded.children[1], 1, false],
      [seeded.children[0], 1, false],
    ]);
    // sorted ascending by roc_auc, the parent (0.5) sorts first and keeps its children under it
    const asc = await queryRuns(ctx.store, { sort: "metrics.roc_auc asc", experiment: "exp" });
    const at = asc.rows.findIndex((r) => r.runId === seeded.parent);
    assert.deepEqual(asc.rows.slice(at, at + 3).map((r) => r.runId), [seeded.parent, ...seeded.children]);
    assert.equal(asc.rows[at + 1].depth, 1);
    // paging counts top-level groups
    const paged = await queryRuns(ctx.store, { pageSize: 3, page: 2, sort: "attributes.run_name asc" });
    assert.equal(paged.pages, Math.ceil(paged.groups / 3));
    assert.equal(paged.groups, 8, "6 plain + parent + payload run");

    const app = createUiApp(ctx);
    const bad = await app.fetch(new Request("http://ui/runs?q=" + encodeURIComponent("metrics.roc_auc >")));
    assert.equal(bad.status, 200);
    const text = await bad.text();
    assert.match(text, /<p id="q-error" class="error" role="alert">filter: /);
    const sorted = await (await app.fetch(
      new Request(
        "http://ui/runs?experiment=exp&sort=" + encodeURIComponent("metrics.f1 desc") + "&cols=metrics.f1",
      ),
    )).text();
    const f1s = [...sorted.matchAll(/<td class="num">(0\.\d{4})<\/td>/g)].map((m) => Number(m[1]));
    assert.ok(f1s.length >= 6, sorted.slice(0, 200));
    assert.deepEqual(f1s, f1s.slice().sort((x, y) => y - x), "sorted by f1, descending");
  } finally {
    await ctx.store.close();
  }
});

backendTest(
  "every store value is escaped: <script> and onerror payloads in run names, params and tags",
  async (b) => {
    const seeded = await seedRuns(b.location, 1);
    const ctx = await openUiContext(testConfig(b.root, b.location));
    try {
      const app = createUiApp(ctx);
      for (
        const url of [
          "/runs",
          `/runs?cols=${encodeURIComponent("params." + XSS_NAME)}&cols=${
            encodeURIComponent("tags." + XSS_ATTR)
          }`,
          `/runs?q=${encodeURIComponent(XSS_ATTR)}`,
          `/runs/${seeded.xss}`,
          `/compare?run=${seeded.xss}&run=${seeded.plain[0]}`,
        ]
      ) {
        const res = await app.fetch(new Request(`http://ui${url}`));
        const body = await res.text();
        assert.ok(!body.includes(XSS_NAME), `${url}: raw <script> payload`);
        assert.ok(!body.includes(XSS_ATTR), `${url}: raw attribute payload`);
        assert.ok(!/<img[^>]*onerror/i.test(body), `${url}: an img with onerror`);
        assert.match(res.headers.get("content-security-policy") ?? "", /script-src 'self'/);
      }
      const detail = await (await app.fetch(new Request(`http://ui/runs/${seeded.xss}`))).text();
      assert.ok(detail.includes(escapeHtml(XSS_NAME)), "the payload shows as text");
      // the same run twice is one run: not a comparison of two
      const twice =
        await (await app.fetch(new Request(`http://ui/compare?run=${seeded.xss}&run=${seeded.xss}`)))
          .text();
      assert.match(twice, /Select at least two runs to compare/);
    } finally {
      await ctx.store.close();
    }
  },
);

/** A registered model with two versions, through the registry directly (the fixture of the action tests). */
async function withModel(b: { root: string; location: string }) {
  const seeded = await seedRuns(b.location, 2);
  const config = testConfig(b.root, b.location);
  const ctx0 = await openUiContext(config);
  for (const runId of seeded.plain) {
    const dir = `${b.root}/models/artifacts/${runId}`;
    Deno.mkdirSync(dir, { recursive: true });
    Deno.writeTextFileSync(`${dir}/model.bin`, runId);
    await ctx0.store.logArtifact(runId, "model", dir);
    await ctx0.registry.register({ runId, name: "m" });
  }
  await ctx0.store.close();
  return config;
}

function form(fields: Record<string, string>): URLSearchParams {
  return new URLSearchParams(fields);
}

backendTest(
  "actions: read-only without a token, 403 without a session or CSRF token, recorded when allowed",
  async (b) => {
    const config = await withModel(b);
    const readOnly = await openUiContext(config, { adminToken: "" });
    try {
      const app = createUiApp(readOnly);
      const page = await (await app.fetch(new Request("http://ui/models/m"))).text();
      assert.match(page, /Read-only: set ORCHARD_ADMIN_TOKEN/);
      assert.ok(!page.includes('action="/models/m/promote"'), "no action forms");
      const r = await app.fetch(
        new Request("http://ui/models/m/promote", { method: "POST", body: form({ version: "1" }) }),
      );
      assert.equal(r.status, 403);
    } finally {
      await readOnly.store.close();
    }

    const ctx = await openUiContext(config, { adminToken: "s3cret" });
    try {
      const app = createUiApp(ctx);
      const post = (path: string, fields: Record<string, string>, cookie = "") =>
        app.fetch(
          new Request(`http://ui${path}`, {
            method: "POST",
            body: form(fields),
            headers: cookie ? { cookie } : {},
          }),
        );
      // no session
      assert.equal((await post("/models/m/promote", { version: "1", alias: "champion" })).status, 403);
      // log in: the login form's own CSRF cookie and field
      const loginPage = await app.fetch(new Request("http://ui/login"));
      const loginCookie = loginPage.headers.get("set-cookie")!.split(";")[0];
      assert.match(loginPage.headers.get("set-cookie")!, /HttpOnly; SameSite=Strict/);
      const loginCsrf = /name="csrf" value="([0-9a-f]+)"/.exec(await loginPage.text())![1];
      assert.equal(
        (await post("/login", { token: "s3cret" }, loginCookie)).status,
        403,
        "login without its CSRF token",
      );
      assert.equal((await post("/login", { token: "wrong", csrf: loginCsrf }, loginCookie)).status, 401);
      const ok = await post("/login", { token: "s3cret", csrf: loginCsrf }, loginCookie);
      assert.equal(ok.status, 303);
      const session = ok.headers.getSetCookie().find((c) => c.startsWith("orchard_session="))!;
      assert.match(session, /HttpOnly; SameSite=Strict/);
      const cookie = session.split(";")[0];
      const modelPage = await (await app.fetch(new Request("http://ui/models/m", { headers: { cookie } })))
        .text();
      const csrf = /name="csrf" value="([0-9a-f]+)"/.exec(modelPage)![1];
      // a session but no CSRF token, or a wrong one: 403, nothing changed
      assert.equal(
        (await post(
          "/models/m/promote",
          { version: "1", alias: "champion", force: "1", reason: "x" },
          cookie,
        )).status,
        403,
      );
      assert.equal(
        (await post("/models/m/promote", { version: "1", alias: "champion", csrf: "00" }, cookie)).status,
        403,
      );
      assert.equal(await ctx.registry.aliasVersion("m", "champion"), undefined);
      // allowed: set champion (forced past the default gates, with a reason), move it, roll back
      let r = await post("/models/m/promote", {
        version: "1",
        alias: "champion",
        force: "1",
        reason: "first",
        csrf,
      }, cookie);
      // Post/Redirect/Get: a done action is a 303 to the model's page, which shows its message once
      const followed = async (res: Response) => {
        assert.equal(res.status, 303, await res.clone().text());
        const to = res.headers.get("location")!;
        assert.match(to, /^\/models\/m\?done=[0-9a-f-]{36}$/);
        const page = await (await app.fetch(new Request(`http://ui${to}`, { headers: { cookie } }))).text();
        const again = await (await app.fetch(new Request(`http://ui${to}`, { headers: { cookie } }))).text();
        assert.ok(!/class="ok"/.test(again), "the message shows once; a reload moves nothing");
        return page;
      };
      await followed(r);
      r = await post("/models/m/promote", {
        version: "2",
        alias: "champion",
        force: "1",
        reason: "better",
        csrf,
      }, cookie);
      assert.match(await followed(r), /@champion -&gt; version 2 \(was v1\)/);
      assert.equal(await ctx.registry.aliasVersion("m", "champion"), 2);
      r = await post("/models/m/rollback", { alias: "champion", csrf }, cookie);
      const after = await followed(r);
      assert.match(after, /rolled back to version 1/);
      assert.equal(await ctx.registry.aliasVersion("m", "champion"), 1);
      const events = await ctx.registry.events("m");
      assert.deepEqual(events.filter((e) => e.target === "champion").map((e) => [e.action, e.version]), [
        ["alias_set", 1],
        ["alias_set", 2],
        ["alias_rollback", 1],
      ]);
      assert.match(after, /<ol class="timeline" id="history">/);
      // a user error (unknown version) is shown on the page, not a crash
      r = await post("/models/m/promote", { version: "9", alias: "x", csrf }, cookie);
      assert.equal(r.status, 422);
      // a refusal speaks of the form's controls, not the CLI's flags
      r = await post("/models/m/archive", { version: "1", csrf }, cookie);
      assert.equal(r.status, 422);
      const refusal = await r.text();
      assert.match(refusal, /or tick &quot;Also remove its aliases&quot;/);
      assert.doesNotMatch(refusal, /--force/);
    } finally {
      await ctx.store.close();
    }
  },
);

backendTest("the runs table's kept snapshot never hides a new run, metric or ended run", async (b) => {
  await seedRuns(b.location, 2);
  const ctx = await openUiContext(testConfig(b.root, b.location));
  try {
    const filter = "metrics.late > 0";
    assert.equal((await queryRuns(ctx.store, { filter })).matched, 0);
    const { runId } = await ctx.store.startRun({ experiment: "exp", runName: "late" });
    assert.equal((await queryRuns(ctx.store, { filter })).matched, 0, "a new run without the metric");
    await ctx.store.logMetrics(runId, { late: 1 });
    assert.equal((await queryRuns(ctx.store, { filter })).matched, 1, "a metric logged since");
    const running = await queryRuns(ctx.store, { filter: "status = 'RUNNING'" });
    assert.equal(running.matched, 1);
    await ctx.store.endRun(runId);
    assert.equal((await queryRuns(ctx.store, { filter: "status = 'RUNNING'" })).matched, 0, "an ended run");
  } finally {
    await ctx.store.close();
  }
});

Deno.test("status page: a reachable service's version, request rate, p99 and log health; an unreachable one says so", async () => {
  const root = Deno.makeTempDirSync({ prefix: "orchard-ui-svc-" });
  const metrics = [
    "# TYPE orchard_http_requests_total counter",
    'orchard_http_requests_total{route="/predict",method="POST",status="200"} 990',
    'orchard_http_requests_total{route="/predict",method="POST",status="422"} 7',
    'orchard_http_requests_total{route="/predict",method="POST",status="500"} 3',
    'orchard_http_requests_total{route="/metrics",method="GET",status="200"} 50',
    'orchard_http_request_duration_seconds_bucket{route="/predict",le="0.001"} 500',
    'orchard_http_request_duration_seconds_bucket{route="/predict",le="0.005"} 980',
    'orchard_http_request_duration_seconds_bucket{route="/predict",le="0.01"} 1000',
    'orchard_http_request_duration_seconds_bucket{route="/predict",le="+Inf"} 1000',
    'orchard_model_info{model="SERVED",version="2"} 2',
    "orchard_prediction_log_written_total 990",
    "orchard_prediction_log_write_errors_total 0",
    "orchard_prediction_log_dropped_total 0",
    "orchard_prediction_log_pending 4",
    "orchard_prediction_log_failing 0",
    `orchard_start_time_seconds ${Math.floor(Date.now() / 1000) - 100}`,
  ].join("\n");
  let servedModel = "m";
  const service = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/ready") return new Response('{"ready":true}');
    if (path === "/metrics") return new Response(metrics.replace("SERVED", servedModel));
    return new Response("no", { status: 404 });
  });
  try {
    const location = `${root}/models/orchard.db`;
    const config = await withModel({ root, location });
    const port = (service.addr as Deno.NetAddr).port;
    const ctx = await openUiContext(config, { service: `http://127.0.0.1:${port}` });
    try {
      await ctx.registry.promote("m", 2, { alias: "champion", force: true, reason: "test" });
      const page = await (await createUiApp(ctx).fetch(new Request("http://ui/"))).text();
      assert.match(page, /Version served<\/th>\s*<td>v2<\/td>/);
      assert.match(page, /p99 latency<\/th>\s*<td class="num">7\.5 ms<\/td>/);
      assert.match(page, /3 5xx, 7 4xx of 1000/);
      assert.match(page, /healthy/);
      assert.match(page, /Requests\/s<\/th>\s*<td class="num">\d+\.\d\d/);
      // a service that serves another model: its traffic and health are not this model's
      servedModel = "other";
      const elsewhere = await (await createUiApp(ctx).fetch(new Request("http://ui/"))).text();
      assert.match(elsewhere, /Not served by http:\/\/127\.0\.0\.1:\d+ \(it serves other\)/);
      assert.doesNotMatch(elsewhere, /p99 latency|3 5xx/);
    } finally {
      await ctx.store.close();
    }
    const down = await openUiContext(config, { service: "http://127.0.0.1:9" });
    try {
      const page = await (await createUiApp(down).fetch(new Request("http://ui/"))).text();
      assert.match(page, /Service http:\/\/127\.0\.0\.1:9 unreachable/);
    } finally {
      await down.store.close();
    }
  } finally {
    await service.shutdown();
    Deno.removeSync(root, { recursive: true });
  }
});

backendTest("a parent with more than 50 matching children shows 50 and a link to the rest", async (b) => {
  const store = await TrackingStore.open(b.location);
  const { runId: parent } = await store.startRun({ experiment: "big", runName: "sweep" });
  for (let i = 0; i < 53; i++) {
    const { runId } = await store.startRun({ experiment: "big", runName: `t${i}`, parentRunId: parent });
    await store.endRun(runId);
  }
  await store.endRun(parent);
  await store.close();
  const ctx = await openUiContext(testConfig(b.root, b.location));
  try {
    const page = await queryRuns(ctx.store, { experiment: "big" });
    assert.equal(page.rows.length, 51);
    assert.equal(page.rows[0].hiddenChildren, 3);
    const text = await (await createUiApp(ctx).fetch(new Request("http://ui/runs?experiment=big"))).text();
    assert.match(text, /3 more child runs of/);
    assert.ok(
      text.includes(new URLSearchParams({ q: `parent_run_id = '${parent}'` }).toString()),
      "a link filtering on the parent",
    );
  } finally {
    await ctx.store.close();
  }
});

backendTest(
  "runs table: a missing (NULL) metric is missing, not 0, as in the store's own search",
  async (b) => {
    const store = await TrackingStore.open(b.location);
    let runId: string;
    try {
      ({ runId } = await store.startRun({ experiment: "nulls", runName: "no-auc" }));
      await store.logMetrics(runId, { roc_auc: null, f1: 0.4 });
    } finally {
      await store.close();
    }
    const ctx = await openUiContext(testConfig(b.root, b.location));
    try {
      const page = await queryRuns(ctx.store, {
        experiment: "nulls",
        columns: ["metrics.roc_auc", "metrics.f1"],
      });
      const row = page.rows.find((r) => r.runId === runId)!;
      assert.ok(Number.isNaN(row.metrics.roc_auc), `roc_auc ${row.metrics.roc_auc}`);
      assert.equal(row.metrics.f1, 0.4);
      const empty = await queryRuns(ctx.store, { experiment: "nulls", filter: "metrics.roc_auc IS NULL" });
      assert.deepEqual(empty.rows.map((r) => r.runId), [runId]);
    } finally {
      await ctx.store.close();
    }
  },
);

Deno.test("formWords: the registry's refusals in the form's words", () => {
  assert.equal(
    formWords(
      `version 3 of 'm' failed its gates: recall 0.6 < 0.7 (stored; use --force --reason "<why>" to promote anyway)`,
    ),
    `version 3 of 'm' failed its gates: recall 0.6 < 0.7 (stored; tick "Force past failing gates" and give a reason to promote anyway)`,
  );
  assert.equal(
    formWords('--force needs --reason "<why>" (it is recorded)'),
    '"Force past failing gates" needs a reason (it is recorded)',
  );
  assert.doesNotMatch(
    formWords(
      "move that alias to another version first (register or promote --alias), or use models archive --force",
    ),
    /--/,
  );
});
