/** Progress and timing on stderr, so stdout stays clean for --json. */

const enc = new TextEncoder();
const isTty = () => {
  try {
    return Deno.stderr.isTerminal();
  } catch {
    return false;
  }
};

export function log(message: string): void {
  Deno.stderr.writeSync(enc.encode(message + "\n"));
}

/** Times a step and logs `label: 1.23 s` when it ends. */
export async function timed<T>(label: string, fn: () => T | Promise<T>): Promise<T> {
  const t0 = performance.now();
  const out = await fn();
  log(`${label}: ${((performance.now() - t0) / 1000).toFixed(2)} s`);
  return out;
}

/**
 * A progress bar: redrawn in place on a terminal, a few plain lines otherwise
 * (CI logs stay short).
 */
export class ProgressBar {
  private done = 0;
  private lastPct = -1;
  private readonly t0 = performance.now();
  constructor(private readonly label: string, private readonly total: number) {}

  tick(n = 1): void {
    this.done += n;
    const pct = this.total === 0 ? 100 : Math.floor((this.done / this.total) * 100);
    if (isTty()) {
      const width = 30;
      const filled = Math.round((pct / 100) * width);
      const bar = "#".repeat(filled) + "-".repeat(width - filled);
      Deno.stderr.writeSync(enc.encode(`\r${this.label} [${bar}] ${this.done}/${this.total}`));
      if (this.done >= this.total) Deno.stderr.writeSync(enc.encode("\n"));
    } else if (pct >= this.lastPct + 25 || this.done >= this.total) {
      this.lastPct = pct;
      log(`${this.label}: ${this.done}/${this.total} (${pct}%)`);
    }
  }

  /**
   * Ends a job before its total (boosting's early stopping): says where it stopped and why,
   * where filling the bar would claim every step ran.
   */
  stoppedAt(reason: string): void {
    const line = `${this.label}: ${this.done}/${this.total}, stopped by ${reason}`;
    if (isTty()) Deno.stderr.writeSync(enc.encode(`\r\x1b[K${line}\n`));
    else log(line);
    this.lastPct = 100;
  }

  elapsedSeconds(): number {
    return (performance.now() - this.t0) / 1000;
  }
}
