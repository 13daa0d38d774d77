/**
 * Publish authorization backend (Flussonic's on_publish): asked when an RTMP or SRT publisher
 * connects to a stream that has one (its own publish_backend/on_publish, else auth.publish_backend),
 * after the publish_password check. Same parameters as play (proto rtmp|srt, token = the key the
 * publisher gave) and the same semantics: 2xx allows, anything else denies, a failed backend
 * denies unless auth.fail_open. Every verdict is logged.
 */
import { randomBytes } from 'node:crypto';
import type { ResolvedConfig, ResolvedStream } from '../config/model.js';
import { DEFAULTS } from '../config/model.js';
import type { Logger } from '../core/logger.js';
import { askBackend } from './backend.js';

export type PublishVerdict = { ok: true } | { ok: false; reason: string };

interface Publishing {
  stream: ResolvedStream;
  proto: 'rtmp' | 'srt' | 'webrtc';
  ip: string;
  token?: string;
  sessionId: string;
  openedAt: number;
  asked: number;
  /** X-AuthDuration of the last answer: ask again after this many seconds */
  durationS?: number;
}

export class PublishGate {
  private backend: string | undefined;
  private timeoutMs: number = DEFAULTS.playBackendTimeoutMs;
  private failOpen = false;
  private live = 0;
  /** what the last allowed check of each stream learnt, until its publisher starts (or is gone) */
  private readonly pending = new Map<string, Publishing>();

  constructor(private readonly logger: Logger) {}

  apply(cfg: ResolvedConfig): void {
    this.backend = cfg.auth.publishBackend;
    this.timeoutMs = cfg.auth.playBackendTimeoutMs ?? DEFAULTS.playBackendTimeoutMs;
    this.failOpen = cfg.auth.failOpen ?? false;
  }

  async check(stream: ResolvedStream, o: { proto: 'rtmp' | 'srt' | 'webrtc'; ip: string; token?: string }): Promise<PublishVerdict> {
    const backend = stream.auth.publishBackend ?? this.backend;
    if (!backend) return { ok: true };
    const p: Publishing = {
      stream,
      proto: o.proto,
      ip: o.ip.startsWith('::ffff:') ? o.ip.slice(7) : o.ip,
      token: o.token,
      sessionId: randomBytes(12).toString('base64url'),
      openedAt: Date.now(),
      asked: 0,
    };
    const v = await this.ask(backend, p);
    if (v.ok) this.pending.set(stream.name, p);
    return v;
  }

  private async ask(backend: string, p: Publishing): Promise<PublishVerdict> {
    p.asked++;
    const r = await askBackend(backend, {
      name: p.stream.name,
      proto: p.proto,
      ip: p.ip,
      token: p.token ?? '',
      session_id: p.sessionId,
      request_type: p.asked === 1 ? 'new_session' : 'update_session',
      request_number: p.asked,
      stream_clients: 0,
      total_clients: this.live,
      duration: Math.round((Date.now() - p.openedAt) / 1000),
    }, this.timeoutMs);
    let v: PublishVerdict;
    let reason: string;
    if (!r.ok) {
      reason = `publish backend failed (${r.error})${this.failOpen ? '; fail_open allows' : ''}`;
      v = this.failOpen ? { ok: true } : { ok: false, reason };
      p.durationS = undefined;
    } else {
      reason = `publish backend answered ${r.answer.status}`;
      v = r.answer.allow ? { ok: true } : { ok: false, reason };
      p.durationS = r.answer.durationS;
    }
    this.logger.info({ stream: p.stream.name, proto: p.proto, ip: p.ip, session: p.sessionId, request_number: p.asked, by: 'publish_backend', verdict: v.ok ? 'allow' : 'deny', reason }, v.ok ? 'publish allowed' : 'publish denied');
    return v;
  }

  /**
   * The publisher of `stream` is now live: while it publishes, the backend is asked again every
   * X-AuthDuration seconds (when it sent one); a deny calls `kick`. Returns the stop function.
   */
  watch(streamName: string, kick: (reason: string) => void): () => void {
    const p = this.pending.get(streamName);
    this.pending.delete(streamName);
    this.live++;
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    const schedule = () => {
      if (stopped || !p?.durationS) return;
      timer = setTimeout(() => {
        const backend = p.stream.auth.publishBackend ?? this.backend;
        if (!backend) return;
        void this.ask(backend, p).then((v) => {
          if (stopped) return;
          if (v.ok) schedule();
          else kick(v.reason);
        });
      }, p.durationS * 1000);
      timer.unref();
    };
    schedule();
    return () => {
      stopped = true;
      this.live--;
      if (timer) clearTimeout(timer);
    };
  }
}
