/**
 * Store and server URIs in messages: a URI's password never reaches a log
 * line or an error (PostgreSQL tracking stores, Redis online stores).
 */

/** A URI (PostgreSQL, Redis, any scheme) with its password hidden; the user may be empty (redis://:pw@host). */
export function redactUri(uri: string): string {
  return uri.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@]*@/i, "$1***@");
}
