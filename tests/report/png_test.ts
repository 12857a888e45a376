import assert from "node:assert/strict";
import { svgOnly, svgToPng } from "../../src/report/png.ts";
import { rocChart } from "../../src/report/charts.ts";

Deno.test("svgOnly: the chart's svg out of a Plot figure, nested svgs kept whole, xmlns added", () => {
  const fig =
    `<figure><h2>T</h2><svg width="10" height="10"><svg x="1"><rect/></svg><text>a</text></svg><p>x</p></figure>`;
  const s = svgOnly(fig);
  assert.match(s, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="10"/);
  assert.ok(s.endsWith("<text>a</text></svg>"));
  assert.throws(() => svgOnly("<p>no chart</p>"), /no <svg>/);
});

/** Dark pixels (text, lines) in a rectangle of an RGBA image. */
function dark(
  px: Uint8Array,
  width: number,
  box: { x0: number; y0: number; x1: number; y1: number },
): number {
  let n = 0;
  for (let y = box.y0; y < box.y1; y++) {
    for (let x = box.x0; x < box.x1; x++) {
      const i = (y * width + x) * 4;
      if (px[i] < 100 && px[i + 1] < 100 && px[i + 2] < 100) n++;
    }
  }
  return n;
}

Deno.test("svgToPng: a PNG on white with its text drawn (a system font is found)", async () => {
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="200" height="40" font-family="system-ui, sans-serif">` +
    `<text x="10" y="28" font-size="20" fill="currentColor">Recall 0.71</text></svg>`;
  const r = await svgToPng(svg);
  assert.deepEqual([...r.png.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
  assert.equal(r.width, 200);
  assert.equal(r.height, 40);
  // the corner is the white background; the text's row has ink
  assert.deepEqual([...r.pixels.subarray(0, 4)], [255, 255, 255, 255]);
  assert.ok(dark(r.pixels, r.width, { x0: 10, y0: 8, x1: 150, y1: 32 }) > 100, "no text was drawn: no font?");
  // a Plot chart: its axis labels are drawn too (left of the frame, where only tick labels are)
  const roc = await svgToPng(rocChart({ fpr: [0, 0.5, 1], tpr: [0, 0.8, 1] }, 0.8), { width: 680 });
  assert.equal(roc.width, 680);
  assert.ok(dark(roc.pixels, roc.width, { x0: 0, y0: 40, x1: 70, y1: 560 }) > 200);
});
