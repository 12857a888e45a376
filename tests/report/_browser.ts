/**
 * Chart layout checks in a real browser: SVG strings go into one page in
 * headless Chromium (playwright-core driving the system's /usr/bin/chromium),
 * and the browser measures every <text>: no two text boxes of one SVG may
 * intersect, and none may reach outside its SVG's viewBox (where it would be
 * cut). Text metrics need a real layout engine, so linkedom cannot check this.
 */
import { type Browser, chromium, type Page } from "playwright-core";

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
 * Every text-overlap and clipping problem on the page, measured by the browser:
 * getBoundingClientRect of each non-empty <text> of each outermost SVG against
 * the other texts of that SVG and against the SVG's own box (its viewBox as
 * laid out; a text reaching outside it is cut). Charts are named by their
 * layoutPage section, or on a report page by their figure's heading.
 */
export function measure(page: Page): Promise<LayoutProblem[]> {
  return page.evaluate(() => {
    const out: { chart: string; kind: "overlap" | "clipped"; detail: string }[] = [];
    const EPS = 0.5, MAX = 25; // tolerance (px); problems kept a chart
    const svgs = Array.from(document.querySelectorAll("svg")).filter((s) => !s.parentElement?.closest("svg"));
    svgs.forEach((svg, n) => {
      const section = svg.closest("section[data-chart]");
      const figure = svg.closest("figure")?.parentElement?.closest("figure") ?? svg.closest("figure");
      const chart = section?.getAttribute("data-chart") ?? figure?.querySelector("h2, h3")?.textContent ??
        `svg ${n + 1}`;
      const start = out.length;
      const view = svg.getBoundingClientRect();
      const texts = Array.from(svg.querySelectorAll("text")).filter((t) =>
        (t.textContent ?? "").trim() !== ""
      );
      const rects = texts.map((t) => t.getBoundingClientRect());
      const label = (i: number) => JSON.stringify(texts[i].textContent);
      const at = (r: DOMRect) =>
        `[${Math.round(r.left - view.left)}, ${Math.round(r.top - view.top)}, ${
          Math.round(r.right - view.left)
        }, ${Math.round(r.bottom - view.top)}]`;
      rects.forEach((r, i) => {
        const outside = r.left < view.left - EPS || r.top < view.top - EPS || r.right > view.right + EPS ||
          r.bottom > view.bottom + EPS;
        if (outside && out.length - start < MAX) {
          out.push({
            chart,
            kind: "clipped",
            detail: `${label(i)} at ${at(r)} outside ${Math.round(view.width)}x${Math.round(view.height)}`,
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
    });
    return out;
  });
}

/** The problems as readable lines, at most `max` of them. */
export function describe(problems: LayoutProblem[], max = 15): string {
  const lines = problems.slice(0, max).map((p) => `${p.chart}: ${p.kind} ${p.detail}`);
  if (problems.length > max) lines.push(`... and ${problems.length - max} more`);
  return lines.join("\n");
}
