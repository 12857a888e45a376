/**
 * Observable Plot outside a browser: Plot needs a DOM, which linkedom provides.
 * Charts render to SVG strings that reports inline and notebooks display, so
 * pipeline reports and notebooks share the same chart functions.
 *
 * linkedom has no text layout, so Plot cannot size margins to its labels (it
 * assumes 40 px for a y axis: "1,000,000" is cut to "00,000"). renderPlot
 * therefore fits every chart to its text, from an estimate of each label's
 * width (DejaVu Sans metrics, the widest of the common sans-serif system
 * fonts, so the estimate errs on the wide side):
 * - large values (|v| >= 10,000) on a linear axis get SI ticks (30k, 1.2M);
 * - category labels wider than the room for them are cut with an ellipsis and
 *   keep their full name as a tooltip (<title>); x categories wider than their
 *   band are turned upright;
 * - after a render, every <text> is placed (transforms, anchor, font size) and
 *   margins grow until none reaches outside the SVG and no axis title sits on
 *   a tick label.
 * tests/report/charts_layout_test.ts checks the result in headless Chromium.
 */
/// <reference lib="dom" />
import * as Plot from "@observablehq/plot";
import { parseHTML } from "linkedom";

let documentCache: Document | undefined;
function dom(): Document {
  documentCache ??= parseHTML("<!doctype html><html><body></body></html>").document as unknown as Document;
  return documentCache;
}

// ---------------------------------------------------------------- text metrics

/** Advance widths in em of DejaVu Sans (Debian's system-ui), for ASCII 32..126. */
const ASCII_EM = [
  0.318,
  0.401,
  0.46,
  0.838,
  0.636,
  0.95,
  0.78,
  0.275,
  0.39,
  0.39,
  0.5,
  0.838,
  0.318,
  0.361,
  0.318,
  0.337, // ' '../
  0.636,
  0.636,
  0.636,
  0.636,
  0.636,
  0.636,
  0.636,
  0.636,
  0.636,
  0.636, // 0..9
  0.337,
  0.337,
  0.838,
  0.838,
  0.838,
  0.531,
  1.0, // :..@
  0.684,
  0.686,
  0.698,
  0.77,
  0.632,
  0.575,
  0.775,
  0.752,
  0.295,
  0.295,
  0.656,
  0.557,
  0.863,
  0.748,
  0.787, // A..O
  0.603,
  0.787,
  0.695,
  0.635,
  0.611,
  0.732,
  0.684,
  0.989,
  0.685,
  0.611,
  0.685, // P..Z
  0.39,
  0.337,
  0.39,
  0.838,
  0.5,
  0.5, // [ \ ] ^ _ `
  0.613,
  0.635,
  0.55,
  0.635,
  0.615,
  0.352,
  0.635,
  0.634,
  0.278,
  0.278,
  0.579,
  0.278,
  0.974,
  0.634,
  0.612, // a..o
  0.635,
  0.635,
  0.411,
  0.521,
  0.392,
  0.634,
  0.592,
  0.818,
  0.592,
  0.592,
  0.525, // p..z
  0.636,
  0.337,
  0.636,
  0.838, // { | } ~
];

/** Estimated width in px of one line of text at `fontSize` px (other characters count 1 em). */
export function textWidth(text: string, fontSize = 10): number {
  let em = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    em += c >= 32 && c <= 126 ? ASCII_EM[c - 32] : c === 0x2212 || c === 0x2026 ? 0.838 : 1;
  }
  return em * fontSize * 1.03;
}

/** `text` cut to at most `maxWidth` px with an ellipsis (unchanged when it fits). */
export function truncateText(text: string, maxWidth: number, fontSize = 10): string {
  if (textWidth(text, fontSize) <= maxWidth) return text;
  const chars = [...text];
  while (chars.length > 1 && textWidth(chars.join("") + "…", fontSize) > maxWidth) chars.pop();
  return chars.join("").trimEnd() + "…";
}

// ---------------------------------------------------------------- ticks and SI

