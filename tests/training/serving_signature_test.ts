/** The feature service a model trained on a feature set records in its signature. */
import { deepStrictEqual } from "node:assert/strict";
import { buildDefinitions } from "../../src/featurestore/definitions.ts";
import { signatureFeatureService, withFeatureService } from "../../src/training/serving_signature.ts";
import type { FeatureSetLineage } from "../../src/training/feature_set.ts";
import type { Signature } from "../../src/models/types.ts";

const defs = buildDefinitions({
  entities: { customer: { join_key: "customer_id", dtype: "string" } },
  feature_views: {
    profile: {
      entity: "customer",
      source: { path: "p.csv" },
      timestamp_field: "signup",
      ttl: null,
      features: { plan: "string", region: "string", calls: "int64" },
    },
    activity: {
      entity: "customer",
      source: { path: "a.parquet" },
      timestamp_field: "as_of",
      ttl: "2d",
      features: { spend: "float64", visits: "int64" },
    },
  },
  feature_services: { churn: { features: ["activity:*", "profile:calls", "profile:plan"] } },
});

const lineage = {
  feature_service: "churn",
  feature_views: { profile: 3, activity: 7 },
} as unknown as FeatureSetLineage;

Deno.test("signatureFeatureService: join key, each view's version and TTL, and each feature's position in its row", () => {
  deepStrictEqual(signatureFeatureService(defs, lineage), {
    name: "churn",
    entity: "customer",
    join_key: "customer_id",
    views: [
      {
        view: "activity",
        version: 7,
        ttl_ms: 2 * 86_400_000,
        features: [{ name: "spend", index: 0 }, { name: "visits", index: 1 }],
      },
      {
        view: "profile",
        version: 3,
        ttl_ms: null,
        features: [{ name: "calls", index: 2 }, { name: "plan", index: 0 }],
      },
    ],
  });
});

Deno.test("withFeatureService keeps only the model's inputs, and drops a view none of them comes from", () => {
  const sig: Signature = {
    inputs: [{ name: "plan", kind: "categorical", nullable: false }, {
      name: "calls",
      kind: "numeric",
      nullable: false,
    }],
    target: { name: "churn", kind: "classification", classes: [0, 1] },
  };
  const out = withFeatureService(sig, signatureFeatureService(defs, lineage));
  deepStrictEqual(out.inputs, sig.inputs);
  deepStrictEqual(out.feature_service!.views, [
    {
      view: "profile",
      version: 3,
      ttl_ms: null,
      features: [{ name: "calls", index: 2 }, { name: "plan", index: 0 }],
    },
  ]);
});
