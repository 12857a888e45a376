import assert from "node:assert/strict";
import { fileSha256, sha256Hex } from "../../src/core/digest.ts";

Deno.test("sha256Hex: the standard digest of bytes and of text", () => {
  const abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  assert.equal(sha256Hex(new TextEncoder().encode("abc")), abc);
  assert.equal(sha256Hex("abc"), abc);
});

Deno.test("fileSha256: streams a file larger than its buffer to the same digest as in memory", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const bytes = new Uint8Array(3 * (1 << 20) + 17).map((_, i) => (i * 31) & 0xff);
    await Deno.writeFile(`${dir}/big.bin`, bytes);
    assert.equal(fileSha256(`${dir}/big.bin`), sha256Hex(bytes));
    await Deno.writeFile(`${dir}/empty`, new Uint8Array());
    assert.equal(fileSha256(`${dir}/empty`), sha256Hex(new Uint8Array()));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