/** d3's tick values: about `count` round numbers (1, 2 or 5 times a power of ten) within [lo, hi]. */
export function niceTicks(lo: number, hi: number, count: number): number[] {
  if (!(hi >= lo) || !Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (hi === lo) return [lo];
  const step = (hi - lo) / Math.max(1, count);
  const power = Math.floor(Math.log10(step)), error = step / 10 ** power;
  const factor = error >= Math.sqrt(50) ? 10 : error >= Math.sqrt(10) ? 5 : error >= Math.SQRT2 ? 2 : 1;
  const out: number[] = [];
  if (power < 0) {
    const inv = 10 ** -power / factor; // ticks are k / inv, exact in floating point
    for (let k = Math.ceil(lo * inv); k <= Math.floor(hi * inv); k++) out.push(k / inv);
  } else {
    const inc = factor * 10 ** power;
    for (let k = Math.ceil(lo / inc); k <= Math.floor(hi / inc); k++) out.push(k * inc);
  }
  return out;
}

const SI: [number, string][] = [[1e12, "T"], [1e9, "G"], [1e6, "M"], [1e3, "k"]];

/**
 * A formatter for one axis's ticks with one SI prefix for all of them (chosen
 * by the largest), and as many decimals as tell neighbouring ticks apart:
 * [0, 5000, 10000] -> "0", "5k", "10k"; [1.2e6, 1.4e6] -> "1.2M", "1.4M".
 */
export function siFormat(ticks: readonly number[]): (v: number) => string {
  const max = Math.max(0, ...ticks.map(Math.abs));
  const [unit, prefix] = SI.find(([u]) => max >= u) ?? [1, ""];
  const step = ticks.length > 1 ? Math.abs(ticks[1] - ticks[0]) : max || 1;
  const decimals = Math.max(0, Math.min(6, Math.ceil(-Math.log10(step / unit) - 1e-9)));
  return (v: number) => {
    if (v === 0) return "0";
    let s = Math.abs(v / unit).toFixed(decimals);
    if (s.includes(".")) s = s.replace(/\.?0+$/, "");
    return `${v < 0 ? "\u2212" : ""}${s}${prefix}`;
  };
}

/** One value in SI units with up to three significant digits: 1234 -> "1,234", 12345 -> "12.3k". */
export function formatSI(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a < 1e4) return Number.isInteger(v) ? v.toLocaleString("en-US") : String(+v.toPrecision(4));
  const [unit, prefix] = SI.find(([u]) => a >= u)!;
  const x = a / unit;
  const s = x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
  return `${v < 0 ? "\u2212" : ""}${s.includes(".") ? s.replace(/\.?0+$/, "") : s}${prefix}`;
}

// ---------------------------------------------------------------- text boxes

type Matrix = [number, number, number, number, number, number]; // a b c d e f
const IDENTITY: Matrix = [1, 0, 0, 1, 0, 0];
function multiply(m: Matrix, n: Matrix): Matrix {
  return [
    m[0] * n[0] + m[2] * n[1],
    m[1] * n[0] + m[3] * n[1],
    m[0] * n[2] + m[2] * n[3],
    m[1] * n[2] + m[3] * n[3],
    m[0] * n[4] + m[2] * n[5] + m[4],
    m[1] * n[4] + m[3] * n[5] + m[5],
  ];
}
function parseTransform(t: string | null): Matrix {
  let m = IDENTITY;
  if (!t) return m;
  for (const [, op, args] of t.matchAll(/(\w+)\s*\(([^)]*)\)/g)) {
    const a = args.split(/[\s,]+/).filter(Boolean).map(Number);
    if (op === "translate") m = multiply(m, [1, 0, 0, 1, a[0] ?? 0, a[1] ?? 0]);
    else if (op === "scale") m = multiply(m, [a[0], 0, 0, a[1] ?? a[0], 0, 0]);
    else if (op === "rotate") {
      const r = ((a[0] ?? 0) * Math.PI) / 180, cos = Math.cos(r), sin = Math.sin(r);
      const rot: Matrix = [cos, sin, -sin, cos, 0, 0];
      if (a.length === 3) {
        m = multiply(multiply(multiply(m, [1, 0, 0, 1, a[1], a[2]]), rot), [1, 0, 0, 1, -a[1], -a[2]]);
      } else m = multiply(m, rot);
    } else if (op === "matrix" && a.length === 6) m = multiply(m, a as Matrix);
  }
  return m;
}
function inherited(el: Element, name: string): string | null {
  for (let e: Element | null = el; e; e = e.parentElement) {
    const v = e.getAttribute(name);
    if (v !== null) return v;
    if (e.tagName.toLowerCase() === "svg") break;
  }
  return null;
}
function length(v: string | null, fontSize: number): number {
  if (!v) return 0;
  const n = parseFloat(v);
  return Number.isFinite(n) ? (v.trim().endsWith("em") ? n * fontSize : n) : 0;
}

