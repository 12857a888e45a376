/**
 * Environment access that never throws: tasks run with `--allow-env=<names>`,
 * so a variable outside the grant reads as unset instead of crashing.
 */

/** An environment variable; unset, empty and not granted all read as undefined. */
export function optionalEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined;
  }
}
