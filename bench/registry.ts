/**
 * Benchmark of the tracking store and registry, on each backend in turn
 * (SQLite in a temp dir; PostgreSQL in a fresh schema when a server answers):
 * logging 1,000 runs, filling to 10,000, a filtered and sorted search over
 * all of them, registering a model-sized artifact, resolving its URI, and N
 * parallel `register` processes on one model. Figures go to stdout and
 * bench/results/registry.json.
 *
 *   deno task bench:registry [--runs 1000] [--search-runs 10000] [--mb 2.5] [--parallel 16]
 *                            [--postgres postgresql://...]   (default: ORCHARD_TEST_POSTGRES_URI or the CI server)
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { postgresAnswers } from "./_postgres.ts";
import { TrackingStore } from "../src/tracking/store.ts";
import { ModelRegistry } from "../src/registry/registry.ts";
import { resolveModelUri } from "../src/registry/uri.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string", default: "1000" },
    "search-runs": { type: "string", default: "10000" },
    mb: { type: "string", default: "2.5" },
    parallel: { type: "string", default: "16" },
    postgres: { type: "string" },
    reps: { type: "string", default: "5" },
  },
});
const RUNS = Number(values.runs);
const SEARCH_RUNS = Math.max(RUNS, Number(values["search-runs"]));
const MB = Number(values.mb);
const PARALLEL = Number(values.parallel);
const REPS = Number(values.reps);
const PG_URI = values.postgres ?? Deno.env.get("ORCHARD_TEST_POSTGRES_URI") ??
  "postgresql://orchard:orchard@127.0.0.1:5432/orchard_test";
const ms = (t0: number) => performance.now() - t0;
const fmt = (x: number) => x.toFixed(x < 10 ? 2 : 0);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const SHA = "ab".repeat(32);

async function logRun(store: TrackingStore, i: number): Promise<void> {
  const { runId } = await store.startRun({
    experiment: i % 2 ? "churn" : "tune",
    tags: { "git.commit": "x" },
  });
  await store.logParams(
    runId,
    Object.fromEntries(Array.from({ length: 12 }, (_, k) => [`p${k}`, (i * 7 + k) % 20])),
  );
  await store.logMetrics(
    runId,
    Object.fromEntries(Array.from({ length: 10 }, (_, k) => [`m${k}`, ((i * 13 + k) % 100) / 100])),
  );
  await store.logDataset(runId, { name: "train", path: "d", sha256: SHA, rows: 100 });
  await store.logDataset(runId, { name: "validation", path: "d", sha256: SHA, rows: 25 });
  await store.logArtifact(runId, "model", "x");
  await store.endRun(runId);
}

interface Figures {
  backend: string;
  log_ms_per_run: number;
  search_runs: number;
  search_ms: number;
  search_hits: number;
  register_ms: number;
  resolve_verified_ms: number;
  resolve_unverified_ms: number;
  parallel_wall_ms: number;
  parallel_versions_ok: boolean;
}

async function bench(backend: string, location: string, root: string): Promise<Figures> {
  const store = await TrackingStore.open(location);
  // 1. tracking writes: one run = start, 12 params, 10 metrics, 2 datasets, 1 artifact, end
  let t0 = performance.now();
  for (let i = 0; i < RUNS; i++) await logRun(store, i);
  const logMs = ms(t0) / RUNS;
  console.log(`[${backend}] tracking: ${RUNS} runs logged (7 writes each): ${fmt(logMs)} ms/run`);
  for (let i = RUNS; i < SEARCH_RUNS; i++) await logRun(store, i);

  // 2. search with a filter and sort over every run
  const times: number[] = [];
  let hits = 0;
  for (let r = 0; r < REPS; r++) {
    t0 = performance.now();
    const found = await store.searchRuns({
      filter: "metrics.m0 > 0.5 and (params.p1 = 3 or params.p2 >= 10)",
      orderBy: "metrics.m1 desc",
      maxResults: 100,
    });
    times.push(ms(t0));
    hits = found.length;
  }
  const searchMs = median(times);
  console.log(
    `[${backend}] search: filter + sort over ${SEARCH_RUNS} runs, 100 returned whole: ${
      fmt(searchMs)
    } ms (median of ${REPS})`,
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
    const { runId } = await store.startRun({ experiment: "churn" });
    await store.logMetrics(runId, { recall: 0.8, f1: 0.7 });
    await store.logArtifact(runId, "model", artifact);
    await store.endRun(runId);
    runIds.push(runId);
  }
  const modelsDir = `${root}/models`;
  const registry = await ModelRegistry.open(store, { modelsDir, gates: { recall: { threshold: 0.7 } } });
  t0 = performance.now();
  await registry.register({ runId: runIds[0], name: "solo", alias: "champion" });
  const registerMs = ms(t0);
  console.log(
    `[${backend}] register: ${MB} MB artifact copied, hashed and recorded in ${fmt(registerMs)} ms`,
  );
  const N = 20;
  t0 = performance.now();
  for (let i = 0; i < N; i++) await resolveModelUri("models:/solo@champion", { store, modelsDir });
  const resolveMs = ms(t0) / N;
  t0 = performance.now();
  for (let i = 0; i < N; i++) {
    await resolveModelUri("models:/solo@champion", { store, modelsDir, verify: false });
  }
  const resolveFastMs = ms(t0) / N;
  console.log(
    `[${backend}] resolve: models:/solo@champion ${fmt(resolveMs)} ms verified, ${
      fmt(resolveFastMs)
    } ms without`,
  );
  await store.close();

  // 4. N parallel register processes on one model, through the task itself
  const script = fileURLToPath(new URL("../tasks/register.ts", import.meta.url));
  const config = fileURLToPath(new URL("../deno.json", import.meta.url));
  t0 = performance.now();
  const outs = await Promise.all(
    runIds.slice(1).map((id) =>
      new Deno.Command("deno", {
        args: ["run", "--config", config, "-A", script, "--run", id, "--name", "par", "--json"],
        cwd: root,
        env: { ORCHARD_TRACKING_URI: location.startsWith("postgres") ? location : "" },
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
  if (!ok) {
    const bad = outs.find((o) => o.code !== 0);
    if (bad) console.error(new TextDecoder().decode(bad.stderr));
  }
  console.log(
    `[${backend}] parallel: ${PARALLEL} register processes (${MB} MB each) in ${
      fmt(wall)
    } ms wall; versions 1..${PARALLEL} exactly once: ${ok}`,
  );
  return {
    backend,
    log_ms_per_run: logMs,
    search_runs: SEARCH_RUNS,
    search_ms: searchMs,
    search_hits: hits,
    register_ms: registerMs,
    resolve_verified_ms: resolveMs,
    resolve_unverified_ms: resolveFastMs,
    parallel_wall_ms: wall,
    parallel_versions_ok: ok,
  };
}

const results: Figures[] = [];
const sqliteRoot = Deno.makeTempDirSync({ prefix: "orchard-bench-registry-" });
try {
  // the parallel registers run the task in sqliteRoot with its default store, models/orchard.db
  results.push(await bench("sqlite", `${sqliteRoot}/models/orchard.db`, sqliteRoot));
} finally {
  Deno.removeSync(sqliteRoot, { recursive: true });
}
if (await postgresAnswers(PG_URI)) {
  const schema = `bench_${Date.now().toString(36)}`;
  const url = new URL(PG_URI);
  url.searchParams.set("schema", schema);
  const pgRoot = Deno.makeTempDirSync({ prefix: "orchard-bench-registry-pg-" });
  try {
    results.push(await bench("postgres", url.toString(), pgRoot));
  } finally {
    Deno.removeSync(pgRoot, { recursive: true });
    const c = new pg.Client({ connectionString: PG_URI });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await c.end();
  }
} else {
  console.log(
    `[postgres] skipped: no server at ${PG_URI.replace(/:[^:@/]*@/, ":***@")} (give --postgres URI)`,
  );
}
Deno.mkdirSync("bench/results", { recursive: true });
Deno.writeTextFileSync(
  "bench/results/registry.json",
  JSON.stringify(
    { when: new Date().toISOString(), runs: RUNS, mb: MB, parallel: PARALLEL, results },
    null,
    2,
  ) + "\n",
);
if (results.some((r) => !r.parallel_versions_ok)) Deno.exit(1);
