/**
 * A running service's state, read from its /ready and /metrics (Prometheus
 * text): the versions served, request rate, p99 latency from the latency
 * histogram, error counts and the prediction log's health. Unreachable is an
 * answer, not an error: the status page says so. The request rate is the
 * change since this UI's previous scrape, else the average since start.
 */

export interface ServiceState {
  url: string;
  reachable: boolean;
  ready?: boolean;
  readyBody?: string;
  error?: string;
  /** model -> versions being served */
  served: { model: string; version: string }[];
  requests: number;
  reqPerSec: number | null;
  rateBasis: "since last look" | "since start" | null;
  p99Seconds: number | null;
  errors5xx: number;
  errors4xx: number;
  log: { written: number; writeErrors: number; dropped: number; pending: number; failing: number };
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parseProm(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[3] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1]] = l[2].replace(/\\(.)/g, "$1");
    }
    out.push({ name: m[1], labels, value: Number(m[4]) });
  }
  return out;
}

/** The q-quantile of a cumulative histogram (buckets by upper bound), linear within a bucket. */
export function histogramQuantile(buckets: { le: number; count: number }[], q: number): number | null {
  const sorted = buckets.slice().sort((a, b) => a.le - b.le);
  const total = sorted.at(-1)?.count ?? 0;
  if (total === 0) return null;
  const rank = q * total;
  let prevLe = 0, prevCount = 0;
  for (const b of sorted) {
    if (b.count >= rank) {
      if (!Number.isFinite(b.le)) return prevLe;
      const inBucket = b.count - prevCount;
      return inBucket === 0 ? b.le : prevLe + (b.le - prevLe) * ((rank - prevCount) / inBucket);
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}

const last = new Map<string, { at: number; requests: number }>();

export async function readService(url: string, timeoutMs = 1500): Promise<ServiceState> {
  const base = url.replace(/\/+$/, "");
  const state: ServiceState = {
    url: base,
    reachable: false,
    served: [],
    requests: 0,
    reqPerSec: null,
    rateBasis: null,
    p99Seconds: null,
    errors5xx: 0,
    errors4xx: 0,
    log: { written: 0, writeErrors: 0, dropped: 0, pending: 0, failing: 0 },
  };
  try {
    const ready = await fetch(`${base}/ready`, { signal: AbortSignal.timeout(timeoutMs) });
    state.reachable = true;
    state.ready = ready.ok;
    state.readyBody = (await ready.text()).slice(0, 500);
    const metrics = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
    const samples = parseProm(await metrics.text());
    const buckets = new Map<number, number>();
    let start = 0;
    for (const s of samples) {
      switch (s.name) {
        case "orchard_model_info":
          if (s.value > 0) state.served.push({ model: s.labels.model, version: s.labels.version });
          break;
        case "orchard_http_requests_total":
          if (s.labels.route === "/metrics" || s.labels.route === "/ready" || s.labels.route === "/health") {
            break;
          }
          state.requests += s.value;
          if (/^5/.test(s.labels.status)) state.errors5xx += s.value;
          else if (/^4/.test(s.labels.status)) state.errors4xx += s.value;
          break;
        case "orchard_http_request_duration_seconds_bucket": {
          if (s.labels.route === "/metrics" || s.labels.route === "/ready" || s.labels.route === "/health") {
            break;
          }
          const le = s.labels.le === "+Inf" ? Infinity : Number(s.labels.le);
          buckets.set(le, (buckets.get(le) ?? 0) + s.value);
          break;
        }
        case "orchard_prediction_log_written_total":
          state.log.written = s.value;
          break;
        case "orchard_prediction_log_write_errors_total":
          state.log.writeErrors = s.value;
          break;
        case "orchard_prediction_log_dropped_total":
          state.log.dropped = s.value;
          break;
        case "orchard_prediction_log_pending":
          state.log.pending = s.value;
          break;
        case "orchard_prediction_log_failing":
          state.log.failing = s.value;
          break;
        case "orchard_start_time_seconds":
          start = s.value;
          break;
      }
    }
    state.p99Seconds = histogramQuantile([...buckets].map(([le, count]) => ({ le, count })), 0.99);
    const now = Date.now();
    const prev = last.get(base);
    if (prev && now - prev.at >= 1000 && state.requests >= prev.requests) {
      state.reqPerSec = (state.requests - prev.requests) / ((now - prev.at) / 1000);
      state.rateBasis = "since last look";
    } else if (start > 0 && now / 1000 > start) {
      state.reqPerSec = state.requests / (now / 1000 - start);
      state.rateBasis = "since start";
    }
    last.set(base, { at: now, requests: state.requests });
  } catch (e) {
    state.error = (e as Error).message.split("\n")[0];
  }
  return state;
}
