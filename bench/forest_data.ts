/**
 * Bench-only loader: reads a train/valid CSV pair the way
 * /work/shared/reference/sklearn_rf.py does (text columns one-hot encoded with
 * a NaN column, numeric NaNs filled with the training median, target 1 = the
 * training minority class), so both engines see the same numbers. Kept
 * separate from the training stage's preprocessing on purpose: the benchmark
 * measures the engine alone.
 */
import type { Matrix } from "../src/models/types.ts";

const MISSING = new Set(["", "NA", "N/A", "NaN", "nan", "null", "NULL", "None", "none", "n/a", "<NA>"]);

function parseCsv(text: string): { header: string[]; rows: string[][] } {
  const lines = text.split(/\r?\n/).filter((l) => l.length > 0);
  const split = (line: string): string[] => {
    if (!line.includes('"')) return line.split(",");
    const out: string[] = [];
    let cur = "", q = false;
    for (let i = 0; i < line.length; i++) {
      const c = line[i];
      if (q) {
        if (c === '"' && line[i + 1] === '"') {
          cur += '"';
          i++;
        } else if (c === '"') q = false;
        else cur += c;
      } else if (c === '"') q = true;
      else if (c === ",") {
        out.push(cur);
        cur = "";
      } else cur += c;
    }
    out.push(cur);
    return out;
  };
  return { header: split(lines[0]), rows: lines.slice(1).map(split) };
}

export interface BenchData {
  train: Matrix;
  yTrain: Float64Array;
  valid: Matrix;
  yValid: Float64Array;
  features: string[];
  positive: string;
}

export function loadPair(trainPath: string, validPath: string, target: string): BenchData {
  const tr = parseCsv(Deno.readTextFileSync(trainPath));
  const va = parseCsv(Deno.readTextFileSync(validPath));
  const ti = tr.header.indexOf(target);
  if (ti < 0) throw new Error(`no column ${target}`);
  const cols = tr.header.map((name, j) => ({ name, j })).filter((c) => c.j !== ti);
  const vIndex = new Map(va.header.map((h, j) => [h, j]));
  const all = [...tr.rows, ...va.rows.map((r) => tr.header.map((h) => r[vIndex.get(h)!] ?? ""))];
  // target: positive = the training minority class
  const counts = new Map<string, number>();
  for (const r of tr.rows) counts.set(r[ti], (counts.get(r[ti]) ?? 0) + 1);
  const positive = [...counts.entries()].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1))[0][0];
  // columns: numeric unless some non-missing value is not a number (pandas' object dtype)
  const specs: { j: number; name: string; levels?: string[]; median?: number }[] = [];
  for (const c of cols) {
    const isNum = all.every((r) => MISSING.has(r[c.j]) || Number.isFinite(Number(r[c.j])));
    if (isNum) {
      const v = tr.rows.map((r) => MISSING.has(r[c.j]) ? NaN : Number(r[c.j])).filter((x) => !isNaN(x))
        .sort((a, b) => a - b);
      const m = v.length === 0
        ? NaN
        : v.length % 2
        ? v[(v.length - 1) / 2]
        : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
      specs.push({ j: c.j, name: c.name, median: m });
    } else {
      const levels = [...new Set(all.map((r) => r[c.j]).filter((x) => !MISSING.has(x)))].sort();
      specs.push({ j: c.j, name: c.name, levels });
    }
  }
  // pandas.get_dummies puts numeric columns first, then the dummies in column order
  const numeric = specs.filter((s) => !s.levels), cats = specs.filter((s) => s.levels);
  const features = [
    ...numeric.map((s) => s.name),
    ...cats.flatMap((s) => [...s.levels!.map((l) => `${s.name}_${l}`), `${s.name}_nan`]),
  ];
  const toMatrix = (rows: string[][], header: string[]) => {
    const idx = new Map(header.map((h, j) => [h, j]));
    const p = features.length, data = new Float64Array(rows.length * p);
    const y = new Float64Array(rows.length);
    rows.forEach((r, i) => {
      let o = i * p;
      for (const s of numeric) {
        const raw = r[idx.get(s.name)!];
        data[o++] = MISSING.has(raw) ? s.median! : Number(raw);
      }
      for (const s of cats) {
        const raw = r[idx.get(s.name)!];
        for (const l of s.levels!) data[o++] = raw === l ? 1 : 0;
        data[o++] = MISSING.has(raw) ? 1 : 0;
      }
      y[i] = r[idx.get(target)!] === positive ? 1 : 0;
    });
    return { X: { data, rows: rows.length, cols: p }, y };
  };
  const a = toMatrix(tr.rows, tr.header), b = toMatrix(va.rows, va.header);
  return { train: a.X, yTrain: a.y, valid: b.X, yValid: b.y, features, positive };
}
