/**
 * File-system failures as one line a user can act on: a permission denial
 * (Deno's sandbox or the OS) names the path and what was refused.
 */

import { UserError } from "./errors.ts";

/** A read or write that Deno's permissions or the file system refuse: a user error naming the path. */
export class PermissionError extends UserError {
  constructor(message: string, readonly path: string, options?: { cause?: unknown }) {
    super(message);
    this.name = "PermissionError";
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

/**
 * The denied access in `e`, if it is one: Deno's sandbox (NotCapable), the OS
 * (PermissionDenied, EACCES, EPERM, EROFS), native code's "(os error 13)", or
 * an error wrapping one of those as its cause.
 */
export function permissionCause(e: unknown, depth = 0): Error | undefined {
  if (!(e instanceof Error) || depth > 5) return undefined;
  if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) return e;
  const code = (e as { code?: unknown }).code;
  if (code === "EACCES" || code === "EPERM" || code === "EROFS") return e;
  // native code (polars) reports the OS error in its message
  if (/\(os error (1|13|30)\)|permission denied/i.test(e.message)) return e;
  return permissionCause(e.cause, depth + 1);
}

/** Why the OS refused: a read-only mount reads differently from a missing permission. */
export function refusalReason(e: Error): string {
  const code = (e as { code?: unknown }).code;
  return code === "EROFS" || /\(os error 30\)|read-only file system/i.test(e.message)
    ? "read-only file system"
    : "permission denied";
}

/** Whether `e` is (or wraps) a denied read or write. */
export function isPermissionError(e: unknown): boolean {
  return permissionCause(e) !== undefined;
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

/** Whether `path` is a folder; false when it is missing or not ours to look at (the next call will tell). */
export function isFolder(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}
