/**
 * Webhook sinks (`events.sinks[]`): each sink has its own bounded queue and one POST in flight,
 * so events reach it in order as JSON arrays (batches of up to 100). A failed POST (network error,
 * timeout, non-2xx) is retried with backoff (0.5 s doubling to 30 s) until it succeeds; meanwhile
 * new events queue, and past MAX_QUEUE the oldest are dropped and counted. Emitting is a push onto
 * an array: a slow, hanging or failing sink costs the stream nothing and the other sinks nothing.
 */
import { eventMatches, type FluxEvent } from '../protocol/events.js';

export interface SinkConfig {
  url: string;
  only?: string[];
  except?: string[];
}

export interface SinkStats {
  url: string;
  queued: number;
  sent: number;
  dropped: number;
  failed: number;
  last_error: string | null;
}

export const MAX_QUEUE = 10_000;
const BATCH = 100;
const TIMEOUT_MS = 5000;
const MIN_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 30_000;

export class WebhookSink {
  private queue: FluxEvent[] = [];
  private head = 0;
  private inflight: FluxEvent[] | null = null;
  private sent = 0;
  private dropped = 0;
  private failed = 0;
  private lastError: string | null = null;
  private backoff = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private ac = new AbortController();
  private idle: (() => void)[] = [];

  constructor(
    readonly config: SinkConfig,
    private readonly opts: { maxQueue?: number; timeoutMs?: number; userAgent?: string; onError?: (msg: string) => void } = {},
  ) {}

  get key(): string {
    return JSON.stringify([this.config.url, this.config.only ?? [], this.config.except ?? []]);
  }

  offer(e: FluxEvent): void {
    if (this.closed || !eventMatches(e, this.config.only, this.config.except)) return;
    this.queue.push(e);
    const max = this.opts.maxQueue ?? MAX_QUEUE;
    const over = this.queue.length - this.head - max;
    if (over > 0) {
      this.head += over;
      this.dropped += over;
    }
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.kick();
  }

  stats(): SinkStats {
    return {
      url: redactUrl(this.config.url),
      queued: this.queue.length - this.head + (this.inflight?.length ?? 0),
      sent: this.sent,
      dropped: this.dropped,
      failed: this.failed,
      last_error: this.lastError,
    };
  }

  private scheduled = false;

  /** Start the next POST on the next turn, so a burst of events goes out as one batch. */
  private kick(): void {
    if (this.inflight || this.timer || this.closed || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.next();
    });
  }

  private next(): void {
    if (this.inflight || this.timer || this.closed) return;
    if (this.head >= this.queue.length) {
      for (const r of this.idle.splice(0)) r();
      return;
    }
    const batch = this.queue.slice(this.head, this.head + BATCH);
    this.head += batch.length;
    this.inflight = batch;
    void this.post(batch);
  }

  private async post(batch: FluxEvent[]): Promise<void> {
    let ok = false;
    try {
      const signal = AbortSignal.any([this.ac.signal, AbortSignal.timeout(this.opts.timeoutMs ?? TIMEOUT_MS)]);
      const res = await fetch(this.config.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': this.opts.userAgent ?? 'flux' },
        body: JSON.stringify(batch),
        signal,
      });
      // the body is not needed, but reading it frees the connection for the next POST
      await res.arrayBuffer().catch(() => undefined);
      ok = res.ok;
      if (!ok) this.lastError = `HTTP ${res.status}`;
    } catch (e) {
      const err = e as Error & { cause?: { code?: string } };
      this.lastError = err.name === 'TimeoutError' ? `no answer within ${(this.opts.timeoutMs ?? TIMEOUT_MS) / 1000} s` : (err.cause?.code ?? err.message);
    }
    if (this.closed) return;
    if (ok) {
      this.sent += batch.length;
      this.backoff = 0;
      this.inflight = null;
      this.kick();
      return;
    }
    this.failed++;
    this.opts.onError?.(this.lastError ?? 'failed');
    this.backoff = Math.min(this.backoff ? this.backoff * 2 : MIN_BACKOFF_MS, MAX_BACKOFF_MS);
    // retry the same batch (order kept); newer events wait behind it. Events dropped meanwhile
    // are the queued ones, not this batch (it is the oldest, and already on its way).
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.closed) return;
      void this.post(batch);
    }, this.backoff);
    this.timer.unref();
  }

  /** Resolves once everything queued was delivered (or after `ms`). */
  drain(ms: number): Promise<void> {
    if (!this.inflight && this.head >= this.queue.length) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      t.unref();
      this.idle.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.ac.abort();
    for (const r of this.idle.splice(0)) r();
  }
}

/** Manages the configured sinks: a reload keeps a sink (and its queue) whose config did not change. */
export class SinkSet {
  private sinks: WebhookSink[] = [];

  constructor(private readonly opts: { userAgent?: string; onError?: (url: string, msg: string) => void } = {}) {}

  configure(configs: SinkConfig[]): void {
    const keep = new Map(this.sinks.map((s) => [s.key, s]));
    const next: WebhookSink[] = [];
    for (const c of configs) {
      const fresh = new WebhookSink(c, { userAgent: this.opts.userAgent, onError: (m) => this.opts.onError?.(c.url, m) });
      const old = keep.get(fresh.key);
      if (old) {
        keep.delete(fresh.key);
        next.push(old);
      } else next.push(fresh);
    }
    for (const s of keep.values()) s.close();
    this.sinks = next;
  }

  offer(e: FluxEvent): void {
    for (const s of this.sinks) s.offer(e);
  }

  stats(): SinkStats[] {
    return this.sinks.map((s) => s.stats());
  }

  async close(drainMs = 0): Promise<void> {
    if (drainMs > 0) await Promise.all(this.sinks.map((s) => s.drain(drainMs)));
    for (const s of this.sinks) s.close();
    this.sinks = [];
  }
}

function redactUrl(u: string): string {
  return u.replace(/(\/\/)([^/@\s:]+):([^/@\s]+)@/, '$1$2:***@').replace(/([?&](?:token|key|secret|password)=)[^&\s]*/gi, '$1***');
}
