import assert from "node:assert/strict";
import { escapeHtml, htmlPage, htmlTable } from "../../src/report/html.ts";

Deno.test("escapeHtml: every markup character", () => {
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  assert.equal(escapeHtml(42), "42");
});

Deno.test("htmlPage: self-contained, escaped title, nothing from the network", () => {
  const page = htmlPage("<run>", "<p>body</p>");
  assert.match(page, /^<!doctype html>/);
  assert.match(page, /<title>&lt;run&gt;<\/title>/);
  assert.ok(page.includes("<p>body</p>"));
  assert.doesNotMatch(page, /<script|<link|https?:\/\//);
});

Deno.test("htmlTable: escaped cells, shared number format, a blank for missing, row classes", () => {
  const t = htmlTable(
    ["k", "v"],
    [["<x>", 0.123456], ["n", null], ["i", 3]],
    (r) => (r[0] === "i" ? "fail" : ""),
  );
  assert.ok(t.includes("<td>&lt;x&gt;</td><td>0.1235</td>"));
  assert.ok(t.includes(`<td>n</td><td></td>`));
  assert.ok(t.includes(`<tr class="fail"><td>i</td><td>3</td>`));
  assert.ok(t.includes("<th>k</th><th>v</th>"));
});
