/**
 * Where registered artifacts live, behind one interface: put a directory
 * under a key (immutably), get it back as a local directory, list keys,
 * verify against a recorded digest. LocalArtifactStore keeps them in a
 * directory (which may sit on a shared filesystem); an S3-compatible store is
 * designed in docs/guides/stores.md.
 *
 * Ownership: the store's id (the tracking store's identity) is written into
 * each top-level folder (`<root>/<name>/.orchard-store`) the first time it
 * puts there. A folder marked by another store is never written to, and
 * nothing in it is removed; a crashed put's leftovers are only the temp
 * folders marked with this store's id.
 */
import { join } from "node:path";
import { UserError } from "../core/errors.ts";
import { describeFsError } from "../core/fs_errors.ts";
import { removeQuietly } from "../core/atomic.ts";
import { digestDifferences, type DirDigest, dirDigest, listFiles } from "./checksum.ts";

export interface ArtifactStore {
  /** where it is, for messages */
  readonly location: string;
  /** Copies the plain files of `sourceDir` under `key`; refuses an existing key. */
  put(key: string, sourceDir: string): Promise<DirDigest>;
  /** A local directory holding the key's files. */
  get(key: string): Promise<string>;
  /** The keys directly under `prefix` (e.g. the versions of one model). */
  list(prefix: string): Promise<string[]>;
  /** Throws a UserError naming what differs when the key's files are not `expected`. */
  verify(key: string, expected: DirDigest): Promise<void>;
  /** Removes a key this process put in a transaction that then failed. */
  discard(key: string): Promise<void>;
  /**
   * Readies `prefix` (a model's folder) for a put, under the registry's
   * lock: refuses one that belongs to another store; claims an unmarked one
   * whose keys are all in `registered`; removes this store's own leftovers
   * (temp folders, and keys in its folder that no registration committed).
   */
  prepare(prefix: string, registered: ReadonlySet<string>): Promise<void>;
}

export const OWNER_FILE = ".orchard-store";

/** What a folder's marker says: this store, another one, or no marker. */
export type Ownership = { kind: "ours" } | { kind: "other"; owner: string } | {
  kind: "unmarked";
  keys: string[];
};

export class LocalArtifactStore implements ArtifactStore {
  /**
   * @param root the directory (config paths.models)
   * @param owner the id of the store whose artifacts these are
   */
  constructor(readonly root: string, readonly owner: string) {}

  get location(): string {
    return this.root;
  }

  private path(key: string): string {
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*(\/[A-Za-z0-9_][A-Za-z0-9_.-]*)*$/.test(key)) {
      throw new UserError(`artifact key '${key}' must be names joined by '/'`);
    }
    return join(this.root, key);
  }

  private tempPrefix(): string {
    return `.tmp-${this.owner.slice(0, 8)}-`;
  }

  /** Who owns the top-level folder `name` (and, when unmarked, what keys it holds). */
  ownership(name: string): Ownership {
    const dir = this.path(name);
    try {
      const owner = Deno.readTextFileSync(join(dir, OWNER_FILE)).trim();
      return owner === this.owner ? { kind: "ours" } : { kind: "other", owner };
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) {
        throw new UserError(describeFsError(e, join(dir, OWNER_FILE), "read"));
      }
    }
    return { kind: "unmarked", keys: this.entries(dir).filter((n) => !n.startsWith(".")) };
  }

  private entries(dir: string): string[] {
    try {
      return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return [];
      throw new UserError(describeFsError(e, dir, "read"));
    }
  }

  prepare(prefix: string, registered: ReadonlySet<string>): Promise<void> {
    const dir = this.path(prefix);
    const own = this.ownership(prefix);
    if (own.kind === "other") {
      throw new UserError(
        `${dir} belongs to another store (id ${own.owner.slice(0, 8)}); this store (id ${
          this.owner.slice(0, 8)
        }) never writes there: use the store that registered it, or another paths.models`,
      );
    }
    if (own.kind === "unmarked") {
      // made before folders were marked: adopt it only when every entry is a version of ours
      const foreign = own.keys.filter((n) => !registered.has(`${prefix}/${n}`));
      if (foreign.length > 0) {
        throw new UserError(
          `${dir} holds ${
            foreign.join(", ")
          }, which this store (${this.location}) did not register; it is left untouched: use the store that registered them, or another paths.models`,
        );
      }
      try {
        Deno.mkdirSync(dir, { recursive: true });
        Deno.writeTextFileSync(join(dir, OWNER_FILE), this.owner + "\n");
      } catch (e) {
        throw new UserError(describeFsError(e, dir, "write"));
      }
      return Promise.resolve();
    }
    for (const entry of this.entries(dir)) {
      const leftover = entry.startsWith(this.tempPrefix()) ||
        (/^\d+$/.test(entry) && !registered.has(`${prefix}/${entry}`));
      if (leftover) removeQuietly(join(dir, entry));
    }
    return Promise.resolve();
  }

  put(key: string, sourceDir: string): Promise<DirDigest> {
    const target = this.path(key);
    const parent = target.slice(0, target.lastIndexOf("/"));
    try {
      Deno.lstatSync(target);
      throw new UserError(`${target} already exists; a registered artifact is never overwritten`);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) {
        throw e instanceof UserError ? e : new UserError(describeFsError(e, target, "read"));
      }
    }
    const files = listFiles(sourceDir);
    const tmp = join(parent, `${this.tempPrefix()}${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`);
    try {
      Deno.mkdirSync(tmp, { recursive: true });
      for (const rel of files) {
        const slash = rel.lastIndexOf("/");
        if (slash > 0) Deno.mkdirSync(join(tmp, rel.slice(0, slash)), { recursive: true });
        Deno.copyFileSync(join(sourceDir, rel), join(tmp, rel));
      }
      // hash the copy, not the source: what is recorded is what was written
      const digest = dirDigest(tmp);
      Deno.renameSync(tmp, target);
      return Promise.resolve(digest);
    } catch (e) {
      removeQuietly(tmp);
      if (e instanceof UserError) throw e;
      throw new UserError(`registering ${sourceDir} as ${target}: ${describeFsError(e, target, "write")}`);
    }
  }

  get(key: string): Promise<string> {
    return Promise.resolve(this.path(key));
  }

  list(prefix: string): Promise<string[]> {
    return Promise.resolve(
      this.entries(this.path(prefix)).filter((n) => !n.startsWith(".")).map((n) => `${prefix}/${n}`),
    );
  }

  verify(key: string, expected: DirDigest): Promise<void> {
    const dir = this.path(key);
    let now: DirDigest;
    try {
      now = dirDigest(dir);
    } catch (e) {
      if (e instanceof UserError) throw new UserError(`${key}: ${e.message}`);
      if (e instanceof Deno.errors.NotFound) {
        throw new UserError(`${key}: the artifact directory ${dir} is missing`);
      }
      throw new UserError(`${key}: ${describeFsError(e, dir, "read")}`);
    }
    if (now.sha256 !== expected.sha256) {
      const diffs = digestDifferences(expected.files, now.files);
      const shown = diffs.slice(0, 3).join(", ") + (diffs.length > 3 ? `, and ${diffs.length - 3} more` : "");
      throw new UserError(
        `${key}: artifact checksum mismatch (${
          shown || "contents differ"
        }); ${dir} was changed after registration`,
      );
    }
    return Promise.resolve();
  }

  discard(key: string): Promise<void> {
    removeQuietly(this.path(key));
    return Promise.resolve();
  }
}
