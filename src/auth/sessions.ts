/**
 * Play sessions: the requests of one viewer of one stream, grouped by the token it presents, by
 * the session id Flux writes into playlist URIs (`?session=ID`), or else by address + User-Agent.
 * A session closes after `timeoutMs` without a request. Killed sessions are remembered a while so
 * their next request is refused (403) instead of silently opening a new session.
 */
import type { SessionDoc } from '../protocol/api.js';
import { randomBytes } from 'node:crypto';

export type Verdict = 'pending' | 'allow' | 'deny';

export interface PlaySession {
  id: string;
  stream: string;
  ip: string;
  token?: string;
  userAgent?: string;
  referer?: string;
  proto: string;
  userId?: string;
  openedAt: number;
  lastSeen: number;
  requests: number;
  /** backend requests made for this session so far */
  asked: number;
  verdict: Verdict;
  /** the verdict holds until then (ms); re-checked after */
  until: number;
  reason?: string;
  maxSessions?: number;
  /** a check in progress: concurrent requests of the session wait for it */
  checking?: Promise<void>;
  /** the stream as of the session's last request (for re-checks between requests) */
  streamRef?: import('../config/model.js').ResolvedStream;
  /** what playlists of this session carry in their URIs */
  suffix: string;
  keys: string[];
}

export type { SessionDoc } from '../protocol/api.js';

export class SessionTable {
  private readonly byId = new Map<string, PlaySession>();
  private readonly byKey = new Map<string, PlaySession>();
  /** sessions not denied, per stream and in all (what max_sessions and *_clients count) */
  private readonly perStream = new Map<string, number>();
  private live = 0;
  /** session ids and keys refused after a kill, until the time given */
  private readonly killed = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  /** who is told when a session closes (a WHEP peer connection hangs up with its session) */
  private readonly watchers = new Map<string, Set<(why: string) => void>>();

  /** told of every session opened and closed (the node's play_opened/play_closed events) */
  listener: { opened(s: PlaySession): void; closed(s: PlaySession, why: string): void } | undefined;

  constructor(
    public timeoutMs: number,
    private readonly onClose: (s: PlaySession, why: string) => void = () => undefined,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.sweep(Date.now()), Math.min(1000, Math.max(100, this.timeoutMs / 4)));
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** sessions not denied */
  get size(): number {
    return this.live;
  }

  private count(stream: string, d: number): void {
    const n = (this.perStream.get(stream) ?? 0) + d;
    if (n > 0) this.perStream.set(stream, n);
    else this.perStream.delete(stream);
    this.live += d;
  }

  /** Set a session's verdict, keeping the counts of sessions not denied. */
  setVerdict(s: PlaySession, v: Verdict): void {
    if (s.verdict === v || this.byId.get(s.id) !== s) {
      s.verdict = v;
      return;
    }
    if (v === 'deny') this.count(s.stream, -1);
    else if (s.verdict === 'deny') this.count(s.stream, 1);
    s.verdict = v;
  }

  /** sessions per stream (denied ones not counted) */
  counts(): ReadonlyMap<string, number> {
    return this.perStream;
  }

  streamCount(stream: string): number {
    return this.perStream.get(stream) ?? 0;
  }

  tokenCount(stream: string, token: string, except: PlaySession): number {
    let n = 0;
    for (const s of this.byId.values()) if (s !== except && s.stream === stream && s.token === token && s.verdict === 'allow') n++;
    return n;
  }

  get(id: string): PlaySession | undefined {
    return this.byId.get(id);
  }

  find(key: string): PlaySession | undefined {
    return this.byKey.get(key);
  }

  isKilled(idOrKey: string, now: number): boolean {
    const until = this.killed.get(idOrKey);
    if (until === undefined) return false;
    if (until > now) return true;
    this.killed.delete(idOrKey);
    return false;
  }

