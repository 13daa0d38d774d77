/**
 * tshttp:// / tshttps:// — an endless HTTP GET whose body is MPEG-TS. Reconnects with capped
 * backoff (0.5 s … 30 s, reset after 30 s of data); a body that stalls for `stallMs` is dropped
 * and reconnected. node:http (no undici) keeps the supervisor lean.
 */
import http from 'node:http';
import https from 'node:https';
import { Backoff } from '../../../core/backoff.js';
import type { NativeSource, SourceHandlers } from './source.js';

export function tshttpToHttp(url: string): string {
  return url.replace(/^tshttps:/i, 'https:').replace(/^tshttp:/i, 'http:');
}

export interface TsHttpOptions {
  /** no body bytes for this long → reconnect */
  stallMs: number;
  backoff?: Backoff;
  /** extra request headers (input `headers:`; an edge's cluster key) */
  headers?: Record<string, string>;
}

export class TsHttpSource implements NativeSource {
  readonly kind = 'tshttp';
  lastError: string | null = null;
  reconnects = 0;
  private req: http.ClientRequest | undefined;
  private stopped = true;
  private timer: NodeJS.Timeout | undefined;
  private stallTimer: NodeJS.Timeout | undefined;
  private lastDataAt = 0;
  private connectedAt = 0;
  private readonly backoff: Backoff;

  constructor(
    private readonly url: string,
    private readonly h: SourceHandlers,
    private readonly opts: TsHttpOptions,
  ) {
    this.backoff = opts.backoff ?? new Backoff();
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect(tshttpToHttp(this.url), 0);
  }

  private connect(target: string, redirects: number): void {
    if (this.stopped) return;
    let u: URL;
    try {
      u = new URL(target);
    } catch {
      this.fail(`bad URL ${this.url}`);
      return;
    }
    const mod = u.protocol === 'https:' ? https : http;
    const req = mod.get(u, { headers: { 'user-agent': 'flux-stream', accept: '*/*', ...this.opts.headers }, timeout: this.opts.stallMs });
    this.req = req;
    this.connectedAt = Date.now();
    this.lastDataAt = 0;
    let epochSent = false;
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location && redirects < 5) {
        res.resume();
        req.destroy();
        this.connect(new URL(res.headers.location, u).toString(), redirects + 1);
        return;
      }
      if (status !== 200) {
        res.resume();
        req.destroy();
        this.fail(`HTTP ${status} ${res.statusMessage ?? ''} from ${u.host}${u.pathname}`.trim());
        return;
      }
      this.armStall(req);
      res.on('data', (chunk: Buffer) => {
        this.lastDataAt = Date.now();
        if (!epochSent) {
          epochSent = true;
          this.lastError = null;
          this.h.onEpoch();
        }
        this.h.onData(chunk);
      });
      res.on('end', () => {
        if (this.req === req) this.fail(`${u.host}${u.pathname}: body ended`);
      });
      res.on('error', (err) => {
        if (this.req === req) this.fail(`${u.host}${u.pathname}: ${err.message}`);
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer for ${this.opts.stallMs} ms`)));
    req.on('error', (err) => {
      if (this.req === req) this.fail(`${u.host}: ${(err as NodeJS.ErrnoException).code ?? ''} ${err.message}`.replace(/^(\S+: )(\S+) \2/, '$1$2'));
    });
  }

  private armStall(req: http.ClientRequest): void {
    clearInterval(this.stallTimer);
    this.stallTimer = setInterval(() => {
      const since = this.lastDataAt || this.connectedAt;
      if (Date.now() - since > this.opts.stallMs && this.req === req) {
        this.fail(`no data for ${Math.round(this.opts.stallMs / 1000)} s`);
      }
    }, Math.max(250, Math.min(1000, this.opts.stallMs / 4)));
    this.stallTimer.unref();
  }

  private fail(msg: string): void {
    const req = this.req;
    this.req = undefined;
    clearInterval(this.stallTimer);
    req?.destroy();
    if (this.stopped) return;
    this.lastError = msg;
    this.h.onError(msg);
    const healthy = this.lastDataAt ? this.lastDataAt - this.connectedAt : 0;
    const delay = this.backoff.afterRun(healthy);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.reconnects++;
      this.connect(tshttpToHttp(this.url), 0);
    }, delay);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.stallTimer);
    const req = this.req;
    this.req = undefined;
    req?.destroy();
  }
}
