/**
 * The boosting engine's compact, versioned byte format: the tree engines'
 * container (../container.ts) with the magic "ORBOOST_".
 *
 * The header carries the format version, the kind, the params and the small
 * learned scalars; the payload carries the baseline, the node arrays and the
 * importances verbatim, so a loaded model predicts bit-identically.
 */
import { UserError } from "../../../core/errors.ts";
import { decodeContainer, encodeContainer, type Part } from "../container.ts";
import type { FlatBoost } from "./flat.ts";
import type { ResolvedBoostingParams } from "./params.ts";

/** 2: optional categorical split sets (catStart, catWords, catBits); version 1 files still load */
export const FORMAT_VERSION = 2;
const READABLE = new Set([1, 2]);
const MAGIC = "ORBOOST_";
const WHAT = "boosting";

export interface BoostState {
  kind: "classifier" | "regressor";
  params: ResolvedBoostingParams;
  nClasses: number;
  nIter: number;
  model: FlatBoost;
  importances: Float64Array;
}

/** The header's keys, in the order they are written (the container appends `arrays`). */
interface Header {
  format: "orchard-boosting";
  version: number;
  kind: "classifier" | "regressor";
  params: Omit<ResolvedBoostingParams, "n_jobs">;
  nFeatures: number;
  nClasses: number;
  width: number;
  nIter: number;
}

const REQUIRED = ["baseline", "roots", "feature", "threshold", "child", "nanRight", "value", "importances"];

export function encodeBoost(s: BoostState): Uint8Array {
  const fb = s.model;
  const parts: Part[] = [
    ["baseline", "float64", fb.baseline],
    ["roots", "int32", fb.roots],
    ["feature", "int32", fb.feature],
    ["threshold", "float64", fb.threshold],
    ["child", "int32", fb.child],
    ["nanRight", "uint8", fb.nanRight],
    ["value", "float64", fb.value],
    ["importances", "float64", s.importances],
  ];
  // optional (TreeSHAP's cover): files without it still load, and older readers skip it
  if (fb.cover) parts.push(["cover", "float64", fb.cover]);
  if (fb.catStart && fb.catWords && fb.catBits) {
    parts.push(["catStart", "int32", fb.catStart], ["catWords", "uint8", fb.catWords], [
      "catBits",
      "uint32",
      fb.catBits,
    ]);
  }
  const header: Header = {
    format: "orchard-boosting",
    version: FORMAT_VERSION,
    kind: s.kind,
    params: recordedParams(s.params),
    nFeatures: fb.nFeatures,
    nClasses: s.nClasses,
    width: fb.width,
    nIter: s.nIter,
  };
  return encodeContainer(WHAT, MAGIC, header, parts);
}

/** The params as saved: n_jobs is how a fit ran, not what it learned (the bytes do not depend on it). */
function recordedParams(p: ResolvedBoostingParams): Omit<ResolvedBoostingParams, "n_jobs"> {
  const { n_jobs: _, ...rest } = p;
  return rest;
}

function corrupt(why: string): never {
  throw new UserError(`not a readable Orchard gradient-boosting model: ${why}`);
}

export function decodeBoost(bytes: Uint8Array): BoostState {
  const { header, arrays: got } = decodeContainer<Header>(WHAT, MAGIC, bytes, corrupt);
  if (header.format !== "orchard-boosting") corrupt("unknown format");
  if (!READABLE.has(header.version)) {
    corrupt(`format version ${header.version}, this Orchard reads versions 1 to ${FORMAT_VERSION}`);
  }
  for (const name of REQUIRED) if (!got[name]) corrupt(`missing ${name}`);
  const model: FlatBoost = {
    width: header.width,
    nFeatures: header.nFeatures,
    baseline: got.baseline as Float64Array,
    roots: got.roots as Int32Array,
    feature: got.feature as Int32Array,
    threshold: got.threshold as Float64Array,
    child: got.child as Int32Array,
    nanRight: got.nanRight as Uint8Array,
    value: got.value as Float64Array,
    ...(got.cover ? { cover: got.cover as Float64Array } : {}),
    ...(got.catStart
      ? {
        catStart: got.catStart as Int32Array,
        catWords: got.catWords as Uint8Array,
        catBits: (got.catBits ?? new Uint32Array(0)) as Uint32Array,
      }
      : {}),
  };
  validate(model);
  return {
    kind: header.kind,
    // version 1 files lack the newer params: the constructor fills their defaults
    params: { ...header.params, n_jobs: null } as ResolvedBoostingParams,
    nClasses: header.nClasses,
    nIter: header.nIter,
    model,
    importances: got.importances as Float64Array,
  };
}

/** Checks every index stays in bounds, so a damaged file cannot make inference loop or read past the end. */
function validate(fb: FlatBoost): void {
  const n = fb.feature.length;
  if (!(fb.width >= 1) || fb.baseline.length !== fb.width) corrupt("bad baseline");
  if (
    fb.threshold.length !== n || fb.child.length !== n || fb.nanRight.length !== n || fb.value.length !== n
  ) {
    corrupt("node arrays differ");
  }
  if (fb.cover && fb.cover.length !== n) corrupt("node arrays differ");
  if (fb.catStart) {
    if (fb.catStart.length !== n || !fb.catWords || fb.catWords.length !== n || !fb.catBits) {
      corrupt("categorical arrays differ");
    }
    for (let i = 0; i < n; i++) {
      if (fb.catStart[i] >= 0 && fb.catStart[i] + fb.catWords[i] > fb.catBits.length) {
        corrupt("categorical set out of range");
      }
    }
  }
  if (fb.roots.length % fb.width !== 0) corrupt("trees are not whole rounds");
  for (let i = 0; i < n; i++) {
    const f = fb.feature[i];
    if (f >= fb.nFeatures || f < -1) corrupt("feature index out of range");
    if (f >= 0 && (fb.child[i] <= i || fb.child[i] + 1 >= n)) corrupt("child index out of range");
  }
  for (const r of fb.roots) if (r < 0 || r >= n) corrupt("root out of range");
}
