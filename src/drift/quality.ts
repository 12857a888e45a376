/**
 * Data quality of the current data against the reference, each check one
 * pass/fail line: schema (missing columns, extra columns, wrong types),
 * missing share vs reference, new categories, out-of-range values.
 */
import type { ColumnProfile } from "./profile.ts";
import { upperBound } from "./stats.ts";

export interface QualityCheck {
  check:
    | "missing_columns"
    | "extra_columns"
    | "column_types"
    | "missing_share"
    | "new_categories"
    | "out_of_range";
  status: "pass" | "fail";
  detail: string;
  /** the columns that failed */
  columns: string[];
}

export interface QualityInput {
  /** columns the reference has (model inputs; ids, split and labels already removed) */
  referenceColumns: string[];
  /** columns the current data has (log metadata already removed) */
  currentColumns: string[];
  /** column -> [reference type, current type] where they disagree */
  typeMismatches: Map<string, [string, string]>;
  reference: Map<string, ColumnProfile>;
  current: Map<string, ColumnProfile>;
  missingTolerance: number;
  outOfRangeTolerance: number;
}

const list = (xs: string[], max = 6) =>
  xs.slice(0, max).map((x) => `'${x}'`).join(", ") + (xs.length > max ? ` and ${xs.length - max} more` : "");
const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

function line(
  check: QualityCheck["check"],
  failed: string[],
  passText: string,
  failText: string,
): QualityCheck {
  return failed.length
    ? { check, status: "fail", detail: failText, columns: failed }
    : { check, status: "pass", detail: passText, columns: [] };
}

/** Share of a sorted sample outside [lo, hi]. */
function outsideShare(sorted: Float64Array, lo: number, hi: number): number {
  if (sorted.length === 0) return 0;
  let below = 0;
  while (below < sorted.length && sorted[below] < lo) below++;
  const above = sorted.length - upperBound(sorted, hi);
  return (below + above) / sorted.length;
}

export function qualityChecks(q: QualityInput): QualityCheck[] {
  const cur = new Set(q.currentColumns), ref = new Set(q.referenceColumns);
  const missingCols = q.referenceColumns.filter((c) => !cur.has(c));
  const extraCols = q.currentColumns.filter((c) => !ref.has(c));
  const checks: QualityCheck[] = [
    line("missing_columns", missingCols, "every reference column is present", `missing ${list(missingCols)}`),
    line("extra_columns", extraCols, "no columns beyond the reference's", `unexpected ${list(extraCols)}`),
    line(
      "column_types",
      [...q.typeMismatches.keys()],
      "every column has its reference type",
      `type changed: ${
        [...q.typeMismatches].slice(0, 6).map(([c, [r, k]]) => `'${c}' ${r} -> ${k}`).join(", ")
      }`,
    ),
  ];

  const missingFails: string[] = [], missingText: string[] = [];
  const newCatFails: string[] = [], newCatText: string[] = [];
  const rangeFails: string[] = [], rangeText: string[] = [];
  for (const [c, r] of q.reference) {
    const k = q.current.get(c);
    if (!k) continue;
    const rShare = r.rows ? r.missing / r.rows : 0, kShare = k.rows ? k.missing / k.rows : 0;
    if (kShare - rShare > q.missingTolerance) {
      missingFails.push(c);
      missingText.push(`'${c}' ${pct(kShare)} (reference ${pct(rShare)})`);
    }
    if (r.kind === "categorical" && k.kind === "categorical") {
      const fresh = [...k.counts.keys()].filter((v) => !r.counts.has(v));
      if (fresh.length) {
        newCatFails.push(c);
        newCatText.push(`'${c}': ${list(fresh, 3)}`);
      }
    }
    if (r.kind === "numeric" && k.kind === "numeric" && r.sorted.length && k.sorted.length) {
      const share = outsideShare(k.sorted, r.sorted[0], r.sorted[r.sorted.length - 1]);
      if (share > q.outOfRangeTolerance) {
        rangeFails.push(c);
        rangeText.push(`'${c}' ${pct(share)} outside [${r.sorted[0]}, ${r.sorted[r.sorted.length - 1]}]`);
      }
    }
  }
  checks.push(
    line(
      "missing_share",
      missingFails,
      `no column's missing share exceeds the reference's by more than ${pct(q.missingTolerance)}`,
      `more missing values: ${missingText.slice(0, 6).join(", ")}`,
    ),
    line(
      "new_categories",
      newCatFails,
      "no categories unseen in the reference",
      `new categories in ${newCatText.slice(0, 6).join("; ")}`,
    ),
    line(
      "out_of_range",
      rangeFails,
      `no numeric column has more than ${pct(q.outOfRangeTolerance)} of values outside the reference range`,
      `out of range: ${rangeText.slice(0, 6).join(", ")}`,
    ),
  );
  return checks;
}
