/**
 * Chart layout checks in a real browser: SVG strings go into one page in
 * headless Chromium (playwright-core driving the system's /usr/bin/chromium),
 * and the browser measures every <text>: no two text boxes of one SVG may
 * intersect, and none may reach outside its SVG's viewBox (where it would be
 * cut). Text metrics need a real layout engine, so linkedom cannot check this.
 */
import { type Browser, chromium } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

/** Whether the system Chromium is installed (the layout tests skip without it). */
export function hasChromium(): boolean {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
}

export function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
}

export interface LayoutProblem {
  chart: string;
  kind: "overlap" | "clipped";
  detail: string;
}

export interface ChartCase {
  name: string;
  /** an SVG string, or Plot's <figure> with one inside */
  html: string;
}

/** A page with each chart in its own box, unscaled (one SVG unit = one CSS pixel). */
export function layoutPage(cases: ChartCase[]): string {
  const boxes = cases.map((c) => `<section data-chart="${c.name}"><h3>${c.name}</h3>${c.html}</section>`);
  return `<!doctype html><html><head><meta charset="utf-8"><style>
body{font:14px system-ui,sans-serif;margin:8px;background:#fff}
section{display:inline-block;vertical-align:top;margin:6px;border:1px dashed #ccc}
h3{font-size:11px;margin:2px;color:#888}
</style></head><body>${boxes.join("\n")}</body></html>`;
}

/**
 * Every text-overlap and clipping problem on the page, measured by the browser
 * (getBoundingClientRect of each non-empty <text> against the others in its
 * SVG and against the SVG's viewBox, mapped to the page).
 */
export function measure(page: import("playwright-core").Page): Promise<LayoutProblem[]> {
  return page.evaluate(() => {
    const out: { chart: string; kind: "overlap" | "clipped"; detail: string }[] = [];
    const EPS = 0.5, MAX = 25; // problems kept a chart
    for (const section of Array.from(document.querySelectorAll("section[data-chart]"))) {
      const chart = section.getAttribute("data-chart")!;
      const start = out.length;
      for (const svg of Array.from(section.querySelectorAll("svg"))) {
        if (svg.parentElement?.closest("svg")) continue; // nested: measured with its outer SVG
        const box = svg.getBoundingClientRect();
        const vb = svg.viewBox.baseVal;
        // the viewBox in page coordinates (Plot's SVGs are unscaled: width = viewBox width)
        const sx = vb && vb.width ? box.width / vb.width : 1,
          sy = vb && vb.height ? box.height / vb.height : 1;
        const view = vb && vb.width
          ? {
            left: box.left,
            top: box.top,
            right: box.left + vb.width * sx,
            bottom: box.top + vb.height * sy,
          }
          : { left: box.left, top: box.top, right: box.right, bottom: box.bottom };
        const texts = Array.from(svg.querySelectorAll("text")).filter((t) =>
          (t.textContent ?? "").trim() !== ""
        );
        const rects = texts.map((t) => t.getBoundingClientRect());
        const label = (i: number) => JSON.stringify(texts[i].textContent);
        rects.forEach((r, i) => {
          if (
            out.length - start < MAX &&
              r.left < view.left - EPS ||
            r.top < view.top - EPS || r.right > view.right + EPS ||
            r.bottom > view.bottom + EPS
          ) {
            out.push({
              chart,
              kind: "clipped",
              detail: `${label(i)} at [${r.left - view.left | 0}, ${r.top - view.top | 0}, ${
                r.right - view.left | 0
              }, ${r.bottom - view.top | 0}] outside ${view.right - view.left | 0}x${
                view.bottom - view.top | 0
              }`,
            });
          }
        });
        for (let i = 0; i < rects.length; i++) {
          for (let j = i + 1; j < rects.length; j++) {
            const a = rects[i], b = rects[j];
            const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
            const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
            if (w > EPS && h > EPS && out.length - start < MAX) {
              out.push({
                chart,
                kind: "overlap",
                detail: `${label(i)} and ${label(j)} (${w.toFixed(1)} x ${h.toFixed(1)} px)`,
              });
            }
          }
        }
      }
    }
    return out;
  });
}

/** The problems as readable lines, at most `max` of them. */
export function describe(problems: LayoutProblem[], max = 15): string {
  const lines = problems.slice(0, max).map((p) => `${p.chart}: ${p.kind} ${p.detail}`);
  if (problems.length > max) lines.push(`... and ${problems.length - max} more`);
  return lines.join("\n");
}
