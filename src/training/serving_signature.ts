/**
 * The feature service a model trained on a feature set records in its
 * signature (issue 17, serving by entity id): the service's name, the entity's
 * join key, and for each view the version joined, its TTL and where each
 * feature sits in the view's online row. The service looks a record up from
 * this alone, so serving needs neither the definitions nor polars, and it reads
 * the view versions the model was trained on.
 */
import { type Definitions, resolveFeatures } from "../featurestore/definitions.ts";
import type { Signature, SignatureFeatureService } from "../models/types.ts";
import type { FeatureSetLineage } from "./feature_set.ts";

export function signatureFeatureService(
  defs: Definitions,
  lineage: FeatureSetLineage,
): SignatureFeatureService {
  const refs = resolveFeatures(defs, lineage.feature_service);
  const byView = new Map<string, { name: string; index: number }[]>();
  for (const r of refs) {
    const view = defs.views.get(r.view)!;
    const index = view.features.findIndex((f) => f.name === r.feature);
    byView.set(r.view, [...(byView.get(r.view) ?? []), { name: r.feature, index }]);
  }
  const views = [...byView].map(([name, features]) => {
    const view = defs.views.get(name)!;
    return { view: name, version: lineage.feature_views[name], ttl_ms: view.ttl_ms, features };
  });
  const entity = defs.views.get(refs[0].view)!.entity;
  return {
    name: lineage.feature_service,
    entity,
    join_key: defs.entities.get(entity)!.join_key,
    views,
  };
}

/** The signature with its feature service, keeping only the features that are model inputs. */
export function withFeatureService(signature: Signature, fs: SignatureFeatureService): Signature {
  const inputs = new Set(signature.inputs.map((c) => c.name));
  const views = fs.views
    .map((v) => ({ ...v, features: v.features.filter((f) => inputs.has(f.name)) }))
    .filter((v) => v.features.length > 0);
  return { ...signature, feature_service: { ...fs, views } };
}
