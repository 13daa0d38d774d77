/**
 * One RTMP publication handed over by the node agent, resumed in this supervisor (rtmp-ingest.ts
 * takes the message and loads this module with the first one): the session goes on with the
 * agent's state and limits, its remuxed TS goes into the publish hub's feed.
 */
import type net from 'node:net';
import { Buffer } from 'node:buffer';
import type { Logger } from '../../core/logger.js';
import { endSocket } from '../../core/net.js';
import { RtmpServerSession, type RtmpSessionSnapshot } from '../../media/rtmp/session.js';
import { FlvToTsRemuxer } from '../../media/rtmp/remux.js';
import type { RtmpPublishHandoff, RtmpSessionState } from '../../protocol/rtmp-handoff.js';
import type { PublishFeed } from './sources/publish.js';

const DEFAULTS = { maxMessageSize: 16 * 1024 * 1024, idleTimeoutMs: 30_000, maxOutputBuffer: 1024 * 1024, readPacingMs: 40, trackWaitMs: 1000 };

/**
 * Read pacing while nothing downstream needs the frames at once (no live TS reader such as a
 * WebRTC viewer, no LL-HLS parts): 200 ms. Each read wakes the process and runs the whole chain
 * once (RTMP chunks → FLV → TS → demux → segmenter → writer), and that fixed cost per run, not the
 * bytes, is most of an RTMP stream's CPU: measured on one 3 Mbit/s publisher, 1.9 % of a core at
 * 40 ms, 1.2 % at 100 ms, 0.93 % at 200 ms. A segment then closes at most 200 ms late, which an
 * HLS viewer 3 segments behind never sees; a low-latency reader switches the pacing back to the
 * agent's limit (40 ms) at the next read.
 */
export const RELAXED_READ_PACING_MS = 200;

/** The node's read buffer for a socket (64 KiB): a read that fills it may have left bytes in the kernel. */
const READ_BUFFER_BYTES = 64 * 1024;

/** A number the agent sent, or the default (an absent or absurd value does not loosen a limit). */
function limit(v: unknown, dflt: number): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : dflt;
}

/** The part of a socket's libuv handle the read pacing uses (net.Socket's `_handle`). */
interface ReadHandle {
  reading?: boolean;
  readStart(): number;
  readStop(): number;
}

/** One publisher's RTMP session, resumed here. */
export class ResumedPublication {
  readonly id: number;
  tsBytes = 0;
  private readonly session: RtmpServerSession;
  private readonly remux: FlvToTsRemuxer;
  private feed: PublishFeed | undefined;
  /** the remuxer's TS runs of the current read, fed as one chunk */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private pacer: NodeJS.Timeout | null = null;
  /** the socket's handle, when its reads can be paced there */
  private handle: ReadHandle | undefined;
  /** a stop of the reads is scheduled after this poll's reads */
  private burst = false;
  private closed = false;
  private readonly pacingMs: number;
  private readonly maxOutput: number;

  constructor(
    private readonly msg: RtmpPublishHandoff,
    private readonly socket: net.Socket,
    private readonly log: Logger,
    private readonly onEnd: (p: ResumedPublication, reason: string) => void,
    /** true while a reader needs the frames at once (the pacing is then the agent's limit, not RELAXED_READ_PACING_MS) */
    private readonly latencySensitive: () => boolean = () => true,
  ) {
    this.id = msg.id;
    const l = msg.limits;
    this.pacingMs = limit(l.readPacingMs, DEFAULTS.readPacingMs);
    this.maxOutput = limit(l.maxOutputBuffer, DEFAULTS.maxOutputBuffer);
    this.remux = new FlvToTsRemuxer((ts) => this.out(ts), { trackWaitMs: limit(l.trackWaitMs, DEFAULTS.trackWaitMs) });
    // the two contracts must stay alike: a compile error here says which drifted
    const state: RtmpSessionSnapshot = msg.session satisfies RtmpSessionState;
    this.session = RtmpServerSession.resume(
      state,
      {
        send: (b) => this.write(b),
        media: (m) => this.remux.media(m.kind, m.timestamp, m.payload),
        metadata: (d) => this.remux.metadata(d),
        // FCUnpublish/deleteStream: re-publishing would need the node's authorization again
        unpublish: (reason) => this.close(reason),
        close: (reason) => this.close(reason),
      },
      { maxMessageSize: limit(l.maxMessageSize, DEFAULTS.maxMessageSize) },
    );
    socket.setNoDelay(true);
    socket.setTimeout(limit(l.idleTimeoutMs, DEFAULTS.idleTimeoutMs));
    socket.on('timeout', () => this.close('idle timeout'));
    socket.on('error', (err) => this.log.debug({ session: this.id, err: err.message }, 'rtmp socket error'));
    socket.on('close', () => this.close('disconnected'));
  }

