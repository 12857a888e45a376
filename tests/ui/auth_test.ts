/**
 * Sessions that survive a restart: a login is an HMAC-signed cookie (keyed
 * from ORCHARD_ADMIN_TOKEN) with the user's name and an expiry; nothing is
 * kept in memory or on disk. Tampered, expired or other-token cookies are
 * refused. Actions are recorded as "ui:<name>" in the registry's history.
 */
import assert from "node:assert/strict";
import { backendTest } from "../_support/backends.ts";
import { SESSION_MS, Sessions } from "../../src/ui/auth.ts";
import { openUiContext } from "../../src/ui/server.ts";
import { createUiApp } from "../../src/ui/app.ts";
import { seedRuns, testConfig } from "./_support.ts";

Deno.test("a session cookie is signed, expires, names its user and holds no secret", () => {
  let now = 1_000_000;
  const sessions = new Sessions("s3cret-token", () => now);
  const started = sessions.login("s3cret-token", "alice")!;
  assert.ok(started);
  assert.equal(sessions.login("wrong", "alice"), undefined);
  const value = started.cookie;
  assert.ok(!value.includes("s3cret-token"), "the token is not in the cookie");
  assert.ok(!atob(value.split(".")[0].replaceAll("-", "+").replaceAll("_", "/")).includes("s3cret"));
  const s = sessions.get(value)!;
  assert.equal(s.name, "alice");
  assert.match(s.csrf, /^[0-9a-f]{64}$/);
  assert.equal(s.expires, now + SESSION_MS);

  // a restart: a new Sessions with the same token accepts it, with the same CSRF token
  const restarted = new Sessions("s3cret-token", () => now);
  assert.deepEqual(restarted.get(value), s);
  // another token (rotated) refuses it
  assert.equal(new Sessions("other-token", () => now).get(value), undefined);

  // tampered: any changed character of the payload or the signature
  const [payload, sig] = value.split(".");
  const flip = (t: string, i: number) => t.slice(0, i) + (t[i] === "A" ? "B" : "A") + t.slice(i + 1);
  for (let i = 0; i < payload.length; i += 3) {
    assert.equal(sessions.get(`${flip(payload, i)}.${sig}`), undefined);
  }
  assert.equal(sessions.get(`${payload}.${flip(sig, 5)}`), undefined);
  assert.equal(sessions.get(payload), undefined);
  assert.equal(sessions.get(""), undefined);
  assert.equal(sessions.get("garbage.garbage"), undefined);
  // a forged payload (a longer expiry, another name) with the old signature
  const forged = btoa(JSON.stringify({ n: "mallory", e: now + 10 * SESSION_MS, s: "x" })).replace(/=+$/, "");
  assert.equal(sessions.get(`${forged}.${sig}`), undefined);

  // expired
  now += SESSION_MS + 1;
  assert.equal(sessions.get(value), undefined);
  assert.equal(restarted.get(value), undefined);
});

Deno.test("logging out refuses that cookie afterwards; other sessions stay", () => {
  const sessions = new Sessions("tok");
  const a = sessions.login("tok", "a")!, b = sessions.login("tok", "b")!;
  sessions.logout(a.cookie);
  assert.equal(sessions.get(a.cookie), undefined);
  assert.equal(sessions.get(b.cookie)!.name, "b");
});

Deno.test("the login name is checked: letters, digits and ._@- only, at most 64", () => {
  const sessions = new Sessions("tok");
  assert.equal(sessions.login("tok", "")!.session.name, "admin", "no name: admin");
  assert.throws(() => sessions.login("tok", "<script>"), /name/);
  assert.throws(() => sessions.login("tok", "x".repeat(65)), /name/);
  assert.equal(sessions.login("tok", "jane.doe@corp")!.session.name, "jane.doe@corp");
});

function form(fields: Record<string, string>): URLSearchParams {
  return new URLSearchParams(fields);
}

