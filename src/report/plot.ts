/**
 * Observable Plot outside a browser: Plot needs a DOM, which linkedom provides.
 * Charts render to SVG strings that reports inline and notebooks display, so
 * pipeline reports and notebooks share the same chart functions.
 */
/// <reference lib="dom" />
import * as Plot from "@observablehq/plot";
import { parseHTML } from "linkedom";

let documentCache: Document | undefined;
function dom(): Document {
  documentCache ??= parseHTML("<!doctype html><html><body></body></html>").document as unknown as Document;
  return documentCache;
}

/** Renders Plot options to an SVG (or figure HTML, when Plot adds a legend) string. */
export function renderPlot(options: Plot.PlotOptions): string {
  const el = Plot.plot({ ...options, document: dom() });
  return (el as unknown as { outerHTML: string }).outerHTML;
}

export { Plot };
