/**
 * Atomic writes: write a temp file beside the target, then rename, so a crash
 * leaves the old file or the new one, never half of one.
 */
import { dirname } from "node:path";
import type pl from "nodejs-polars";
import { DatabaseSync } from "node:sqlite";

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
const TEMP_NAME = /^.+\.tmp-\d+-[0-9a-z]+$/;

/** The lock file every writer of a folder holds shared; a sweeper needs it exclusively. */
export const WRITERS_LOCK = ".orchard-writers.lock";

function isBusy(e: unknown): boolean {
  return /database is locked|SQLITE_BUSY/i.test(String(e));
}

/** Folders this process has joined as a writer: their lock connections stay open until it exits. */
const joined = new Map<string, DatabaseSync>();

/**
 * Joins `dir` as one of its writers for the rest of this process, first
 * removing the temp files killed writers left there (down to `depth` levels).
 *
 * Every writer holds a shared lock on `<dir>/.orchard-writers.lock` (an SQLite
 * read lock, which the OS drops when the process dies, even by kill -9). Temp
 * files are removed only by a process that can take the lock exclusively:
 * then no live writer can be writing any of them. So a stage removes the
 * 40 MB half-written files of a killed earlier run when it next runs, and
 * never those of a run going on beside it. Returns what was removed.
 */
export function joinWriters(dir: string, depth = 2): string[] {
  if (joined.has(dir)) return [];
  Deno.mkdirSync(dir, { recursive: true });
  const lock = new DatabaseSync(`${dir}/${WRITERS_LOCK}`);
  let removed: string[] = [];
  try {
    lock.exec("PRAGMA busy_timeout = 0");
    lock.exec("BEGIN EXCLUSIVE");
    try {
      lock.exec("CREATE TABLE IF NOT EXISTS writers (x INTEGER)");
      removed = removeTemps(dir, depth);
    } finally {
      lock.exec("COMMIT");
    }
  } catch (e) {
    if (!isBusy(e)) {
      lock.close();
      throw e;
    }
    // another writer is live: leave every temp file alone
  }
  // hold a shared lock from now on (waiting out a sweeper's moment of exclusive hold)
  lock.exec("PRAGMA busy_timeout = 10000");
  lock.exec("BEGIN");
  lock.prepare("SELECT count(*) FROM writers").get();
  joined.set(dir, lock);
  return removed;
}

function removeTemps(dir: string, depth: number): string[] {
  const removed: string[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch {
    return removed; // missing or unreadable: nothing of ours to clean
  }
  for (const entry of entries) {
    const path = `${dir}/${entry.name}`;
    if (TEMP_NAME.test(entry.name)) {
      try {
        Deno.removeSync(path, { recursive: true });
        removed.push(path);
      } catch { /* someone else removed it */ }
    } else if (
      entry.isDirectory && depth > 1 && entry.name !== "node_modules" && !entry.name.startsWith(".")
    ) {
      removed.push(...removeTemps(path, depth - 1));
    }
  }
  return removed;
}
