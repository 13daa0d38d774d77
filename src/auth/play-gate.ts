/**
 * May this playback request go on? Per request: IP rules (node, then stream), then the request's
 * session (found or opened, max_sessions checked on open), then the stream's policy, evaluated when
 * the session opens and again whenever its verdict's time is up (X-AuthDuration):
 *   play_token  a token must be presented;
 *   securetoken the token must be a valid signed link (securetoken.ts) for this stream and address;
 *   backend     the play backend must answer 2xx (backend.ts); X-Max-Sessions caps the sessions
 *               of one token, X-UserId is kept; a failed backend denies unless fail_open.
 * A session whose verdict still holds costs two Map lookups and no allocation beyond its key.
 * Every verdict made (not those reused from the cache) is logged.
 */
import type { IncomingMessage } from 'node:http';
import type { ResolvedConfig, ResolvedStream } from '../config/model.js';
import { DEFAULTS } from '../config/model.js';
import type { Logger } from '../core/logger.js';
import { askBackend } from './backend.js';
import { IpRules } from './ip-rules.js';
import { verifyToken } from './securetoken.js';
import { SessionTable, type PlaySession } from './sessions.js';

export type PlayVerdict =
  | { ok: true; session: PlaySession; /** `token=…` or `session=…` for the URIs of playlists; absent for unprotected streams */ suffix?: string }
  | { ok: false; status: 403; reason: string };

/** how long a failed backend's deny is reused before asking again */
const FAILURE_HOLD_MS = 2000;
/** a killed session's id/token/address stays refused this long at least */
const KILL_HOLD_MS = 10 * 60_000;

interface NodePolicy {
  rules: IpRules;
  playBackend?: string;
  securetoken?: string;
  maxSessions?: number;
  timeoutMs: number;
  cacheMs: number;
  failOpen: boolean;
}

export class PlayGate {
  readonly sessions: SessionTable;
  private node: NodePolicy = { rules: new IpRules(undefined, undefined), timeoutMs: DEFAULTS.playBackendTimeoutMs, cacheMs: DEFAULTS.playCacheMs, failOpen: false };
  private readonly streamRules = new WeakMap<ResolvedStream, IpRules>();

  private readonly refresh: NodeJS.Timeout;

  constructor(private readonly logger: Logger) {
    this.sessions = new SessionTable(DEFAULTS.sessionTimeoutMs, (s, why) =>
      this.logger.info({ session: s.id, stream: s.stream, ip: s.ip, why, requests: s.requests, user_id: s.userId }, 'play session closed'),
    );
    this.sessions.start();
    // re-ask the backend every X-AuthDuration while a session lives, requests or not
    this.refresh = setInterval(() => {
      const now = Date.now();
      for (const s of this.sessions.list()) if (s.verdict === 'allow' && s.until <= now && s.streamRef && !s.checking) void this.recheck(s, s.streamRef, now);
    }, 500);
    this.refresh.unref();
  }

  /** One check at a time per session; concurrent requests wait for the same one. */
  private recheck(s: PlaySession, stream: ResolvedStream, now: number): Promise<void> {
    s.checking ??= this.check(s, stream, now).finally(() => {
      s.checking = undefined;
    });
    return s.checking;
  }

  apply(cfg: ResolvedConfig): void {
    const a = cfg.auth;
    this.node = {
      rules: new IpRules(a.allowIps, a.denyIps),
      playBackend: a.playBackend,
      securetoken: a.secureLinkKey,
      maxSessions: a.maxSessions,
      timeoutMs: a.playBackendTimeoutMs ?? DEFAULTS.playBackendTimeoutMs,
      cacheMs: a.playCacheMs ?? DEFAULTS.playCacheMs,
      failOpen: a.failOpen ?? false,
    };
    this.sessions.timeoutMs = a.sessionTimeoutMs ?? DEFAULTS.sessionTimeoutMs;
    // sessions of streams that are gone close now
    this.sessions.closeWhere((s) => !cfg.streams[s.stream], 'stream removed');
  }

  stop(): void {
    clearInterval(this.refresh);
    this.sessions.stop();
  }

  /** The node-wide address rules alone (what protects playback that is not a stream: VOD files). */
  checkNodeAddress(ip: string | undefined): string | undefined {
    return this.node.rules.check(ip);
  }

  private rulesOf(stream: ResolvedStream): IpRules {
    let r = this.streamRules.get(stream);
    if (!r) {
      r = new IpRules(stream.auth.allowIps, stream.auth.denyIps);
      this.streamRules.set(stream, r);
    }
    return r;
  }


