import assert from "node:assert/strict";
import { combineDigest, digestDifferences, dirDigest, listFiles } from "../../src/store/checksum.ts";
import { fileSha256 } from "../../src/core/digest.ts";

Deno.test("file and directory digests: known value, order-independent, sensitive to names and bytes", () => {
  const dir = Deno.makeTempDirSync();
  Deno.writeTextFileSync(`${dir}/abc.txt`, "abc");
  // sha256("abc"), the FIPS 180-2 test vector
  assert.equal(
    fileSha256(`${dir}/abc.txt`),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  Deno.mkdirSync(`${dir}/z/y`, { recursive: true });
  Deno.writeTextFileSync(`${dir}/z/y/deep.bin`, "d");
  assert.deepEqual(listFiles(dir), ["abc.txt", "z/y/deep.bin"]);
  const d1 = dirDigest(dir);
  assert.equal(
    d1.sha256,
    combineDigest({ "z/y/deep.bin": d1.files["z/y/deep.bin"], "abc.txt": d1.files["abc.txt"] }),
  );
  Deno.renameSync(`${dir}/abc.txt`, `${dir}/abd.txt`);
  const d2 = dirDigest(dir);
  assert.notEqual(d2.sha256, d1.sha256, "a rename changes the digest");
  assert.deepEqual(digestDifferences(d1.files, d2.files), ["abc.txt is missing", "abd.txt was added"]);
  Deno.renameSync(`${dir}/abd.txt`, `${dir}/abc.txt`);
  assert.equal(dirDigest(dir).sha256, d1.sha256);
  Deno.writeTextFileSync(`${dir}/z/y/deep.bin`, "e");
  assert.deepEqual(digestDifferences(d1.files, dirDigest(dir).files), ["z/y/deep.bin changed"]);
});

Deno.test("large files hash in chunks to the same value as one buffer", async () => {
  const dir = Deno.makeTempDirSync();
  const bytes = new Uint8Array(3 * (1 << 20) + 17).map((_, i) => (i * 31) & 255);
  Deno.writeFileSync(`${dir}/big.bin`, bytes);
  const whole = Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)))
    .map((b) => b.toString(16).padStart(2, "0")).join("");
  assert.equal(fileSha256(`${dir}/big.bin`), whole);
});