/** A text element's estimated box in SVG coordinates, and which axis part it is. */
export interface TextBox {
  text: string;
  role: string;
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/** Estimated boxes of every non-empty <text> in an SVG (DejaVu-like metrics, rounded up). */
export function textBoxes(svg: Element): TextBox[] {
  const out: TextBox[] = [];
  for (const t of Array.from(svg.querySelectorAll("text"))) {
    const lines = Array.from(t.querySelectorAll("tspan"));
    const strings = lines.length ? lines.map((l) => l.textContent ?? "") : [t.textContent ?? ""];
    const text = strings.join("\n");
    if (!text.trim()) continue;
    const fontSize = parseFloat(inherited(t, "font-size") ?? "10") || 10;
    const anchor = inherited(t, "text-anchor") ?? "start";
    const width = Math.max(...strings.map((s) => textWidth(s, fontSize)));
    let m = IDENTITY;
    const chain: Element[] = [];
    for (let e: Element | null = t; e && e.tagName.toLowerCase() !== "svg"; e = e.parentElement) {
      chain.unshift(e);
    }
    for (const e of chain) m = multiply(m, parseTransform(e.getAttribute("transform")));
    const x = length(t.getAttribute("x"), fontSize) + length(t.getAttribute("dx"), fontSize);
    const y = length(t.getAttribute("y"), fontSize) + length(t.getAttribute("dy"), fontSize);
    const x0 = anchor === "middle" ? x - width / 2 : anchor === "end" ? x - width : x;
    const lineCount = Math.max(1, strings.length);
    const y0 = y - 0.95 * fontSize, y1 = y + 0.25 * fontSize + (lineCount - 1) * 1.2 * fontSize;
    const pts = [[x0, y0], [x0 + width, y0], [x0, y1], [x0 + width, y1]].map(([px, py]) => [
      m[0] * px + m[2] * py + m[4],
      m[1] * px + m[3] * py + m[5],
    ]);
    const role = t.parentElement?.getAttribute("aria-label") ?? "";
    out.push({
      text,
      role,
      left: Math.min(...pts.map((p) => p[0])),
      right: Math.max(...pts.map((p) => p[0])),
      top: Math.min(...pts.map((p) => p[1])),
      bottom: Math.max(...pts.map((p) => p[1])),
    });
  }
  return out;
}

// ---------------------------------------------------------------- rendering

type Scales = "x" | "y" | "fx" | "fy";
type AxisOptions = Record<string, unknown> & {
  tickFormat?: unknown;
  ticks?: unknown;
  axis?: unknown;
  label?: unknown;
};
interface PlotElement extends Element {
  scale(name: string): { type: string; domain: unknown[]; range?: number[]; bandwidth?: number } | undefined;
}
const CONTINUOUS = new Set(["linear", "pow", "sqrt", "symlog"]);

function plotOnce(options: Plot.PlotOptions): PlotElement {
  return Plot.plot({ ...options, document: dom() }) as unknown as PlotElement;
}
function mainSvg(el: Element): Element | null {
  if (el.tagName.toLowerCase() === "svg") return el;
  const svgs = Array.from(el.children).filter((c) => c.tagName.toLowerCase() === "svg");
  return svgs[svgs.length - 1] ?? null;
}
function scaleOf(el: PlotElement, k: string) {
  try {
    return el.scale(k);
  } catch {
    return undefined;
  }
}

/** Options for fitting; `fit: false` renders as Plot alone would. */
export interface FitOptions {
  fit?: boolean;
  /** the widest a category label may be before it is cut (px); default 40% of the width for y, 130 for x */
  maxLabelWidth?: number;
}

/** Renders Plot options to an SVG (or figure HTML, when Plot adds a legend or title) string, fitted to its text. */
export function renderPlot(options: Plot.PlotOptions, fit: FitOptions = {}): string {
  if (fit.fit === false) return (plotOnce(options) as unknown as { outerHTML: string }).outerHTML;
  const opts: Record<string, unknown> = { ...options };
  const first = plotOnce(options);
  const width = Number(mainSvg(first)?.getAttribute("width")) || 640;
  const full = new Map<string, Map<string, string>>(); // axis -> shown label -> full name
  // continuous axes whose ticks renderPlot may choose: SI past 10,000, fewer when their labels collide
  const continuous = new Map<Scales, { lo: number; hi: number; count: number; si: boolean }>();
  const ticksFor = (user: AxisOptions, a: { lo: number; hi: number; count: number; si: boolean }) => {
    const ticks = niceTicks(a.lo, a.hi, a.count);
    return { ...user, ticks, ...(a.si ? { tickFormat: siFormat(ticks) } : {}) };
  };
  for (const k of ["x", "y", "fx", "fy"] as Scales[]) {
    const s = scaleOf(first, k);
    let user = (options[k as keyof Plot.PlotOptions] ?? {}) as AxisOptions;
    // an axis title longer than the chart is cut (its arrow and a margin kept)
    if (s && typeof user.label === "string" && textWidth(user.label) > width - 24) {
      user = { ...user, label: truncateText(user.label, width - 24) };
      opts[k] = user;
    }
    if (!s || user.axis === null || user.tickFormat !== undefined) continue;
    const vertical = k === "y" || k === "fy";
    if (CONTINUOUS.has(s.type) && user.ticks === undefined) {
      const d = s.domain as number[];
      const lo = Math.min(d[0], d[d.length - 1]), hi = Math.max(d[0], d[d.length - 1]);
      const span = s.range ? Math.abs(s.range[1] - s.range[0]) : vertical ? 250 : 300;
      const axis = {
        lo,
        hi,
        count: span / (vertical ? 35 : 80),
        si: Math.max(Math.abs(lo), Math.abs(hi)) >= 1e4,
      };
      continuous.set(k, axis);
      if (axis.si) opts[k] = ticksFor(user, axis);
    } else if ((s.type === "band" || s.type === "point") && s.domain.length) {
      const limit = fit.maxLabelWidth ?? (vertical ? Math.max(60, 0.4 * width) : 130);
      const shown = new Map<string, string>();
      const format = (v: unknown) => {
        const name = String(v), short = truncateText(name, limit);
        if (short !== name) shown.set(short, name);
        return short;
      };
      s.domain.forEach(format);
      const next: AxisOptions = { ...user };
      if (shown.size) (next.tickFormat = format, full.set(k, shown));
      // x categories wider than their band stand upright (a slanted label's box crosses its neighbours')
      const band = s.bandwidth ?? 0;
      const step = s.range && s.domain.length ? Math.abs(s.range[1] - s.range[0]) / s.domain.length : band;
      const widest = Math.max(...s.domain.map((v) => textWidth(format(v))));
      if (!vertical && user.tickRotate === undefined && widest > Math.max(band, step) - 4) {
        next.tickRotate = -90;
      }
      if (Object.keys(next).some((key) => next[key] !== user[key])) opts[k] = next;
    }
  }
  // margins from the first render's frame
  const xs = scaleOf(first, "x") ?? scaleOf(first, "fx");
  const ys = scaleOf(first, "fy") ?? scaleOf(first, "y");
  const firstSvg = mainSvg(first);
  const height = Number(firstSvg?.getAttribute("height")) || 400;
  const margins = {
    left: (options.marginLeft as number | undefined) ?? (xs?.range ? Math.min(...xs.range) : 40),
    right: (options.marginRight as number | undefined) ?? (xs?.range ? width - Math.max(...xs.range) : 20),
    top: (options.marginTop as number | undefined) ?? (ys?.range ? Math.min(...ys.range) : 20),
    bottom: (options.marginBottom as number | undefined) ?? (ys?.range ? height - Math.max(...ys.range) : 30),
  };
  // the first render stands when no axis changed
  let el = Object.keys(opts).some((k) => opts[k] !== (options as Record<string, unknown>)[k])
    ? plotOnce(opts as Plot.PlotOptions)
    : first;
  for (let pass = 0; pass < 5; pass++) {
    const svg = mainSvg(el);
    if (!svg) break;
    const w = Number(svg.getAttribute("width")) || width, h = Number(svg.getAttribute("height")) || height;
    const boxes = textBoxes(svg);
    const grow = { left: 0, right: 0, top: 0, bottom: 0 };
    for (const b of boxes.filter((b) => b.right - b.left < w && b.bottom - b.top < h)) {
      grow.left = Math.max(grow.left, -b.left);
      grow.right = Math.max(grow.right, b.right - w);
      grow.top = Math.max(grow.top, -b.top);
      grow.bottom = Math.max(grow.bottom, b.bottom - h);
    }
    // an axis title over a tick label: move it out by its margin
    for (const a of boxes.filter((b) => / axis label$/.test(b.role))) {
      for (const t of boxes.filter((b) => / axis tick label$/.test(b.role))) {
        const ow = Math.min(a.right, t.right) - Math.max(a.left, t.left);
        const oh = Math.min(a.bottom, t.bottom) - Math.max(a.top, t.top);
        if (ow <= 0 || oh <= 0) continue;
        if (/^x-axis/.test(a.role) || /^fx-axis/.test(a.role)) {
          if (a.top > t.top) grow.bottom = Math.max(grow.bottom, oh);
          else grow.top = Math.max(grow.top, oh);
        } else if (a.left < t.left) grow.left = Math.max(grow.left, ow);
        else grow.right = Math.max(grow.right, ow);
      }
    }
    // tick labels of a continuous axis that collide: about half as many ticks
    let fewer = false;
    for (const [k, a] of continuous) {
      const ticks = boxes.filter((b) => b.role === `${k}-axis tick label`);
      const collide = ticks.some((t, i) =>
        ticks.slice(i + 1).some((u) =>
          Math.min(t.right, u.right) - Math.max(t.left, u.left) > 0 &&
          Math.min(t.bottom, u.bottom) - Math.max(t.top, u.top) > 0
        )
      );
      if (!collide || a.count <= 1.5) continue;
      a.count = Math.max(1.5, a.count / 2);
      opts[k] = ticksFor({ ...(opts[k] as AxisOptions), ticks: undefined, tickFormat: undefined }, a);
      fewer = true;
    }
    if (!fewer && grow.left + grow.right + grow.top + grow.bottom <= 0.5) break;
    for (const side of ["left", "right", "top", "bottom"] as const) {
      if (grow[side] > 0) margins[side] = Math.ceil(margins[side] + grow[side] + 2);
    }
    Object.assign(opts, {
      marginLeft: margins.left,
      marginRight: margins.right,
      marginTop: margins.top,
      marginBottom: margins.bottom,
    });
    el = plotOnce(opts as Plot.PlotOptions);
  }
  // full names of cut labels as tooltips
  const svg = mainSvg(el);
  if (svg) {
    for (const [k, shown] of full) {
      const g = svg.querySelector(`g[aria-label="${k}-axis tick label"]`);
      for (const t of Array.from(g?.querySelectorAll("text") ?? [])) {
        const name = shown.get(t.textContent ?? "");
        if (name === undefined) continue;
        const title = svg.ownerDocument.createElementNS("http://www.w3.org/2000/svg", "title");
        title.textContent = name;
        t.appendChild(title);
      }
    }
  }
  return (el as unknown as { outerHTML: string }).outerHTML;
}

export { Plot };

/**
 * Tick labels for a UTC time axis over `times` (epoch ms): hours and minutes within two days, else the date.
 * UTC and 24-hour, as every time in Orchard's pages and reports is written (Plot's default ticks read "3 PM").
 */
export function utcTickFormat(times: number[]): (d: Date) => string {
  let lo = Infinity, hi = -Infinity;
  for (const t of times) {
    if (t < lo) lo = t;
    if (t > hi) hi = t;
  }
  return hi - lo < 2 * 86_400_000
    ? (d) => d.toISOString().slice(11, 16)
    : (d) => d.toISOString().slice(0, 10);
}

/** At most `max` whole-number ticks over [lo, hi]: a step axis (folds, rounds) has no step 0.5. */
export function integerTicks(lo: number, hi: number, max = 10): number[] {
  const first = Math.ceil(lo), last = Math.floor(hi);
  if (!(last >= first)) return [first];
  const every = Math.max(1, Math.ceil((last - first + 1) / max));
  const out: number[] = [];
  for (let t = first; t <= last; t += every) out.push(t);
  return out;
}
