/**
 * Prometheus metrics. Each worker counts in plain maps (cheap on the hot
 * path) and can export a snapshot; `renderMetrics` merges the snapshots of
 * every worker (see cluster.ts) into one exposition, so a scrape that lands on
 * any worker of the service reports the whole process.
 */

/** Methods counted under their own name; any other is "other". */
const KNOWN_METHODS: ReadonlySet<string> = new Set([
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "DELETE",
  "PATCH",
  "OPTIONS",
  "TRACE",
  "CONNECT",
]);

/** The key of a count of requests: "route\tmethod\tstatus", a method outside HTTP's own as "other". */
export function requestKey(route: string, method: string, status: number): string {
  return route + "\t" + (KNOWN_METHODS.has(method) ? method : "other") + "\t" + status;
}

/** Predicted-class series one model version may have; later labels count as "other". */
export const MAX_CLASS_SERIES = 100;

/** The key of a count of predictions: "model\tversion\tclass" (a tab in the class reads as a space). */
export function predictionKey(model: string, version: string, label: unknown): string {
  const l = String(label);
  return model + "\t" + version + "\t" + (l.includes("\t") ? l.replaceAll("\t", " ") : l);
}

const LATENCY_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export interface Histogram {
  /** non-cumulative counts per bucket, plus one for +Inf */
  counts: number[];
  sum: number;
  count: number;
}

export interface LogStats {
  written: number;
  writeErrors: number;
  dropped: number;
  pending: number;
  lastError: string | null;
}

export interface MetricsSnapshot {
  worker: string;
  /** "route\tmethod\tstatus" -> count */
  requests: Record<string, number>;
  /** route -> latency histogram */
  latency: Record<string, Histogram>;
  /** "model\tversion\tclass" -> count */
  predictions: Record<string, number>;
  model: { name: string; version: string } | null;
  reloads: number;
  reloadFailures: number;
  /** batches scored in two halves on two threads (split.ts); absent in older snapshots */
  batchSplits?: number;
  log: LogStats;
  /** the worker's connections (connections.ts); absent where no bounded server runs it */
  connections?: ConnectionCounts;
  startedAt: number;
}

/** What a worker's connection server reports: open now, closed for idling, refused as one too many. */
export interface ConnectionCounts {
  open: number;
  idleClosed: number;
  refused: number;
}

export class Metrics {
  private requests = new Map<string, number>();
  private latency = new Map<string, Histogram>();
  private predictions = new Map<string, number>();
  /** "model\tversion" -> predicted-class series it has (at most MAX_CLASS_SERIES) */
  private labelsPer = new Map<string, number>();
  reloads = 0;
  reloadFailures = 0;
  batchSplits = 0;
  readonly startedAt = Date.now();
  /** set by the worker once its connection server listens (worker.ts) */
  connections: (() => ConnectionCounts) | null = null;

  constructor(readonly worker: string) {}

  /**
   * Counts one request. The labels are bounded whatever the caller sends: the
   * route is one the app names (or "unmatched"), and a method outside HTTP's
   * own is counted as "other" (3,000 requests with made-up method names once
   * made 3,019 series).
   */
  observe(route: string, method: string, status: number, seconds: number): void {
    this.observeAt(requestKey(route, method, status), route, seconds);
  }

  /** `observe` with its key made once (requestKey): the hot path's usual answer. */
  observeAt(key: string, route: string, seconds: number): void {
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    let h = this.latency.get(route);
    if (!h) {
      h = { counts: new Array(LATENCY_BUCKETS.length + 1).fill(0), sum: 0, count: 0 };
      this.latency.set(route, h);
    }
    let b = 0;
    while (b < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[b]) b++;
    h.counts[b]++;
    h.sum += seconds;
    h.count++;
  }

