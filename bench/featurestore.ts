/**
 * `deno task bench:featurestore`: the feature store's figures, each job its own
 * process under GNU time (wall seconds, peak RSS), references in the same run.
 *
 * 1. Point-in-time join, 1,000,000 entity rows x 3 views (10,000,000 feature
 *    rows, 100 features; target < 10 s and < 4 GB), timed from reading the
 *    entity table to the joined frame (sources scanned from Parquet inside);
 *    the same run's reference is reading the three views whole (polars
 *    readParquet), and the load average before and after is recorded.
 * 2. feast#3003's shape, 17,000 entity rows x 1,000 features (5 views), against
 *    pandas merge_asof (bench/featurestore_ref.py, same data from the same
 *    hashes, built outside its timer) and a checksum both must agree on.
 * 3. Online lookup, one entity x 50 features, p50/p99 over 20,000 lookups in
 *    process, on SQLite and on Redis (skipped without a server), with the
 *    materialize time of its 10,000 entities.
 * 4. materialize of 1,000,000 entities (one view, 3,000,000 rows x 50
 *    features; target < 20 s) into a fresh SQLite store, and Redis when up.
 * Sources are generated once into data/bench/featurestore/; figures go to
 * bench/results/featurestore.json. `--skip-big` leaves out the first job.
 */
import { join } from "node:path";
import { writeJsonAtomic } from "../src/core/atomic.ts";

const DIR = "data/bench/featurestore";
const REDIS = "redis://127.0.0.1:6379";
const dec = new TextDecoder();

const RUN = [
  Deno.execPath(),
  "run",
  "--allow-read",
  "--allow-write=data/bench",
  "--allow-ffi",
  "--allow-sys",
  "--allow-env",
  "--allow-net=127.0.0.1",
  "bench/featurestore_run.ts",
];

async function timed(cmd: string[]) {
  const o = await new Deno.Command("/usr/bin/time", {
    args: ["-f", "TIME %e %M", ...cmd],
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const out = dec.decode(o.stdout), err = dec.decode(o.stderr);
  const m = /TIME ([\d.]+) (\d+)\s*$/.exec(err);
  if (o.code !== 0) throw new Error(`${cmd.join(" ")} failed (${o.code}): ${err.slice(-600)}`);
  const last = out.trim().split("\n").at(-1);
  const json = last ? JSON.parse(last) : {};
  return { ...json, process_seconds: Number(m?.[1]), peak_rss_mb: Math.round(Number(m?.[2]) / 1024) };
}

function exists(p: string): boolean {
  try {
    Deno.statSync(p);
    return true;
  } catch {
    return false;
  }
}

function load(): string {
  try {
    return Deno.loadavg().map((l) => l.toFixed(2)).join(" ");
  } catch {
    return "unknown";
  }
}

async function ensure(shape: "big" | "feast" | "materialize") {
  const dir = join(DIR, shape);
  if (exists(join(dir, "entities.parquet"))) return dir;
  console.error(`generating the ${shape} sources into ${dir} ...`);
  await timed([...RUN, "gen", dir, shape]);
  return dir;
}

async function redisUp(): Promise<boolean> {
  try {
    const c = await Deno.connect({ hostname: "127.0.0.1", port: 6379 });
    c.close();
    return true;
  } catch {
    return false;
  }
}

const skipBig = Deno.args.includes("--skip-big");
const results: Record<string, unknown> = {
  machine: { cpus: navigator.hardwareConcurrency, deno: Deno.version.deno, os: Deno.build.os },
  date: new Date().toISOString(),
};

if (!skipBig) {
  const dir = await ensure("big");
  const loadBefore = load();
  const big = await timed([...RUN, "join", dir, "big"]);
  const read = await timed([...RUN, "read", dir, "big"]);
  const loadAfter = load();
  results.pit_join_1m_x_3_views = {
    ...big,
    reference_read_views: read,
    ratio_to_read: big.seconds / read.seconds,
    load_average: { before: loadBefore, after: loadAfter },
    target: { seconds: 10, peak_rss_mb: 4096 },
  };
  console.log(
    `PIT join 1,000,000 x 3 views (10M feature rows, 100 features): ${big.seconds.toFixed(2)} s join, ` +
      `${big.process_seconds} s process, peak ${big.peak_rss_mb} MB (target < 10 s, < 4,096 MB); ` +
      `reading the views whole ${read.seconds.toFixed(2)} s, peak ${read.peak_rss_mb} MB ` +
      `(join/read ${(big.seconds / read.seconds).toFixed(2)}x); load ${loadBefore} -> ${loadAfter}`,
  );
}

{
  const dir = await ensure("feast");
  const ours = await timed([...RUN, "join", dir, "feast"]);
  const ref = await timed(["/usr/bin/python3", "bench/featurestore_ref.py", "feast"]);
  const agree = Math.abs(ours.checksum - ref.checksum) <= 1e-6 * Math.abs(ref.checksum);
  results.pit_join_feast_3003 = { orchard: ours, pandas_merge_asof: ref, checksums_agree: agree };
  console.log(
    `PIT join 17,000 x 1,000 features: Orchard ${
      ours.seconds.toFixed(2)
    } s (process ${ours.process_seconds} s, ` +
      `peak ${ours.peak_rss_mb} MB); pandas merge_asof ${
        ref.seconds.toFixed(2)
      } s (process ${ref.process_seconds} s, ` +
      `peak ${ref.peak_rss_mb} MB); checksums ${agree ? "agree" : "DIFFER"}`,
  );
  const online: Record<string, unknown> = {};
  for (const backend of ["sqlite", REDIS]) {
    if (backend !== "sqlite" && !(await redisUp())) {
      online.redis = "skipped: no server on 127.0.0.1:6379";
      console.log("online lookup on Redis: skipped, no server");
      continue;
    }
    const r = await timed([...RUN, "online", dir, backend]);
    online[r.backend] = r;
    console.log(
      `online lookup 1 entity x 50 features on ${r.backend}: p50 ${(r.p50_ms * 1000).toFixed(0)} µs, ` +
        `p99 ${
          (r.p99_ms * 1000).toFixed(0)
        } µs over ${r.lookups} lookups; materialize ${r.entities} entities ` +
        `${r.materialize_seconds.toFixed(2)} s`,
    );
  }
  results.online_lookup = online;
}

{
  const dir = await ensure("materialize");
  const mat: Record<string, unknown> = { load_average_before: load() };
  for (const backend of ["sqlite", REDIS]) {
    if (backend !== "sqlite" && !(await redisUp())) {
      mat.redis = "skipped: no server on 127.0.0.1:6379";
      console.log("materialize 1,000,000 entities on Redis: skipped, no server");
      continue;
    }
    const r = await timed([...RUN, "materialize", dir, backend]);
    mat[r.backend] = r;
    console.log(
      `materialize ${r.entities} entities x ${r.features} features on ${r.backend}: ${
        r.seconds.toFixed(2)
      } s ` +
        `(process ${r.process_seconds} s, peak ${r.peak_rss_mb} MB; target < 20 s)`,
    );
  }
  mat.load_average_after = load();
  results.materialize_1m = { ...mat, target: { seconds: 20 } };
}

Deno.mkdirSync("bench/results", { recursive: true });
writeJsonAtomic("bench/results/featurestore.json", results);
console.log("-> bench/results/featurestore.json");
