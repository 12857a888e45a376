/**
 * Two runs as a change: what DVC's `params diff` and `metrics diff` show, plus
 * the data each was trained on. `runs diff A B` prints it, and the
 * continuous-training report (src/ct) builds its params and data sections
 * from it. Pure functions over stored runs.
 */
import { formatNumber, MISSING } from "../core/format.ts";
import { formatTable } from "./format.ts";
import type { DatasetInput, Run } from "./store.ts";

/** A param whose value differs (a side without it is null). */
export interface ParamChange {
  key: string;
  a: string | null;
  b: string | null;
}

/** A metric of either run, with b - a when both have it. */
export interface MetricDelta {
  key: string;
  a: number | null;
  b: number | null;
  delta: number | null;
}

/** One named dataset (train, validation) of either run; `same` when the bytes hash alike. */
export interface DatasetChange {
  name: string;
  a: Omit<DatasetInput, "name"> | null;
  b: Omit<DatasetInput, "name"> | null;
  same: boolean;
}

export interface RunDiff {
  runs: [string, string];
  params: ParamChange[];
  /** params that are the same in both (DVC's --all shows them; the diff leaves them out) */
  unchangedParams: number;
  metrics: MetricDelta[];
  datasets: DatasetChange[];
}

/** Per-fold and per-trial step series are not headline metrics. */
const STEP_SERIES = /^(cv_fold_|trial_)/;

const num = (v: number | undefined) => (typeof v === "number" && !Number.isNaN(v) ? v : null);

/** The params that changed, every metric with its delta, and each dataset's digest, from run a to run b. */
export function diffRuns(a: Pick<Run, "runId" | "params" | "metrics" | "datasets">, b: typeof a): RunDiff {
  const keys = (x: Record<string, unknown>, y: Record<string, unknown>) =>
    [...new Set([...Object.keys(x), ...Object.keys(y)])].sort();
  const params: ParamChange[] = [];
  let unchanged = 0;
  for (const key of keys(a.params, b.params)) {
    const x = a.params[key] ?? null, y = b.params[key] ?? null;
    if (x === y) unchanged++;
    else params.push({ key, a: x, b: y });
  }
  const metrics = keys(a.metrics, b.metrics).filter((k) => !STEP_SERIES.test(k)).map((key) => {
    const x = num(a.metrics[key]), y = num(b.metrics[key]);
    return { key, a: x, b: y, delta: x !== null && y !== null ? y - x : null };
  });
  const byName = (r: typeof a) => new Map(r.datasets.map((d) => [d.name, d]));
  const da = byName(a), db = byName(b);
  const datasets = [...new Set([...da.keys(), ...db.keys()])].sort().map((name) => {
    const strip = (d: DatasetInput | undefined) =>
      d ? { path: d.path, sha256: d.sha256, rows: d.rows } : null;
    const x = strip(da.get(name)), y = strip(db.get(name));
    return { name, a: x, b: y, same: x !== null && y !== null && x.sha256 === y.sha256 && x.rows === y.rows };
  });
  return { runs: [a.runId, b.runId], params, unchangedParams: unchanged, metrics, datasets };
}

/** A delta with its sign, to 4 decimals ("+0.0123", "-0.5000", "0"). */
export function fmtDelta(d: number | null): string {
  if (d === null) return MISSING;
  if (d === 0) return "0";
  const s = formatNumber(d, { digits: 4 });
  return d > 0 ? `+${s}` : s;
}

/** A dataset digest as shown: the first 12 hex digits and the row count. */
export function fmtDataset(d: { sha256: string; rows: number } | null): string {
  return d ? `${d.sha256.slice(0, 12)} (${d.rows} rows)` : MISSING;
}

/** The plain-text view `runs diff` prints. */
export function runDiffText(d: RunDiff): string {
  const [a, b] = d.runs.map((r) => r.slice(0, 8));
  const fmt = (v: number | null) => formatNumber(v, { digits: 4 });
  const out: string[] = [`runs diff ${a} -> ${b}`, "", "params"];
  out.push(
    d.params.length
      ? formatTable(["param", a, b], d.params.map((p) => [p.key, p.a ?? MISSING, p.b ?? MISSING]))
      : "(no param changed)",
  );
  out.push(`${d.params.length} changed, ${d.unchangedParams} unchanged`, "", "metrics");
  out.push(
    formatTable(
      ["metric", a, b, "delta"],
      d.metrics.map((m) => [m.key, fmt(m.a), fmt(m.b), fmtDelta(m.delta)]),
    ),
  );
  out.push("", "data");
  out.push(
    formatTable(
      ["dataset", a, b, ""],
      d.datasets.map((x) => [x.name, fmtDataset(x.a), fmtDataset(x.b), x.same ? "same" : "changed"]),
    ),
  );
  return out.join("\n");
}
