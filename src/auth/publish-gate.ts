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

export class PublishGate {
  private backend: string | undefined;
  private timeoutMs: number = DEFAULTS.playBackendTimeoutMs;
  private failOpen = false;
  private live = 0;

  constructor(private readonly logger: Logger) {}

  apply(cfg: ResolvedConfig): void {
    this.backend = cfg.auth.publishBackend;
    this.timeoutMs = cfg.auth.playBackendTimeoutMs ?? DEFAULTS.playBackendTimeoutMs;
    this.failOpen = cfg.auth.failOpen ?? false;
  }

  async check(stream: ResolvedStream, o: { proto: 'rtmp' | 'srt'; ip: string; token?: string }): Promise<PublishVerdict> {
    const backend = stream.auth.publishBackend ?? this.backend;
    if (!backend) return { ok: true };
    const ip = o.ip.startsWith('::ffff:') ? o.ip.slice(7) : o.ip;
    const sessionId = randomBytes(12).toString('base64url');
    const r = await askBackend(backend, {
      name: stream.name,
      proto: o.proto,
      ip,
      token: o.token ?? '',
      session_id: sessionId,
      request_type: 'new_session',
      request_number: 1,
      stream_clients: 0,
      total_clients: this.live,
      duration: 0,
    }, this.timeoutMs);
    let v: PublishVerdict;
    let reason: string;
    if (!r.ok) {
      reason = `publish backend failed (${r.error})${this.failOpen ? '; fail_open allows' : ''}`;
      v = this.failOpen ? { ok: true } : { ok: false, reason };
    } else {
      reason = `publish backend answered ${r.answer.status}`;
      v = r.answer.allow ? { ok: true } : { ok: false, reason };
    }
    this.logger.info({ stream: stream.name, proto: o.proto, ip, session: sessionId, by: 'publish_backend', verdict: v.ok ? 'allow' : 'deny', reason }, v.ok ? 'publish allowed' : 'publish denied');
    return v;
  }
}
