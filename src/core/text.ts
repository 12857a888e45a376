/**
 * String length as people and JSON Schema count it: in characters (Unicode
 * code points), where String.length counts UTF-16 units and gives an emoji 2.
 * The OpenAPI document's `maxLength` promises characters, so the service's
 * string caps count them too.
 */

/** How many code points `s` has (a lone surrogate counts as one). */
export function charCount(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

/**
 * Whether `s` has at most `max` characters. The UTF-16 length decides the
 * common case with no scan: at most max units is at most max characters, and
 * more than 2 × max units is more than max characters.
 */
export function withinChars(s: string, max: number): boolean {
  return s.length <= max || (s.length <= 2 * max && charCount(s) <= max);
}
