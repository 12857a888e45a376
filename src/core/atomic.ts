/**
 * Atomic writes: write a temp file beside the target, then rename, so a crash
 * leaves the old file or the new one, never half of one.
 */
import { dirname } from "node:path";
import type pl from "nodejs-polars";

function tempPath(path: string): string {
  const rand = crypto.getRandomValues(new Uint32Array(1))[0].toString(36);
  return `${path}.tmp-${Deno.pid}-${rand}`;
}

export function ensureDir(dir: string): void {
  Deno.mkdirSync(dir, { recursive: true });
}

/** Runs `write(tmp)` and renames tmp onto `path`; removes tmp on failure. */
export function atomically(path: string, write: (tmp: string) => void): void {
  ensureDir(dirname(path) || ".");
  const tmp = tempPath(path);
  try {
    write(tmp);
    Deno.renameSync(tmp, path);
  } catch (e) {
    try {
      Deno.removeSync(tmp, { recursive: true });
    } catch { /* nothing was written */ }
    throw e;
  }
}

export function writeTextAtomic(path: string, text: string): void {
  atomically(path, (tmp) => Deno.writeTextFileSync(tmp, text));
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeTextAtomic(path, JSON.stringify(value, null, 2) + "\n");
}

/** Writes a DataFrame as CSV, Parquet, JSON or NDJSON by the target's extension. */
export function writeFrameAtomic(df: pl.DataFrame, path: string): void {
  const ext = path.toLowerCase().split(".").pop();
  atomically(path, (tmp) => {
    if (ext === "parquet") df.writeParquet(tmp);
    else if (ext === "json") Deno.writeTextFileSync(tmp, JSON.stringify(df.toRecords()));
    else if (ext === "ndjson" || ext === "jsonl") df.writeJSON(tmp, { format: "lines" });
    else df.writeCSV(tmp);
  });
}
