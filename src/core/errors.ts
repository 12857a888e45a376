/**
 * A user's mistake: bad flag, bad file, bad config, bad request. The CLI prints
 * its message as one line and exits with `exitCode` (2 by default); the
 * service answers it as a 4xx. Anything else that escapes is a bug.
 */
export class UserError extends Error {
  constructor(message: string, readonly exitCode = 2) {
    super(message);
    this.name = "UserError";
  }
}

/** Several problems reported together (one line each), e.g. config validation. */
export class UserErrors extends UserError {
  constructor(readonly problems: string[], exitCode = 2) {
    super(problems.join("\n"), exitCode);
    this.name = "UserErrors";
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}

/** One-line text of any thrown value, without stack. */
export function errorLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split("\n")[0];
}
