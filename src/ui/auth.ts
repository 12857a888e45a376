/**
 * Who may act: the UI is read-only unless ORCHARD_ADMIN_TOKEN is set, and
 * then only for a browser that logged in with that token. A login starts a
 * session held in memory (its id in an HttpOnly, SameSite=Strict cookie);
 * each session has a CSRF token that every state-changing form carries, so a
 * page on another site cannot act with the session even where a browser
 * sends the cookie. The login form has its own CSRF token (a cookie and the
 * same value in the form), so nobody can log a browser in behind its back.
 */
import { timingSafeEqual } from "node:crypto";

export const SESSION_COOKIE = "orchard_session";
export const LOGIN_COOKIE = "orchard_login";
const SESSION_MS = 8 * 3600_000;

function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Constant-time string equality (lengths may differ: then false, without leaking where). */
export function sameSecret(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a), y = new TextEncoder().encode(b);
  if (x.length !== y.length) {
    timingSafeEqual(x, x);
    return false;
  }
  return timingSafeEqual(x, y);
}

export interface Session {
  csrf: string;
  expires: number;
}

export class Sessions {
  private readonly sessions = new Map<string, Session>();
  constructor(readonly adminToken: string | undefined, private readonly clock: () => number = Date.now) {}

  get enabled(): boolean {
    return !!this.adminToken;
  }

  /** A new session id when `token` is the admin token; undefined otherwise. */
  login(token: string): { id: string; session: Session } | undefined {
    if (!this.adminToken || !sameSecret(token, this.adminToken)) return undefined;
    this.prune();
    const id = randomToken();
    const session = { csrf: randomToken(), expires: this.clock() + SESSION_MS };
    this.sessions.set(id, session);
    return { id, session };
  }

  get(id: string | undefined): Session | undefined {
    if (!id || !this.enabled) return undefined;
    const s = this.sessions.get(id);
    if (!s) return undefined;
    if (s.expires < this.clock()) {
      this.sessions.delete(id);
      return undefined;
    }
    return s;
  }

  logout(id: string | undefined): void {
    if (id) this.sessions.delete(id);
  }

  private prune(): void {
    const now = this.clock();
    for (const [id, s] of this.sessions) if (s.expires < now) this.sessions.delete(id);
  }

  static newLoginToken(): string {
    return randomToken();
  }
}

/** The cookie header for a value (HttpOnly, SameSite=Strict, Path=/; `maxAge` seconds, 0 clears). */
export function cookie(name: string, value: string, maxAge?: number): string {
  return `${name}=${value}; HttpOnly; SameSite=Strict; Path=/${
    maxAge !== undefined ? `; Max-Age=${maxAge}` : ""
  }`;
}

export function readCookie(header: string | null | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return v.join("=");
  }
  return undefined;
}
