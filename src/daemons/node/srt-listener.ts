/**
 * SRT publish listener on ONE port, streams selected by the SRT Stream ID (Flussonic-like:
 * `srt://host:PORT?streamid=NAME`, `#!::r=NAME,m=publish,key=SECRET`, `publish/NAME`, `publish:NAME`).
 *
 * Node has no SRT stack, and ffmpeg's libsrt listener accepts one connection per process and does
 * not tell which Stream ID the caller sent. So the node runs a small UDP relay on the public port:
 * each new caller (by source address) gets its own ffmpeg listener on a loopback port
 * (`ffmpeg -i srt://127.0.0.1:P?mode=listener -c copy -f mpegts pipe:1`), the relay forwards the
 * datagrams both ways, reads the Stream ID from the caller's conclusion handshake (HSv5 SID
 * extension) as it passes, authorizes it, and pipes that ffmpeg's TS output to the stream's
 * supervisor (`POST /ingest`). One ffmpeg per publisher, gone with the publisher.
 * Limits: no SRT passphrase for publish (the stream is unknown while the listener is set up);
 * HSv4 callers (no SID extension) are refused.
 */
import dgram from 'node:dgram';
import { srtListenerArgs } from '../../ffmpeg/remux-args.js';
import { Child, lastStderrLine } from '../../core/child.js';
import type { Readable } from 'node:stream';
import type { Logger } from '../../core/logger.js';

export interface SrtPublishRequest {
  streamId: string;
  name: string;
  key?: string;
  remote: string;
}

type SrtVerdict = { ok: true; name: string } | { ok: false; reason: string };

export interface SrtListenerOptions {
  host: string;
  port: number;
  ffmpeg: () => string;
  /** the stream name to publish into, or a reason to refuse (may be asynchronous: a publish backend) */
  authorize: (req: SrtPublishRequest) => SrtVerdict | Promise<SrtVerdict>;
  /** pipe a publisher's TS into the stream; resolves when the publisher is gone */
  ingest: (name: string, ts: Readable, remote: string) => Promise<void>;
  logger: Logger;
  /** close a relay without datagrams for this long (default 10 s) */
  idleMs?: number;
  /** SRT latency for the ffmpeg listener, ms (default 120) */
  latencyMs?: number;
}

