import assert from "node:assert/strict";
import { optionalEnv } from "../../src/core/env.ts";

Deno.test("optionalEnv: set values, and unset or empty as undefined", () => {
  Deno.env.set("ORCHARD_TEST_ENV", "x");
  assert.equal(optionalEnv("ORCHARD_TEST_ENV"), "x");
  Deno.env.set("ORCHARD_TEST_ENV", "");
  assert.equal(optionalEnv("ORCHARD_TEST_ENV"), undefined);
  Deno.env.delete("ORCHARD_TEST_ENV");
  assert.equal(optionalEnv("ORCHARD_TEST_ENV"), undefined);
});

Deno.test("optionalEnv: a variable outside the --allow-env grant reads as unset", async () => {
  const code = `import { optionalEnv } from ${
    JSON.stringify(new URL("../../src/core/env.ts", import.meta.url).href)
  };
console.log(JSON.stringify([optionalEnv("HOME") ?? null, optionalEnv("ORCHARD_GRANTED") ?? null]));`;
  const dir = await Deno.makeTempDir();
  const script = `${dir}/probe.ts`;
  await Deno.writeTextFile(script, code);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-config", `--allow-read=${dir}`, "--allow-env=ORCHARD_GRANTED", script],
    env: { ORCHARD_GRANTED: "yes" },
    stdout: "piped",
    stderr: "piped",
  }).output().finally(() => Deno.remove(dir, { recursive: true }));
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  assert.deepEqual(JSON.parse(new TextDecoder().decode(out.stdout)), [null, "yes"]);
});
