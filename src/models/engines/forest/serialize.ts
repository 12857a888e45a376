/**
 * The forest's compact, versioned byte format:
 *
 *   "ORFOREST" (8 bytes) | header length (uint32 LE) | header (UTF-8 JSON) | padding to 8
 *   | payload: typed arrays, little-endian, each at an 8-aligned offset listed in the header
 *
 * The header carries the format version, the kind, the params and the small
 * learned scalars; the payload carries the node arrays, the leaf values and
 * the importances verbatim, so a loaded forest predicts bit-identically.
 * `leafWeight` (each leaf's training weight, for explanations) is optional:
 * forests written before it existed load without it, and a reader that does
 * not know it ignores it, so it needed no new format version.
 */
import { UserError } from "../../../core/errors.ts";
import type { FlatForest } from "./flat.ts";
import type { ResolvedParams } from "./params.ts";

export const FORMAT_VERSION = 1;
const MAGIC = "ORFOREST";

type DType = "int32" | "float64" | "uint8" | "float32";
const CTOR = { int32: Int32Array, float64: Float64Array, uint8: Uint8Array, float32: Float32Array } as const;
type AnyArray = Int32Array | Float64Array | Uint8Array | Float32Array;

export interface ForestState {
  kind: "classifier" | "regressor";
  params: ResolvedParams;
  nClasses: number;
  oobScore: number | undefined;
  forest: FlatForest;
  importances: Float64Array;
}

interface ArrayEntry {
  name: string;
  dtype: DType;
  offset: number;
  length: number;
}

interface Header {
  format: "orchard-forest";
  version: number;
  kind: "classifier" | "regressor";
  params: ResolvedParams;
  nFeatures: number;
  nClasses: number;
  width: number;
  oobScore: number | null;
  arrays: ArrayEntry[];
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const pad8 = (n: number) => (n + 7) & ~7;

export function encodeForest(s: ForestState): Uint8Array {
  if (!littleEndian) throw new Error("forest serialization needs a little-endian platform");
  const ff = s.forest;
  const parts: [string, DType, AnyArray][] = [
    ["roots", "int32", ff.roots],
    ["feature", "int32", ff.feature],
    ["threshold", "float64", ff.threshold],
    ["child", "int32", ff.child],
    ["nanRight", "uint8", ff.nanRight],
    ["values", "float64", ff.values],
    ["importances", "float64", s.importances],
    // optional (added within format version 1): readers that do not know it skip it
    ...(ff.leafWeight ? [["leafWeight", "float32", ff.leafWeight] as [string, DType, AnyArray]] : []),
  ];
  const arrays: ArrayEntry[] = [];
  let off = 0;
  for (const [name, dtype, a] of parts) {
    arrays.push({ name, dtype, offset: off, length: a.length });
    off = pad8(off + a.byteLength);
  }
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
    arrays,
  };
  const headerBytes = new TextEncoder().encode(JSON.stringify(header));
  const payloadStart = pad8(12 + headerBytes.length);
  const out = new Uint8Array(payloadStart + off);
  out.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(out.buffer).setUint32(8, headerBytes.length, true);
  out.set(headerBytes, 12);
  for (let i = 0; i < parts.length; i++) {
    const a = parts[i][2];
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), payloadStart + arrays[i].offset);
  }
  return out;
}

function corrupt(why: string): never {
  throw new UserError(`not a readable Orchard forest model: ${why}`);
}

export function decodeForest(bytes: Uint8Array): ForestState {
  if (!littleEndian) throw new Error("forest serialization needs a little-endian platform");
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) corrupt("bad magic");
  const hlen = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true);
  if (12 + hlen > bytes.length) corrupt("truncated header");
  let header: Header;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + hlen)));
  } catch {
    corrupt("bad header");
  }
  if (header.format !== "orchard-forest") corrupt("unknown format");
  if (header.version !== FORMAT_VERSION) {
    corrupt(`format version ${header.version}, this Orchard reads version ${FORMAT_VERSION}`);
  }
  const payloadStart = pad8(12 + hlen);
  const got: Record<string, AnyArray> = {};
  for (const a of header.arrays) {
    const C = CTOR[a.dtype];
    if (!C) corrupt(`unknown array type ${a.dtype}`);
    const start = payloadStart + a.offset;
    const len = a.length * C.BYTES_PER_ELEMENT;
    if (start + len > bytes.length) corrupt("truncated payload");
    // copy into a fresh, aligned buffer
    const buf = new ArrayBuffer(len);
    new Uint8Array(buf).set(bytes.subarray(start, start + len));
    got[a.name] = new C(buf);
  }
  for (const name of ["roots", "feature", "threshold", "child", "nanRight", "values", "importances"]) {
    if (!got[name]) corrupt(`missing ${name}`);
  }
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
