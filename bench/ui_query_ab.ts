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
import { fillRunsStore } from "./_ui_store.ts";

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
const RUNS = 10000, METRICS = 50, PARAMS = 30, ROUNDS = Number(values.rounds);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

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
    await fillRunsStore(oldStore, { runs: RUNS, metrics: METRICS, params: PARAMS });
    const newStore = await NewStore.open(loc("after"));
    await fillRunsStore(newStore, { runs: RUNS, metrics: METRICS, params: PARAMS });
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
