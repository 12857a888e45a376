/**
 * The byte container both tree engines save their models in (forest/serialize.ts,
 * boosting/serialize.ts), one layout with a magic of each engine's own:
 *
 *   magic (8 bytes) | header length (uint32 LE) | header (UTF-8 JSON) | padding to 8
 *   | payload: typed arrays, little-endian, each at an 8-aligned offset listed in the header
 *
 * The header is the engine's (format, version, params, learned scalars) with
 * `arrays`, the payload's table of contents, as its last key. Arrays are stored
 * verbatim, so a loaded model predicts bit-identically; an array a reader does
 * not ask for is skipped, which lets an engine add an optional one without a
 * new format version.
 */

export type DType = "int32" | "float64" | "uint8" | "uint32" | "float32";
export type TypedArray = Int32Array | Float64Array | Uint8Array | Uint32Array | Float32Array;

const CTOR = {
  int32: Int32Array,
  float64: Float64Array,
  uint8: Uint8Array,
  uint32: Uint32Array,
  float32: Float32Array,
} as const;

/** One payload array: its name in the header, its element type, its values. */
export type Part = [name: string, dtype: DType, values: TypedArray];

/** A payload array's entry in the header. */
export interface ArrayEntry {
  name: string;
  dtype: DType;
  offset: number;
  length: number;
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const pad8 = (n: number) => (n + 7) & ~7;

/** The arrays are written as they are in memory: a big-endian machine would write other bytes. */
function needLittleEndian(what: string): void {
  if (!littleEndian) throw new Error(`${what} serialization needs a little-endian platform`);
}

/**
 * The container's bytes: `header` (the engine's keys, in its order) gets `arrays`
 * appended, listing `parts` in order at 8-aligned offsets.
 */
export function encodeContainer(what: string, magic: string, header: object, parts: Part[]): Uint8Array {
  needLittleEndian(what);
  if (magic.length !== 8) throw new Error(`${what}: a container magic is 8 bytes, got '${magic}'`);
  const arrays: ArrayEntry[] = [];
  let off = 0;
  for (const [name, dtype, a] of parts) {
    arrays.push({ name, dtype, offset: off, length: a.length });
    off = pad8(off + a.byteLength);
  }
  const headerBytes = new TextEncoder().encode(JSON.stringify({ ...header, arrays }));
  const payloadStart = pad8(12 + headerBytes.length);
  const out = new Uint8Array(payloadStart + off);
  out.set(new TextEncoder().encode(magic), 0);
  new DataView(out.buffer).setUint32(8, headerBytes.length, true);
  out.set(headerBytes, 12);
  for (let i = 0; i < parts.length; i++) {
    const a = parts[i][2];
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), payloadStart + arrays[i].offset);
  }
  return out;
}

/**
 * Reads a container written with `magic`: its header as parsed JSON and each
 * of its arrays copied into a fresh, aligned buffer. `corrupt` throws the
 * engine's own error for a file that is not one (bad magic, a truncated
 * header or payload, an unknown array type); the header's keys are the
 * engine's to check.
 */
export function decodeContainer<H>(
  what: string,
  magic: string,
  bytes: Uint8Array,
  corrupt: (why: string) => never,
): { header: H; arrays: Record<string, TypedArray> } {
  needLittleEndian(what);
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== magic) corrupt("bad magic");
  const hlen = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true);
  if (12 + hlen > bytes.length) corrupt("truncated header");
  let header: H & { arrays?: ArrayEntry[] };
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + hlen)));
  } catch {
    corrupt("bad header");
  }
  if (header === null || typeof header !== "object") corrupt("bad header");
  const payloadStart = pad8(12 + hlen);
  const arrays: Record<string, TypedArray> = {};
  for (const a of header.arrays ?? []) {
    const C = Object.hasOwn(CTOR, a.dtype) ? CTOR[a.dtype] : undefined;
    if (!C) corrupt(`unknown array type ${a.dtype}`);
    if (!Number.isSafeInteger(a.offset) || !Number.isSafeInteger(a.length) || a.offset < 0 || a.length < 0) {
      corrupt(`bad entry for array ${a.name}`);
    }
    const start = payloadStart + a.offset;
    const len = a.length * C.BYTES_PER_ELEMENT;
    if (start + len > bytes.length) corrupt("truncated payload");
    const buf = new ArrayBuffer(len);
    new Uint8Array(buf).set(bytes.subarray(start, start + len));
    arrays[a.name] = new C(buf);
  }
  return { header, arrays };
}
