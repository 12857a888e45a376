/**
 * Safe HTML for the UI: a tagged template that escapes every interpolated
 * value unless it is already `Raw` (the output of another template or a chart
 * rendered on the server), so a run name, param or tag from the store can
 * never become markup. The page shell carries all CSS inline and one small
 * same-origin script: the UI works offline, with no CDN.
 */
import { escapeHtml } from "../report/html.ts";

/** Markup that is already safe (built by `html`, or SVG from our own charts). */
export class Raw {
  constructor(readonly html: string) {}
  toString(): string {
    return this.html;
  }
}

/** Trusted markup as is: only for our own renderings (charts), never for store values. */
export function raw(s: string): Raw {
  return new Raw(s);
}

function part(v: unknown): string {
  if (v instanceof Raw) return v.html;
  if (v === null || v === undefined || v === false) return "";
  if (Array.isArray(v)) return v.map(part).join("");
  return escapeHtml(v);
}

/** `html\`<td>${value}</td>\`` escapes value; arrays are joined; null, undefined and false are empty. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Raw {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += part(values[i]) + strings[i + 1];
  return new Raw(out);
}

/** What every page's shell needs to know about the viewer. */
export interface Viewer {
  /** actions are possible at all (ORCHARD_ADMIN_TOKEN set) */
  adminEnabled: boolean;
  /** logged in with the admin token */
  admin: boolean;
  /** the session's CSRF token (logged in only) */
  csrf?: string;
  /** who logged in (actions are recorded as "ui:<name>") */
  name?: string;
}

const CSS = `
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d2327;background:#fafbfc}
header{background:#1d2327;color:#fff;padding:.5rem 1rem;display:flex;gap:1.2rem;align-items:center;flex-wrap:wrap}
header a{color:#fff;text-decoration:none;padding:.2rem .4rem;border-radius:3px}
header a[aria-current=page]{background:#3d4a55}
header .brand{font-weight:700;margin-right:1rem}
header .who{margin-left:auto}
main{padding:1rem 1.5rem;max-width:1400px}
h1{font-size:1.5rem;margin:.4rem 0 1rem}h2{font-size:1.15rem;margin-top:1.6rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
table{border-collapse:collapse;margin:.5rem 0;background:#fff}
th,td{border:1px solid #ddd;padding:.2rem .5rem;text-align:left;vertical-align:top}
h1,h2,p,li,dd,figcaption{overflow-wrap:anywhere}
.wrap,td.name{overflow-wrap:anywhere;white-space:normal;min-width:6rem}td.name{max-width:24rem}
th{background:#f0f2f4;white-space:nowrap}td.num{text-align:right;font-variant-numeric:tabular-nums}
th a{color:inherit}
tr.child td.name{padding-left:1.8rem}tr.child td.name::before{content:"\\21B3 ";color:#888}
tr.context td{color:#888;font-style:italic}
tr.differs td{background:#fff5d6}
.badge{display:inline-block;padding:0 .4rem;border-radius:8px;background:#e7edf3;font-size:.85em;margin-right:.2rem}
.badge.champion{background:#d3f2dc}.badge.challenger{background:#fde7c4}
.pass{color:#1a7f37}.fail{color:#cf222e;font-weight:600}.muted{color:#666}
.error{color:#cf222e;background:#fff0f0;border:1px solid #f5c2c2;padding:.4rem .6rem;border-radius:4px}
.notice{background:#eef4ff;border:1px solid #c8d8f5;padding:.4rem .6rem;border-radius:4px;margin:.5rem 0}
.ok{background:#eafbea;border:1px solid #b7e3b7;padding:.4rem .6rem;border-radius:4px;margin:.5rem 0}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(360px,1fr));gap:1rem}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.6rem 1rem}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(360px,1fr));gap:1rem}
.grid>*,.cards>*{min-width:0;overflow-x:auto}
.wide{overflow-x:auto;max-width:100%}
form.inline{display:inline}
label{margin-right:.3rem}
input[type=text],input[type=password],select{padding:.25rem .4rem;border:1px solid #aaa;border-radius:3px}
input.query{width:min(60rem,90%);font-family:ui-monospace,monospace}
button{padding:.25rem .7rem;border:1px solid #556;border-radius:3px;background:#f4f6f8;cursor:pointer}
button.primary{background:#1f6feb;color:#fff;border-color:#1f6feb}
:focus-visible{outline:3px solid #1f6feb;outline-offset:1px}
ol.timeline{list-style:none;padding-left:0;border-left:3px solid #c8d1da;margin-left:.5rem}
ol.timeline li{padding:.2rem .8rem;position:relative}
ol.timeline li::before{content:"";position:absolute;left:-8px;top:.6rem;width:11px;height:11px;border-radius:50%;background:#8c9baa}
ol.timeline li.rollback::before{background:#cf222e}
ol.timeline li.alias_set::before{background:#1f6feb}
code,.mono{font-family:ui-monospace,monospace;font-size:.92em}
details{margin:.3rem 0}
figure{margin:0}svg{max-width:100%;height:auto}
iframe.report{width:100%;height:900px;border:1px solid #ddd;background:#fff}
nav.pages a,nav.pages span{margin-right:.5rem}
.colchooser{columns:4 14rem;background:#fff;border:1px solid #ddd;padding:.4rem}
`;

/** The one page shell: nav, read-only notice, content. */
export function page(title: string, current: string, viewer: Viewer, body: Raw): string {
  const nav = [["/", "Status"], ["/runs", "Runs"], ["/models", "Models"], ["/monitoring", "Monitoring"]];
  const who = viewer.admin
    ? html`
      <span class="muted">ui:${viewer.name ?? "admin"}</span> <form class="inline" method="post"
        action="/logout"><input type="hidden" name="csrf" value="${viewer
          .csrf}"><button type="submit">Log out</button></form>
    `
    : viewer.adminEnabled
    ? html`<a href="/login">Log in</a>`
    : html`<span class="muted">read-only</span>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)} · Orchard</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<style>${CSS}</style></head><body>
<header><span class="brand">Orchard</span><nav aria-label="Main">${
    nav.map(([href, label]) =>
      html`
        <a href="${href}" ${raw(current === href ? ' aria-current="page"' : "")}>${label}</a>
      `
    ).map(String).join("")
  }</nav><span class="who">${who}</span></header>
<main id="main">
${body}
</main>
<script src="/static/ui.js"></script>
</body></html>
`;
}

/** The small client script: select-all and a live count on the compare boxes. Nothing else needs one. */
export const CLIENT_JS = `
(function(){
  var form=document.getElementById('compare-form');
  if(!form)return;
  var boxes=form.querySelectorAll('input[name=run]');
  var count=document.getElementById('compare-count');
  function update(){var n=0;boxes.forEach(function(b){if(b.checked)n++});if(count)count.textContent=n+' selected';}
  boxes.forEach(function(b){b.addEventListener('change',update)});
  var all=document.getElementById('select-all');
  if(all)all.addEventListener('change',function(){boxes.forEach(function(b){b.checked=all.checked});update();});
  update();
})();
`;
