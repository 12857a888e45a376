/**
 * A real, small trained model for the serve tests: synthetic churn-like data
 * generated from a seed, trained through the training API (no mocks), written
 * as a real artifact in a temp directory.
 */
import { ConfigSchema } from "../../src/config/schema.ts";
import { loadArtifact } from "../../src/models/artifact.ts";
import { train } from "../../src/training/train.ts";
import type { ResolvedModel } from "../../src/serve/types.ts";

/** mulberry32: a tiny seeded PRNG */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const CONTRACTS = ["Month-to-month", "One year", "Two year"];

export interface Row {
  tenure: number;
  monthly_charges: number;
  contract: string;
  paperless: string;
  churn: string;
}

export function makeRows(n: number, seed: number): Row[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => {
    const tenure = Math.floor(r() * 72);
    const monthly = Math.round((20 + r() * 100) * 100) / 100;
    const contract = CONTRACTS[Math.floor(r() * 3)];
    const paperless = r() < 0.6 ? "Yes" : "No";
    const score = (contract === "Month-to-month" ? 1.5 : -1) - tenure / 24 + monthly / 60 + (r() - 0.5);
    return { tenure, monthly_charges: monthly, contract, paperless, churn: score > 0.5 ? "Yes" : "No" };
  });
}

export function toCsv(rows: Row[]): string {
  const cols = Object.keys(rows[0]) as (keyof Row)[];
  return [cols.join(","), ...rows.map((row) => cols.map((c) => row[c]).join(","))].join("\n") + "\n";
}

/** A sample record as a client would send it (no target). */
export function sampleRecord(seed = 1): Record<string, unknown> {
  const { churn: _, ...rec } = makeRows(1, seed)[0];
  return rec;
}

export const FIXTURE_ALGORITHM: "forest" | "logistic" = "forest";

/** Trains a small forest on generated data and returns the artifact directory. */
export async function trainFixture(
  dir: string,
  opts: { seed?: number; trees?: number; algorithm?: "forest" | "logistic"; intLabels?: boolean } = {},
): Promise<string> {
  const seed = opts.seed ?? 3;
  await Deno.mkdir(dir, { recursive: true });
  const data = `${dir}/train.csv`;
  const rows = makeRows(400, seed);
  // intLabels: the target is 1/0 (like the churn example) instead of Yes/No
  if (opts.intLabels) { for (const r of rows) r.churn = r.churn === "Yes" ? "1" : "0"; }
  await Deno.writeTextFile(data, toCsv(rows));
  const config = ConfigSchema.parse({
    model: {
      algorithm: opts.algorithm ?? FIXTURE_ALGORITHM,
      n_estimators: opts.trees ?? 12,
      max_depth: 6,
      n_jobs: 1,
      random_state: seed,
    },
  });
  const result = await train({
    config,
    data,
    target: "churn",
    store: null,
    artifactsDir: `${dir}/artifacts`,
    reportsDir: null,
    verbose: false,
  });
  return result.artifact;
}

/** A loader over fixed artifact directories: URI -> (name, version, dir), loaded with the real loadArtifact. */
export function dirLoader(table: Record<string, { name: string; version: string; dir: string }>) {
  return (uri: string): Promise<ResolvedModel> => {
    const hit = table[uri];
    if (!hit) return Promise.reject(new Error(`unknown model URI ${uri}`));
    return Promise.resolve({ uri, ...hit, model: loadArtifact(hit.dir) });
  };
}
