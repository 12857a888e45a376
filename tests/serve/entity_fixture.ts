/**
 * A model served by entity id, for the serve tests: the real fixture model
 * (fixture.ts) saved again through the Model API with a feature service in its
 * signature (two views: `usage` holds tenure and monthly_charges with a 30-day
 * TTL, `account` holds contract and paperless forever), and an online store
 * (SQLite, or Redis under a fresh prefix) holding three customers:
 *
 *   C-1  both views fresh
 *   C-2  usage expired (written 40 days ago), account fresh
 *   C-3  account only (no usage row)
 *
 * Anything else (C-404) is unknown.
 */
import { Model } from "../../src/models/model.ts";
import type { SignatureFeatureService } from "../../src/models/types.ts";
import { type OnlineStore, tableName } from "../../src/featurestore/online.ts";
import { openOnlineStore } from "../../src/featurestore/open.ts";
import { sampleRecord, trainFixture } from "./fixture.ts";

export const DAY = 86_400_000;

/** The service of the fixture's signature; `tag` makes its view names (and so its online tables) unique. */
export function makeService(tag = ""): SignatureFeatureService {
  return {
    name: "churn_online",
    entity: "customer",
    join_key: "customer_id",
    views: [
      {
        view: `usage${tag}`,
        version: 2,
        ttl_ms: 30 * DAY,
        // stored rows are [support_calls, tenure, monthly_charges]: positions, not names, pick the values
        features: [{ name: "tenure", index: 1 }, { name: "monthly_charges", index: 2 }],
      },
      {
        view: `account${tag}`,
        version: 1,
        ttl_ms: null,
        features: [{ name: "contract", index: 0 }, { name: "paperless", index: 1 }],
      },
    ],
  };
}

export const SERVICE = makeService();

export const C1 = { tenure: 5, monthly_charges: 99.5, contract: "Month-to-month", paperless: "Yes" };
export const C2_ACCOUNT = { contract: "Two year", paperless: "No" };
export const C3_ACCOUNT = { contract: "One year", paperless: "Yes" };

/** Trains the fixture model and saves it with SERVICE in its signature; returns the artifact folder. */
export async function trainEntityModel(dir: string, seed = 3, service = SERVICE): Promise<string> {
  const plain = await trainFixture(`${dir}/plain`, { seed, trees: 8 });
  const m = Model.load(plain);
  const withService = new Model({ ...m, signature: { ...m.signature, feature_service: service } });
  return withService.save(`${dir}/entity`);
}

/** Writes the three customers into `store` (now: the time the rows' ages are measured from). */
export async function fillStore(store: OnlineStore, now = Date.now(), service = SERVICE): Promise<string[]> {
  const usage = tableName(service.views[0].view, 2), account = tableName(service.views[1].view, 1);
  await store.write(usage, [
    { key: "C-1", ts: now - DAY, created: 0, values: [7, C1.tenure, C1.monthly_charges] },
    { key: "C-2", ts: now - 40 * DAY, created: 0, values: [1, 30, 50] },
  ]);
  await store.write(account, [
    { key: "C-1", ts: now - 100 * DAY, created: 0, values: [C1.contract, C1.paperless] },
    { key: "C-2", ts: now - 100 * DAY, created: 0, values: [C2_ACCOUNT.contract, C2_ACCOUNT.paperless] },
    { key: "C-3", ts: now - 100 * DAY, created: 0, values: [C3_ACCOUNT.contract, C3_ACCOUNT.paperless] },
  ]);
  return [usage, account];
}

export const REDIS_URI = (() => {
  try {
    return Deno.env.get("ORCHARD_TEST_REDIS_URI") || "redis://127.0.0.1:6379";
  } catch {
    return "redis://127.0.0.1:6379";
  }
})();

/** Whether a Redis server answers (the Redis half of a test is skipped, saying so, when not). */
export async function redisUp(): Promise<boolean> {
  try {
    const s = await openOnlineStore(REDIS_URI, { prefix: "orchard-test:probe:" });
    await s.close();
    return true;
  } catch {
    return false;
  }
}

export { sampleRecord };
