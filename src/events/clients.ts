/**
 * Play sessions as HTTP sees them: a client (address + user agent) requesting a stream's playlists
 * or segments opens a session (play_opened); 30 s without a request closes it (play_closed), the
 * way Flussonic counts HLS sessions. Gives flux_stream_online_clients. Cost per request: a few map
 * lookups (the stream is the longest configured name that prefixes the URL path).
 */
import type { IncomingMessage } from 'node:http';

const IDLE_MS = 30_000;
const MEDIA = /(?:\.(?:m3u8|ts|m4s|mp4|m4a|m4v|mpd|aac|vtt)|\/mpegts)$/;
/** a cap so a flood of distinct clients cannot grow the map without bound */
const MAX_SESSIONS = 100_000;

export interface ClientSession {
  stream: string;
  ip: string;
  ua: string;
  openedAt: number;
  lastAt: number;
}

export class ClientTracker {
  private sessions = new Map<string, ClientSession>();
  private perStream = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly isStream: (name: string) => boolean,
    private readonly onOpen: (s: ClientSession) => void,
    private readonly onClose: (s: ClientSession, reason: string) => void,
    private readonly idleMs = IDLE_MS,
  ) {
    this.timer = setInterval(() => this.sweep(Date.now()), Math.min(5000, idleMs / 2));
    this.timer.unref();
  }

  /** A playback request (already known not to be the API). */
  seen(req: IncomingMessage): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    // playlists, segments, archive downloads: what a viewer fetches (not thumbnails, not the page)
    if (!MEDIA.test(path)) return;
    const stream = this.streamOf(path);
    if (!stream) return;
    const ip = req.socket.remoteAddress ?? '';
    const ua = String(req.headers['user-agent'] ?? '').slice(0, 200);
    const key = `${stream}\u0000${ip}\u0000${ua}`;
    const now = Date.now();
    const s = this.sessions.get(key);
    if (s) {
      s.lastAt = now;
      return;
    }
    if (this.sessions.size >= MAX_SESSIONS) return;
    const fresh = { stream, ip, ua, openedAt: now, lastAt: now };
    this.sessions.set(key, fresh);
    this.perStream.set(stream, (this.perStream.get(stream) ?? 0) + 1);
    this.onOpen(fresh);
  }

  private streamOf(path: string): string | undefined {
    // /cams/door/index.m3u8 → try cams/door, then cams (longest first)
    let p = path.replace(/^\/+/, '');
    let slash = p.lastIndexOf('/');
    while (slash > 0) {
      p = p.slice(0, slash);
      let name: string;
      try {
        name = decodeURIComponent(p);
      } catch {
        return undefined;
      }
      if (this.isStream(name)) return name;
      slash = p.lastIndexOf('/');
    }
    return undefined;
  }

  count(stream: string): number {
    return this.perStream.get(stream) ?? 0;
  }

  counts(): Map<string, number> {
    return this.perStream;
  }

  sweep(now: number): void {
    for (const [k, s] of this.sessions) {
      if (now - s.lastAt > this.idleMs) {
        this.sessions.delete(k);
        const n = (this.perStream.get(s.stream) ?? 1) - 1;
        if (n > 0) this.perStream.set(s.stream, n);
        else this.perStream.delete(s.stream);
        this.onClose(s, 'idle');
      }
    }
  }

  close(): void {
    clearInterval(this.timer);
  }
}
