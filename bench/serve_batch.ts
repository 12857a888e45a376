/**
 * bench:serve-batch — a 10,000-record POST /predict over HTTP (issue 14's batch
 * target: under 50 ms), against the limit and the reference in the same run:
 *
 *   - Orchard as `deno task serve` runs it (2 workers, prediction log on, a
 *     large batch split over two threads: serve.split_batch_bytes, split.ts);
 *   - the same service with serve.split_batch_bytes 0 (one thread a batch);
 *   - bare Hono under `deno serve --parallel` (bench/serve_bare_hono.ts), which
 *     only parses the body and answers a short JSON: the floor of HTTP + JSON.parse;
 *   - FastAPI + scikit-learn (bench/serve_batch_ref.py: the reference service's
 *     own model and encoding, ../shared/reference/fastapi_ref.py, given a list).
 *
 * Model: boosting with its defaults trained on wa_churn_train.csv; bodies:
 * 10,000 and 1,000 records cycled from wa_churn_valid.csv. One Deno fetch client
 * on a keep-alive connection per server; the servers are visited in turn
 * (ROUNDS rounds, rotating the order), each request either 300 ms after the
 * previous one (its log lines written meanwhile) or back to back. Medians and
 * ratios to bare Hono's time in the same run; figures to bench/results/serve_batch.json.
 *
 *   deno task bench:serve-batch            # ROUNDS=20
 *   ROUNDS=5 SKIP_REF=1 deno task bench:serve-batch
 */
import { ConfigSchema } from "../src/config/schema.ts";
import { loadConfig } from "../src/config/load.ts";
import { readTable } from "../src/data/io.ts";
import { serveCommand } from "../src/serve/launch.ts";
import { train } from "../src/training/train.ts";
import { median } from "./_stats.ts";
import { preflight } from "./preflight.ts";

const DATA = Deno.env.get("DATA") ?? "../shared/data";
const REFDIR = Deno.env.get("REFDIR") ?? "../shared/reference";
const ROUNDS = Number(Deno.env.get("ROUNDS") ?? 20);
const SKIP_REF = Deno.env.get("SKIP_REF") === "1";
const TRAIN = `${DATA}/wa_churn_train.csv`, VALID = `${DATA}/wa_churn_valid.csv`;
// what the run needs from outside the repo: one line naming it and how to get it, exit 2
await preflight("serve-batch", { ref: REFDIR, data: DATA });

