/**
 * The online store on both backends (embedded SQLite, and Redis when a server
 * answers on 127.0.0.1:6379 or ORCHARD_TEST_REDIS_URI; else that half is
 * registered as ignored, "[redis: skipped, no server]"): materialize equals the
 * brute-force latest in-TTL row per entity; TTL enforced on read (exactly TTL
 * old is present, one ms more is expired and withheld); missing entities;
 * incremental materialize equals a full one; an earlier window re-run never
 * rolls a value back; bad input is one-line user errors.
 */
import assert from "node:assert/strict";
import { createClient } from "redis";
import { UserError } from "../../src/core/errors.ts";
import { bruteForce, storeFor, TTL_MS } from "./_world.ts";

const REDIS = (() => {
  try {
    return Deno.env.get("ORCHARD_TEST_REDIS_URI") || "redis://127.0.0.1:6379";
  } catch {
    return "redis://127.0.0.1:6379";
  }
})();

async function redisUp(): Promise<boolean> {
  const c = createClient({ url: REDIS, socket: { connectTimeout: 1000, reconnectStrategy: false } });
  c.on("error", () => {});
  try {
    await c.connect();
    await c.ping();
    await c.close();
    return true;
  } catch {
    return false;
  }
}
const redisAvailable = await redisUp();

type Backend = "sqlite" | "redis";
const BACKENDS: Backend[] = ["sqlite", "redis"];

function backendTest(name: string, fn: (backend: Backend) => Promise<void>) {
  for (const b of BACKENDS) {
    const skip = b === "redis" && !redisAvailable;
    Deno.test({
      name: `${name} [${b}${skip ? ": skipped, no server" : ""}]`,
      ignore: skip,
      sanitizeResources: false,
      sanitizeOps: false,
      fn: () => fn(b),
    });
  }
}

function storeOn(seed: number, backend: Backend) {
  const prefix = `orchard-test:${crypto.randomUUID()}:`;
  const s = storeFor(seed, backend === "redis" ? { online_store: REDIS } : {});
  if (backend === "redis") (s.store.options as { redisPrefix?: string }).redisPrefix = prefix;
  return {
    ...s,
    async done() {
      if (backend === "redis") {
        const online = await s.store.onlineStore() as unknown as { clear(): Promise<void> };
        await online.clear();
      }
      await s.store.close();
      s.cleanup();
    },
  };
}

const IDS = Array.from({ length: 30 }, (_, i) => `C-${i}`);

backendTest(
  "materialize then lookup = brute-force latest in-TTL row; statuses present/missing",
  async (b) => {
    const s = storeOn(11, b);
    try {
      const end = 200;
      const res = await s.store.materialize({ start: 0, end });
      assert.deepEqual(res.map((r) => [r.view, r.version]), [["v1", 1], ["v2", 1]]);
      const got = await s.store.getOnlineFeatures({ customer_id: IDS }, "both", { now: end });
      assert.deepEqual(got.features, ["a", "b", "a2"]);
      let present = 0, missing = 0;
      got.rows.forEach((row, i) => {
        const want = bruteForce(s.w.rows, IDS[i], end, TTL_MS);
        assert.equal(row.entity.customer_id, IDS[i]);
        assert.equal(row.statuses.a, want ? "present" : "missing", `${IDS[i]}`);
        assert.equal(row.values.a, want?.a ?? null);
        assert.equal(row.values.b, want ? want.b : null);
        const want2 = bruteForce(s.w.rows2, IDS[i], end, null);
        assert.equal(row.values.a2, want2?.a ?? null);
        assert.equal(row.statuses.a2, want2 ? "present" : "missing");
        if (want) present++;
        else missing++;
      });
      assert.ok(present > 0 && missing > 0);
    } finally {
      await s.done();
    }
  },
);

