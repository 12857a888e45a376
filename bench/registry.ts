/**
 * Benchmark of the tracking store and registry on generated data in a temp
 * dir: logging throughput, searchRuns with a filter over many runs, registering
 * and verifying a model-sized artifact, and N parallel `register` processes.
 *
 *   deno task bench:registry [--runs 2000] [--mb 2.5] [--parallel 16]
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { TrackingStore } from "../src/tracking/store.ts";
import { ModelRegistry } from "../src/registry/registry.ts";
import { resolveModelUri } from "../src/registry/uri.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string", default: "2000" },
    mb: { type: "string", default: "2.5" },
    parallel: { type: "string", default: "16" },
  },
});
const RUNS = Number(values.runs);
const MB = Number(values.mb);
const PARALLEL = Number(values.parallel);
const root = Deno.makeTempDirSync({ prefix: "orchard-bench-registry-" });
const ms = (t0: number) => performance.now() - t0;
const fmt = (x: number) => x.toFixed(x < 10 ? 2 : 0);

try {
  const store = TrackingStore.open(`${root}/models/orchard.db`);
  // 1. tracking writes: one run = start, 12 params, 10 metrics, 2 datasets, 1 artifact, end
  let t0 = performance.now();
  const sha = "ab".repeat(32);
  for (let i = 0; i < RUNS; i++) {
    const { runId } = store.startRun({ experiment: i % 2 ? "churn" : "tune", tags: { "git.commit": "x" } });
    store.logParams(
      runId,
      Object.fromEntries(Array.from({ length: 12 }, (_, k) => [`p${k}`, (i * 7 + k) % 20])),
    );
    store.logMetrics(
      runId,
      Object.fromEntries(Array.from({ length: 10 }, (_, k) => [`m${k}`, ((i * 13 + k) % 100) / 100])),
    );
    store.logDataset(runId, { name: "train", path: "d", sha256: sha, rows: 100 });
    store.logDataset(runId, { name: "validation", path: "d", sha256: sha, rows: 25 });
    store.logArtifact(runId, "model", "x");
    store.endRun(runId);
  }
  const writeMs = ms(t0);
  console.log(
    `tracking: ${RUNS} runs logged (7 writes each) in ${fmt(writeMs)} ms = ${fmt(writeMs / RUNS)} ms/run`,
  );

  // 2. search with a filter and sort over all runs
  t0 = performance.now();
  const hits = store.searchRuns({
    experiment: "churn",
    filter: "metrics.m0 > 0.5 and (params.p1 = 3 or params.p2 >= 10)",
    orderBy: "metrics.m1 desc",
    maxResults: 20,
  });
  console.log(
    `search:   filter + sort over ${RUNS / 2} runs of one experiment: ${
      fmt(ms(t0))
    } ms (${hits.length} shown)`,
  );

  // 3. register and verify a model-sized artifact
  const artifact = `${root}/models/artifacts/big`;
  Deno.mkdirSync(artifact, { recursive: true });
  const bytes = new Uint8Array(Math.round(MB * 1024 * 1024)).map((_, i) => (i * 2654435761) >>> 24);
  Deno.writeFileSync(`${artifact}/model.bin`, bytes);
  for (const f of ["artifact.json", "signature.json", "preprocess.json", "metrics.json", "params.json"]) {
    Deno.writeTextFileSync(`${artifact}/${f}`, "{}");
  }
  const runIds: string[] = [];
  for (let i = 0; i < PARALLEL + 1; i++) {
    const { runId } = store.startRun({ experiment: "churn" });
    store.logMetrics(runId, { recall: 0.8, f1: 0.7 });
    store.logArtifact(runId, "model", artifact);
    store.endRun(runId);
    runIds.push(runId);
  }
  const registry = new ModelRegistry(store, {
    modelsDir: `${root}/models`,
    gates: { recall: { threshold: 0.7 } },
  });
  t0 = performance.now();
  registry.register({ runId: runIds[0], name: "solo", alias: "champion" });
  console.log(`register: ${MB} MB artifact copied, hashed and recorded in ${fmt(ms(t0))} ms`);
  t0 = performance.now();
  const N = 20;
  for (let i = 0; i < N; i++) {
    resolveModelUri("models:/solo@champion", { store, modelsDir: `${root}/models` });
  }
  console.log(`resolve:  models:/solo@champion with checksum verification: ${fmt(ms(t0) / N)} ms per call`);
  t0 = performance.now();
  for (let i = 0; i < N; i++) {
    resolveModelUri("models:/solo@champion", { store, modelsDir: `${root}/models`, verify: false });
  }
  console.log(`resolve:  the same without verification (polling): ${fmt(ms(t0) / N)} ms per call`);
  store.close();

  // 4. N parallel register processes on one model
  const script = fileURLToPath(new URL("../tasks/register.ts", import.meta.url));
  const config = fileURLToPath(new URL("../deno.json", import.meta.url));
  t0 = performance.now();
  const outs = await Promise.all(
    runIds.slice(1).map((id) =>
      new Deno.Command("deno", {
        args: [
          "run",
          "--config",
          config,
          "--allow-read=.",
          "--allow-write=models",
          "--allow-env",
          script,
          "--run",
          id,
          "--name",
          "par",
          "--json",
        ],
        cwd: root,
        stdout: "piped",
        stderr: "piped",
      }).output()
    ),
  );
  const wall = ms(t0);
  const versions = outs.map((
    o,
  ) => (o.code === 0 ? JSON.parse(new TextDecoder().decode(o.stdout)).version : -1));
  const ok = [...versions].sort((a, b) => a - b).every((v, i) => v === i + 1);
  console.log(
    `parallel: ${PARALLEL} register processes (${MB} MB each) in ${
      fmt(wall)
    } ms wall; versions 1..${PARALLEL} exactly once: ${ok}`,
  );
  if (!ok) Deno.exit(1);
} finally {
  Deno.removeSync(root, { recursive: true });
}