  /**
   * Counts `n` (default 1) records scored as `label` (a regressor's: "", one
   * series per model version). The series are bounded whatever a model
   * predicts: a version's first MAX_CLASS_SERIES labels get their own, later
   * ones count as "other" (a plugin classifier of free-text labels cannot grow
   * /metrics without end).
   */
  predicted(model: string, version: string, label: unknown, n = 1): void {
    this.predictedAt(predictionKey(model, version, label), n);
  }

  /** `predicted` with its key made once (predictionKey): the hot path counts a class per request. */
  predictedAt(key: string, n: number): void {
    const c = this.predictions.get(key);
    if (c !== undefined) {
      this.predictions.set(key, c + n);
      return;
    }
    const version = key.slice(0, key.lastIndexOf("\t"));
    const seen = this.labelsPer.get(version) ?? 0;
    if (seen >= MAX_CLASS_SERIES) {
      const other = version + "\tother";
      this.predictions.set(other, (this.predictions.get(other) ?? 0) + n);
      return;
    }
    this.labelsPer.set(version, seen + 1);
    this.predictions.set(key, n);
  }

  snapshot(model: { name: string; version: string } | null, log: LogStats): MetricsSnapshot {
    const latency: Record<string, Histogram> = {};
    for (const [k, h] of this.latency) latency[k] = { counts: [...h.counts], sum: h.sum, count: h.count };
    return {
      worker: this.worker,
      requests: Object.fromEntries(this.requests),
      latency,
      predictions: Object.fromEntries(this.predictions),
      model,
      reloads: this.reloads,
      reloadFailures: this.reloadFailures,
      batchSplits: this.batchSplits,
      log: { ...log },
      ...(this.connections ? { connections: this.connections() } : {}),
      startedAt: this.startedAt,
    };
  }
}

function esc(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** Prometheus sample values are a wire format, not display: 12 significant digits, never the MISSING placeholder. */
function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Number(n.toPrecision(12)));
}

function addInto(target: Map<string, number>, source: Record<string, number>): void {
  for (const k in source) target.set(k, (target.get(k) ?? 0) + source[k]);
}

