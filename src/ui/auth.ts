/**
 * Who may act: the UI is read-only unless ORCHARD_ADMIN_TOKEN is set, and
 * then only for a browser that logged in with that token. A login is a
 * signed cookie (HttpOnly, SameSite=Strict): the user's name, an expiry and
 * a random id, with an HMAC-SHA256 over them keyed from the admin token. The
 * server keeps nothing, so a restart keeps everyone logged in, and changing
 * the token logs everyone out. The cookie holds no secret; its CSRF token is
 * derived from it with the same key, so a page on another site can neither
 * read nor forge it. Logging out refuses that cookie in this process (a
 * copied cookie stays valid until it expires or the token changes). The
 * login form has its own CSRF token (a cookie and the same value in the
 * form), so nobody can log a browser in behind its back.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { Buffer } from "node:buffer";
import { UserError } from "../core/errors.ts";

export const SESSION_COOKIE = "orchard_session";
export const LOGIN_COOKIE = "orchard_login";
export const SESSION_MS = 8 * 3600_000;
const NAME_RE = /^[A-Za-z0-9._@-]{1,64}$/;

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

function base64url(text: string): string {
  return btoa(String.fromCharCode(...new TextEncoder().encode(text))).replaceAll("+", "-").replaceAll(
    "/",
    "_",
  )
    .replace(/=+$/, "");
}

function fromBase64url(text: string): string | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  try {
    const bin = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
    return new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
  } catch {
    return undefined;
  }
}

export interface Session {
  /** who is logged in (actions are recorded as "ui:<name>") */
  name: string;
  csrf: string;
  expires: number;
}

export class Sessions {
  /** the signing key: the admin token is never used as a key directly, nor stored */
  private readonly key: Uint8Array | undefined;
  /** ids logged out by this process, until their expiry */
  private readonly revoked = new Map<string, number>();

  constructor(readonly adminToken: string | undefined, private readonly clock: () => number = Date.now) {
    this.key = adminToken
      ? new Uint8Array(createHmac("sha256", adminToken).update("orchard ui session key v1").digest())
      : undefined;
  }

  get enabled(): boolean {
    return !!this.adminToken;
  }

  private mac(kind: string, text: string): string {
    return createHmac("sha256", this.key!).update(`${kind}\0${text}`).digest("base64url");
  }

  /**
   * A signed session cookie value when `token` is the admin token; undefined
   * otherwise. A bad `name` is a UserError (no name is "admin").
   */
  login(token: string, name = ""): { cookie: string; session: Session } | undefined {
    const who = name.trim() || "admin";
    if (!NAME_RE.test(who)) {
      throw new UserError("name: use 1-64 letters, digits or . _ @ - (it is recorded with your actions)");
    }
    if (!this.adminToken || !sameSecret(token, this.adminToken)) return undefined;
    const payload = base64url(JSON.stringify({ n: who, e: this.clock() + SESSION_MS, s: randomToken() }));
    const cookie = `${payload}.${this.mac("session", payload)}`;
    return { cookie, session: this.get(cookie)! };
  }

  /** The session a cookie value stands for: undefined when missing, tampered with, expired or logged out. */
  get(cookie: string | undefined): Session | undefined {
    if (!cookie || !this.key) return undefined;
    const dot = cookie.indexOf(".");
    if (dot <= 0) return undefined;
    const payload = cookie.slice(0, dot), sig = cookie.slice(dot + 1);
    if (!sameSecret(sig, this.mac("session", payload))) return undefined;
    let data: { n?: unknown; e?: unknown; s?: unknown };
    try {
      data = JSON.parse(fromBase64url(payload) ?? "null") ?? {};
    } catch {
      return undefined;
    }
    const { n, e, s } = data;
    if (typeof n !== "string" || typeof e !== "number" || typeof s !== "string") return undefined;
    if (e < this.clock() || this.revoked.has(s)) return undefined;
    return { name: n, expires: e, csrf: Buffer.from(this.mac("csrf", s), "base64url").toString("hex") };
  }

  logout(cookie: string | undefined): void {
    const payload = cookie && this.get(cookie) ? cookie.slice(0, cookie.indexOf(".")) : undefined;
    if (!payload) return;
    const data = JSON.parse(fromBase64url(payload)!);
    const now = this.clock();
    for (const [id, until] of this.revoked) if (until < now) this.revoked.delete(id);
    this.revoked.set(data.s, data.e);
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
