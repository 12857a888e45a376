import assert from "node:assert/strict";
import { missingLine, NEEDS } from "../../bench/preflight.ts";

Deno.test("preflight: one line naming every missing reference file and where to read more", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const line = await missingLine("train", { ref: `${dir}/ref`, data: `${dir}/data` });
    assert.ok(line, "missing files must be reported");
    assert.equal(line.split("\n").length, 1);
    assert.match(line, /^bench:train needs /);
    for (const f of [...NEEDS.train.ref!, ...NEEDS.train.data!]) assert.ok(line.includes(f), `names ${f}`);
    assert.match(line, /shared\/reference\/README\.md/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("preflight: nothing to say when every file and module is there", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const f of NEEDS.drift.ref!) await Deno.writeTextFile(`${dir}/${f}`, "");
    const line = await missingLine("drift", { ref: dir });
    // the Python modules may be absent on a test machine: then the line asks for their packages only
    if (line !== null) {
      assert.doesNotMatch(line, /drift_ref\.py|make_drift\.py/);
      assert.match(line, /apt-get install -y/);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
