/**
 * Orchard as a library, used the way another project would: a directory outside
 * the repo links it by path (deno.json `links`) and imports "@orchard/orchard"
 * (src/mod.ts through deno.json `exports`), then fits, predicts, saves and
 * reloads a model in a subprocess of its own.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

const MAIN = `import { fit, formatNumber, Model, UserError } from "@orchard/orchard";
const rows = Array.from({ length: 240 }, (_, i) => ({
  tenure: i % 24,
  plan: ["basic", "plus", "pro"][i % 3],
  label: i % 24 >= 12 ? "stays" : "leaves",
}));
const model = await fit(rows, { target: "label", n_estimators: 15, n_jobs: 1 });
const probe = [{ tenure: 2, plan: "basic" }, { tenure: 20, plan: "pro" }];
const dir = Deno.args[0] + "/model";
model.save(dir);
const again = Model.load(dir);
let bad = "";
try {
  await fit(rows, { target: "missing_column" });
} catch (e) {
  bad = e instanceof UserError ? e.message : "not a UserError";
}
console.log(JSON.stringify({
  predictions: model.predict(probe),
  reloaded: again.predict(probe),
  accuracy: formatNumber(model.evaluate(rows).metrics.accuracy),
  bad,
}));
`;

Deno.test("a project outside the repo links Orchard by path, and trains and predicts through mod.ts", async () => {
  const dir = await Deno.makeTempDir({ prefix: "orchard-consumer-" });
  try {
    assert.ok(!dir.startsWith(ROOT + "/"), "the consumer lives outside the repo");
    await Deno.writeTextFile(
      `${dir}/deno.json`,
      JSON.stringify(
        { links: [ROOT], imports: { "@orchard/orchard": "jsr:@orchard/orchard@0.1.0" } },
        null,
        2,
      ),
    );
    await Deno.writeTextFile(`${dir}/main.ts`, MAIN);
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        `--allow-write=${dir}`,
        "--allow-ffi",
        "--allow-sys",
        "--allow-env",
        "main.ts",
        dir,
      ],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.ok(out.success, `consumer failed:\n${stderr}`);
    const r = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").pop()!);
    assert.deepEqual(r.predictions, ["leaves", "stays"]);
    assert.deepEqual(r.reloaded, r.predictions);
    assert.equal(r.accuracy, "1");
    assert.match(r.bad, /missing_column/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