  async authorize(req: IncomingMessage, stream: ResolvedStream, query: URLSearchParams, proto: string): Promise<PlayVerdict> {
    const ip = req.socket.remoteAddress ?? '';
    const byIp = this.node.rules.check(ip) ?? this.rulesOf(stream).check(ip);
    if (byIp) return this.refuse(stream, ip, undefined, 'ip', byIp);
    const now = Date.now();
    const token = query.get('token') ?? undefined;
    const sid = query.get('session') ?? undefined;
    const ua = req.headers['user-agent'];
    const fpKey = `f\0${stream.name}\0${ip}\0${ua ?? ''}`;
    const tokenKey = token !== undefined ? `t\0${stream.name}\0${ip}\0${token}` : undefined;

    let s: PlaySession | undefined;
    if (sid !== undefined) {
      if (this.sessions.isKilled(sid, now)) return this.refuse(stream, ip, sid, 'session', 'session was closed by an operator');
      const found = this.sessions.get(sid);
      if (found && found.stream === stream.name && found.ip === ip) s = found;
    }
    if (!s && tokenKey !== undefined) {
      if (this.sessions.isKilled(tokenKey, now)) return this.refuse(stream, ip, undefined, 'session', 'session was closed by an operator');
      s = this.sessions.find(tokenKey);
    }
    // a request naming neither (a DVR segment, a player that drops query strings): the same viewer's session
    if (!s && sid === undefined && tokenKey === undefined) {
      if (this.sessions.isKilled(fpKey, now)) return this.refuse(stream, ip, undefined, 'session', 'session was closed by an operator');
      s = this.sessions.find(fpKey);
    }
    if (!s) {
      const streamMax = stream.auth.maxSessions;
      if (streamMax !== undefined && this.sessions.streamCount(stream.name) >= streamMax) {
        return this.refuse(stream, ip, undefined, 'max_sessions', `stream ${stream.name} has its maximum of ${streamMax} sessions`);
      }
      if (this.node.maxSessions !== undefined && this.sessions.size >= this.node.maxSessions) {
        return this.refuse(stream, ip, undefined, 'max_sessions', `the node has its maximum of ${this.node.maxSessions} sessions`);
      }
      const keys = tokenKey !== undefined ? [tokenKey, fpKey] : [fpKey];
      const referer = req.headers.referer;
      s = this.sessions.open({ stream: stream.name, ip, token, userAgent: ua, referer, proto, keys, now });
    }
    s.lastSeen = now;
    s.requests++;
    s.streamRef = stream;
    if (s.verdict === 'pending' || (s.until <= now && s.verdict === 'deny')) await this.recheck(s, stream, now);
    // an allowed session whose verdict ran out is asked about again in the background (refresh
    // timer, or here when a request comes first): its viewer is not held up every X-AuthDuration;
    // a deny applies from the next request
    else if (s.until <= now) void this.recheck(s, stream, now);
    if (s.verdict === 'allow') return { ok: true, session: s, suffix: this.isProtected(stream) ? s.suffix : undefined };
    return { ok: false, status: 403, reason: s.reason ?? 'denied' };
  }

  /** The secret of a stream's signed links: its own securetoken, or the node's when it sets secure_link: true. */
  private secretOf(stream: ResolvedStream): string | undefined {
    return stream.auth.securetoken ?? (stream.auth.secureLink ? this.node.securetoken : undefined);
  }

  /**
   * No play protection of any kind applies to this stream: no address rules (node or stream), no
   * token, signed link or backend, no session cap. Its requests need nothing of this gate but the
   * session bookkeeping, which playback workers report afterwards (recordViewers).
   */
  isUnguarded(stream: ResolvedStream): boolean {
    const a = stream.auth;
    return !this.isProtected(stream) && this.node.rules.empty && this.rulesOf(stream).empty && this.node.maxSessions === undefined && a.maxSessions === undefined;
  }

  /**
   * Requests served elsewhere (a playback worker) of unguarded streams, counted into the sessions as
   * authorize() would have: the viewer's session (by address + User-Agent) is found or opened and
   * its requests added. Viewers an operator killed are not reopened; streams no longer unguarded are
   * left alone (the worker served them under the previous config).
   */
  recordViewers(viewers: readonly { stream: ResolvedStream; ip: string; userAgent: string; referer: string; proto: string; requests: number }[], now = Date.now()): void {
    for (const v of viewers) {
      if (!this.isUnguarded(v.stream)) continue;
      const fpKey = `f\0${v.stream.name}\0${v.ip}\0${v.userAgent}`;
      if (this.sessions.isKilled(fpKey, now)) continue;
      let s = this.sessions.find(fpKey);
      if (!s) {
        s = this.sessions.open({ stream: v.stream.name, ip: v.ip, userAgent: v.userAgent || undefined, referer: v.referer || undefined, proto: v.proto, keys: [fpKey], now });
      }
      s.lastSeen = now;
      s.requests += v.requests;
      s.streamRef = v.stream;
      if (s.verdict === 'pending') void this.recheck(s, v.stream, now);
    }
  }

