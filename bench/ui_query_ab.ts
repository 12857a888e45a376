/**
 * The runs table's cold filter + sort, before and after a change, in one
 * process: the older code (a checkout or `git archive` of an earlier commit,
 * --before DIR) and this checkout, each on its own store holding the same
 * rows (10,000 runs x 50 metrics x 30 params, filled as bench/ui.ts fills
 * them), queries interleaved so both see the same machine load. Each round
 * filters and sorts on keys neither store has read yet. Timed: queryRuns
 * (src/ui/runs_query.ts, the UI's query path), not the page's HTML.
 * PostgreSQL stores are vacuumed after the load, as autovacuum would.
 *
 *   git archive <commit> | tar -x -C /tmp/before
 *   deno run -A bench/ui_query_ab.ts --before /tmp/before [--rounds 9] [--only sqlite|postgres]
 */
import { parseArgs } from "node:util";
import { resolve } from "node:path";
import pg from "pg";
import { TrackingStore as NewStore } from "../src/tracking/store.ts";
import { queryRuns as newQuery } from "../src/ui/runs_query.ts";
import { postgresAnswers } from "./_postgres.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { before: { type: "string" }, rounds: { type: "string", default: "9" }, only: { type: "string" } },
});
if (!values.before) {
  console.error("ui_query_ab: --before DIR (a checkout of the older commit) is required");
  Deno.exit(2);
}
const before = resolve(values.before);
// deno-lint-ignore no-explicit-any
const { TrackingStore: OldStore } = await import(`${before}/src/tracking/store.ts`) as any;
// deno-lint-ignore no-explicit-any
const { queryRuns: oldQuery } = await import(`${before}/src/ui/runs_query.ts`) as any;
type SqlValue = string | number | null;
const RUNS = 10000, METRICS = 50, PARAMS = 30, ROUNDS = Number(values.rounds);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Bulk rows through the store's own SQL interface: one transaction, 200-row INSERTs. */
// deno-lint-ignore no-explicit-any
async function fill(store: any): Promise<string[]> {
  const expId = await store.experimentId("bench");
  const ids = Array.from({ length: RUNS }, (_, i) => `b${String(i).padStart(31, "0")}`);
  const t0 = Date.now() - RUNS * 1000;
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  // deno-lint-ignore no-explicit-any
  let tx: any = store.db;
  const insert = async (head: string, rows: SqlValue[][]) => {
    for (let i = 0; i < rows.length; i += 200) {
      const part = rows.slice(i, i + 200);
      const tuple = `(${part[0].map(() => "?").join(", ")})`;
      await tx.run(`${head} ${part.map(() => tuple).join(", ")}`, part.flat());
    }
  };
  await store.transaction(async (t: typeof tx) => {
    tx = t;
    const runRows: SqlValue[][] = ids.map((id, i) => {
      // runs 100..1099 are children of runs 0..99
      const parent = i >= 100 && i < 1100 ? ids[(i - 100) % 100] : null;
      return [id, expId, `run-${i}`, "FINISHED", t0 + i * 1000, t0 + i * 1000 + 500, parent, i + 1];
    });
    await insert(
      "INSERT INTO runs(run_id, experiment_id, run_name, status, start_time, end_time, parent_run_id, seq) VALUES",
      runRows,
    );
    const params: SqlValue[][] = [];
    const metrics: SqlValue[][] = [];
    for (const [i, id] of ids.entries()) {
      for (let p = 0; p < PARAMS; p++) {
        params.push([id, `p_${p}`, p % 3 === 0 ? ["a", "b", "c"][i % 3] : String((i * (p + 1)) % 97)]);
      }
      for (let m = 0; m < METRICS; m++) metrics.push([id, `m_${m}`, rnd(), 0, 0, t0 + i * 1000]);
      if (params.length >= 20_000) {
        await insert("INSERT INTO params(run_id, key, value) VALUES", params.splice(0));
      }
      if (metrics.length >= 20_000) {
        await insert(
          "INSERT INTO metrics(run_id, key, value, is_nan, step, timestamp) VALUES",
          metrics.splice(0),
        );
      }
    }
    await insert("INSERT INTO params(run_id, key, value) VALUES", params);
    await insert("INSERT INTO metrics(run_id, key, value, is_nan, step, timestamp) VALUES", metrics);
    // one run with step histories, for the run page's charts
    const hist: SqlValue[][] = [];
    for (let s = 1; s <= 100; s++) {
      for (let m = 0; m < 5; m++) hist.push([ids[Math.floor(RUNS / 2)], `m_${m}`, rnd(), 0, s, t0 + s]);
    }
    await insert("INSERT INTO metrics(run_id, key, value, is_nan, step, timestamp) VALUES", hist);
  });
  return ids;
}

const PG = Deno.env.get("ORCHARD_TEST_POSTGRES_URI") ??
  "postgresql://orchard:orchard@127.0.0.1:5432/orchard_test";
const backends = values.only ? [values.only] : ["sqlite", ...(await postgresAnswers(PG) ? ["postgres"] : [])];
const root = Deno.makeTempDirSync({ prefix: "orchard-ui-ab-" });
const schemas: string[] = [];
try {
  for (const backend of backends) {
    const loc = (name: string) => {
      if (backend === "sqlite") return `${root}/${name}.db`;
      const s = `ui_ab_${name}_${Date.now().toString(36)}`;
      schemas.push(s);
      const u = new URL(PG);
      u.searchParams.set("schema", s);
      return u.toString();
    };
    const oldStore = await OldStore.open(loc("before"));
    await fill(oldStore);
    const newStore = await NewStore.open(loc("after"));
    await fill(newStore);
    if (backend === "postgres") {
      for (const s of [oldStore, newStore]) {
        for (const t of ["runs", "params", "metrics", "tags"]) await s.db.run(`VACUUM ANALYZE ${t}`);
      }
    } else for (const s of [oldStore, newStore]) await s.db.run("ANALYZE");
    const before: number[] = [], after: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const q = {
        filter: `metrics.m_${10 + i} > 0.5 and params.p_${3 + 3 * (i % 9)} = 'a'`,
        sort: `metrics.m_${30 + i} desc`,
      };
      // deno-lint-ignore no-explicit-any
      const pairs: [any, any, number[]][] = i % 2
        ? [[oldQuery, oldStore, before], [newQuery, newStore, after]]
        : [[newQuery, newStore, after], [oldQuery, oldStore, before]];
      const matched: number[] = [];
      for (const [f, s, out] of pairs) {
        const t0 = performance.now();
        const r = await f(s, q);
        out.push(performance.now() - t0);
        matched.push(r.matched);
      }
      if (matched[0] !== matched[1]) throw new Error(`results differ: ${matched}`);
    }
    const b = median(before), a = median(after);
    console.log(
      `${backend}: cold filter+sort (queryRuns), median of ${ROUNDS} interleaved: before ${
        b.toFixed(1)
      } ms, after ${a.toFixed(1)} ms, after/before ${(a / b).toFixed(2)}; load ${
        Deno.loadavg()[0].toFixed(2)
      }`,
    );
    console.log(
      `  before: ${before.map((x) => x.toFixed(0)).join(" ")}\n  after:  ${
        after.map((x) => x.toFixed(0)).join(" ")
      }`,
    );
    await oldStore.close();
    await newStore.close();
  }
} finally {
  Deno.removeSync(root, { recursive: true });
  if (schemas.length) {
    const c = new pg.Client({ connectionString: PG });
    await c.connect();
    for (const s of schemas) await c.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
    await c.end();
  }
}
