/**
 * User values (class labels, column and model names) in the Markdown summaries a CI posts as a comment:
 * GitHub renders HTML in Markdown, so `<a>` in a class name would open an anchor and swallow the table,
 * and a `|` would split a cell.
 */

/** Text in a Markdown table cell or a sentence: HTML's special characters as entities, pipes escaped, one line. */
export function mdText(value: unknown): string {
  return String(value).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

/**
 * A code span of `value` (a column, class or model name): HTML is not read inside one, but a backtick
 * would end it and a pipe would still split a table cell.
 */
export function mdCode(value: unknown): string {
  const text = String(value).replace(/\r?\n/g, " ").replace(/\|/g, "\\|");
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = "`".repeat(longest + 1);
  const pad = text.startsWith("`") || text.endsWith("`") ? " " : "";
  return `${fence}${pad}${text}${pad}${fence}`;
}
