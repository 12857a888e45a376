/**
 * What a benchmark needs from outside the repo, checked before it starts: the
 * reference scripts and data in ../shared, the Debian Python packages they
 * import, and tools like wrk. A missing piece is one line naming all of them
 * and how to get them, and exit 2, instead of a stack trace minutes in.
 *
 *   import { preflight } from "./preflight.ts"; await preflight("forest", { ref, data });
 *   deno run --allow-read --allow-run bench/preflight.ts serve [--ref DIR] [--data DIR]   # from a shell bench
 */
import { parseArgs } from "node:util";
import { existsSync as exists } from "node:fs";
import { join } from "node:path";

export const PYTHON = "/usr/bin/python3";

interface Needs {
  /** files under the reference directory */
  ref?: string[];
  /** files under the data directory */
  data?: string[];
  /** Python modules -> the Debian package that ships each */
  python?: Record<string, string>;
  /** executables -> the Debian package */
  tools?: Record<string, string>;
}

const SKLEARN = { sklearn: "python3-sklearn", pandas: "python3-pandas", numpy: "python3-numpy" };

export const NEEDS: Record<string, Needs> = {
  forest: {
    ref: ["sklearn_rf.py", "make_big.py"],
    data: ["wa_churn_train.csv", "wa_churn_valid.csv"],
    python: SKLEARN,
  },
  train: {
    ref: ["sklearn_rf.py"],
    data: ["wa_churn_train.csv", "wa_churn_valid.csv"],
    python: SKLEARN,
    tools: { "/usr/bin/bc": "bc" },
  },
  serve: {
    ref: ["fastapi_ref.py"],
    data: ["wa_churn_train.csv", "wa_churn_valid.csv"],
    python: { ...SKLEARN, fastapi: "python3-fastapi", uvicorn: "python3-uvicorn" },
    tools: { "/usr/bin/wrk": "wrk", "/usr/bin/curl": "curl" },
  },
  "serve-batch": {
    ref: ["fastapi_ref.py"],
    data: ["wa_churn_train.csv", "wa_churn_valid.csv"],
    python: { ...SKLEARN, fastapi: "python3-fastapi", uvicorn: "python3-uvicorn" },
  },
  boosting: {
    ref: ["gbdt_ref.py", "make_big.py"],
    data: ["wa_churn_train.csv", "wa_churn_valid.csv"],
    python: { ...SKLEARN, xgboost: "python3-xgboost" },
  },
  default: {
    data: ["wa_churn.csv"],
    python: SKLEARN,
  },
  drift: {
    ref: ["drift_ref.py", "make_drift.py"],
    python: { pandas: "python3-pandas", scipy: "python3-scipy", numpy: "python3-numpy" },
    tools: { "/usr/bin/time": "time" },
  },
};

export interface Dirs {
  ref?: string;
  data?: string;
}

async function missingModules(modules: string[]): Promise<string[]> {
  if (!modules.length) return [];
  if (!exists(PYTHON)) return modules;
  const missing: string[] = [];
  for (const m of modules) {
    const out = await new Deno.Command(PYTHON, {
      args: ["-c", `import ${m}`],
      stdout: "null",
      stderr: "null",
    })
      .output();
    if (!out.success) missing.push(m);
  }
  return missing;
}

/** The one line saying what is missing and how to get it, or null when everything is there. */
export async function missingLine(bench: string, dirs: Dirs = {}): Promise<string | null> {
  const needs = NEEDS[bench];
  if (!needs) throw new Error(`preflight: no needs declared for bench ${bench}`);
  const ref = dirs.ref ?? "../shared/reference";
  const data = dirs.data ?? "../shared/data";
  const files = [
    ...(needs.ref ?? []).map((f) => join(ref, f)),
    ...(needs.data ?? []).map((f) => join(data, f)),
  ].filter((f) => !exists(f));
  const modules = await missingModules(Object.keys(needs.python ?? {}));
  const tools = Object.keys(needs.tools ?? {}).filter((t) => !exists(t));
  if (!files.length && !modules.length && !tools.length) return null;
  const debs = [
    ...(exists(PYTHON) ? [] : ["python3"]),
    ...modules.map((m) => needs.python![m]),
    ...tools.map((t) => needs.tools![t]),
  ];
  const parts = [
    ...(files.length
      ? [`${files.join(", ")} (put the shared/ folder beside the repo, or pass its paths)`]
      : []),
    ...(debs.length ? [`apt-get install -y ${[...new Set(debs)].join(" ")}`] : []),
  ];
  return `bench:${bench} needs ${parts.join("; and ")}; see ../shared/reference/README.md`;
}

/** Exits 2 with the one line when anything the bench needs is missing. */
export async function preflight(bench: string, dirs: Dirs = {}): Promise<void> {
  const line = await missingLine(bench, dirs);
  if (line) {
    console.error(line);
    Deno.exit(2);
  }
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    options: { ref: { type: "string" }, data: { type: "string" } },
    allowPositionals: true,
  });
  if (positionals.length !== 1 || !NEEDS[positionals[0]]) {
    console.error(`usage: preflight.ts <${Object.keys(NEEDS).join("|")}> [--ref DIR] [--data DIR]`);
    Deno.exit(2);
  }
  await preflight(positionals[0], values);
}
