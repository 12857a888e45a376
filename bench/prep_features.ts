/**
 * `deno task bench:prep`: prep + features on 100,000 customers and ~5,000,000
 * transactions. The data is generated once into data/bench/prep/raw (its own
 * timing is reported too); each stage runs as the real task in its own
 * process under /usr/bin/time -v, which gives wall time and peak RSS.
 * Target (issue 2): prep + features under 20 s and under 4 GB peak on 2 cores.
 *
 * usage: deno task bench:prep [--customers N] [--seed S] [--runs R]
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    customers: { type: "string", default: "100000" },
    seed: { type: "string", default: "7" },
    runs: { type: "string", default: "1" },
  },
});
const customers = Number(values.customers), runs = Number(values.runs);
const root = "data/bench/prep";
const raw = `${root}/raw`;
const config = `${root}/params.yaml`;

interface Measure {
  seconds: number;
  peak_rss_mb: number | null;
  user_s: number | null;
  sys_s: number | null;
}

const hasTime = await Deno.stat("/usr/bin/time").then(() => true, () => false);

async function measure(label: string, args: string[]): Promise<Measure> {
  const cmd = hasTime ? "/usr/bin/time" : Deno.execPath();
  const argv = hasTime ? ["-v", Deno.execPath(), ...args] : args;
  const t0 = performance.now();
  const out = await new Deno.Command(cmd, { args: argv, stdout: "piped", stderr: "piped" }).output();
  const seconds = (performance.now() - t0) / 1000;
  const err = new TextDecoder().decode(out.stderr);
  if (!out.success) {
    console.error(err);
    throw new Error(`${label} failed (exit ${out.code})`);
  }
  const num = (re: RegExp) => {
    const m = re.exec(err);
    return m ? Number(m[1]) : null;
  };
  const rssKb = num(/Maximum resident set size \(kbytes\): (\d+)/);
  return {
    seconds,
    peak_rss_mb: rssKb === null ? null : Math.round(rssKb / 1024),
    user_s: num(/User time \(seconds\): ([\d.]+)/),
    sys_s: num(/System time \(seconds\): ([\d.]+)/),
  };
}

// the yaml package reads LOG_TOKENS and LOG_STREAM while parsing params.yaml
const env = "--allow-env=LOG_TOKENS,LOG_STREAM";
const polars = ["--allow-ffi", "--allow-sys", env];
const manifest = await Deno.readTextFile(`${raw}/generation.json`).then(JSON.parse, () => null);
let generate: (Measure & { transactions: number }) | null = null;
let world = manifest;
if (!manifest || manifest.customers !== customers || manifest.seed !== Number(values.seed)) {
  console.error(`bench:prep: generating ${customers} customers into ${raw} ...`);
  const m = await measure("data:generate", [
    "run",
    "--allow-read=.",
    `--allow-write=${root}`,
    env,
    "tasks/generate.ts",
    "--out",
    raw,
    "--customers",
    String(customers),
    "--seed",
    String(values.seed),
  ]);
  world = JSON.parse(await Deno.readTextFile(`${raw}/generation.json`));
  generate = { ...m, transactions: world.transactions };
}
await Deno.writeTextFile(
  config,
  [
    "data:",
    "  sources:",
    `    customers: { path: ${raw}/customers.csv }`,
    `    transactions: { path: ${raw}/transactions.json }`,
    "paths:",
    `  interim: ${root}/interim`,
    `  processed: ${root}/processed`,
    `  features: ${root}/features`,
    "",
  ].join("\n"),
);

const results: { prep: Measure; features: Measure; total_seconds: number; peak_rss_mb: number | null }[] = [];
for (let r = 0; r < runs; r++) {
  console.error(`bench:prep: run ${r + 1}/${runs}: prep ...`);
  const prep = await measure("prep", [
    "run",
    "--allow-read=.",
    `--allow-write=${root}`,
    ...polars,
    "tasks/prep.ts",
    "--config",
    config,
    "--json",
  ]);
  console.error(`bench:prep: run ${r + 1}/${runs}: features ...`);
  const features = await measure("features", [
    "run",
    "--allow-read=.",
    `--allow-write=${root}`,
    ...polars,
    "tasks/features.ts",
    "--config",
    config,
    "--json",
  ]);
  const peak = prep.peak_rss_mb === null || features.peak_rss_mb === null
    ? null
    : Math.max(prep.peak_rss_mb, features.peak_rss_mb);
  results.push({ prep, features, total_seconds: prep.seconds + features.seconds, peak_rss_mb: peak });
}

const best = results.reduce((a, b) => (b.total_seconds < a.total_seconds ? b : a));
const cpus = navigator.hardwareConcurrency;
const load = Deno.loadavg().map((x) => x.toFixed(2)).join(" ");
const report = {
  customers: world.customers,
  customer_rows: world.customer_rows,
  transactions: world.transactions,
  transactions_json_mb: Math.round((await Deno.stat(`${raw}/transactions.json`)).size / 2 ** 20),
  machine: { cpus, load_average_at_end: load, deno: Deno.version.deno },
  generate,
  runs: results,
  best,
  target: { seconds: 20, peak_rss_mb: 4096 },
  passed: best.total_seconds < 20 && (best.peak_rss_mb ?? 0) < 4096,
};
await Deno.mkdir("bench/results", { recursive: true });
await Deno.writeTextFile("bench/results/prep_features.json", JSON.stringify(report, null, 2) + "\n");
const f = (m: Measure) =>
  `${m.seconds.toFixed(2)} s wall, ${m.peak_rss_mb ?? "?"} MB peak, ${m.user_s ?? "?"} s user + ${
    m.sys_s ?? "?"
  } s sys`;
console.log(
  [
    `bench:prep: ${report.customers} customers (${report.customer_rows} rows), ${report.transactions} transactions (${report.transactions_json_mb} MB JSON), ${cpus} CPUs, load ${load}`,
    generate ? `  data:generate  ${f(generate)}` : `  data:generate  (reused ${raw})`,
    `  prep           ${f(best.prep)}`,
    `  features       ${f(best.features)}`,
    `  total          ${best.total_seconds.toFixed(2)} s, peak ${
      best.peak_rss_mb ?? "?"
    } MB  (target < 20 s, < 4096 MB): ${report.passed ? "PASS" : "FAIL"}`,
    `  -> bench/results/prep_features.json`,
  ].join("\n"),
);
