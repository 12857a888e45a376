/**
 * HTML for reports: escaping, one self-contained page shell (inline CSS, nothing
 * from the network, so a report opens offline and from an email attachment) and
 * a table of plain values.
 */
import { formatValue } from "../core/format.ts";

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};
export function escapeHtml(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/** A self-contained page: inline CSS, no scripts or fonts from the network. */
export function htmlPage(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#1d2327}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #ddd;padding:.25rem .6rem;text-align:right}
th{background:#f4f6f8}td:first-child,th:first-child{text-align:left}
.pass{color:#1a7f37}.fail{color:#cf222e;font-weight:600}.muted{color:#666}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:1rem}.grid .wide{grid-column:1/-1}
figure{margin:0}svg{max-width:100%;height:auto}
</style></head><body>
${body}
</body></html>
`;
}

/** An HTML table from rows of plain values. */
export function htmlTable(
  columns: string[],
  rows: unknown[][],
  rowClass?: (row: unknown[]) => string,
): string {
  const head = columns.map((c) => `<th>${escapeHtml(c)}</th>`).join("");
  const body = rows.map((r) => {
    const cls = rowClass?.(r);
    return `<tr${cls ? ` class="${cls}"` : ""}>${
      r.map((v) => `<td>${escapeHtml(formatCell(v))}</td>`).join("")
    }</tr>`;
  }).join("\n");
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** A missing value is an empty cell: tables leave blanks where the text views print MISSING. */
function formatCell(v: unknown): string {
  return formatValue(v, { exponentDigits: 2, missing: "" });
}