const work = await Deno.makeTempDir({ prefix: "orchard-bench-batch-" });
const children: Deno.ChildProcess[] = [];
const cleanup = async () => {
  for (const c of children) {
    try {
      c.kill("SIGTERM");
    } catch { /* gone */ }
  }
  for (const c of children) await c.status.catch(() => {});
  await Deno.remove(work, { recursive: true }).catch(() => {});
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function up(url: string, seconds: number): Promise<void> {
  for (let k = 0; k < seconds * 10; k++) {
    try {
      const r = await fetch(url);
      await r.body?.cancel();
      if (r.ok) return;
    } catch { /* not yet */ }
    await sleep(100);
  }
  throw new Error(`${url} did not come up`);
}

try {
  const load = Deno.loadavg().map((x) => x.toFixed(2)).join(" ");
  console.log(`machine: ${navigator.hardwareConcurrency} cores, load ${load}`);
  const result = await train({
    config: ConfigSchema.parse({ model: { random_state: 42 } }),
    data: TRAIN,
    validation: VALID,
    target: "churn",
    store: null,
    artifactsDir: `${work}/artifacts`,
    reportsDir: null,
    verbose: false,
  });
  const records = readTable(VALID).drop("churn").toRecords().map((r) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(r)) out[k] = typeof v === "bigint" ? Number(v) : v ?? null;
    return out;
  });
  const body = (n: number) =>
    JSON.stringify(Array.from({ length: n }, (_, i) => records[i % records.length]));
  const bodies = { 10000: body(10_000), 1000: body(1_000) };
  console.log(
    `model: boosting (defaults), roc_auc ${result.metrics.roc_auc?.toFixed(4)}; bodies: 10,000 records ${
      (bodies[10000].length / 1e6).toFixed(2)
    } MB, 1,000 records ${(bodies[1000].length / 1e6).toFixed(2)} MB`,
  );

  // Orchard, with the command line of `deno task serve`, the log and artifacts in the work folder
  const orchard = (port: number, split: number) => {
    const sets = [`serve.split_batch_bytes=${split}`];
    const c = serveCommand({
      config: loadConfig({ sets }),
      host: "127.0.0.1",
      port,
      modelUri: result.artifact,
      workers: 2,
    });
    const at = (p: string) => c.args.findIndex((a) => a.startsWith(p));
    c.args[at("--allow-read=")] += `,${work}`;
    c.args[at("--allow-write=")] += `,${work}`;
    const child = new Deno.Command("deno", {
      args: c.args,
      env: {
        ORCHARD_SETS: JSON.stringify(sets),
        ORCHARD_PREDICTIONS_DIR: `${work}/predictions-${port}`,
        MODEL_URI: result.artifact,
        DENO_JOBS: "2",
      },
      stdout: "null",
      stderr: "piped",
    }).spawn();
    children.push(child);
    return `http://127.0.0.1:${port}`;
  };
  const servers: { name: string; url: string; path: string; ready: string }[] = [
    {
      name: "orchard, split on two threads",
      url: orchard(8791, 1_000_000),
      path: "/predict",
      ready: "/ready",
    },
    { name: "orchard, one thread a batch", url: orchard(8792, 0), path: "/predict", ready: "/ready" },
  ];
  const hono = new Deno.Command("deno", {
    args: [
      "serve",
      "--parallel",
      "--quiet",
      "--host=127.0.0.1",
      "--port=8793",
      "--allow-net=127.0.0.1:8793",
      "--allow-read=node_modules",
      "bench/serve_bare_hono.ts",
    ],
    env: { DENO_JOBS: "2" },
    stdout: "null",
    stderr: "null",
  }).spawn();
  children.push(hono);
  servers.push({
    name: "bare Hono (parse, answer)",
    url: "http://127.0.0.1:8793",
    path: "/predict",
    ready: "/health",
  });
  if (!SKIP_REF) {
    const ref = new Deno.Command("/usr/bin/python3", {
      args: [
        "-m",
        "uvicorn",
        "--app-dir",
        "bench",
        "serve_batch_ref:app",
        "--host",
        "127.0.0.1",
        "--port",
        "8794",
        "--workers",
        "2",
        "--log-level",
        "warning",
      ],
      env: { REF_TRAIN: TRAIN, REF_TARGET: "churn", REF_DIR: REFDIR },
      stdout: "null",
      stderr: "null",
    }).spawn();
    children.push(ref);
    servers.push({
      name: "FastAPI + scikit-learn (reference)",
      url: "http://127.0.0.1:8794",
      path: "/predict_batch",
      ready: "/health",
    });
  }
  for (const s of servers) await up(s.url + s.ready, 120);

  const send = async (s: (typeof servers)[number], text: string): Promise<number> => {
    const t0 = performance.now();
    const r = await fetch(s.url + s.path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: text,
    });
    const answer = await r.text();
    const ms = performance.now() - t0;
    if (r.status !== 200) throw new Error(`${s.name}: ${r.status} ${answer.slice(0, 200)}`);
    return ms;
  };
  // warm-up: every server's code compiled, the helper thread holding the model
  for (const s of servers) for (let k = 0; k < 15; k++) await send(s, bodies[10000]);
  for (const s of servers) for (let k = 0; k < 15; k++) await send(s, bodies[1000]);

  type Mode = { name: string; records: 10000 | 1000; gap: number };
  const modes: Mode[] = [
    { name: "10,000 records, 300 ms apart", records: 10000, gap: 300 },
    { name: "10,000 records, back to back", records: 10000, gap: 0 },
    { name: "1,000 records, 300 ms apart", records: 1000, gap: 300 },
  ];
  const times: Record<string, Record<string, number[]>> = {};
  for (const m of modes) {
    times[m.name] = Object.fromEntries(servers.map((s) => [s.name, []]));
    const refRounds = Math.min(ROUNDS, 5); // the reference takes seconds a batch
    for (let r = 0; r < ROUNDS; r++) {
      for (let k = 0; k < servers.length; k++) {
        const s = servers[(r + k) % servers.length];
        if (s.path === "/predict_batch" && r >= refRounds) continue;
        await sleep(m.gap);
        times[m.name][s.name].push(await send(s, bodies[m.records]));
      }
    }
  }

  const out: Record<
    string,
    Record<string, { median_ms: number; min_ms: number; n: number; of_floor: number }>
  > = {};
  for (const m of modes) {
    console.log(`\n${m.name} (median of ${ROUNDS} requests each; x: the time over bare Hono's)`);
    const floor = median(times[m.name]["bare Hono (parse, answer)"]);
    out[m.name] = {};
    for (const s of servers) {
      const xs = times[m.name][s.name];
      const med = median(xs);
      out[m.name][s.name] = { median_ms: med, min_ms: Math.min(...xs), n: xs.length, of_floor: med / floor };
      console.log(
        `  ${s.name.padEnd(38)} ${med.toFixed(1).padStart(8)} ms  (min ${Math.min(...xs).toFixed(1)})  ${
          (med / floor).toFixed(2)
        }x`,
      );
    }
  }
  const json = {
    when: new Date().toISOString(),
    machine: { cores: navigator.hardwareConcurrency, load_before: load },
    rounds: ROUNDS,
    results: out,
  };
  await Deno.mkdir("bench/results", { recursive: true });
  await Deno.writeTextFile("bench/results/serve_batch.json", JSON.stringify(json, null, 2) + "\n");
  console.log("\nfigures: bench/results/serve_batch.json");
} finally {
  await cleanup();
}
