/**
 * SVG charts to PNG, for places that cannot show inline SVG: a pull-request
 * comment (CML-style reports, src/ct) shows images only. The rasteriser is
 * @resvg/resvg-js, whose native binary ships inside its npm package (no build,
 * no download at install); Deno loads it through Node-API, hence --allow-ffi.
 *
 * Plot writes `font-family="system-ui, sans-serif"`; resvg knows no
 * "system-ui", so text falls back to its sans-serif family, set here to DejaVu
 * Sans (the font the chart layout in plot.ts measures text with; Debian's
 * fonts-dejavu-core). A chart in a <figure> (Plot adds one for a title or a
 * legend) is reduced to its first <svg>: PNG charts carry their titles inside.
 */
import { UserError } from "../core/errors.ts";

type ResvgModule = typeof import("@resvg/resvg-js");
let resvg: Promise<ResvgModule> | undefined;

/** The rasteriser, loaded once and only when a PNG is asked for (a native module). */
function loadResvg(): Promise<ResvgModule> {
  resvg ??= import("@resvg/resvg-js").catch((e) => {
    resvg = undefined;
    throw new UserError(
      `cannot load the PNG rasteriser @resvg/resvg-js (${String((e as Error).message).split("\n")[0]}); ` +
        "it needs --allow-ffi and a platform its package ships a binary for",
    );
  });
  return resvg;
}

export interface PngOptions {
  /** output width in px (default: the SVG's own width); the height keeps the aspect ratio */
  width?: number;
  /** background fill (default white: a transparent chart is unreadable on a dark page) */
  background?: string;
}

/** The first <svg> element of a chart, nested ones included (a Plot figure wraps it in HTML). */
export function svgOnly(chart: string): string {
  const start = chart.indexOf("<svg");
  if (start < 0) throw new Error("svgOnly: no <svg> element in the chart");
  const tag = /<svg[\s>]|<\/svg>/g;
  tag.lastIndex = start;
  let depth = 0, end = -1;
  for (let m = tag.exec(chart); m; m = tag.exec(chart)) {
    depth += m[0] === "</svg>" ? -1 : 1;
    if (depth === 0) {
      end = m.index + m[0].length;
      break;
    }
  }
  if (end < 0) throw new Error("svgOnly: the <svg> element is not closed");
  let svg = chart.slice(start, end);
  if (!/\sxmlns=/.test(svg.slice(0, svg.indexOf(">")))) {
    svg = svg.replace("<svg", '<svg xmlns="http://www.w3.org/2000/svg"');
  }
  return svg;
}

/** A rendered chart: the PNG bytes and the RGBA pixels they encode (tests inspect those). */
export interface RenderedPng {
  png: Uint8Array;
  width: number;
  height: number;
  pixels: Uint8Array;
}

/** Rasterises an SVG (or Plot figure) string to PNG. */
export async function svgToPng(chart: string, opts: PngOptions = {}): Promise<RenderedPng> {
  const { Resvg } = await loadResvg();
  const r = new Resvg(svgOnly(chart), {
    background: opts.background ?? "white",
    fitTo: opts.width ? { mode: "width", value: opts.width } : { mode: "original" },
    font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans", sansSerifFamily: "DejaVu Sans" },
  });
  const image = r.render();
  return {
    png: new Uint8Array(image.asPng()),
    width: image.width,
    height: image.height,
    pixels: new Uint8Array(image.pixels),
  };
}
