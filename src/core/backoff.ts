/**
 * Capped exponential backoff: 0.5 s, 1 s, 2 s … max 30 s; back to the start once the thing it
 * guards has been healthy for `resetAfterMs`. Pure (time is passed in), unit-tested. The one backoff
 * of Flux: ffmpeg children and pulled sources (supervisor), push targets, supervisor processes (node).
 */
export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  factor?: number;
  /** a run at least this long (healthy) resets the delay to initialMs */
  resetAfterMs?: number;
  /** the first failure after a reset is retried at once (0 ms), then initialMs, initialMs·factor … */
  immediateFirst?: boolean;
}

export class Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly factor: number;
  readonly resetAfterMs: number;
  readonly immediateFirst: boolean;
  private attempt = 0;

  constructor(opts: BackoffOptions = {}) {
    this.initialMs = opts.initialMs ?? 500;
    this.maxMs = opts.maxMs ?? 30_000;
    this.factor = opts.factor ?? 2;
    this.resetAfterMs = opts.resetAfterMs ?? 30_000;
    this.immediateFirst = opts.immediateFirst ?? false;
  }

  /** Number of consecutive failures counted since the last reset. */
  get failures(): number {
    return this.attempt;
  }

  /** Delay before the next attempt (and count this failure). */
  next(): number {
    const d = this.peek();
    this.attempt++;
    return d;
  }

  /** The delay next() would return, without counting. */
  peek(): number {
    const n = this.immediateFirst ? this.attempt - 1 : this.attempt;
    return n < 0 ? 0 : Math.min(this.maxMs, this.initialMs * this.factor ** Math.min(n, 30));
  }

  reset(): void {
    this.attempt = 0;
  }

  /**
   * Called when a guarded run ends: a run that was healthy for at least resetAfterMs resets the
   * backoff first. Returns the delay before the next attempt.
   */
  afterRun(healthyMs: number): number {
    if (healthyMs >= this.resetAfterMs) this.reset();
    return this.next();
  }
}
