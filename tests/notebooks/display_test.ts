import assert from "node:assert/strict";
import pl from "nodejs-polars";
import {
  chart,
  display,
  grid,
  html,
  isDataFrame,
  isDisplayable,
  JUPYTER_DISPLAY,
  markdown,
  mimeBundle,
  show,
  SHOW_FLUSH_ENV,
  SHOW_FLUSH_MS,
  showFlushMs,
  svgBundle,
  table,
} from "@/notebooks/display.ts";
import { Plot, renderPlot } from "@/report/plot.ts";

const bundleOf = (d: unknown) => {
  assert.ok(isDisplayable(d), "expected a Jupyter displayable");
  return (d as { [JUPYTER_DISPLAY](): Record<string, unknown> })[JUPYTER_DISPLAY]();
};

Deno.test("the display symbol is the one Deno's kernel looks up", () => {
  assert.equal(JUPYTER_DISPLAY, Symbol.for("Jupyter.display"));
});

Deno.test("a DataFrame becomes an HTML table with its columns, rows and shape", () => {
  const df = pl.DataFrame({ customer_id: ["c1", "c2", "c3"], monetary: [10.5, 0, 3], churned: [1, 0, 1] });
  assert.ok(isDataFrame(df));
  const b = mimeBundle(df);
  const h = b["text/html"] as string;
  assert.match(h, /<table>/);
  for (const col of df.columns) assert.ok(h.includes(`<th>${col}</th>`), `header ${col}`);
  assert.equal((h.match(/<tr>/g) ?? []).length, 1 + 3, "one header row and three body rows");
  assert.ok(h.includes("<td>c2</td>") && h.includes("<td>10.5000</td>"));
  assert.match(h, /3 rows × 3 columns/);
  const t = b["text/plain"] as string;
  assert.equal(t.split("\n")[0].split(/\s+/).join(","), "customer_id,monetary,churned");
  assert.match(t, /3 rows × 3 columns$/);
});

Deno.test("a large DataFrame shows only maxRows rows and says so", () => {
  const n = 1000;
  const df = pl.DataFrame({ i: Array.from({ length: n }, (_, k) => k) });
  const h = mimeBundle(df, { maxRows: 5 })["text/html"] as string;
  assert.equal((h.match(/<tr>/g) ?? []).length, 1 + 5);
  assert.match(h, /1,000 rows × 1 column \(first 5 shown\)/);
  assert.ok(h.includes("<td>4</td>") && !h.includes("<td>5</td>"));
  const def = mimeBundle(df)["text/html"] as string;
  assert.equal((def.match(/<tr>/g) ?? []).length, 1 + 20, "default is 20 rows");
});

Deno.test("table cells and captions are HTML-escaped; nulls are empty cells", () => {
  const df = pl.DataFrame({ name: ["<script>x</script>", null], n: [1, null] });
  const h = bundleOf(table(df, { caption: "a & b" }))["text/html"] as string;
  assert.ok(!h.includes("<script>"));
  assert.ok(h.includes("&lt;script&gt;x&lt;/script&gt;"));
  assert.ok(h.includes("a &amp; b"));
  assert.ok(h.includes("<td></td>"));
});

Deno.test("a Series becomes a one-column table", () => {
  const s = pl.Series("plan", ["basic", "pro", "basic"]);
  const b = mimeBundle(s);
  assert.ok((b["text/html"] as string).includes("<th>plan</th>"));
  assert.match(b["text/html"] as string, /3 rows × 1 column/);
});

Deno.test("an array of records becomes a table over the union of keys, plus JSON", () => {
  const rows = [{ model: "forest", auc: 0.91 }, { model: "logistic", auc: 0.85, note: "baseline" }];
  const b = mimeBundle(rows);
  const h = b["text/html"] as string;
  for (const c of ["model", "auc", "note"]) assert.ok(h.includes(`<th>${c}</th>`));
  assert.deepEqual(b["application/json"], rows);
  assert.ok(h.includes("<td>baseline</td>"));
  const empty = bundleOf(table([]));
  assert.match(empty["text/plain"] as string, /no rows/);
});

