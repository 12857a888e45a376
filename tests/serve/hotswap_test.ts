/**
 * Hot swap under concurrent requests: the alias moves, the holder loads the
 * new version and switches atomically; no request fails and none mixes the two.
 */
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { loadArtifact } from "../../src/models/artifact.ts";
import { ModelHolder } from "../../src/serve/holder.ts";
import type { ResolvedModel } from "../../src/serve/types.ts";
import { makeRows, trainFixture } from "./fixture.ts";
import { makeApp, post } from "./helpers.ts";

const root = await Deno.makeTempDir({ prefix: "orchard-serve-swap-" });
const v1 = await trainFixture(`${root}/v1`, { seed: 3, trees: 10 });
const v2 = await trainFixture(`${root}/v2`, { seed: 17, trees: 10 });

Deno.test("hot swap: concurrent requests all succeed, each answered wholly by one version", async () => {
  const alias = { version: "1", dir: v1 };
  // the alias lookup is mutable, like the registry's; loading is slow-ish and real
  const loader = async (uri: string): Promise<ResolvedModel> => {
    const target = { ...alias };
    await new Promise((r) => setTimeout(r, 20));
    return { uri, name: "churn", ...target, model: loadArtifact(target.dir) };
  };
  const t = await makeApp(loader);
  try {
    const rows = makeRows(30, 77).map(({ churn: _, ...r }) => r);
    const expected: Record<string, unknown> = {
      "1": JSON.parse(JSON.stringify(loadArtifact(v1).predictRecords(rows))),
      "2": JSON.parse(JSON.stringify(loadArtifact(v2).predictRecords(rows))),
    };
    ok(JSON.stringify(expected["1"]) !== JSON.stringify(expected["2"]), "the two versions differ");
    const seen: string[] = [];
    let swapped = false;
    const fire = async (n: number) => {
      const res = await t.app.request(post("/predict", rows));
      equal(res.status, 200, `request ${n}`);
      const b = await res.json();
      deepStrictEqual(b.predictions, expected[b.version], `request ${n} mixes versions`);
      seen.push(b.version);
    };
    const load: Promise<void>[] = [];
    for (let i = 0; i < 400; i++) {
      load.push(fire(i));
      if (i === 150) {
        alias.version = "2";
        alias.dir = v2;
        load.push(
          t.holder.reload().then((r) => {
            deepStrictEqual([r.changed, r.version, r.previous], [true, "2", "1"]);
            swapped = true;
          }),
        );
      }
      if (i % 20 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.all(load);
    ok(swapped);
    equal(seen.length, 400);
    ok(seen.includes("1") && seen.includes("2"), "both versions answered");
    // once version 2 answered, version 1 never answers again
    const first2 = seen.indexOf("2");
    ok(seen.slice(first2).every((v) => v === "2"), "no flip-flop after the swap");
    equal((await (await t.app.request("/ready")).json()).version, "2");
  } finally {
    await t.close();
  }
});

Deno.test("holder: polling notices the alias move; a failed load keeps the old version", async () => {
  const alias = { version: "1", dir: v1 };
  let fail = false;
  const holder = new ModelHolder({
    uri: "models:/churn@champion",
    loader: (uri) =>
      fail
        ? Promise.reject(new Error("disk on fire"))
        : Promise.resolve({ uri, name: "churn", ...alias, model: loadArtifact(alias.dir) }),
    resolver: () => Promise.resolve({ ...alias }),
    pollMs: 0,
  });
  const first = await holder.start();
  deepStrictEqual([first.changed, first.version], [true, "1"]);
  await holder.poll();
  equal(holder.loads, 1, "no reload while the alias stays");
  alias.version = "2";
  alias.dir = v2;
  fail = true;
  await holder.poll();
  equal(holder.current!.version, "1", "old version kept");
  equal(holder.lastError, "disk on fire");
  fail = false;
  await holder.poll();
  equal(holder.current!.version, "2");
  equal(holder.lastError, null);
  equal(holder.failures, 1);
  // a failed one-off reload (e.g. /admin/reload of a bad URI) shows until a poll finds
  // the service serving what its URI names again
  fail = true;
  const bad = await holder.reload({ uri: "models:/churn/9" });
  fail = false;
  equal(bad.error, "disk on fire");
  equal(holder.current!.version, "2");
  ok(holder.lastError);
  await holder.poll();
  equal(holder.lastError, null);
  holder.stop();
});
