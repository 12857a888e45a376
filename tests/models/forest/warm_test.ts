import assert from "node:assert/strict";
import { coolDown, RandomForestClassifier, warmCount, warmUp } from "../../../src/models/forest/index.ts";
import { warmUpBuilder } from "../../../src/models/forest/warm.ts";
import { linear } from "./helpers.ts";

Deno.test("warmUpBuilder grows real trees, the same ones every time", () => {
  const a = warmUpBuilder(2), b = warmUpBuilder(2);
  assert.ok(a > 2 * 20, `only ${a} nodes: the warm-up would not exercise the split search`);
  assert.equal(a, b);
  assert.ok(warmUpBuilder(4) > a);
});

Deno.test("warmUp: the next fit takes the warm workers, and the model is the same bytes", async () => {
  const tr = linear(500, 6, 21);
  const cold = new RandomForestClassifier({ n_estimators: 12, n_jobs: 1, random_state: 7 });
  await cold.fit(tr.X, tr.y);
  assert.equal(warmUp(3), 2, "one warm worker per thread but the main one");
  assert.equal(warmUp(3), 2, "a second call starts no more workers");
  await new Promise((r) => setTimeout(r, 200)); // let the workers finish warming (a fit may also arrive earlier)
  const warm = new RandomForestClassifier({ n_estimators: 12, n_jobs: 3, random_state: 7 });
  let ticks = 0;
  await warm.fit(tr.X, tr.y, { onProgress: () => ticks++ });
  assert.equal(ticks, 12);
  assert.equal(warmCount(), 0, "the fit took (and then terminated) the warm workers");
  assert.deepEqual(warm.toBytes(), cold.toBytes());
  // a fit posted while the workers are still warming waits its turn and gives the same model
  warmUp(2);
  const early = new RandomForestClassifier({ n_estimators: 12, n_jobs: 2, random_state: 7 });
  await early.fit(tr.X, tr.y);
  assert.deepEqual(early.toBytes(), cold.toBytes());
});

Deno.test("warmUp: a fit with fewer threads terminates the surplus; coolDown empties the pool", async () => {
  const tr = linear(200, 4, 22);
  assert.equal(warmUp(3), 2);
  const rf = new RandomForestClassifier({ n_estimators: 4, n_jobs: 1 });
  await rf.fit(tr.X, tr.y);
  assert.equal(warmCount(), 0);
  assert.equal(warmUp(1), 0, "a one-thread fit runs on the main thread");
  assert.equal(warmUp(2), 1);
  coolDown();
  assert.equal(warmCount(), 0);
});

Deno.test("warm workers no fit takes do not keep the process alive for long", async () => {
  const src = new URL("../../../src/models/forest/index.ts", import.meta.url).href;
  const code = `import { warmUp } from ${JSON.stringify(src)}; console.log(warmUp(2));`;
  const t0 = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", code],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000), // without the idle timeout the process would never end
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  assert.equal(new TextDecoder().decode(out.stdout).trim(), "1");
  assert.ok(performance.now() - t0 < 30_000);
});