Deno.test("Plot options render to image/svg+xml", () => {
  const opts = { marks: [Plot.dot([{ x: 1, y: 2 }, { x: 2, y: 3 }], { x: "x", y: "y" })] };
  const b = mimeBundle(opts);
  const svg = b["image/svg+xml"] as string;
  assert.ok(svg.startsWith("<svg"), "a bare svg");
  assert.match(svg, /xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.equal((svg.match(/<circle/g) ?? []).length, 2, "one circle per point");
  assert.equal(b["text/html"], undefined);
  const viaChart = bundleOf(chart(opts));
  assert.equal(viaChart["image/svg+xml"], svg, "chart() and mimeBundle() agree");
});

Deno.test("an SVG string from a shared chart function displays as a chart", () => {
  const svg = renderPlot({ marks: [Plot.barY([3, 1, 2])] });
  const b = bundleOf(chart(svg));
  assert.ok((b["image/svg+xml"] as string).includes("<rect"));
  assert.ok(mimeBundle(svg)["image/svg+xml"], "a bare SVG string is recognised too");
  assert.equal(mimeBundle("plain words")["text/plain"], "plain words");
});

Deno.test("a chart with a legend (figure) is HTML that contains the SVG", () => {
  const data = [{ x: 1, y: 1, g: "a" }, { x: 2, y: 2, g: "b" }];
  const markup = renderPlot({
    color: { legend: true },
    marks: [Plot.dot(data, { x: "x", y: "y", fill: "g" })],
  });
  assert.ok(markup.startsWith("<figure"), "Plot wraps a chart with a legend in a figure");
  const b = bundleOf(chart(markup));
  assert.equal(b["image/svg+xml"], undefined);
  assert.ok((b["text/html"] as string).includes("<svg"));
  assert.deepEqual(svgBundle(markup), b);
});

Deno.test("plain values become text/plain; plain data adds application/json", () => {
  assert.deepEqual(mimeBundle(42), { "text/plain": "42" });
  assert.deepEqual(mimeBundle(null), { "text/plain": "null" });
  const obj = mimeBundle({ roc_auc: 0.9, rows: 10 });
  assert.deepEqual(obj["application/json"], { roc_auc: 0.9, rows: 10 });
  assert.match(obj["text/plain"] as string, /roc_auc: 0\.9/);
  assert.ok(!(obj["text/plain"] as string).includes("\x1b["), "no ANSI colours");
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.equal(mimeBundle(cyclic)["application/json"], undefined);
  assert.deepEqual(Object.keys(mimeBundle(new Map([["a", 1]]))), ["text/plain"]);
});

Deno.test("display() is lazy and passes an existing displayable through", () => {
  let calls = 0;
  const inner = { [JUPYTER_DISPLAY]: () => (calls++, { "text/html": "<b>x</b>" }) };
  const d = display(inner);
  assert.equal(calls, 0);
  assert.deepEqual(bundleOf(d), { "text/html": "<b>x</b>" });
  assert.equal(calls, 1);
});

Deno.test("html, markdown and grid bundles", () => {
  assert.deepEqual(bundleOf(html("<p>hi <b>there</b></p>")), {
    "text/html": "<p>hi <b>there</b></p>",
    "text/plain": "hi there",
  });
  assert.equal(bundleOf(markdown("# Title"))["text/markdown"], "# Title");
  const g = bundleOf(grid([{ marks: [Plot.barY([1, 2])] }, [{ a: 1 }], "note <x>"], { columns: 3 }));
  const h = g["text/html"] as string;
  assert.match(h, /repeat\(3,/);
  assert.equal((h.match(/<svg/g) ?? []).length, 1);
  assert.ok(h.includes("<th>a</th>") && h.includes("note &lt;x&gt;"));
});

Deno.test("show() prints plain text outside the kernel", async () => {
  const lines: string[] = [];
  const orig = console.log;
  console.log = (...a: unknown[]) => lines.push(a.join(" "));
  try {
    await show(7, [{ a: 1 }]);
  } finally {
    console.log = orig;
  }
  assert.equal(lines[0], "7");
  assert.match(lines[1], /^a\n1\n1 row × 1 column$/);
});

Deno.test("show()'s pause defaults to SHOW_FLUSH_MS and ORCHARD_SHOW_FLUSH_MS overrides it", () => {
  const prev = Deno.env.get(SHOW_FLUSH_ENV);
  try {
    Deno.env.delete(SHOW_FLUSH_ENV);
    assert.equal(showFlushMs(), SHOW_FLUSH_MS);
    Deno.env.set(SHOW_FLUSH_ENV, "250");
    assert.equal(showFlushMs(), 250);
    Deno.env.set(SHOW_FLUSH_ENV, "soon");
    assert.equal(showFlushMs(), SHOW_FLUSH_MS);
  } finally {
    if (prev === undefined) Deno.env.delete(SHOW_FLUSH_ENV);
    else Deno.env.set(SHOW_FLUSH_ENV, prev);
  }
});
