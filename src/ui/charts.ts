/**
 * The UI's charts, rendered to SVG on the server with the project's Plot
 * helper (src/report/plot.ts): metric step histories, metrics of compared
 * runs, a parallel-coordinates view of params against a metric, and the
 * monitoring time series. Values come in as plain numbers; labels are
 * escaped by Plot's own DOM (linkedom), so store text never becomes markup.
 */
import { integerTicks, Plot, renderPlot, utcTickFormat } from "../report/plot.ts";

const W = 420, H = 240;

/** One metric's history by step, one line per run (`series` name -> points). */
export function stepChart(metric: string, series: Record<string, { step: number; value: number }[]>): string {
  const data = Object.entries(series).flatMap(([run, pts]) =>
    pts.filter((p) => Number.isFinite(p.value)).map((p) => ({ run, step: p.step, value: p.value }))
  );
  const many = Object.keys(series).length > 1;
  return renderPlot({
    width: W,
    height: H,
    title: metric,
    x: {
      label: "step",
      ticks: data.length
        ? integerTicks(Math.min(...data.map((d) => d.step)), Math.max(...data.map((d) => d.step)))
        : undefined,
      tickFormat: "d",
    },
    y: { label: null, grid: true },
    color: many ? { legend: true } : undefined,
    marks: [
      Plot.line(data, {
        x: "step",
        y: "value",
        z: "run",
        stroke: many ? "run" : "#1f77b4",
        strokeWidth: 1.8,
      }),
      Plot.dot(data, { x: "step", y: "value", fill: many ? "run" : "#1f77b4", r: 2 }),
    ],
  });
}

/** Latest metric values of compared runs: one small bar chart per metric. */
export function metricBars(metric: string, values: { run: string; value: number }[]): string {
  const data = values.filter((v) => Number.isFinite(v.value));
  return renderPlot({
    width: 300,
    height: 60 + 24 * Math.max(1, data.length),
    marginLeft: 120,
    title: metric,
    x: { grid: true, label: null },
    y: { label: null },
    marks: [
      Plot.barX(data, { y: "run", x: "value", fill: "#1f77b4" }),
      Plot.text(data, {
        y: "run",
        x: "value",
        text: (d: { value: number }) => d.value.toPrecision(4),
        dx: 4,
        textAnchor: "start",
      }),
    ],
  });
}

/**
 * Parallel coordinates: one vertical axis per numeric param (then the metric),
 * each scaled to its own min..max; one line per run, coloured by the metric.
 */
export function parallelChart(
  runs: { run: string; params: Record<string, number>; metric: number }[],
  axes: string[],
  metric: string,
): string {
  const all = [...axes, metric];
  const ranges = all.map((a, i) => {
    const vals = runs.map((r) => (i === axes.length ? r.metric : r.params[a])).filter(Number.isFinite);
    const lo = Math.min(...vals), hi = Math.max(...vals);
    // one value on an axis sits in its middle, with one label
    return hi === lo ? { lo: lo - 0.5, hi: lo + 0.5, min: lo, max: hi } : { lo, hi, min: lo, max: hi };
  });
  const points = runs.flatMap((r) =>
    all.map((a, i) => {
      const v = i === axes.length ? r.metric : r.params[a];
      return Number.isFinite(v)
        ? { run: r.run, axis: i, y: (v - ranges[i].lo) / (ranges[i].hi - ranges[i].lo), metric: r.metric }
        : null;
    }).filter((p) => p !== null)
  );
  const labels = all.map((a, i) => ({ axis: i, a }));
  const ticks = all.flatMap((_, i) => axisEnds(ranges[i].min, ranges[i].max).map((e) => ({ axis: i, ...e })));
  return renderPlot({
    width: Math.max(420, 110 * all.length),
    height: 300,
    marginTop: 30,
    marginBottom: 30,
    // a continuous legend needs a canvas, which the server-side DOM lacks: the title says the scale
    title: `Params against ${metric} (colour: ${metric}, dark low to yellow high)`,
    x: { axis: null, domain: [-0.3, all.length - 0.7] },
    y: { axis: null, domain: [-0.05, 1.05] },
    color: { scheme: "viridis" },
    marks: [
      Plot.ruleX(labels, { x: "axis", stroke: "#999" }),
      Plot.line(points, {
        x: "axis",
        y: "y",
        z: "run",
        stroke: "metric",
        strokeOpacity: 0.8,
        strokeWidth: 1.5,
      }),
      Plot.text(labels, { x: "axis", y: 1.05, text: "a", dy: -12, fontWeight: "bold" }),
      Plot.text(ticks, { x: "axis", y: "y", text: "t", dx: 4, textAnchor: "start", fill: "#555" }),
    ],
  });
}

/**
 * An axis's end labels: its min at the bottom and max at the top, with as many digits as tell them apart
 * (0.9561 and 0.9564, not 0.956 twice); one label in the middle when the axis holds one value.
 */
export function axisEnds(min: number, max: number): { y: number; t: string }[] {
  if (min === max) return [{ y: 0.5, t: fmt(min) }];
  for (let digits = 3; digits <= 8; digits++) {
    const [a, b] = [fmt(min, digits), fmt(max, digits)];
    if (a !== b) return [{ y: 0, t: a }, { y: 1, t: b }];
  }
  return [{ y: 0, t: String(min) }, { y: 1, t: String(max) }];
}

function fmt(v: number, digits = 3): string {
  if (!Number.isFinite(v)) return "";
  return Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0)
    ? v.toExponential(digits - 2)
    : String(+v.toPrecision(digits));
}

/** A time series (x: Date) with optional threshold rule. */
export function timeChart(
  title: string,
  points: { t: Date; value: number; series?: string }[],
  opts: { threshold?: number; yLabel?: string; bars?: boolean } = {},
): string {
  const many = new Set(points.map((p) => p.series ?? "")).size > 1;
  const marks = opts.bars
    ? [Plot.rectY(points, { x: "t", y: "value", fill: many ? "series" : "#1f77b4", interval: "day" })]
    : [
      Plot.line(points, {
        x: "t",
        y: "value",
        z: "series",
        stroke: many ? "series" : "#1f77b4",
        strokeWidth: 1.8,
      }),
      // dots only while they can be told apart (and stay cheap to render)
      ...(points.length <= 120
        ? [Plot.dot(points, { x: "t", y: "value", fill: many ? "series" : "#1f77b4", r: 2.5 })]
        : []),
    ];
  return renderPlot({
    width: 560,
    height: 260,
    title,
    // UTC and 24-hour, as every time on the pages is written (Plot's default ticks read "3 PM")
    x: { type: "utc", label: null, tickFormat: utcTickFormat(points.map((p) => p.t.getTime())) },
    y: { label: opts.yLabel ?? null, grid: true },
    color: many ? { legend: true } : undefined,
    marks: [
      ...marks,
      ...(opts.threshold === undefined
        ? []
        : [Plot.ruleY([opts.threshold], { stroke: "#cf222e", strokeDasharray: "4 4" })]),
    ],
  });
}
