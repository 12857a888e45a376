/**
 * bench:drift — `deno task drift` vs the pandas + scipy reference
 * (../shared/reference/drift_ref.py) on make_drift.py's files (default
 * 1,000,000 rows x 20 columns), whole process and peak RSS (GNU time), in the
 * same run. Checks: ours <= 0.5 x the reference's time, < 3 GB peak, exactly
 * n3, n7 and c2 flagged, and our values equal scipy's to 1e-6.
 * Usage: deno task bench:drift [ROWS]
 */
import { join } from "node:path";
import { preflight } from "./preflight.ts";

const rows = Number(Deno.args[0] ?? 1_000_000);
const REF_DIR = "../shared/reference";
await preflight("drift", { ref: REF_DIR });
const dir = join("data/bench", `drift_${rows}`);
Deno.mkdirSync(dir, { recursive: true });

async function sh(cmd: string[], capture = true): Promise<{ code: number; out: string; err: string }> {
  const o = await new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    stdout: capture ? "piped" : "inherit",
    stderr: "piped",
  })
    .output();
  const dec = new TextDecoder();
  return { code: o.code, out: dec.decode(o.stdout), err: dec.decode(o.stderr) };
}

/** Runs under GNU time: wall seconds and peak RSS in MB from its last stderr line. */
async function timed(cmd: string[]) {
  const r = await sh(["/usr/bin/time", "-f", "TIME %e %M", ...cmd]);
  const m = /TIME ([\d.]+) (\d+)\s*$/.exec(r.err);
  if (r.code !== 0 && r.code !== 1) {
    throw new Error(`${cmd.join(" ")} failed (${r.code}): ${r.err.slice(-400)}`);
  }
  return { ...r, seconds: Number(m?.[1]), peakMb: Number(m?.[2]) / 1024 };
}

const refCsv = join(dir, "ref.csv"), curCsv = join(dir, "cur.csv");
try {
  Deno.statSync(curCsv);
} catch {
  console.error(`generating ${rows} rows into ${dir} ...`);
  const g = await sh(["/usr/bin/python3", join(REF_DIR, "make_drift.py"), String(rows), dir]);
  if (g.code !== 0) throw new Error(g.err);
}

const ours = await timed([
  Deno.execPath(),
  "run",
  "--allow-read=.",
  "--allow-write=data/bench",
  "--allow-ffi",
  "--allow-sys",
  "--allow-env=LOG_TOKENS,LOG_STREAM",
  "tasks/drift.ts",
  "--reference",
  refCsv,
  "--current",
  curCsv,
  "--json",
  "--output",
  join(dir, "reports"),
  "--set",
  `paths.monitoring=${join(dir, "monitoring")}`,
  "--set",
  `tracking.store=${join(dir, "no-store.db")}`,
]);
const scipy = await timed(["/usr/bin/python3", join(REF_DIR, "drift_ref.py"), refCsv, curCsv]);

const j = JSON.parse(ours.out);
const sp = JSON.parse(scipy.out);
const flagged = j.columns.filter((c: { drifted: boolean }) => c.drifted).map((c: { column: string }) =>
  c.column
).sort();
let maxDiff = 0;
for (const c of j.columns) {
  const s = sp[c.column];
  if (!s) continue;
  const want = c.test === "wasserstein"
    ? s.wasserstein_normed
    : c.test === "jensenshannon"
    ? s.jensenshannon
    : undefined;
  if (want !== undefined) maxDiff = Math.max(maxDiff, Math.abs(want - c.statistic));
}
const ratio = ours.seconds / scipy.seconds;
const checks = [
  [`time ratio ${ratio.toFixed(2)} <= 0.5`, ratio <= 0.5],
  [`peak ${ours.peakMb.toFixed(0)} MB < 3072 MB`, ours.peakMb < 3072],
  [`flagged ${flagged.join(",")} == c2,n3,n7`, flagged.join(",") === "c2,n3,n7"],
  [`max |ours - scipy| ${maxDiff.toExponential(2)} <= 1e-6`, maxDiff <= 1e-6],
] as const;
console.log(
  `drift benchmark: ${rows} rows x 20 columns (reference + current), ${Deno.build.os}/${Deno.build.arch}, ${navigator.hardwareConcurrency} cores`,
);
console.log(`  deno task drift      ${ours.seconds.toFixed(2)} s   peak ${ours.peakMb.toFixed(0)} MB`);
console.log(`  drift_ref.py (scipy) ${scipy.seconds.toFixed(2)} s   peak ${scipy.peakMb.toFixed(0)} MB`);
for (const [text, ok] of checks) console.log(`  ${ok ? "PASS" : "FAIL"} ${text}`);
Deno.exit(checks.every(([, ok]) => ok) ? 0 : 1);
