/**
 * The forest's compact, versioned byte format: the tree engines' container
 * (../container.ts) with the magic "ORFOREST".
 *
 * The header carries the format version, the kind, the params and the small
 * learned scalars; the payload carries the node arrays, the leaf values and
 * the importances verbatim, so a loaded forest predicts bit-identically.
 * `leafWeight` (each leaf's training weight, for explanations) is optional:
 * forests written before it existed load without it, and a reader that does
 * not know it ignores it, so it needed no new format version.
 */
import { UserError } from "../../../core/errors.ts";
import { decodeContainer, encodeContainer, type Part } from "../container.ts";
import type { FlatForest } from "./flat.ts";
import type { ResolvedParams } from "./params.ts";

export const FORMAT_VERSION = 1;
const MAGIC = "ORFOREST";
const WHAT = "forest";

export interface ForestState {
  kind: "classifier" | "regressor";
  params: ResolvedParams;
  nClasses: number;
  oobScore: number | undefined;
  forest: FlatForest;
  importances: Float64Array;
}

/** The header's keys, in the order they are written (the container appends `arrays`). */
interface Header {
  format: "orchard-forest";
  version: number;
  kind: "classifier" | "regressor";
  params: ResolvedParams;
  nFeatures: number;
  nClasses: number;
  width: number;
  oobScore: number | null;
}

const REQUIRED = ["roots", "feature", "threshold", "child", "nanRight", "values", "importances"];

export function encodeForest(s: ForestState): Uint8Array {
  const ff = s.forest;
  const parts: Part[] = [
    ["roots", "int32", ff.roots],
    ["feature", "int32", ff.feature],
    ["threshold", "float64", ff.threshold],
    ["child", "int32", ff.child],
    ["nanRight", "uint8", ff.nanRight],
    ["values", "float64", ff.values],
    ["importances", "float64", s.importances],
  ];
  // optional (added within format version 1): readers that do not know it skip it
  if (ff.leafWeight) parts.push(["leafWeight", "float32", ff.leafWeight]);
  const header: Header = {
    format: "orchard-forest",
    version: FORMAT_VERSION,
    kind: s.kind,
    // n_jobs is how the model was trained, not what it is: left out so the bytes do not depend on it
    params: { ...s.params, n_jobs: null },
    nFeatures: ff.nFeatures,
    nClasses: s.nClasses,
    width: ff.width,
    oobScore: s.oobScore ?? null,
  };
  return encodeContainer(WHAT, MAGIC, header, parts);
}

function corrupt(why: string): never {
  throw new UserError(`not a readable Orchard forest model: ${why}`);
}

export function decodeForest(bytes: Uint8Array): ForestState {
  const { header, arrays: got } = decodeContainer<Header>(WHAT, MAGIC, bytes, corrupt);
  if (header.format !== "orchard-forest") corrupt("unknown format");
  if (header.version !== FORMAT_VERSION) {
    corrupt(`format version ${header.version}, this Orchard reads version ${FORMAT_VERSION}`);
  }
  for (const name of REQUIRED) if (!got[name]) corrupt(`missing ${name}`);
  const forest: FlatForest = {
    width: header.width,
    nFeatures: header.nFeatures,
    roots: got.roots as Int32Array,
    feature: got.feature as Int32Array,
    threshold: got.threshold as Float64Array,
    child: got.child as Int32Array,
    nanRight: got.nanRight as Uint8Array,
    values: got.values as Float64Array,
    ...(got.leafWeight ? { leafWeight: got.leafWeight as Float32Array } : {}),
  };
  validate(forest);
  return {
    kind: header.kind,
    params: header.params,
    nClasses: header.nClasses,
    oobScore: header.oobScore ?? undefined,
    forest,
    importances: got.importances as Float64Array,
  };
}

/** Checks every index stays in bounds, so a damaged file cannot make inference loop or read past the end. */
function validate(ff: FlatForest): void {
  const n = ff.feature.length;
  if (ff.threshold.length !== n || ff.child.length !== n || ff.nanRight.length !== n) {
    corrupt("node arrays differ");
  }
  const nLeafSlots = ff.values.length / ff.width;
  if (ff.leafWeight && ff.leafWeight.length !== nLeafSlots) corrupt("leaf weights differ from leaves");
  for (let i = 0; i < n; i++) {
    const f = ff.feature[i];
    if (f >= ff.nFeatures || f < -1) corrupt("feature index out of range");
    if (f >= 0) {
      // children are always allocated after their parent
      if (ff.child[i] <= i || ff.child[i] + 1 >= n) corrupt("child index out of range");
    } else if (ff.child[i] < 0 || ff.child[i] >= nLeafSlots) corrupt("leaf index out of range");
  }
  for (const r of ff.roots) if (r < 0 || r >= n) corrupt("root out of range");
}