/** The Prometheus text exposition (version 0.0.4) of the merged snapshots. */
export function renderMetrics(snaps: MetricsSnapshot[]): string {
  const requests = new Map<string, number>();
  const predictions = new Map<string, number>();
  const latency = new Map<string, Histogram>();
  const models = new Map<string, number>();
  let reloads = 0, reloadFailures = 0, batchSplits = 0;
  const log = { written: 0, writeErrors: 0, dropped: 0, pending: 0 };
  let failing = 0;
  let oldest = Infinity;
  const conns: ConnectionCounts = { open: 0, idleClosed: 0, refused: 0 };
  let bounded = false;
  for (const s of snaps) {
    addInto(requests, s.requests);
    addInto(predictions, s.predictions);
    for (const route in s.latency) {
      const h = s.latency[route];
      const acc = latency.get(route) ??
        { counts: new Array(LATENCY_BUCKETS.length + 1).fill(0), sum: 0, count: 0 };
      h.counts.forEach((c, i) => (acc.counts[i] += c));
      acc.sum += h.sum;
      acc.count += h.count;
      latency.set(route, acc);
    }
    if (s.model) {
      const key = s.model.name + "\t" + s.model.version;
      models.set(key, (models.get(key) ?? 0) + 1);
    }
    reloads += s.reloads;
    reloadFailures += s.reloadFailures;
    batchSplits += s.batchSplits ?? 0;
    log.written += s.log.written;
    log.writeErrors += s.log.writeErrors;
    log.dropped += s.log.dropped;
    log.pending += s.log.pending;
    if (s.log.lastError) failing++;
    if (s.connections) {
      bounded = true;
      conns.open += s.connections.open;
      conns.idleClosed += s.connections.idleClosed;
      conns.refused += s.connections.refused;
    }
    oldest = Math.min(oldest, s.startedAt);
  }
  const out: string[] = [];
  const head = (name: string, type: string, help: string) =>
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);

  head("orchard_http_requests_total", "counter", "HTTP requests by route, method and status.");
  for (const [k, v] of [...requests].sort()) {
    const [route, method, status] = k.split("\t");
    out.push(
      `orchard_http_requests_total{route="${esc(route)}",method="${esc(method)}",status="${status}"} ${v}`,
    );
  }
  head("orchard_http_request_duration_seconds", "histogram", "Time from request to response, by route.");
  for (const [route, h] of [...latency].sort()) {
    let cum = 0;
    LATENCY_BUCKETS.forEach((le, i) => {
      cum += h.counts[i];
      out.push(`orchard_http_request_duration_seconds_bucket{route="${esc(route)}",le="${le}"} ${cum}`);
    });
    cum += h.counts[LATENCY_BUCKETS.length];
    out.push(`orchard_http_request_duration_seconds_bucket{route="${esc(route)}",le="+Inf"} ${cum}`);
    out.push(`orchard_http_request_duration_seconds_sum{route="${esc(route)}"} ${fmt(h.sum)}`);
    out.push(`orchard_http_request_duration_seconds_count{route="${esc(route)}"} ${h.count}`);
  }
  head(
    "orchard_predictions_total",
    "counter",
    "Records scored, by model, version and predicted class (empty for a regressor; past 100 classes, other).",
  );
  for (const [k, v] of [...predictions].sort()) {
    const [model, version, label] = k.split("\t");
    out.push(
      `orchard_predictions_total{model="${esc(model)}",version="${esc(version)}",class="${esc(label)}"} ${v}`,
    );
  }
  head("orchard_model_info", "gauge", "The model version being served: the number of workers serving it.");
  for (const [k, v] of [...models].sort()) {
    const [model, version] = k.split("\t");
    out.push(`orchard_model_info{model="${esc(model)}",version="${esc(version)}"} ${v}`);
  }
  /** a metric with one unlabelled sample */
  const one = (name: string, type: string, help: string, value: number) => {
    head(name, type, help);
    out.push(`${name} ${value}`);
  };
  one("orchard_workers", "gauge", "Workers whose metrics are included in this scrape.", snaps.length);
  one("orchard_model_reloads_total", "counter", "Model versions loaded after start-up (hot swaps).", reloads);
  one(
    "orchard_model_reload_failures_total",
    "counter",
    "Model loads that failed (the old version kept serving).",
    reloadFailures,
  );
  one(
    "orchard_batches_split_total",
    "counter",
    "Large /predict batches scored in two halves on two threads (serve.split_batch_bytes).",
    batchSplits,
  );
  one(
    "orchard_prediction_log_written_total",
    "counter",
    "Predictions appended to the prediction log.",
    log.written,
  );
  one(
    "orchard_prediction_log_write_errors_total",
    "counter",
    "Failed prediction-log writes.",
    log.writeErrors,
  );
  one(
    "orchard_prediction_log_dropped_total",
    "counter",
    "Predictions dropped from the log after repeated write errors.",
    log.dropped,
  );
  one("orchard_prediction_log_pending", "gauge", "Predictions buffered, not yet written.", log.pending);
  one("orchard_prediction_log_failing", "gauge", "Workers whose last prediction-log write failed.", failing);
  if (bounded) {
    one("orchard_connections_open", "gauge", "Client connections open now.", conns.open);
    one(
      "orchard_connections_idle_closed_total",
      "counter",
      "Connections closed after serve.idle_timeout_ms with no request in progress (idle, or headers never completed).",
      conns.idleClosed,
    );
    one(
      "orchard_connections_refused_total",
      "counter",
      "Connections closed on arrival: the worker held serve.max_connections.",
      conns.refused,
    );
  }
  one(
    "orchard_start_time_seconds",
    "gauge",
    "Start time of the oldest worker, seconds since the epoch.",
    Number.isFinite(oldest) ? Math.floor(oldest / 1000) : 0,
  );
  return out.join("\n") + "\n";
}
