/**
 * The runs store bench:ui and bench/ui_query_ab.ts measure: `runs` runs x
 * `metrics` metrics x `params` params (runs 100..1099 children of runs 0..99),
 * one run with step histories, written in bulk through the store's own SQL
 * interface (one transaction, 200-row INSERTs). The same rows every time.
 */
import type { Sql, SqlValue } from "../src/store/sql.ts";

/** What fill needs of a tracking store: this checkout's or an older one's. */
export interface BulkStore {
  experimentId(name: string): Promise<string | number>;
  db: Sql;
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T>;
}

export async function fillRunsStore(
  store: BulkStore,
  shape: { runs: number; metrics: number; params: number },
): Promise<string[]> {
  const { runs: RUNS, metrics: METRICS, params: PARAMS } = shape;
  const expId = await store.experimentId("bench");
  const ids = Array.from({ length: RUNS }, (_, i) => `b${String(i).padStart(31, "0")}`);
  const t0 = Date.now() - RUNS * 1000;
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  let tx: Sql = store.db;
  const insert = async (head: string, rows: SqlValue[][]) => {
    for (let i = 0; i < rows.length; i += 200) {
      const part = rows.slice(i, i + 200);
      const tuple = `(${part[0].map(() => "?").join(", ")})`;
      await tx.run(`${head} ${part.map(() => tuple).join(", ")}`, part.flat());
    }
  };
  await store.transaction(async (t) => {
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