backendTest(
  "a login survives a UI restart, and its moves are recorded as ui:<name> in the timeline",
  async (b) => {
    const seeded = await seedRuns(b.location, 2);
    const config = testConfig(b.root, b.location);
    const first = await openUiContext(config, { adminToken: "s3cret" });
    for (const runId of seeded.plain) {
      const dir = `${b.root}/models/artifacts/${runId}`;
      Deno.mkdirSync(dir, { recursive: true });
      Deno.writeTextFileSync(`${dir}/model.bin`, runId);
      await first.store.logArtifact(runId, "model", dir);
    }
    // an event as an older Orchard wrote it: no actor
    await first.registry.register({ runId: seeded.plain[0], name: "m" });
    await first.store.db.run("UPDATE model_events SET actor = NULL");
    await first.registry.register({ runId: seeded.plain[1], name: "m" });
    let cookie: string;
    try {
      const app = createUiApp(first);
      const loginPage = await app.fetch(new Request("http://ui/login"));
      const loginCookie = loginPage.headers.get("set-cookie")!.split(";")[0];
      const text = await loginPage.text();
      assert.match(text, /<label for="login-name">/);
      const loginCsrf = /name="csrf" value="([0-9a-f]+)"/.exec(text)![1];
      const bad = await app.fetch(
        new Request("http://ui/login", {
          method: "POST",
          body: form({ token: "s3cret", name: "<b>", csrf: loginCsrf }),
          headers: { cookie: loginCookie },
        }),
      );
      assert.equal(bad.status, 400);
      assert.match(await bad.text(), /name/);
      const ok = await app.fetch(
        new Request("http://ui/login", {
          method: "POST",
          body: form({ token: "s3cret", name: "alice", csrf: loginCsrf }),
          headers: { cookie: loginCookie },
        }),
      );
      assert.equal(ok.status, 303);
      const set = ok.headers.getSetCookie().find((c) => c.startsWith("orchard_session="))!;
      assert.match(set, /HttpOnly; SameSite=Strict/);
      assert.match(set, /Max-Age=28800/);
      cookie = set.split(";")[0];
    } finally {
      await first.store.close();
    }

    // the UI restarted: a new context and app, the same browser cookie
    const second = await openUiContext(config, { adminToken: "s3cret" });
    try {
      const app = createUiApp(second);
      const page = await (await app.fetch(new Request("http://ui/models/m", { headers: { cookie } }))).text();
      assert.match(page, /Log out/, "still logged in after the restart");
      assert.match(page, /alice/);
      const csrf = /name="csrf" value="([0-9a-f]+)"/.exec(page)![1];
      const r = await app.fetch(
        new Request("http://ui/models/m/promote", {
          method: "POST",
          body: form({ version: "2", alias: "challenger", reason: "better recall", csrf }),
          headers: { cookie },
        }),
      );
      // the move, then the model's page by its redirect
      assert.equal(r.status, 303, await r.clone().text());
      const after = await (await app.fetch(
        new Request(`http://ui${r.headers.get("location")}`, { headers: { cookie } }),
      )).text();
      const moves = (await second.registry.events("m")).filter((e) => e.action === "alias_set");
      assert.deepEqual(moves.map((e) => [e.target, e.version, e.actor, e.reason]), [
        ["challenger", 2, "ui:alice", "better recall"],
      ]);
      const timeline = /<ol class="timeline" id="history">([\s\S]*?)<\/ol>/.exec(after)![1];
      assert.match(
        timeline,
        /@challenger[\s\S]*by <span class="actor">ui:alice<\/span>[\s\S]*why: better recall/,
      );
      assert.match(timeline, /by <span class="actor unknown">unknown<\/span>/, "the old event's actor");
      // a tampered cookie is refused: read-only again
      const tampered = cookie.slice(0, -2) + (cookie.endsWith("A") ? "BB" : "AA");
      const refused = await app.fetch(
        new Request("http://ui/models/m/rollback", {
          method: "POST",
          body: form({ alias: "challenger", csrf }),
          headers: { cookie: tampered },
        }),
      );
      assert.equal(refused.status, 403);
      // a body that is no form (a broken multipart) is a 400 page, not a 500, on login and on actions
      for (const path of ["/login", "/models/m/promote"]) {
        const broken = await app.fetch(
          new Request(`http://ui${path}`, {
            method: "POST",
            body: "zzz",
            headers: { cookie, "content-type": "multipart/form-data" },
          }),
        );
        assert.equal(broken.status, 400, path);
        const text = await broken.text();
        assert.match(text, /could not be read/, path);
        assert.doesNotMatch(text, /MultipartParser|Internal error/, path);
      }
    } finally {
      await second.store.close();
    }
  },
);
