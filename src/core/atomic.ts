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

/** `<name>.tmp-<pid>-<random>`: what `atomically` (and an artifact save) leaves when its process is killed. */
const TEMP_NAME = /^.+\.tmp-(\d+)-[0-9a-z]+$/;

/** Whether process `pid` is running here; unknown (no /proc) counts as running, so nothing is removed. */
function pidAlive(pid: number): boolean {
  if (pid === Deno.pid) return true;
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch (e) {
    return !(e instanceof Deno.errors.NotFound);
  }
}

/**
 * Removes the temp files and folders a killed process left under `dir` (down
 * to `depth` levels): names of the `atomically` shape whose process has
 * ended. A stage calls it on its output folders when it starts, so a killed
 * run's half-written 40 MB file does not outlive the next run. Returns what
 * was removed.
 */
export function removeStaleTemps(dir: string, depth = 2): string[] {
  const removed: string[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch {
    return removed; // missing or unreadable: nothing of ours to clean
  }
  for (const entry of entries) {
    const path = `${dir}/${entry.name}`;
    const m = TEMP_NAME.exec(entry.name);
    if (m && !pidAlive(Number(m[1]))) {
      try {
        Deno.removeSync(path, { recursive: true });
        removed.push(path);
      } catch { /* someone else removed it, or it is not ours to remove */ }
    } else if (
      entry.isDirectory && depth > 1 && entry.name !== "node_modules" && !entry.name.startsWith(".")
    ) {
      removed.push(...removeStaleTemps(path, depth - 1));
    }
  }
  return removed;
}
