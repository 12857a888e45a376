/**
 * GET and POST /features: the online features of the served model's feature
 * service, for callers that want the values and not a prediction (issue 17).
 *
 *   GET  /features?customer_id=C-1[&features=a,b]
 *   POST /features  {"customer_id": "C-1" | ["C-1", "C-2"], "features"?: ["a", "b"]}
 *
 * The answer gives each entity's values and a status per value (present,
 * missing, expired: the TTL is checked on read, and an expired value is null).
 * The join key is the model's (its signature's feature service); a model not
 * trained on a feature service answers 404, an unknown feature 422 and an
 * entity the store has nothing for 404, each naming it.
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { type Env, json } from "../envelope.ts";
import { allowOnly, noModel } from "../errors.ts";
import type { ModelHolder, ServedModel } from "../holder.ts";
import { HttpError, mediaType, parseJsonBody, readBodyText } from "../http.ts";
import { entityId, type EntityPlan, entityPlan, type FeatureSource, lookupFeatures } from "../entity.ts";

export interface FeaturesOptions {
  holder: ModelHolder;
  /** where online features come from (absent: /features and /predict by entity id are unavailable) */
  features?: FeatureSource | null;
  maxBatch: number;
  maxBodyBytes: number;
  readTimeoutMs?: number;
}

function planOf(m: ServedModel, source: FeatureSource | null | undefined): EntityPlan {
  const plan = entityPlan(m);
  if (!plan) {
    throw new HttpError(
      404,
      `model ${m.name} version ${m.version} was not trained on a feature service; it has no online features`,
    );
  }
  if (!source) throw new HttpError(503, "no online store is configured for this service");
  return plan;
}

export function featuresRoutes(opts: FeaturesOptions): Hono<Env> {
  const { holder, maxBatch } = opts;
  const bodyLimits = { maxBytes: opts.maxBodyBytes, timeoutMs: opts.readTimeoutMs };
  const app = new Hono<Env>();

  const answer = async (
    c: Context<Env>,
    m: ServedModel,
    plan: EntityPlan,
    ids: string[],
    features: string[] | null,
  ) => {
    const r = await lookupFeatures(plan, opts.features!, ids, features);
    return json(c, {
      model: m.name,
      version: m.version,
      feature_service: plan.service.name,
      join_key: plan.joinKey,
      features: r.features,
      rows: r.rows.map((row, i) => ({ [plan.joinKey]: ids[i], values: row.values, statuses: row.statuses })),
    });
  };

  const featureList = (v: unknown): string[] | null => {
    if (v === undefined) return null;
    if (!Array.isArray(v) || v.length === 0 || !v.every((f) => typeof f === "string" && f.length <= 256)) {
      throw new HttpError(422, "invalid features", [{
        field: "features",
        message: "expected a non-empty list of feature names",
      }]);
    }
    return v as string[];
  };

  app.get("/features", async (c) => {
    c.set("route", "/features");
    const m = holder.current;
    if (!m) throw noModel();
    const plan = planOf(m, opts.features);
    const q = c.req.queries();
    for (const k of Object.keys(q)) {
      if (k !== plan.joinKey && k !== "features") {
        throw new HttpError(422, `unknown query parameter ${k.slice(0, 64)}`, [{
          field: k.slice(0, 64),
          message: `expected ${plan.joinKey} and optionally features`,
        }]);
      }
    }
    const given = q[plan.joinKey];
    if (!given?.length) {
      throw new HttpError(422, `missing ${plan.joinKey}`, [{
        field: plan.joinKey,
        message: `give the entity id: /features?${plan.joinKey}=...`,
      }]);
    }
    if (given.length > maxBatch) {
      throw new HttpError(413, `${given.length} entities is over the limit of ${maxBatch}`);
    }
    const ids = given.map((v, i) => entityId(v, plan.joinKey, given.length > 1 ? i : undefined));
    const f = q.features ? q.features.flatMap((s) => s.split(",")).filter((s) => s !== "") : undefined;
    return await answer(c, m, plan, ids, featureList(f));
  });

  app.post("/features", async (c) => {
    c.set("route", "/features");
    if (mediaType(c.req.header("content-type")) !== "application/json") {
      throw new HttpError(415, "expected Content-Type: application/json");
    }
    const body = parseJsonBody(await readBodyText(c.req.raw, bodyLimits));
    const m = holder.current;
    if (!m) throw noModel();
    const plan = planOf(m, opts.features);
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      throw new HttpError(
        422,
        `expected a JSON object: {"${plan.joinKey}": id or [ids], "features"?: [...]}`,
      );
    }
    const b = body as Record<string, unknown>;
    for (const k of Object.keys(b)) {
      if (k !== plan.joinKey && k !== "features") {
        throw new HttpError(422, `unknown field ${k.slice(0, 64)}`, [{
          field: k.slice(0, 64),
          message: `expected ${plan.joinKey} and optionally features`,
        }]);
      }
    }
    const given = b[plan.joinKey];
    if (given === undefined) {
      throw new HttpError(422, `missing ${plan.joinKey}`, [{
        field: plan.joinKey,
        message: "required field is missing",
      }]);
    }
    const list = Array.isArray(given) ? given : [given];
    if (list.length === 0) throw new HttpError(422, `${plan.joinKey}: give at least one id`);
    if (list.length > maxBatch) {
      throw new HttpError(413, `${list.length} entities is over the limit of ${maxBatch}`);
    }
    const ids = list.map((v, i) => entityId(v, plan.joinKey, Array.isArray(given) ? i : undefined));
    return await answer(c, m, plan, ids, featureList(b.features));
  });

  allowOnly(app, "/features", "GET, POST");
  return app;
}
