/** The registry's file operations on version directories. */
import { join } from "node:path";
import { listFiles } from "./checksum.ts";

export function removeQuietly(path: string): void {
  try {
    Deno.removeSync(path, { recursive: true });
  } catch { /* already gone */ }
}

/** Copies every file under `from` into `to`, creating directories as needed. */
export function copyTree(from: string, to: string): void {
  Deno.mkdirSync(to, { recursive: true });
  for (const rel of listFiles(from)) {
    const target = join(to, rel);
    const slash = rel.lastIndexOf("/");
    if (slash > 0) Deno.mkdirSync(join(to, rel.slice(0, slash)), { recursive: true });
    Deno.copyFileSync(join(from, rel), target);
  }
}

/**
 * Removes temp dirs and version dirs above `maxVersion` under a model's
 * directory. Call only under the registry's write lock: then nobody else is
 * writing there, so these were left by a crashed registration.
 */
export function removeCrashLeftovers(modelDir: string, maxVersion: number): void {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(modelDir)];
  } catch {
    return;
  }
  for (const entry of entries) {
    if (entry.name.startsWith(".tmp-")) removeQuietly(join(modelDir, entry.name));
    else if (/^\d+$/.test(entry.name) && Number(entry.name) > maxVersion) {
      removeQuietly(join(modelDir, entry.name));
    }
  }
}
