/**
 * The UI in real headless Chromium (Debian's /usr/bin/chromium, driven by
 * playwright-core), on a store the pipeline's own tasks produced in a temp
 * project: three `deno task train` runs on generated churn rows, two
 * registered versions, a drift report, a prediction log; plus a tuning-style
 * parent with children and runs carrying XSS payloads, written through the
 * tracking API. It opens every page, filters and sorts runs, compares two,
 * logs in, moves an alias and sees it in the history, rolls back, checks
 * that a read-only page refuses an action and that a missing CSRF token is
 * 403, that form fields have labels and keyboard focus works, and fails on
 * any console error, failed request or error response. Screenshots of each
 * page go to reports/ui/. Skipped, with one message, without Chromium.
 */
/// <reference lib="dom" />
import assert from "node:assert/strict";
import { join } from "node:path";
import { runTask, tempProject } from "../permissions/_project.ts";
import { seedRuns, startUiProcess, XSS_ATTR, XSS_NAME } from "./_support.ts";
import { TrackingStore } from "../../src/tracking/store.ts";

const CHROMIUM = "/usr/bin/chromium";
const hasChromium = (() => {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
})();
const SHOTS = new URL("../../reports/ui/", import.meta.url).pathname;
const TOKEN = "test-admin-token";

async function fixture(): Promise<{ dir: string; cleanup(): void; runs: string[]; long: string }> {
  const p = tempProject();
  const runs: string[] = [];
  for (const seed of ["1", "2", "3"]) {
    const r = await runTask(p.dir, "train", [
      "--data",
      "train.csv",
      "--target",
      "churned",
      "--json",
      "--set",
      `model.random_state=${seed}`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    runs.push(JSON.parse(r.stdout).run_id);
  }
  const reg = (run: string, extra: string[]) =>
    runTask(p.dir, "register", ["--run", run, "--name", "churnui", ...extra]);
  for (
    const [run, extra] of [[runs[0], ["--alias", "champion", "--force", "--reason", "first model"]], [
      runs[1],
      [
        "--alias",
        "challenger",
      ],
    ], [runs[2], []]] as const
  ) {
    const r = await reg(run, [...extra]);
    assert.equal(r.code, 0, r.stderr);
  }
  const d = await runTask(p.dir, "drift", ["--reference", "train.csv", "--current", "score.csv"]);
  assert.ok(d.code === 0 || d.code === 1, d.stderr);
  const day = new Date().toISOString().slice(0, 10);
  const logDir = join(p.dir, "data/predictions/model=churnui", `date=${day}`);
  Deno.mkdirSync(logDir, { recursive: true });
  Deno.writeTextFileSync(join(logDir, "w0-1.ndjson"), '{"ts":1}\n{"ts":2}\n{"ts":3}\n');
  await seedRuns(join(p.dir, "models/orchard.db"), 2);
  return { dir: p.dir, cleanup: p.cleanup, runs, long: await longRun(join(p.dir, "models/orchard.db")) };
}

/** A run with a long, unbroken name, param value and tags: the pages must wrap them, not scroll sideways. */
async function longRun(location: string): Promise<string> {
  const store = await TrackingStore.open(location);
  try {
    const { runId } = await store.startRun({
      experiment: "exp",
      runName: "L".repeat(150),
      tags: Object.fromEntries(
        Array.from({ length: 6 }, (_, i) => [`orchard.long_tag_${i}`, "T".repeat(120)]),
      ),
    });
    await store.logParams(runId, { data: `models/training_sets/${"f".repeat(100)}.parquet`, max_depth: 3 });
    await store.logMetrics(runId, { roc_auc: 0.71 });
    await store.endRun(runId);
    return runId;
  } finally {
    await store.close();
  }
}

Deno.test({
  name: hasChromium
    ? "ui in headless Chromium: every page, runs, compare, login, alias moves, security"
    : `ui in headless Chromium: skipped, ${CHROMIUM} is missing`,
  ignore: !hasChromium,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async (t) => {
    const { chromium } = await import("playwright-core");
    const fx = await fixture();
    const ui = await startUiProcess(fx.dir, [], { ORCHARD_ADMIN_TOKEN: TOKEN });
    const browser = await chromium.launch({ executablePath: CHROMIUM });
    Deno.mkdirSync(SHOTS, { recursive: true });
    const problems: string[] = [];
    try {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      page.on("console", (m) => {
        if (m.type() === "error") problems.push(`console error on ${page.url()}: ${m.text()}`);
      });
      page.on("pageerror", (e) => problems.push(`page error on ${page.url()}: ${e.message}`));
      page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
      page.on("response", (r) => {
        if (r.status() >= 400) problems.push(`HTTP ${r.status()} for ${r.url()}`);
      });
      page.on("dialog", (d) => {
        problems.push(`a dialog opened: ${d.message()}`);
        d.dismiss();
      });
      const open = async (path: string, heading: RegExp, shot?: string) => {
        const t0 = performance.now();
        await page.goto(ui.url + path, { waitUntil: "load" });
        const ms = performance.now() - t0;
        assert.match((await page.locator("h1").first().textContent()) ?? "", heading, path);
        if (shot) await page.screenshot({ path: join(SHOTS, `${shot}.png`), fullPage: true });
        return ms;
      };
      /** every visible form control has a label (label[for], aria-label or aria-labelledby) */
      const unlabelled = () =>
        page.evaluate(() =>
          [...document.querySelectorAll("input:not([type=hidden]), select, textarea")].filter((el) => {
            const id = el.getAttribute("id");
            return !(el.getAttribute("aria-label") || el.getAttribute("aria-labelledby") ||
              (id && document.querySelector(`label[for="${CSS.escape(id)}"]`)));
          }).map((el) => el.outerHTML.slice(0, 80))
        );
      const xssFired = () => page.evaluate(() => (globalThis as unknown as { __xss?: number }).__xss ?? 0);

      await t.step("status page", async () => {
        await open("/", /Status/, "status");
        assert.ok(await page.getByRole("heading", { name: "churnui" }).isVisible());
        assert.match(await page.locator("main").textContent() ?? "", /Champion\s*v1/);
        assert.match(await page.locator("main").textContent() ?? "", /Challenger\s*v2/);
      });

      await t.step("runs: filter, inline error, sort, nesting, columns", async () => {
        await open("/runs", /Runs/, "runs");
        assert.deepEqual(await unlabelled(), []);
        // the filter box is labelled and reachable by keyboard
        await page.getByLabel("Filter", { exact: true }).fill("metrics.roc_auc >");
        await page.keyboard.press("Enter");
        await page.waitForLoadState("load");
        assert.match(await page.getByRole("alert").textContent() ?? "", /^filter: /);
        assert.equal(await page.getByLabel("Filter", { exact: true }).getAttribute("aria-invalid"), "true");
        await page.getByLabel("Filter", { exact: true }).fill("params.max_depth >= 10");
        await page.getByRole("button", { name: "Apply" }).click();
        await page.waitForLoadState("load");
        const names = await page.locator("#runs tbody td.name a").allTextContents();
        assert.deepEqual(
          names,
          ["tune-parent", "trial-1", "trial-0"],
          "children under their (context) parent, newest first",
        );
        assert.equal(await page.locator("#runs tbody tr.child").count(), 2);
        // sort by a metric column header, twice: descending then ascending
        await page.getByLabel("Filter", { exact: true }).fill("experiment = 'train'");
        await page.getByRole("button", { name: "Apply" }).click();
        await page.waitForLoadState("load");
        await page.locator("#runs thead a", { hasText: /^roc_auc/ }).click();
        await page.waitForLoadState("load");
        const col = await page.locator("#runs thead th").allTextContents();
        const idx = col.findIndex((c) => c.startsWith("roc_auc"));
        const values = (await page.locator(`#runs tbody tr td:nth-child(${idx + 1})`).allTextContents()).map(
          Number,
        );
        assert.equal(values.length, 3);
        assert.deepEqual(values, values.slice().sort((a, b) => b - a), "descending");
        await page.screenshot({ path: join(SHOTS, "runs_sorted.png"), fullPage: true });
        // choose a param column
        await page.locator("summary", { hasText: "Columns" }).click();
        await page.getByLabel("params.random_state", { exact: true }).check();
        await page.getByRole("button", { name: "Show columns" }).click();
        await page.waitForLoadState("load");
        assert.ok(
          (await page.locator("#runs thead th").allTextContents()).some((c) =>
            c.startsWith("params.random_state")
          ),
        );
      });

      await t.step("compare two runs", async () => {
        await open("/runs?experiment=train", /Runs/);
        const boxes = page.locator("#runs tbody input[name=run]");
        await boxes.nth(0).check();
        await boxes.nth(1).check();
        assert.equal(await page.locator("#compare-count").textContent(), "2 selected");
        await page.getByRole("button", { name: "Compare selected" }).click();
        await page.waitForLoadState("load");
        assert.match(await page.locator("h1").textContent() ?? "", /Compare 2 runs/);
        assert.ok(
          await page.locator("#compare tr.differs", { hasText: "params.random_state" }).count() === 1,
        );
        assert.ok(await page.locator("figure svg").count() >= 2, "metric charts and parallel coordinates");
        await page.screenshot({ path: join(SHOTS, "compare.png"), fullPage: true });
      });

      await t.step("run detail: params, metrics, datasets, artifacts, report", async () => {
        await open(`/runs/${fx.runs[0]}`, /Run /, "run");
        // nothing wider than the window at 1280 px: long names, params and tags wrap or scroll in their own box
        for (
          const path of [
            `/runs/${fx.long}`,
            "/runs?experiment=exp",
            `/compare?run=${fx.long}&run=${fx.runs[0]}`,
          ]
        ) {
          await page.goto(ui.url + path, { waitUntil: "load" });
          const [scroll, inner] = await page.evaluate(
            () => [document.documentElement.scrollWidth, innerWidth],
          );
          assert.ok(scroll <= inner, `${path} scrolls sideways: ${scroll} > ${inner}`);
        }
        await open(`/runs/${fx.runs[0]}`, /Run /, "run");
        const main = await page.locator("main").textContent() ?? "";
        assert.match(main, /random_state/);
        assert.match(main, /sha256/);
        assert.match(main, /Registered as:\s*churnui v1/);
        const frame = page.frameLocator("iframe.report");
        assert.ok(await frame.locator("h1").count() >= 1, "the training report is embedded");
        const link = page.locator("a[download]").first();
        const res = await page.request.get(new URL((await link.getAttribute("href"))!, ui.url).toString());
        assert.equal(res.status(), 200);
        assert.match(res.headers()["content-disposition"] ?? "", /attachment/);
      });

      await t.step("payloads in run names, params and tags stay text", async () => {
        await open(`/runs?q=${encodeURIComponent(`run_name = '${XSS_NAME}'`)}`, /Runs/);
        assert.equal(await page.locator("#runs tbody td.name a").first().textContent(), XSS_NAME);
        await page.locator("#runs tbody td.name a").first().click();
        await page.waitForLoadState("load");
        assert.ok((await page.locator("main").textContent() ?? "").includes(XSS_ATTR));
        assert.equal(await page.locator("main img").count(), 0);
        assert.equal(await xssFired(), 0);
        await open(
          `/runs?cols=${encodeURIComponent("params." + XSS_NAME)}&cols=${
            encodeURIComponent("tags." + XSS_ATTR)
          }`,
          /Runs/,
        );
        assert.equal(await page.locator("main img").count(), 0);
        assert.equal(await xssFired(), 0);
      });

      await t.step("read-only until logged in: no forms, a POST is refused", async () => {
        await open("/models/churnui", /Model churnui/, "model_readonly");
        assert.match(await page.getByRole("note").textContent() ?? "", /Read-only: log in/);
        assert.equal(await page.locator("form[action$='/promote']").count(), 0);
        const r = await page.request.post(`${ui.url}/models/churnui/promote`, {
          form: { version: "2", alias: "champion" },
        });
        assert.equal(r.status(), 403);
      });

      await t.step("log in with the keyboard", async () => {
        await open("/login", /Log in/, "login");
        assert.deepEqual(await unlabelled(), []);
        assert.equal(
          await page.evaluate(() => document.activeElement?.id),
          "token",
          "the token field has focus",
        );
        // the name the moves are recorded under (ui:<name>), then the token
        await page.getByLabel(/Your name/).fill("carol");
        await page.locator("#token").focus();
        await page.keyboard.type(TOKEN);
        await page.keyboard.press("Tab");
        assert.equal(
          await page.evaluate(() => document.activeElement?.textContent),
          "Log in",
          "Tab reaches the button",
        );
        await page.keyboard.press("Enter");
        await page.waitForURL(/\/models$/);
        const cookies = await context.cookies();
        const session = cookies.find((c) => c.name === "orchard_session")!;
        assert.ok(session.httpOnly);
        assert.equal(session.sameSite, "Strict");
      });

      await t.step("move an alias, see it in the history, roll back", async () => {
        await open("/models/churnui", /Model churnui/);
        assert.deepEqual(await unlabelled(), []);
        await page.locator("#promote-version").selectOption("2");
        await page.locator("#promote-alias").fill("champion");
        await page.getByLabel("Force past failing gates").first().check();
        await page.getByLabel("Reason").first().fill("challenger wins");
        await page.getByRole("button", { name: "Set alias" }).click();
        await page.waitForLoadState("load");
        assert.match(await page.getByRole("status").textContent() ?? "", /@champion -> version 2 \(was v1\)/);
        const first = await page.locator("#history li").first().textContent() ?? "";
        assert.match(first, /@champion -> v2 \(was v1\)/);
        // who moved it, and why
        assert.match(first, /by ui:carol/);
        assert.match(first, /why: challenger wins/);
        assert.equal(await page.locator("#history li .actor").first().textContent(), "ui:carol");
        await page.screenshot({ path: join(SHOTS, "model_admin.png"), fullPage: true });
        await page.locator("#rollback-alias").selectOption("champion");
        await page.getByRole("button", { name: "Roll back" }).click();
        await page.waitForLoadState("load");
        assert.match(await page.getByRole("status").textContent() ?? "", /rolled back to version 1/);
        const top = await page.locator("#history li").first();
        assert.match(await top.textContent() ?? "", /@champion rolled back to v1 \(was v2\) by ui:carol/);
        // the CLI's registrations, recorded under the OS user or ORCHARD_ACTOR
        assert.match(await page.locator("#history li").last().textContent() ?? "", /v1 registered by \S+/);
        assert.equal(await top.getAttribute("class"), "rollback");
        // the same session without the CSRF token: 403, nothing moved
        const r = await page.request.post(`${ui.url}/models/churnui/promote`, {
          form: { version: "3", alias: "champion", force: "1", reason: "x" },
        });
        assert.equal(r.status(), 403);
        assert.match(await r.text(), /CSRF/);
        await open("/models/churnui", /Model churnui/);
        assert.match(await page.locator("#versions").textContent() ?? "", /v1\s*@champion/);
      });

      await t.step("compare two versions, models list", async () => {
        await open("/models", /Models/, "models");
        await open("/models/churnui/compare?a=1&b=2", /churnui: v1 vs v2/, "model_compare");
      });

      await t.step("monitoring: drift, traffic, reports", async () => {
        await open("/monitoring", /Monitoring/, "monitoring");
        assert.ok(await page.locator("figure svg").count() >= 2);
        const link = page.locator("#reports a").first();
        assert.match(await link.textContent() ?? "", /^drift_/);
        await link.click();
        await page.waitForLoadState("load");
        assert.match(await page.title(), /[Dd]rift/);
      });

      await t.step("a whole page with charts loads in under 1 s", async () => {
        const ms = await open("/monitoring", /Monitoring/);
        assert.ok(ms < 1000, `${ms.toFixed(0)} ms`);
      });

      assert.deepEqual(problems, [], problems.join("\n"));
    } finally {
      await browser.close();
      await ui.stop();
      fx.cleanup();
    }
  },
});