  open(o: { stream: string; ip: string; token?: string; userAgent?: string; referer?: string; proto: string; keys: string[]; now: number }): PlaySession {
    const id = randomBytes(12).toString('base64url');
    const s: PlaySession = {
      id,
      stream: o.stream,
      ip: o.ip,
      token: o.token,
      userAgent: o.userAgent,
      referer: o.referer,
      proto: o.proto,
      openedAt: o.now,
      lastSeen: o.now,
      requests: 0,
      asked: 0,
      verdict: 'pending',
      until: 0,
      suffix: o.token !== undefined ? `token=${encodeURIComponent(o.token)}` : `session=${id}`,
      keys: o.keys,
    };
    this.byId.set(id, s);
    for (const k of o.keys) this.byKey.set(k, s);
    this.count(o.stream, 1);
    this.listener?.opened(s);
    return s;
  }

  close(s: PlaySession, why: string): void {
    if (this.byId.get(s.id) !== s) return;
    this.byId.delete(s.id);
    for (const k of s.keys) if (this.byKey.get(k) === s) this.byKey.delete(k);
    if (s.verdict !== 'deny') this.count(s.stream, -1);
    this.onClose(s, why);
    this.listener?.closed(s, why);
    const w = this.watchers.get(s.id);
    this.watchers.delete(s.id);
    if (w) for (const fn of w) fn(why);
  }

  /**
   * A viewer whose media flows without requests (WHEP: one POST, then RTP) is still watching: its
   * session counts as used now. False when the session is gone or denied (the viewer should stop).
   */
  touch(id: string, now: number): boolean {
    const s = this.byId.get(id);
    if (!s || s.verdict === 'deny') return false;
    s.lastSeen = now;
    return true;
  }

  /** How often a viewer without requests touches its session: well within the idle timeout. */
  get keepaliveMs(): number {
    return Math.max(100, Math.min(5000, Math.floor(this.timeoutMs / 4)));
  }

  /** `fn(why)` once when the session closes (killed, idle, stream removed); returns unwatch. Already closed: called now. */
  watch(id: string, fn: (why: string) => void): () => void {
    if (!this.byId.has(id)) {
      fn('closed');
      return () => undefined;
    }
    let set = this.watchers.get(id);
    if (!set) this.watchers.set(id, (set = new Set()));
    set.add(fn);
    return () => {
      const w = this.watchers.get(id);
      if (!w) return;
      w.delete(fn);
      if (!w.size) this.watchers.delete(id);
    };
  }

  /** Close the session; its id and keys are refused for `forMs`. */
  kill(id: string, now: number, forMs: number): PlaySession | undefined {
    const s = this.byId.get(id);
    if (!s) return undefined;
    this.killed.set(s.id, now + forMs);
    for (const k of s.keys) this.killed.set(k, now + forMs);
    this.close(s, 'killed');
    return s;
  }

  /** Ids and keys refused now after a kill. */
  killedKeys(now: number): string[] {
    const out: string[] = [];
    for (const [k, until] of this.killed) if (until > now) out.push(k);
    return out;
  }

  sweep(now: number): void {
    for (const s of this.byId.values()) if (now - s.lastSeen > this.timeoutMs) this.close(s, 'idle');
    for (const [k, until] of this.killed) if (until <= now) this.killed.delete(k);
  }

  list(stream?: string): PlaySession[] {
    const out: PlaySession[] = [];
    for (const s of this.byId.values()) if (s.verdict !== 'deny' && (stream === undefined || s.stream === stream)) out.push(s);
    return out;
  }

  /** Close every session of `stream` (stream removed), or those not satisfying keep. */
  closeWhere(pred: (s: PlaySession) => boolean, why: string): void {
    for (const s of [...this.byId.values()]) if (pred(s)) this.close(s, why);
  }
}

export function sessionDoc(s: PlaySession, now: number): SessionDoc {
  return {
    id: s.id,
    name: s.stream,
    ip: s.ip,
    proto: s.proto,
    token: s.token ?? null,
    user_id: s.userId ?? null,
    type: 'play',
    opened_at: s.openedAt,
    updated_at: s.lastSeen,
    duration: Math.round((now - s.openedAt) / 1000),
    requests: s.requests,
    user_agent: s.userAgent ?? null,
    referer: s.referer ?? null,
  };
}
