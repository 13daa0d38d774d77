/**
 * One AAC → Opus transcode per stream, shared by all its WebRTC viewers and running only while
 * there are some: ffmpeg reads the stream's live TS on stdin and sends Opus RTP to a loopback UDP
 * socket owned here; each packet is handed to every viewer (werift rewrites SSRC, payload type
 * and offsets per sender). ffmpeg from an argument array; restarted after 2 s when it exits.
 */
import { Child } from '../core/child.js';
import { opusArgs } from '../ffmpeg/webrtc-args.js';
import dgram from 'node:dgram';
import type { Logger } from 'pino';
import { RtpPacket } from 'werift';
import { silentLogger } from '../core/logger.js';
import type { LiveFeed } from './live-feed.js';


export class OpusTranscoder {
  private child: Child | null = null;
  private sock: dgram.Socket | null = null;
  private unTs: (() => void) | null = null;
  private retry: NodeJS.Timeout | null = null;
  private readonly viewers = new Set<(p: RtpPacket) => void>();
  private readonly log: Logger;
  /** ffmpeg starts (for status and tests) */
  starts = 0;

  constructor(
    private readonly feed: LiveFeed,
    private readonly ffmpeg: () => string,
    logger?: Logger,
  ) {
    this.log = (logger ?? silentLogger).child({ webrtcOpus: feed.stream });
  }

  get running(): boolean {
    return this.child !== null;
  }

  add(fn: (p: RtpPacket) => void): () => void {
    this.viewers.add(fn);
    if (this.viewers.size === 1) void this.start();
    return () => {
      this.viewers.delete(fn);
      if (this.viewers.size === 0) this.stop();
    };
  }

  private async start(): Promise<void> {
    if (this.sock) return;
    const sock = dgram.createSocket('udp4');
    this.sock = sock;
    sock.on('message', (m) => {
      let p: RtpPacket;
      try {
        p = RtpPacket.deSerialize(m);
      } catch {
        return;
      }
      for (const fn of this.viewers) fn(p);
    });
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    if (this.sock !== sock) return;
    this.spawn();
  }

  private spawn(): void {
    const sock = this.sock;
    if (!sock) return;
    const child = new Child(this.ffmpeg(), opusArgs(sock.address().port), { stdin: true, stderrTail: 500 });
    this.child = child;
    this.starts++;
    this.unTs = this.feed.onTs((chunk) => {
      // a slow transcoder loses audio rather than holding memory
      const stdin = child.stdin;
      if (stdin && stdin.writableLength < 2 * 1024 * 1024) stdin.write(chunk);
    });
    void child.exited.then((e) => {
      if (this.child !== child) return;
      this.child = null;
      this.unTs?.();
      this.unTs = null;
      this.log.warn({ code: e.code, err: (e.spawnError?.message ?? e.stderr).trim().split('\n').pop() }, 'opus transcoder exited');
      this.retry = setTimeout(() => {
        this.retry = null;
        this.spawn();
      }, 2000);
    });
  }

  stop(): void {
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    this.unTs?.();
    this.unTs = null;
    const child = this.child;
    this.child = null;
    child?.kill('SIGKILL');
    this.sock?.close();
    this.sock = null;
  }
}
