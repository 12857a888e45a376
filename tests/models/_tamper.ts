/**
 * Tampering with a saved forest's model.bin for the checksum tests: one byte
 * flipped in place (same size), and one flipped where the forest's own decoder
 * cannot notice it (a leaf value), so that without the checksum the model
 * would load and predict.
 */

/** Flips every bit of the byte at `at` (default: the middle byte). */
export function flipByte(path: string, at?: number): void {
  const bytes = Deno.readFileSync(path);
  const i = at ?? bytes.length >> 1;
  bytes[i] ^= 0xff;
  Deno.writeFileSync(path, bytes);
}

/** Offset of the sign-and-exponent byte of the first leaf value in a forest's model.bin. */
export function leafValueByte(path: string): number {
  const bytes = Deno.readFileSync(path);
  const hlen = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + hlen)));
  const values = header.arrays.find((a: { name: string }) => a.name === "values");
  if (!values) throw new Error(`${path}: no leaf values (not a forest?)`);
  const payloadStart = (12 + hlen + 7) & ~7;
  return payloadStart + values.offset + 7; // float64, little-endian: byte 7 holds the sign and exponent
}

/** Flips one byte of a leaf value: the file still decodes, and predicts differently. */
export function flipLeafValue(path: string): void {
  flipByte(path, leafValueByte(path));
}
