/**
 * Holds the model being served and swaps it atomically. A request reads
 * `holder.current` once and uses that snapshot to the end, so a swap never
 * mixes two versions within a request and never fails one: the new version is
 * fully loaded (artifact, validator) before the single reference assignment.
 * Loads are serialized; a failed load keeps the old version serving.
 *
 * A swap never changes what callers rely on (issue 12, defect 4): a version
 * with another task kind, target, class set or input signature than the one
 * served (src/registry/compat.ts) is refused, the old one keeps serving, and
 * `refused` says why (/ready shows it) until the URI names a version that can
 * be served. Such a version is served by a restart (the first load compares
 * with nothing), or in code by reload({ allowIncompatible: true }).
 */
import { shapeFromSignature, swapRefusal } from "../registry/compat.ts";
import type { ModelLoader, ModelResolver, ResolvedModel } from "./types.ts";
import { buildValidator, DEFAULT_LIMITS, type RecordValidator, type ValueLimits } from "./validation.ts";

export interface ServedModel extends ResolvedModel {
  validator: RecordValidator;
  loadedAt: number;
  /** class labels as strings (metric labels, probability keys) */
  classLabels: string[];
  /** the bounds its validator applies (a helper thread builds the same validator: split.ts) */
  limits: ValueLimits;
}

export interface ReloadResult {
  changed: boolean;
  version: string | null;
  previous: string | null;
  error?: string;
}

/** A version the holder would not swap to, and why. */
export interface Refusal {
  version: string;
  reason: string;
}

export interface HolderOptions {
  uri: string;
  loader: ModelLoader;
  /** cheap "which version does the URI point at now" for polling; absent: no polling */
  resolver?: ModelResolver;
  pollMs?: number;
  /** called after every swap (metrics, logs) */
  onSwap?: (next: ServedModel, previous: ServedModel | null) => void;
  /** called after every failed load, with the URI that failed */
  onError?: (message: string, uri: string) => void;
  /** bounds on request values (default: the serve config's defaults) */
  limits?: ValueLimits;
}

function oneLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0].slice(0, 300);
}

export function prepare(resolved: ResolvedModel, limits: ValueLimits = DEFAULT_LIMITS): ServedModel {
  const sig = resolved.model.signature;
  if (!sig || !Array.isArray(sig.inputs)) {
    throw new Error(`model ${resolved.uri}: artifact has no input signature`);
  }
  return {
    ...resolved,
    version: String(resolved.version),
    validator: buildValidator(sig, limits),
    limits,
    loadedAt: Date.now(),
    classLabels: (resolved.model.classes ?? sig.target.classes ?? []).map(String),
  };
}

/** Why serving `next` instead of `served` would break its callers, or null. */
function refusal(served: ServedModel, next: ServedModel): string | null {
  const shape = (m: ServedModel) => shapeFromSignature(m.model.signature, m.model.classes);
  const why = swapRefusal(shape(served), shape(next));
  return why && `not swapping to version ${next.version}: ${why}; restart the service to serve it`;
}

export class ModelHolder {
  current: ServedModel | null = null;
  lastError: string | null = null;
  /** the latest version refused as incompatible with the one served, until the URI names a servable one */
  refused: Refusal | null = null;
  /** where the refused version was (polling does not load it again) */
  private refusedTarget: { uri: string; version: string; dir: string } | null = null;
  loads = 0;
  failures = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private timer: ReturnType<typeof setInterval> | undefined;
  private polling = false;
  private stopped = false;
  uri: string;

  constructor(private readonly opts: HolderOptions) {
    this.uri = opts.uri;
  }

  /** Loads the model (retrying every pollMs until it works) and starts polling for alias moves. */
  start(): Promise<ReloadResult> {
    const first = this.reload();
    const pollMs = this.opts.pollMs ?? 0;
    if (pollMs > 0) {
      const timer = setInterval(() => void this.poll(), pollMs);
      Deno.unrefTimer(timer);
      this.timer = timer;
    }
    return first;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Resolves the URI again and swaps when it names another version (or `force`).
   * Never rejects: a failure is returned and kept in lastError; a version
   * incompatible with the served one is returned as an error and kept in
   * `refused` (unless `allowIncompatible`).
   */
  reload(opts: { uri?: string; force?: boolean; allowIncompatible?: boolean } = {}): Promise<ReloadResult> {
    const run = async (): Promise<ReloadResult> => {
      const uri = opts.uri ?? this.uri;
      const previous = this.current;
      try {
        const resolved = await this.opts.loader(uri);
        if (
          !opts.force && previous && previous.uri === uri && previous.dir === resolved.dir &&
          previous.version === String(resolved.version)
        ) {
          this.lastError = null;
          this.clearRefusal();
          return { changed: false, version: previous.version, previous: previous.version };
        }
        const next = prepare(resolved, this.opts.limits);
        const why = previous && !opts.allowIncompatible ? refusal(previous, next) : null;
        if (why) {
          this.refused = { version: next.version, reason: why };
          this.refusedTarget = { uri, version: next.version, dir: next.dir };
          this.failures++;
          this.opts.onError?.(why, uri);
          return { changed: false, version: previous!.version, previous: previous!.version, error: why };
        }
        this.current = next; // the atomic swap
        this.uri = uri;
        this.lastError = null;
        this.clearRefusal();
        this.loads++;
        this.opts.onSwap?.(next, previous);
        return { changed: true, version: next.version, previous: previous?.version ?? null };
      } catch (e) {
        this.failures++;
        this.lastError = oneLine(e);
        this.opts.onError?.(this.lastError, uri);
        return {
          changed: false,
          version: previous?.version ?? null,
          previous: previous?.version ?? null,
          error: this.lastError,
        };
      }
    };
    const p = this.chain.then(run, run);
    this.chain = p;
    return p;
  }

  private clearRefusal(): void {
    this.refused = null;
    this.refusedTarget = null;
  }

  /** One poll: reload when not loaded yet, or when the URI now points at another version. */
  async poll(): Promise<void> {
    if (this.polling || this.stopped) return;
    this.polling = true;
    try {
      const cur = this.current;
      if (!cur) {
        await this.reload();
        return;
      }
      if (!this.opts.resolver) return;
      let target: { version: string; dir: string };
      try {
        target = await this.opts.resolver(this.uri);
      } catch (e) {
        this.lastError = oneLine(e);
        return;
      }
      if (String(target.version) !== cur.version || target.dir !== cur.dir) {
        const r = this.refusedTarget;
        // refused already: the version is not loaded again until the URI moves on
        if (r && r.uri === this.uri && r.version === String(target.version) && r.dir === target.dir) return;
        await this.reload();
      } else {
        // serving what the URI names: an old failure or refusal no longer applies
        this.lastError = null;
        this.clearRefusal();
      }
    } finally {
      this.polling = false;
    }
  }
}
