/**
 * Atomic writes: write a temp file beside the target, then rename, so a crash
 * leaves the old file or the new one, never half of one.
 */
import { dirname } from "node:path";
import type pl from "nodejs-polars";
import { DatabaseSync } from "node:sqlite";
import { UserError } from "./errors.ts";
import { permissionCause, PermissionError, refusalReason } from "./fs_errors.ts";

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
    markedWrite(tmp, () => {
      write(tmp);
      Deno.renameSync(tmp, path);
    });
  } catch (e) {
    try {
      Deno.removeSync(tmp, { recursive: true });
    } catch { /* nothing was written */ }
    // the OS names the temp file or its mark; the user named `path`
    const denied = e instanceof UserError ? undefined : permissionCause(e);
    if (denied) {
      const why = denied instanceof Deno.errors.NotCapable
        ? "no permission to write (outside this task's --allow-write in deno.json)"
        : refusalReason(denied);
      throw new PermissionError(`${path}: ${why}`, path, { cause: e });
    }
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
/** A temp path's live-writer mark: `<temp>.lock`, exclusively locked while it is being written. */
const MARK_SUFFIX = ".lock";
/** A mark without its temp file is removed only once this old (its writer may be about to lock it). */
const ORPHAN_MARK_MS = 10 * 60 * 1000;
/** A temp file with no mark (written before marks existed) counts as abandoned after this long. */
const UNMARKED_STALE_MS = 60 * 60 * 1000;

/** Removes a file or folder if it is there; whether it was removed. */
export function removeQuietly(path: string): boolean {
  try {
    Deno.removeSync(path, { recursive: true });
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs `write` while marking `tmp` as being written: an exclusive SQLite
 * lock on `<tmp>.lock`, which the OS drops when the process dies, even by
 * kill -9. removeStaleTemps removes only temp files whose mark is not held.
 */
export function markedWrite<T>(tmp: string, write: () => T): T {
  const markPath = tmp + MARK_SUFFIX;
  // created here first: SQLite says only "unable to open database file", the OS says why
  Deno.openSync(markPath, { write: true, create: true }).close();
  let mark: DatabaseSync;
  try {
    mark = new DatabaseSync(markPath);
  } catch (e) {
    removeQuietly(markPath);
    throw e;
  }
  try {
    // a sweeper's probe may hold the file for an instant: wait it out
    mark.exec("PRAGMA busy_timeout = 5000");
    mark.exec("BEGIN EXCLUSIVE");
    return write();
  } finally {
    try {
      mark.exec("ROLLBACK");
    } catch { /* no transaction left */ }
    mark.close();
    removeQuietly(markPath);
  }
}

/**
 * Whether a live process (maybe) holds the mark at `markPath`. Anything but
 * a clean "nobody holds it" (busy, or the file vanishing under the probe as
 * its writer finishes) counts as held: a sweep leaves alone what it cannot be
 * sure of, and never fails the stage that runs it.
 */
function markHeld(markPath: string): boolean {
  let probe: DatabaseSync | undefined;
  try {
    probe = new DatabaseSync(markPath);
    probe.exec("PRAGMA busy_timeout = 0");
    probe.exec("BEGIN IMMEDIATE");
    probe.exec("ROLLBACK");
    return false;
  } catch {
    return true;
  } finally {
    try {
      probe?.close();
    } catch { /* closed */ }
  }
}

function exists(path: string): Deno.FileInfo | undefined {
  try {
    return Deno.statSync(path);
  } catch {
    return undefined;
  }
}

/**
 * Removes the temp files and folders that killed writers left under `dir`
 * (down to `depth` levels): those whose mark no live process holds, and
 * unmarked ones older than an hour. A stage calls it on its output folders
 * when it starts, so a killed run's 40 MB half-written file does not outlive
 * the next run, and a run going on beside it keeps its own. Returns what was
 * removed.
 */
export function removeStaleTemps(dir: string, depth = 2): string[] {
  const removed: string[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch {
    return removed; // missing or unreadable: nothing of ours to clean
  }
  const names = new Set(entries.map((e) => e.name));
  for (const entry of entries) {
    const path = `${dir}/${entry.name}`;
    if (TEMP_NAME.test(entry.name)) {
      const mark = path + MARK_SUFFIX;
      const stale = names.has(entry.name + MARK_SUFFIX)
        ? !markHeld(mark)
        : Date.now() - (exists(path)?.mtime?.getTime() ?? Date.now()) > UNMARKED_STALE_MS;
      if (stale && removeQuietly(path)) {
        removeQuietly(mark);
        removed.push(path);
      }
    } else if (entry.name.endsWith(MARK_SUFFIX) && TEMP_NAME.test(entry.name.slice(0, -MARK_SUFFIX.length))) {
      // a mark whose temp is gone: its writer died just before or after writing. A fresh one
      // may be a writer between creating its mark and locking it: leave those alone.
      const age = Date.now() - (exists(path)?.mtime?.getTime() ?? Date.now());
      if (!names.has(entry.name.slice(0, -MARK_SUFFIX.length)) && age > ORPHAN_MARK_MS && !markHeld(path)) {
        removeQuietly(path);
      }
    } else if (
      entry.isDirectory && depth > 1 && entry.name !== "node_modules" && !entry.name.startsWith(".")
    ) {
      removed.push(...removeStaleTemps(path, depth - 1));
    }
  }
  return removed;
}

/** How long a process waits for another's lock, and when a lock is a dead process's (its age). */
const LOCK_WAIT_MS = 10_000;
const STALE_LOCK_MS = 60_000;

/**
 * Runs `fn` holding `<path>.lock` (created exclusively; removed after, and taken over when older than a
 * minute): a read-modify-write of `path` that two processes could otherwise interleave, each writing back
 * what it read and losing the other's change. `holder` names who else holds it, for the message.
 */
export function withFileLock<T>(path: string, holder: string, fn: () => T): T {
  const lock = `${path}.lock`;
  const until = Date.now() + LOCK_WAIT_MS;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  ensureDir(dirname(path) || ".");
  for (;;) {
    try {
      Deno.openSync(lock, { write: true, createNew: true }).close();
      break;
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    }
    try {
      if (Date.now() - (Deno.statSync(lock).mtime?.getTime() ?? Date.now()) > STALE_LOCK_MS) {
        Deno.removeSync(lock); // left by a process that died
        continue;
      }
    } catch { /* released meanwhile: take it on the next try */ }
    if (Date.now() > until) {
      throw new UserError(
        `${path}: another ${holder} has held ${lock} for 10 s; remove it if none is running`,
      );
    }
    Atomics.wait(pause, 0, 0, 5);
  }
  try {
    return fn();
  } finally {
    try {
      Deno.removeSync(lock);
    } catch { /* removed as stale by another process */ }
  }
}
