/** User values in the Markdown summaries: no HTML opened, no table cell split. */
import assert from "node:assert/strict";
import { mdCode, mdText } from "../../src/report/markdown.ts";

Deno.test("mdText: HTML's special characters as entities, pipes escaped, one line", () => {
  assert.equal(mdText("class_<a>"), "class_&lt;a&gt;");
  assert.equal(mdText("a|b\nc & d"), "a\\|b c &amp; d");
  assert.equal(mdText(3), "3");
});

Deno.test("mdCode: a code span that a backtick or a pipe in the name cannot break", () => {
  assert.equal(mdCode("plan"), "`plan`");
  assert.equal(mdCode("a`b"), "``a`b``");
  assert.equal(mdCode("`x"), "`` `x ``");
  assert.equal(mdCode("a|b"), "`a\\|b`");
});
