/**
 * Who a registry event is recorded as: ORCHARD_ACTOR when set (a CI job, a
 * scheduler), else the OS user. Read from the environment only, so a task
 * that may not read a variable records no actor rather than failing.
 */

const MAX_ACTOR = 200;

function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined; // not granted (--allow-env lists the variables a task may read)
  }
}

/** The actor from `env` (default: the process's environment), or undefined when none is known. */
export function defaultActor(env?: Record<string, string | undefined>): string | undefined {
  const get = env ? (k: string) => env[k] : readEnv;
  for (const name of ["ORCHARD_ACTOR", "USER", "LOGNAME", "USERNAME"]) {
    const value = get(name)?.trim();
    if (value) return value.slice(0, MAX_ACTOR);
  }
  return undefined;
}
