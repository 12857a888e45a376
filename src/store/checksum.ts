/**
 * Content digests of artifact directories: a sha256 per file and one sha256
 * over the sorted (relative path, file digest) list, so renaming, adding,
 * removing or changing any file changes the directory digest.
 */
import { fileSha256, sha256Hex } from "../core/digest.ts";
import { join } from "node:path";
import { UserError } from "../core/errors.ts";

export interface DirDigest {
  sha256: string;
  /** relative path (with "/") -> sha256 of the file */
  files: Record<string, string>;
}

/**
 * Every file under `dir`, as sorted relative paths with "/" separators.
 * Artifacts are plain files and folders: a symbolic link (which could point
 * anywhere, or loop), a device, a socket or a pipe is refused with one line.
 */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const entry of Deno.readDirSync(rel ? join(dir, rel) : dir)) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isSymlink) {
        throw new UserError(
          `${join(dir, child)}: is a symbolic link; an artifact must hold plain files only`,
        );
      }
      if (entry.isDirectory) walk(child);
      else if (entry.isFile) out.push(child);
      else {throw new UserError(
          `${
            join(dir, child)
          }: is not a regular file (a device, socket or pipe); an artifact must hold plain files only`,
        );}
    }
  };
  walk("");
  return out.sort();
}

export function combineDigest(files: Record<string, string>): string {
  return sha256Hex(Object.keys(files).sort().map((rel) => `${rel}\0${files[rel]}\n`).join(""));
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