backendTest(
  "TTL enforced on read: exactly TTL old is present, one ms older is expired and withheld",
  async (b) => {
    const s = storeOn(12, b);
    try {
      await s.store.materialize({ start: 0, end: 300 });
      const id = IDS.find((id) => bruteForce(s.w.rows, id, 300, TTL_MS))!;
      const row = bruteForce(s.w.rows, id, 300, TTL_MS)!;
      const at = async (now: number) =>
        (await s.store.getOnlineFeatures({ customer_id: [id] }, ["v1:a", "v2:a2"], { now })).rows[0];
      const edge = await at(row.ts + TTL_MS);
      assert.equal(edge.statuses.a, "present");
      assert.equal(edge.values.a, row.a);
      const late = await at(row.ts + TTL_MS + 1);
      assert.equal(late.statuses.a, "expired");
      assert.equal(late.values.a, null, "an expired value is not served");
      assert.equal(late.statuses.a2, (await at(row.ts)).statuses.a2, "a view without TTL never expires");
    } finally {
      await s.done();
    }
  },
);

backendTest(
  "incremental materialize equals one full run; an earlier window re-run rolls nothing back",
  async (b) => {
    const s = storeOn(13, b);
    const full = storeOn(13, b);
    try {
      await s.store.materialize({ incremental: true, end: 120 });
      const second = await s.store.materialize({ incremental: true, end: 300 });
      assert.equal(second[0].start, 121, "starts after the last run's end");
      const again = await s.store.materialize({ incremental: true, end: 300 });
      assert.equal(again[0].start, null, "nothing left to do");
      await full.store.materialize({ start: -1000, end: 300 });
      const a = await s.store.getOnlineFeatures({ customer_id: IDS }, "both", { now: 300 });
      const f = await full.store.getOnlineFeatures({ customer_id: IDS }, "both", { now: 300 });
      // the same values; a row the first run stored that has since expired is "expired"
      // where the full run, which never stored it, says "missing"
      const norm = (rows: typeof a.rows) =>
        rows.map((r) => ({
          ...r,
          statuses: Object.fromEntries(
            Object.entries(r.statuses).map(([k, v]) => [k, v === "expired" ? "missing" : v]),
          ),
        }));
      assert.deepEqual(norm(a.rows), norm(f.rows));
      assert.ok(a.rows.some((r) => r.statuses.a === "expired"), "rows expired in between");
      // re-running an earlier window keeps the newer stored rows (it may store rows for
      // entities that had none, but those are long expired: every value stays as it was)
      await s.store.materialize({ start: 0, end: 100 });
      const after = (await s.store.getOnlineFeatures({ customer_id: IDS }, "both", { now: 300 })).rows;
      assert.deepEqual(after.map((r) => r.values), a.rows.map((r) => r.values));
      assert.deepEqual(norm(after), norm(a.rows));
    } finally {
      await s.done();
      await full.done();
    }
  },
);

backendTest("bad input: unknown entity key, unknown feature, unknown service, unknown view", async (b) => {
  const s = storeOn(14, b);
  try {
    await s.store.materialize({ start: 0, end: 300 });
    const rejects = (p: Promise<unknown>, re: RegExp) =>
      assert.rejects(
        p,
        (e: unknown) => e instanceof UserError && re.test(e.message) && !e.message.includes("\n"),
      );
    await rejects(
      s.store.getOnlineFeatures({ cust: ["C-1"] }, "both"),
      /unknown entity key 'cust'.*customer_id/,
    );
    await rejects(s.store.getOnlineFeatures({ customer_id: ["C-1"] }, ["v1:zz"]), /unknown feature 'zz'/);
    await rejects(
      s.store.getOnlineFeatures({ customer_id: ["C-1"] }, "nope"),
      /unknown feature service 'nope'/,
    );
    await rejects(s.store.materialize({ start: 0, views: ["vx"] }), /unknown feature view 'vx'/);
    await rejects(s.store.materialize({}), /needs --start/);
  } finally {
    await s.done();
  }
});

Deno.test("a Redis online store that cannot be reached is one line that never shows the URL's password", async () => {
  const { RedisOnlineStore } = await import("../../src/featurestore/redis.ts");
  for (const url of ["redis://:s3cret@127.0.0.1:1", "redis://orchard:s3cret@127.0.0.1:1/0"]) {
    await assert.rejects(RedisOnlineStore.open(url, { connectTimeoutMs: 500 }), (e: unknown) => {
      assert.ok(e instanceof UserError, String(e));
      assert.ok(!e.message.includes("s3cret"), e.message);
      assert.match(e.message, /^online store redis:\/\/(orchard)?:\*\*\*@127\.0\.0\.1:1.*: cannot connect/);
      return true;
    });
  }
});
