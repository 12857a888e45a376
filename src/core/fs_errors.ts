/**
 * File-system failures as one line a user can act on: a permission denial
 * (Deno's sandbox or the OS) names the path and what was refused.
 */

/** Whether `e` is a denied read or write: Deno's sandbox (NotCapable) or the OS (EACCES, EPERM). */
export function isPermissionError(e: unknown): boolean {
  return e instanceof Deno.errors.PermissionDenied || (e instanceof Error && e.name === "NotCapable") ||
    (e instanceof Error && /EACCES|EPERM|permission denied/i.test(e.message));
}

/** A one-line reason for a failed file operation on `path`. */
export function describeFsError(e: unknown, path: string, access: "read" | "write"): string {
  if (isPermissionError(e)) return `no permission to ${access} ${path}`;
  if (e instanceof Deno.errors.NotFound) return `${path} does not exist`;
  if (e instanceof Error) {
    return e.name === "Error" ? e.message.split("\n")[0] : `${e.name}: ${e.message.split("\n")[0]}`;
  }
  return String(e);
}
