/**
 * Password checks that cannot slow playback or be used to flood the node:
 *  - at most `concurrency` scrypt runs at once (default 1): node's async scrypt runs on the libuv
 *    thread pool that file I/O (playlist stats, segment reads) uses too, so an unbounded flood of
 *    wrong passwords would queue every read behind it; one thread is all it may take;
 *  - per client address, failed attempts within `windowMs` plus attempts in flight are capped:
 *    past `maxFailures` the address gets 429 with Retry-After and no scrypt runs at all.
 */
export class Semaphore {
  private active = 0;
  private waiters: (() => void)[] = [];
  constructor(private readonly limit: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((r) => this.waiters.push(r));
    else this.active++;
    try {
      return await fn();
    } finally {
      const next = this.waiters.shift();
      if (next) next();
      else this.active--;
    }
  }

  get pending(): number {
    return this.waiters.length;
  }
}

export interface ThrottleOptions {
  /** failed attempts (plus attempts in flight) allowed per address within windowMs (default 5) */
  maxFailures?: number;
  /** default 60 s */
  windowMs?: number;
  /** addresses tracked at most (oldest forgotten first; default 10000) */
  maxAddresses?: number;
  now?: () => number;
}

interface Entry {
  failures: number[];
  inFlight: number;
}

export class FailureThrottle {
  private readonly map = new Map<string, Entry>();
  private readonly max: number;
  private readonly windowMs: number;
  private readonly maxAddresses: number;
  private readonly now: () => number;

  constructor(o: ThrottleOptions = {}) {
    this.max = o.maxFailures ?? 5;
    this.windowMs = o.windowMs ?? 60_000;
    this.maxAddresses = o.maxAddresses ?? 10_000;
    this.now = o.now ?? Date.now;
  }

  private entry(addr: string): Entry {
    let e = this.map.get(addr);
    if (!e) {
      if (this.map.size >= this.maxAddresses) this.map.delete(this.map.keys().next().value as string);
      e = { failures: [], inFlight: 0 };
      this.map.set(addr, e);
    }
    const cutoff = this.now() - this.windowMs;
    while (e.failures.length && e.failures[0]! <= cutoff) e.failures.shift();
    return e;
  }

  /**
   * Seconds the address must wait, or 0 when it may try now (then it holds a slot: call done()).
   */
  begin(addr: string): number {
    const e = this.entry(addr);
    if (e.failures.length + e.inFlight >= this.max) {
      const oldest = e.failures[0];
      return oldest === undefined ? 1 : Math.max(1, Math.ceil((oldest + this.windowMs - this.now()) / 1000));
    }
    e.inFlight++;
    return 0;
  }

  /** End of an attempt begun with begin(); a success clears the address's failures. */
  done(addr: string, ok: boolean): void {
    const e = this.entry(addr);
    e.inFlight = Math.max(0, e.inFlight - 1);
    if (ok) e.failures = [];
    else e.failures.push(this.now());
    if (!e.failures.length && !e.inFlight) this.map.delete(addr);
  }
}
