/**
 * A folder the OS refuses to write into, for the tests of a read-only output:
 * a read-only bind mount as root (whom mode bits never stop), mode 0555
 * otherwise. `readOnlyFolder` is undefined where neither works (root in a
 * container without mount rights), and tests that need it are ignored there.
 */

export interface ReadOnlyFolder {
  path: string;
  /** makes it writable again and removes it */
  release(): void;
}

function run(cmd: string, args: string[]): boolean {
  try {
    return new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).outputSync().success;
  } catch {
    return false;
  }
}

/** A new, empty, read-only folder (with `seed` files written before it was locked), or undefined. */
export function readOnlyFolder(seed: Record<string, string> = {}): ReadOnlyFolder | undefined {
  const path = Deno.makeTempDirSync({ prefix: "orchard-ro-" });
  for (const [name, text] of Object.entries(seed)) Deno.writeTextFileSync(`${path}/${name}`, text);
  const remove = () => Deno.removeSync(path, { recursive: true });
  if (Deno.build.os === "windows") return remove(), undefined;
  if (Deno.uid() !== 0) {
    Deno.chmodSync(path, 0o555);
    return { path, release: () => (Deno.chmodSync(path, 0o755), remove()) };
  }
  if (!run("mount", ["--bind", path, path])) return remove(), undefined;
  if (!run("mount", ["-o", "remount,bind,ro", path])) {
    run("umount", [path]);
    return remove(), undefined;
  }
  return { path, release: () => (run("umount", [path]), remove()) };
}

/** Whether this machine can make one (checked once, at load). */
export const canMakeReadOnly: boolean = (() => {
  const probe = readOnlyFolder();
  probe?.release();
  return probe !== undefined;
})();