/** Parse a Stream ID into a stream name and an optional key. */
export function parseStreamId(sid: string): { name: string; key?: string; mode?: string } {
  let s = sid.trim();
  // some callers (and ffmpeg, which does not decode it) send the Stream ID percent-encoded
  if (/%[0-9A-Fa-f]{2}/.test(s)) {
    try {
      s = decodeURIComponent(s);
    } catch {
      /* keep it as sent */
    }
  }
  if (s.startsWith('#!::')) {
    const kv: Record<string, string> = {};
    for (const part of s.slice(4).split(',')) {
      const eq = part.indexOf('=');
      if (eq > 0) kv[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
    }
    return { name: kv.r ?? kv.s ?? '', key: kv.key ?? kv.password ?? kv.k, mode: kv.m };
  }
  let rest = s;
  for (const prefix of ['publish/', 'publish:']) if (rest.startsWith(prefix)) rest = rest.slice(prefix.length);
  const q = rest.indexOf('?');
  if (q >= 0) {
    const params = new URLSearchParams(rest.slice(q + 1));
    return { name: rest.slice(0, q), key: params.get('key') ?? params.get('password') ?? undefined, mode: 'publish' };
  }
  return { name: rest, mode: 'publish' };
}

const HS_CONCLUSION = 0xffffffff;
const HS_INDUCTION = 1;
const SRT_CMD_SID = 5;
/** stderr characters of a relay ffmpeg kept for its close reason */
const RELAY_STDERR_TAIL = 2000;

/** 1 = induction, -1 = conclusion, 0 = other control/data. */
export function handshakeType(msg: Buffer): number {
  if (msg.length < 64 || (msg[0]! & 0x80) === 0) return 0;
  if ((msg.readUInt16BE(0) & 0x7fff) !== 0) return 0;
  const t = msg.readUInt32BE(16 + 20);
  return t === HS_INDUCTION ? 1 : t === HS_CONCLUSION ? -1 : 0;
}

/** The Stream ID of an HSv5 conclusion handshake, or undefined. */
export function streamIdOf(msg: Buffer): string | undefined {
  if (handshakeType(msg) !== -1) return undefined;
  let off = 16 + 48;
  while (off + 4 <= msg.length) {
    const type = msg.readUInt16BE(off);
    const len = msg.readUInt16BE(off + 2) * 4;
    const end = off + 4 + len;
    if (end > msg.length) return undefined;
    if (type === SRT_CMD_SID) {
      // the SID travels as 32-bit words, each byte-swapped
      const out = Buffer.alloc(len);
      for (let i = 0; i + 4 <= len; i += 4) {
        out[i] = msg[off + 4 + i + 3]!;
        out[i + 1] = msg[off + 4 + i + 2]!;
        out[i + 2] = msg[off + 4 + i + 1]!;
        out[i + 3] = msg[off + 4 + i]!;
      }
      let n = out.length;
      while (n > 0 && out[n - 1] === 0) n--;
      return out.subarray(0, n).toString('utf8');
    }
    off = end;
  }
  return undefined;
}

interface Relay {
  key: string;
  address: string;
  port: number;
  upstream: dgram.Socket;
  ffmpeg: Child | undefined;
  localPort: number;
  name: string | undefined;
  lastAt: number;
  closed: boolean;
  /** an asynchronous authorization is under way: handshakes are dropped (the caller repeats them) */
  checking?: boolean;
}

export class SrtPublishListener {
  private socket: dgram.Socket | undefined;
  private relays = new Map<string, Relay>();
  private timer: NodeJS.Timeout | undefined;
  readonly port: number;

  constructor(private readonly opts: SrtListenerOptions) {
    this.port = opts.port;
  }

  async start(): Promise<void> {
    const sock = dgram.createSocket({ type: this.opts.host.includes(':') ? 'udp6' : 'udp4', reuseAddr: false });
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(this.opts.port, this.opts.host, () => {
        sock.off('error', reject);
        resolve();
      });
    });
    sock.on('error', (err) => this.opts.logger.error({ err: err.message }, 'srt listener socket error'));
    sock.on('message', (msg, rinfo) => this.onClientPacket(msg, rinfo));
    this.socket = sock;
    this.timer = setInterval(() => this.sweep(), 1000);
    this.timer.unref();
    this.opts.logger.info({ host: this.opts.host, port: this.opts.port }, 'srt publish listener started');
  }

  get activeRelays(): number {
    return this.relays.size;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    for (const r of this.relays.values()) this.closeRelay(r, 'listener closing');
    await new Promise<void>((r) => (this.socket ? this.socket.close(() => r()) : r()));
    this.socket = undefined;
  }

  private onClientPacket(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const key = `${rinfo.address}|${rinfo.port}`;
    let relay = this.relays.get(key);
    if (!relay) {
      if (handshakeType(msg) !== 1) return; // only an induction starts a relay
      if (this.relays.size >= 64) return;
      relay = this.openRelay(key, rinfo);
    }
    relay.lastAt = Date.now();
    if (relay.name === undefined && handshakeType(msg) === -1) {
      if (relay.checking) return;
      const sid = streamIdOf(msg);
      if (!this.admit(relay, sid)) return;
    }
    if (relay.localPort) relay.upstream.send(msg, relay.localPort, '127.0.0.1');
  }

  private admit(relay: Relay, sid: string | undefined): boolean {
    const remote = `${relay.address}:${relay.port}`;
    if (sid === undefined) {
      this.closeRelay(relay, 'no Stream ID in the handshake (use ?streamid=NAME)');
      return false;
    }
    const parsed = parseStreamId(sid);
    if (parsed.mode && parsed.mode !== 'publish') {
      this.closeRelay(relay, `Stream ID ${JSON.stringify(sid)} asks to ${parsed.mode}: this port only accepts publishers`);
      return false;
    }
    const answer = this.opts.authorize({ streamId: sid, name: parsed.name, key: parsed.key, remote });
    if (answer instanceof Promise) {
      // drop this handshake; once allowed, the caller's next (repeated) one goes through
      relay.checking = true;
      answer
        .catch((e: Error) => ({ ok: false as const, reason: `authorization failed: ${e.message}` }))
        .then((v) => {
          relay.checking = false;
          if (!relay.closed) this.accept(relay, v, remote);
        });
      return false;
    }
    return this.accept(relay, answer, remote);
  }

  private accept(relay: Relay, verdict: SrtVerdict, remote: string): boolean {
    if (!verdict.ok) {
      this.closeRelay(relay, verdict.reason);
      return false;
    }
    relay.name = verdict.name;
    const ff = relay.ffmpeg;
    if (ff?.stdout) {
      this.opts.logger.info({ stream: verdict.name, remote }, 'srt publisher connected');
      this.opts
        .ingest(verdict.name, ff.stdout, `srt ${remote}`)
        .catch((e) => this.opts.logger.warn({ stream: verdict.name, err: (e as Error).message }, 'srt ingest ended with an error'))
        .finally(() => this.closeRelay(relay, 'publisher gone'));
    }
    return true;
  }

  private openRelay(key: string, rinfo: dgram.RemoteInfo): Relay {
    const upstream = dgram.createSocket('udp4');
    const relay: Relay = { key, address: rinfo.address, port: rinfo.port, upstream, ffmpeg: undefined, localPort: 0, name: undefined, lastAt: Date.now(), closed: false };
    this.relays.set(key, relay);
    upstream.on('message', (m) => {
      relay.lastAt = Date.now();
      this.socket?.send(m, relay.port, relay.address);
    });
    upstream.on('error', () => {
      /* ICMP unreachable while ffmpeg binds: the caller retransmits */
    });
    upstream.bind(0, '127.0.0.1', () => {
      void freeUdpPort().then((p) => {
        if (relay.closed) return;
        relay.localPort = p;
        const args = srtListenerArgs(p, this.opts.latencyMs ?? 120);
        const ff = new Child(this.opts.ffmpeg(), args, { stdout: true, stderrTail: RELAY_STDERR_TAIL });
        relay.ffmpeg = ff;
        void ff.exited.then((e) => {
          if (relay.closed) return;
          if (e.spawnError) this.closeRelay(relay, `ffmpeg: ${e.spawnError.message}`);
          else this.closeRelay(relay, `ffmpeg exited (${e.code})${e.stderr ? `: ${lastStderrLine(e.stderr)}` : ''}`);
        });
      });
    });
    return relay;
  }

  private closeRelay(relay: Relay, reason: string): void {
    if (relay.closed) return;
    relay.closed = true;
    this.relays.delete(relay.key);
    this.opts.logger.info({ stream: relay.name ?? null, remote: `${relay.address}:${relay.port}`, reason }, 'srt relay closed');
    try {
      relay.upstream.close();
    } catch {
      /* closed */
    }
    relay.ffmpeg?.kill('SIGKILL');
  }

  private sweep(): void {
    const now = Date.now();
    for (const r of this.relays.values()) if (now - r.lastAt > (this.opts.idleMs ?? 10_000)) this.closeRelay(r, 'idle');
  }
}

function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}
