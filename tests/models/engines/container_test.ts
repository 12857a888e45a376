/**
 * The tree engines' byte container (src/models/engines/container.ts): the
 * layout it writes, arrays back bit for bit whatever their alignment in
 * memory, and every damaged file refused through the engine's own error.
 */
import assert from "node:assert/strict";
import { decodeContainer, encodeContainer, type Part } from "../../../src/models/engines/container.ts";

class Corrupt extends Error {}
const corrupt = (why: string): never => {
  throw new Corrupt(why);
};
const MAGIC = "TESTMAG_";

/** every element type, one of them a view at an odd offset of a larger buffer */
function parts(): Part[] {
  const backing = new Uint8Array(11);
  backing.set([9, 9, 9, 1, 2, 3, 4, 5, 9, 9, 9]);
  return [
    ["i", "int32", Int32Array.of(-1, 0, 2 ** 31 - 1)],
    ["f", "float64", Float64Array.of(Math.PI, -0, Number.MIN_VALUE, NaN)],
    ["u8", "uint8", backing.subarray(3, 8)],
    ["u32", "uint32", Uint32Array.of(0xffffffff, 7)],
    ["f32", "float32", Float32Array.of(0.1, -2.5)],
    ["empty", "float64", new Float64Array(0)],
  ];
}

Deno.test("container: magic, header length, the engine's keys then arrays, 8-aligned payload", () => {
  const bytes = encodeContainer("test", MAGIC, { format: "t", version: 3 }, parts());
  assert.equal(new TextDecoder().decode(bytes.subarray(0, 8)), MAGIC);
  const hlen = new DataView(bytes.buffer).getUint32(8, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + hlen)));
  assert.deepEqual(Object.keys(header), ["format", "version", "arrays"]);
  const payload = (12 + hlen + 7) & ~7;
  for (const a of header.arrays) assert.equal(a.offset % 8, 0, a.name);
  assert.deepEqual(header.arrays.map((a: { name: string }) => a.name), [
    "i",
    "f",
    "u8",
    "u32",
    "f32",
    "empty",
  ]);
  // the payload ends at the last array's padded end: nothing is written past it
  const last = header.arrays.at(-2); // "empty" takes no bytes
  assert.equal(bytes.length, payload + ((last.offset + last.length * 4 + 7) & ~7));
});

Deno.test("container: arrays and header come back bit for bit, each in its own aligned buffer", () => {
  const written = parts();
  const bytes = encodeContainer("test", MAGIC, { format: "t", nested: { a: [1, 2] } }, written);
  // decode from a view at an odd offset: the reader copies, it never aliases misaligned memory
  const shifted = new Uint8Array(bytes.length + 3);
  shifted.set(bytes, 3);
  const { header, arrays } = decodeContainer<{ format: string; nested: { a: number[] } }>(
    "test",
    MAGIC,
    shifted.subarray(3),
    corrupt,
  );
  assert.equal(header.format, "t");
  assert.deepEqual(header.nested, { a: [1, 2] });
  for (const [name, , values] of written) {
    const got = arrays[name];
    assert.equal(got.constructor, values.constructor, name);
    assert.deepEqual(
      new Uint8Array(got.buffer, got.byteOffset, got.byteLength),
      new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
      name,
    );
    assert.equal(got.byteOffset, 0, name);
  }
  // the encoding is deterministic: the same input, the same bytes
  assert.deepEqual(encodeContainer("test", MAGIC, { format: "t", nested: { a: [1, 2] } }, parts()), bytes);
});

Deno.test("container: a damaged file is the engine's error, naming what is wrong", () => {
  const good = encodeContainer("test", MAGIC, { format: "t" }, parts());
  const hlen = new DataView(good.buffer).getUint32(8, true);
  const withHeader = (header: unknown) => {
    const h = new TextEncoder().encode(JSON.stringify(header));
    const out = new Uint8Array(((12 + h.length + 7) & ~7) + 64);
    out.set(new TextEncoder().encode(MAGIC));
    new DataView(out.buffer).setUint32(8, h.length, true);
    out.set(h, 12);
    return out;
  };
  const cases: [string, Uint8Array, RegExp][] = [
    ["empty", new Uint8Array(0), /bad magic/],
    ["other magic", encodeContainer("test", "OTHERMAG", { format: "t" }, parts()), /bad magic/],
    ["header past the end", good.subarray(0, 12 + hlen - 1), /truncated header/],
    ["payload cut short", good.subarray(0, good.length - 8), /truncated payload/],
    ["header not JSON", withHeader("x").fill(0x7b, 12, 13), /bad header/],
    ["header not an object", withHeader(null), /bad header/],
    [
      "unknown type",
      withHeader({ arrays: [{ name: "a", dtype: "int64", offset: 0, length: 1 }] }),
      /unknown array/,
    ],
    [
      "inherited type name",
      withHeader({ arrays: [{ name: "a", dtype: "toString", offset: 0, length: 1 }] }),
      /unknown/,
    ],
    [
      "negative offset",
      withHeader({ arrays: [{ name: "a", dtype: "uint8", offset: -8, length: 1 }] }),
      /bad entry/,
    ],
    [
      "fractional length",
      withHeader({ arrays: [{ name: "a", dtype: "float64", offset: 0, length: 1.5 }] }),
      /bad/,
    ],
    [
      "array past the end",
      withHeader({ arrays: [{ name: "a", dtype: "float64", offset: 0, length: 9 }] }),
      /trunc/,
    ],
  ];
  for (const [what, bytes, message] of cases) {
    assert.throws(() => decodeContainer("test", MAGIC, bytes, corrupt), (e: unknown) => {
      assert.ok(e instanceof Corrupt, `${what}: ${e}`);
      assert.match(e.message, message, what);
      return true;
    });
  }
});

Deno.test("container: an array the reader does not ask for is there to skip; a header without arrays has none", () => {
  const { arrays } = decodeContainer("test", MAGIC, encodeContainer("test", MAGIC, {}, parts()), corrupt);
  assert.deepEqual(Object.keys(arrays), ["i", "f", "u8", "u32", "f32", "empty"]);
  const bare = new Uint8Array(16);
  bare.set(new TextEncoder().encode(MAGIC));
  new DataView(bare.buffer).setUint32(8, 2, true);
  bare.set(new TextEncoder().encode("{}"), 12);
  assert.deepEqual(decodeContainer("test", MAGIC, bare, corrupt).arrays, {});
  assert.throws(() => encodeContainer("test", "SHORT", {}, []), /8 bytes/);
});
