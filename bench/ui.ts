/**
 * Benchmark of the web UI (issue 16), on SQLite in a temp dir and, when a
 * server answers, PostgreSQL in a fresh schema: a store of 10,000 runs x 50
 * metrics x 30 params (10% of them children of 100 parents), written through
 * the store's SQL interface in bulk (PostgreSQL then vacuumed, as autovacuum
 * would soon do); then the runs page's server time
 * (app.fetch, in process: median of --reps after a warm-up), a filter plus a
 * sort, one run's page and a compare of 5 runs; the monitoring page over an
 * index of 5,000 drift reports and a year of drift checks; and whole page
 * loads in headless Chromium (/usr/bin/chromium via playwright-core) from a
 * real server. Figures go to stdout and bench/results/ui.json.
 *
 *   deno task bench:ui [--runs 10000] [--metrics 50] [--params 30] [--reps 7] [--reports 5000]
 *                      [--postgres postgresql://...] [--no-postgres]
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { postgresAnswers } from "./_postgres.ts";
import { fillRunsStore } from "./_ui_store.ts";
import { TrackingStore } from "../src/tracking/store.ts";
import { REGISTRY_SCHEMA } from "../src/registry/registry.ts";
import { loadConfig } from "../src/config/load.ts";
import { openUiContext } from "../src/ui/server.ts";
import { createUiApp } from "../src/ui/app.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string", default: "10000" },
    metrics: { type: "string", default: "50" },
    params: { type: "string", default: "30" },
    reps: { type: "string", default: "7" },
    reports: { type: "string", default: "5000" },
    postgres: { type: "string" },
    "no-postgres": { type: "boolean", default: false },
  },
});
const RUNS = Number(values.runs), METRICS = Number(values.metrics), PARAMS = Number(values.params);
const REPS = Number(values.reps), REPORTS = Number(values.reports);
const PG_URI = values.postgres ?? Deno.env.get("ORCHARD_TEST_POSTGRES_URI") ??
  "postgresql://orchard:orchard@127.0.0.1:5432/orchard_test";
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (x: number) => x.toFixed(x < 10 ? 1 : 0);

function monitoringFiles(root: string): void {
  const reports = join(root, "reports"), monitoring = join(root, "data/monitoring");
  Deno.mkdirSync(reports, { recursive: true });
  Deno.mkdirSync(monitoring, { recursive: true });
  const index = [];
  const start = Date.UTC(2026, 0, 1);
  for (let i = 0; i < REPORTS; i++) {
    const at = new Date(start + i * 3600_000).toISOString();
    const file = `drift_${at.slice(0, 13).replace(/[:T]/g, "-")}_${i}.html`;
    Deno.writeTextFileSync(join(reports, file), "<!doctype html><title>drift</title><h1>drift</h1>");
    index.push({
      file,
      kind: "drift",
      model: "churn",
      run_at: at,
      drifted: i % 7 === 0,
      drift_share: (i % 10) / 10,
    });
  }
  Deno.writeTextFileSync(join(reports, "index.json"), JSON.stringify({ reports: index }));
  let csv = "run_at,column,type,test,statistic,p_value,score,threshold,drifted\n";
  for (let d = 0; d < 365; d++) {
    const at = new Date(start + d * 86400_000).toISOString();
    for (let c = 0; c < 20; c++) {
      csv += `${at},col_${c},numeric,psi,${(c * d) % 13 / 30},,${(c * d) % 13 / 30},0.2,${
        (c * d) % 13 / 30 > 0.2
      }\n`;
    }
  }
  Deno.writeTextFileSync(join(monitoring, "drift_summary.csv"), csv);
  for (let d = 0; d < 30; d++) {
    const dir = join(root, "data/predictions/model=churn", `date=2026-11-${String(d + 1).padStart(2, "0")}`);
    Deno.mkdirSync(dir, { recursive: true });
    Deno.writeTextFileSync(join(dir, "w0-1.ndjson"), '{"ts":1}\n'.repeat(1000 + d * 10));
  }
}

async function timed(
  app: { fetch(r: Request): Response | Promise<Response> },
  path: string,
): Promise<{ ms: number; first_ms: number; bytes: number }> {
  const tFirst = performance.now();
  const res0 = await app.fetch(new Request(`http://ui${path}`)); // the first view (cold caches), then the median
  if (res0.status !== 200) {
    throw new Error(`${path}: HTTP ${res0.status}: ${(await res0.text()).slice(0, 300)}`);
  }
  const bytes = (await res0.text()).length;
  const first = performance.now() - tFirst;
  const times: number[] = [];
  for (let i = 0; i < REPS; i++) {
    const t0 = performance.now();
    const res = await app.fetch(new Request(`http://ui${path}`));
    await res.text();
    times.push(performance.now() - t0);
  }
  return { ms: median(times), first_ms: first, bytes };
}

interface BackendResult {
  backend: string;
  fill_s: number;
  pages: Record<string, { ms: number; first_ms: number; bytes: number; target_ms?: number }>;
  chromium?: Record<string, number>;
}

async function bench(
  kind: "sqlite" | "postgres",
  location: string,
  root: string,
  chromium: boolean,
): Promise<BackendResult> {
  const t0 = performance.now();
  const store = await TrackingStore.open(location, { components: [REGISTRY_SCHEMA] });
  const ids = await fillRunsStore(store, { runs: RUNS, metrics: METRICS, params: PARAMS });
  // what autovacuum does soon after a bulk insert (PostgreSQL 13+ vacuums on inserts): the visibility map
  // lets the covering indexes answer by index-only scans; measured right after the load, they cannot
  if (kind === "postgres") {
    for (const t of ["experiments", "runs", "params", "metrics", "tags"]) {
      await store.db.run(`VACUUM ANALYZE ${t}`);
    }
  }
  await store.close();
  const fillS = (performance.now() - t0) / 1000;
  Deno.writeTextFileSync(join(root, "params.yaml"), "{}\n");
  const config = loadConfig({
    path: join(root, "params.yaml"),
    sets: [
      `tracking.store=${location}`,
      `paths.models=${root}/models`,
      `paths.reports=${root}/reports`,
      `paths.monitoring=${root}/data/monitoring`,
      `paths.predictions=${root}/data/predictions`,
    ],
  });
  const ctx = await openUiContext(config, { adminToken: "" });
  const app = createUiApp(ctx);
  const q = encodeURIComponent;
  const pages: BackendResult["pages"] = {};
  const cases: [string, string, number | undefined][] = [
    ["runs page (first 50 of 10,000)", "/runs", 300],
    ["runs page, one experiment", "/runs?experiment=bench", 300],
    [
      "filter + sort",
      `/runs?q=${q("metrics.m_3 > 0.5 and params.p_0 = 'a'")}&sort=${q("metrics.m_7 desc")}`,
      200,
    ],
    ["sort by a param, page 40", `/runs?sort=${q("params.p_4 asc")}&page=40`, 200],
    [
      "10 chosen columns",
      `/runs?${Array.from({ length: 10 }, (_, i) => `cols=metrics.m_${i}`).join("&")}`,
      300,
    ],
    ["run page (5 step-history charts)", `/runs/${ids[Math.floor(RUNS / 2)]}`, undefined],
    [
      "compare 5 runs",
      `/compare?${
        ids.slice(Math.floor(RUNS / 5), Math.floor(RUNS / 5) + 5).map((id) => `run=${id}`).join("&")
      }`,
      undefined,
    ],
    ["monitoring (5,000 reports, 365 drift checks)", "/monitoring", 300],
  ];
  for (const [name, path, target] of cases) {
    const r = await timed(app, path);
    pages[name] = { ...r, ...(target ? { target_ms: target } : {}) };
    console.log(
      `  [${kind}] ${name}: ${fmt(r.ms)} ms median, first ${fmt(r.first_ms)} ms (${
        Math.round(r.bytes / 1024)
      } KB)${target ? ` target < ${target} ms` : ""}`,
    );
  }
  // a new filter and sort each time, on keys no view has read yet: the query path without kept keys
  {
    const times: number[] = [];
    for (let i = 0; i < REPS; i++) {
      const path = `/runs?q=${q(`metrics.m_${10 + i} > 0.5 and params.p_${3 + 3 * (i % 9)} = 'a'`)}&sort=${
        q(`metrics.m_${30 + i} desc`)
      }`;
      const t1 = performance.now();
      const res = await app.fetch(new Request(`http://ui${path}`));
      if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status}`);
      await res.text();
      times.push(performance.now() - t1);
    }
    const name = "filter + sort on keys not read before";
    pages[name] = { ms: median(times), first_ms: times[0], bytes: 0, target_ms: 200 };
    console.log(
      `  [${kind}] ${name}: ${fmt(median(times))} ms median of ${REPS} different queries (target < 200 ms)`,
    );
  }
  let chromiumTimes: Record<string, number> | undefined;
  if (chromium) {
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, app.fetch);
    const base = `http://127.0.0.1:${(server.addr as Deno.NetAddr).port}`;
    const { chromium: pw } = await import("playwright-core");
    const browser = await pw.launch({ executablePath: "/usr/bin/chromium" });
    try {
      const page = await browser.newPage();
      chromiumTimes = {};
      for (
        const [name, path] of [
          ["runs page", "/runs"],
          ["filter + sort", cases[2][1]],
          ["run page with charts", cases[5][1]],
          ["compare 5 runs with charts", cases[6][1]],
          ["monitoring with charts", "/monitoring"],
        ] as const
      ) {
        await page.goto(base + path, { waitUntil: "load" }); // warm-up
        const times: number[] = [];
        for (let i = 0; i < 3; i++) {
          const t1 = performance.now();
          await page.goto(base + path, { waitUntil: "load" });
          times.push(performance.now() - t1);
        }
        chromiumTimes[name] = median(times);
        console.log(`  [${kind}] Chromium load, ${name}: ${fmt(median(times))} ms (target < 1000 ms)`);
      }
    } finally {
      await browser.close();
      await server.shutdown();
    }
  }
  await ctx.store.close();
  return { backend: kind, fill_s: fillS, pages, chromium: chromiumTimes };
}

const results: BackendResult[] = [];
const root = Deno.makeTempDirSync({ prefix: "orchard-bench-ui-" });
const started = new Date().toISOString();
const load = Deno.loadavg()[0];
console.log(
  `bench:ui: ${RUNS} runs x ${METRICS} metrics x ${PARAMS} params; ${REPORTS} reports; load ${
    load.toFixed(2)
  }`,
);
try {
  monitoringFiles(root);
  results.push(await bench("sqlite", join(root, "models/orchard.db"), root, true));
  if (!values["no-postgres"] && await postgresAnswers(PG_URI)) {
    const schema = `bench_ui_${Date.now().toString(36)}`;
    const url = new URL(PG_URI);
    url.searchParams.set("schema", schema);
    try {
      results.push(await bench("postgres", url.toString(), root, false));
    } finally {
      const c = new pg.Client({ connectionString: PG_URI });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await c.end();
    }
  } else console.log("  (PostgreSQL: no server, skipped)");
} finally {
  Deno.removeSync(root, { recursive: true });
}
const out = fileURLToPath(new URL("./results/ui.json", import.meta.url));
Deno.mkdirSync(fileURLToPath(new URL("./results/", import.meta.url)), { recursive: true });
Deno.writeTextFileSync(
  out,
  JSON.stringify(
    {
      started,
      loadavg: load,
      runs: RUNS,
      metrics: METRICS,
      params: PARAMS,
      reports: REPORTS,
      reps: REPS,
      results,
    },
    null,
    2,
  ) + "\n",
);
console.log(`bench:ui: figures in ${out}`);
