/**
 * Content digests of artifact directories: a sha256 per file and one sha256
 * over the sorted (relative path, file digest) list, so renaming, adding,
 * removing or changing any file changes the directory digest.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";

export interface DirDigest {
  sha256: string;
  /** relative path (with "/") -> sha256 of the file */
  files: Record<string, string>;
}

export function fileSha256(path: string): string {
  const hash = createHash("sha256");
  const file = Deno.openSync(path, { read: true });
  try {
    const buf = new Uint8Array(1 << 20);
    for (;;) {
      const n = file.readSync(buf);
      if (n === null || n === 0) break;
      hash.update(buf.subarray(0, n));
    }
  } finally {
    file.close();
  }
  return hash.digest("hex");
}

/** Every regular file under `dir`, as sorted relative paths with "/" separators. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const entry of Deno.readDirSync(rel ? join(dir, rel) : dir)) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory) walk(child);
      else if (entry.isFile) out.push(child);
      else if (entry.isSymlink) {
        const stat = Deno.statSync(join(dir, child));
        if (stat.isDirectory) walk(child);
        else out.push(child);
      }
    }
  };
  walk("");
  return out.sort();
}

export function combineDigest(files: Record<string, string>): string {
  const hash = createHash("sha256");
  for (const rel of Object.keys(files).sort()) hash.update(`${rel}\0${files[rel]}\n`);
  return hash.digest("hex");
}

export function dirDigest(dir: string): DirDigest {
  const files: Record<string, string> = {};
  for (const rel of listFiles(dir)) files[rel] = fileSha256(join(dir, rel));
  return { sha256: combineDigest(files), files };
}

/** What differs between a recorded digest and the directory now (empty when equal). */
export function digestDifferences(recorded: Record<string, string>, now: Record<string, string>): string[] {
  const out: string[] = [];
  for (const rel of Object.keys(recorded).sort()) {
    if (!(rel in now)) out.push(`${rel} is missing`);
    else if (now[rel] !== recorded[rel]) out.push(`${rel} changed`);
  }
  for (const rel of Object.keys(now).sort()) if (!(rel in recorded)) out.push(`${rel} was added`);
  return out;
}
