/** Small generated tables for the training tests (never the shared data). */
import { Rng } from "../../src/core/random.ts";

export interface Row {
  [key: string]: string | number | boolean | null;
}

/** n customers: the target "churned" (yes/no) depends on tenure, plan and a flag. */
export function churnRows(n: number, seed = 1): Row[] {
  const rng = new Rng(seed);
  const plans = ["basic", "plus", "pro"];
  return Array.from({ length: n }, (_, i) => {
    const tenure = Math.round(rng.uniform(0, 60));
    const plan = plans[rng.int(3)];
    const autopay = rng.chance(0.5);
    const spend = Math.round(rng.uniform(10, 120) * 100) / 100;
    const z = 1.5 - tenure / 15 + (plan === "basic" ? 1 : plan === "pro" ? -1 : 0) - (autopay ? 0.8 : 0) +
      rng.normal(0, 0.7);
    const day = 1 + rng.int(28);
    return {
      customer_ref: `CUST-${10000 + i}`,
      tenure,
      plan: rng.chance(0.03) ? null : plan,
      autopay,
      spend: rng.chance(0.05) ? null : spend,
      signup: `2023-0${1 + rng.int(9)}-${String(day).padStart(2, "0")}`,
      churned: z > 0 ? "yes" : "no",
    };
  });
}

export function toCsv(rows: Row[]): string {
  const cols = Object.keys(rows[0]);
  const cell = (v: unknown) => (v === null || v === undefined ? "" : String(v));
  return [cols.join(","), ...rows.map((r) => cols.map((c) => cell(r[c])).join(","))].join("\n") + "\n";
}
