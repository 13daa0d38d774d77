/**
 * The node agent's one hook into protection: built from the resolved config (and re-applied on
 * each reload), it answers the HTTP server's questions (may this API request go on; may this
 * playback request go on) and the sessions API, so agent.ts, http.ts and playback.ts only call it.
 */
import type { IncomingMessage } from 'node:http';
import type { ResolvedConfig, ResolvedStream } from '../config/model.js';
import type { Logger } from '../core/logger.js';
import { checkApiRequest, ownHostNames, type GuardVerdict } from './api-guard.js';
import { IpRules } from './ip-rules.js';
import { PlayGate, type PlayVerdict } from './play-gate.js';
import { PublishGate, type PublishVerdict } from './publish-gate.js';
import { sessionDoc, type SessionDoc } from './sessions.js';
import { HlsEncryption, loadOrCreateSecret } from './hls-encrypt.js';

const WILDCARD_HOSTS = new Set(['', '0.0.0.0', '::', '[::]']);

function hostOfUrl(u: string | undefined): string | undefined {
  if (!u) return undefined;
  try {
    return new URL(u).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return undefined;
  }
}

export class Protection {
  hostNames: Set<string> = ownHostNames();
  readonly play: PlayGate;
  readonly publish: PublishGate;
  private apiRules = new IpRules(undefined, undefined);
  /** set once a stream asks for hls.encrypt (the key secret is then read or created in run_dir) */
  encryption: HlsEncryption | undefined;

  constructor(private readonly logger: Logger) {
    this.play = new PlayGate(logger);
    this.publish = new PublishGate(logger);
  }

  apply(cfg: ResolvedConfig): void {
    const host = cfg.server.host;
    this.hostNames = ownHostNames([WILDCARD_HOSTS.has(host) ? undefined : host, ...(cfg.server.names ?? []), hostOfUrl(cfg.cluster?.advertise)]);
    this.apiRules = new IpRules(cfg.auth.apiAllowIps, cfg.auth.apiDenyIps);
    this.play.apply(cfg);
    this.publish.apply(cfg);
  }

  stop(): void {
    this.play.stop();
  }

  /** Before streams with hls.encrypt are served: the node's key secret, from <run_dir>/hls-keys.secret. */
  async prepare(cfg: ResolvedConfig): Promise<void> {
    if (this.encryption || !Object.values(cfg.streams).some((s) => s.hls.encrypt)) return;
    this.encryption = new HlsEncryption(await loadOrCreateSecret(cfg.server.runDir));
  }

  /** /api/v3 on the HTTP port: address rules, then the cross-site guard. undefined = go on. */
  checkApi(req: IncomingMessage): GuardVerdict | undefined {
    const byIp = this.apiRules.check(req.socket.remoteAddress);
    if (byIp) return { status: 403, error: `API: ${byIp} (auth.api_allow_ips / api_deny_ips)` };
    return checkApiRequest(req, this.hostNames);
  }

  authorizePlay(req: IncomingMessage, stream: ResolvedStream, query: URLSearchParams, proto: string): Promise<PlayVerdict> {
    return this.play.authorize(req, stream, query, proto);
  }

  /** After the publish_password check: the publish backend, when the stream has one. */
  authorizePublish(stream: ResolvedStream, o: { proto: 'rtmp' | 'srt' | 'webrtc'; ip: string; token?: string }): Promise<PublishVerdict> {
    return this.publish.check(stream, o);
  }

  /** A publisher went live: re-ask its backend every X-AuthDuration; `kick` on a deny. Returns stop. */
  watchPublisher(streamName: string, kick: (reason: string) => void): () => void {
    return this.publish.watch(streamName, kick);
  }

  listSessions(name?: string): { sessions: SessionDoc[]; estimated_count: number } {
    const now = Date.now();
    const sessions = this.play.sessions.list(name).map((s) => sessionDoc(s, now));
    return { sessions, estimated_count: sessions.length };
  }

  killSession(id: string): boolean {
    return this.play.kill(id);
  }
}