  get bytesIn(): number {
    return this.session.stats.bytesIn;
  }

  /** why the session could not be resumed (it ended as it was built), undefined when it runs */
  get failed(): string | undefined {
    return this.session.closed ? (this.session.closeReason ?? 'closed') : undefined;
  }

  start(feed: PublishFeed): void {
    this.feed = feed;
    const h = (this.socket as unknown as { _handle?: Partial<ReadHandle> | null })._handle;
    if (this.pacingMs > 0 && h && typeof h.readStop === 'function' && typeof h.readStart === 'function') {
      this.handle = h as ReadHandle;
      // the pacer starts and stops the handle's reads; the stream must not restart them itself
      (this.socket as unknown as { _read: () => void })._read = () => {};
    }
    const unread = Buffer.from(this.msg.unread, 'base64');
    if (unread.length > 0) this.onData(unread);
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
  }

  /** The pause before the next read (0: no pacing). */
  private nextPacingMs(): number {
    if (this.pacingMs <= 0 || this.latencySensitive()) return this.pacingMs;
    return Math.max(this.pacingMs, RELAXED_READ_PACING_MS);
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.session.push(chunk);
    this.flush();
    if (this.pacingMs <= 0 || this.closed || this.pacer !== null) return;
    if (this.handle !== undefined) {
      // Read pacing at the handle: between ticks the bytes wait in the kernel, and no read (no
      // wake-up) happens at all. A paused stream would go on reading into its buffer as they
      // arrive. A read short of the buffer drained the kernel (libuv reads no more this poll):
      // stop now. A full one may have more behind it that this poll's reads take: stop after them.
      if (chunk.length < READ_BUFFER_BYTES) this.stopReads();
      else if (!this.burst) {
        this.burst = true;
        setImmediate(() => this.stopReads());
      }
      return;
    }
    this.socket.pause();
    this.pacer = setTimeout(() => {
      this.pacer = null;
      if (!this.closed) this.socket.resume();
    }, this.nextPacingMs());
  }

  private stopReads(): void {
    this.burst = false;
    if (this.pacer !== null) return;
    const h = this.handle!;
    const live = () => !this.closed && (this.socket as unknown as { _handle?: unknown })._handle === h;
    if (!live()) return;
    h.reading = false;
    h.readStop();
    this.pacer = setTimeout(() => {
      this.pacer = null;
      if (!live()) return;
      h.reading = true;
      h.readStart();
    }, this.nextPacingMs());
  }

  private out(ts: Buffer): void {
    this.pending.push(ts);
    this.pendingBytes += ts.length;
  }

  private flush(): void {
    if (this.pendingBytes === 0) return;
    const chunk = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    this.tsBytes += chunk.length;
    this.feed?.data(chunk);
  }

  private write(bytes: Buffer): void {
    const s = this.socket;
    if (this.closed || s.destroyed) return;
    s.write(bytes);
    if (s.writableLength > this.maxOutput) this.close('peer does not read');
  }

  close(reason: string): void {
    // before start (the session failed as it was resumed): nothing to end, the caller refuses it
    if (this.feed === undefined || this.closed) return;
    this.closed = true;
    if (this.pacer) clearTimeout(this.pacer);
    this.pacer = null;
    this.session.end(reason);
    try {
      this.remux.flush();
    } catch {
      // pure code; nothing should throw, but teardown must complete
    }
    this.flush();
    this.feed?.end(reason);
    endSocket(this.socket);
    this.log.info({ session: this.id, reason, bytesIn: this.bytesIn, tsBytes: this.tsBytes }, 'rtmp publication ended');
    this.onEnd(this, reason);
  }
}
