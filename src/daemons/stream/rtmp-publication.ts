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
import { DEFAULT_READ_PACING_MS, type RtmpPublishHandoff, type RtmpSessionState } from '../../protocol/rtmp-handoff.js';
import type { PublishFeed } from './sources/publish.js';
import { ReadPacer, pacingMs } from './read-pacer.js';

const DEFAULTS = { maxMessageSize: 16 * 1024 * 1024, idleTimeoutMs: 30_000, maxOutputBuffer: 1024 * 1024, readPacingMs: DEFAULT_READ_PACING_MS, trackWaitMs: 1000 };

/** A number the agent sent, or the default (an absent or absurd value does not loosen a limit). */
function limit(v: unknown, dflt: number): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : dflt;
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
  private pacer: ReadPacer | undefined;
  private closed = false;
  private readonly pacingMs: number;
  private readonly maxOutput: number;

  constructor(
    private readonly msg: RtmpPublishHandoff,
    private readonly socket: net.Socket,
    private readonly log: Logger,
    private readonly onEnd: (p: ResumedPublication, reason: string) => void,
    /** the stream's batching pause (Supervisor.batchPauseMs; 0: the agent's limit alone) */
    private readonly batchPauseMs: () => number = () => 0,
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
    if (this.pacingMs > 0) this.pacer = new ReadPacer(this.socket, () => this.nextPacingMs());
    const unread = Buffer.from(this.msg.unread, 'base64');
    if (unread.length > 0) this.onData(unread);
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
  }

  /** The pause before the next read (0: no pacing). */
  private nextPacingMs(): number {
    return pacingMs(this.pacingMs, this.batchPauseMs());
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.session.push(chunk);
    this.flush();
    if (!this.closed) this.pacer?.afterRead(chunk.length);
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
    this.pacer?.stop();
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