  /** Killed viewers still refused, as `stream\0ip\0user-agent` (what a playback worker must pass to this gate). */
  killedViewers(now = Date.now()): string[] {
    return this.sessions.killedKeys(now).filter((k) => k.startsWith('f\0')).map((k) => k.slice(2));
  }

  /** A stream whose viewers are checked (their sessions must be named in every request). */
  isProtected(stream: ResolvedStream): boolean {
    const a = stream.auth;
    return a.playToken || !!a.playBackend || !!this.node.playBackend || !!this.secretOf(stream);
  }

  private refuse(stream: ResolvedStream, ip: string, session: string | undefined, by: string, reason: string): PlayVerdict {
    this.logger.info({ stream: stream.name, ip, session, by, verdict: 'deny', reason }, 'play denied');
    return { ok: false, status: 403, reason };
  }

  private decide(s: PlaySession, verdict: 'allow' | 'deny', until: number, by: string, reason: string, extra: Record<string, unknown> = {}): void {
    this.sessions.setVerdict(s, verdict);
    s.until = until;
    s.reason = reason;
    this.logger.info({ stream: s.stream, ip: s.ip, session: s.id, by, verdict, reason, user_id: s.userId, ...extra }, verdict === 'allow' ? 'play allowed' : 'play denied');
  }

  private async check(s: PlaySession, stream: ResolvedStream, now: number): Promise<void> {
    const a = stream.auth;
    if (a.playToken && !s.token) return this.decide(s, 'deny', now + this.node.cacheMs, 'play_token', 'a token is required');
    const secret = this.secretOf(stream);
    if (secret && s.verdict === 'pending') {
      const v = verifyToken(s.token, { stream: stream.name, secret, ip: s.ip, nowS: Math.floor(now / 1000) });
      if (!v.ok) return this.decide(s, 'deny', Number.MAX_SAFE_INTEGER, 'securetoken', v.reason);
    }
    const backend = a.playBackend ?? this.node.playBackend;
    if (!backend) return this.decide(s, 'allow', Number.MAX_SAFE_INTEGER, secret ? 'securetoken' : 'open', secret ? 'signed link valid' : 'no play protection');
    s.asked++;
    const params = {
      name: stream.name,
      proto: s.proto,
      ip: s.ip.startsWith('::ffff:') ? s.ip.slice(7) : s.ip,
      token: s.token ?? '',
      session_id: s.id,
      request_type: s.asked === 1 ? 'new_session' : 'update_session',
      request_number: s.asked,
      stream_clients: this.sessions.streamCount(stream.name),
      total_clients: this.sessions.size,
      duration: Math.round((now - s.openedAt) / 1000),
      referer: s.referer,
      user_agent: s.userAgent,
    };
    const r = await askBackend(backend, params, this.node.timeoutMs);
    const at = Date.now();
    if (!r.ok) {
      if (this.node.failOpen) return this.decide(s, 'allow', at + Math.min(this.node.cacheMs, FAILURE_HOLD_MS), 'backend', `backend failed (${r.error}); fail_open allows`);
      return this.decide(s, 'deny', at + Math.min(this.node.cacheMs, FAILURE_HOLD_MS), 'backend', `backend failed (${r.error})`);
    }
    const ans = r.answer;
    if (ans.userId !== undefined) s.userId = ans.userId;
    const until = at + (ans.durationS !== undefined ? ans.durationS * 1000 : this.node.cacheMs);
    if (!ans.allow) return this.decide(s, 'deny', until, 'backend', `backend answered ${ans.status}`, { status: ans.status });
    if (ans.maxSessions !== undefined && s.token !== undefined) {
      s.maxSessions = ans.maxSessions;
      if (this.sessions.tokenCount(stream.name, s.token, s) >= ans.maxSessions) {
        return this.decide(s, 'deny', until, 'backend', `token has its maximum of ${ans.maxSessions} sessions (X-Max-Sessions)`);
      }
    }
    return this.decide(s, 'allow', until, 'backend', `backend answered ${ans.status}`, { status: ans.status });
  }

  kill(id: string): boolean {
    return this.sessions.kill(id, Date.now(), Math.max(KILL_HOLD_MS, this.sessions.timeoutMs)) !== undefined;
  }
}
