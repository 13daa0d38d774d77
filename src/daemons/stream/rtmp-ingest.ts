/**
 * RTMP publications handed over by the node agent (protocol/rtmp-handoff.ts): the agent ran the
 * handshake, connect, publish and the authorization, then sent the socket with the session's
 * state over this process's IPC channel. Here the session goes on with the same media code
 * (src/media/rtmp: chunk parsing, control messages, acks, FLV → TS, the agent's limits) and its TS
 * goes straight into the publish hub, the way an HTTP body from the agent does (sources/publish.ts):
 * no request between the two processes, no copy on the way.
 *
 * Cost per stream: a publishing socket is read at most once per `readPacingMs` (40 ms, as the agent
 * did; its handle stops reading in between, so the kernel holds the bytes and nothing wakes up for
 * them), and the small TS runs the remuxer makes of one read (one per FLV tag) are fed as one chunk.
 *
 * The channel is only a way in: when it closes (the agent exited) the publications here go on, and
 * their end is no longer reported. A supervisor started without one (none today: the agent always
 * gives one; an adopted supervisor keeps the one it had, or has none left) takes TS over HTTP only.
 */
import net from 'node:net';
import { Buffer } from 'node:buffer';
import type { Logger } from '../../core/logger.js';
import { RtmpServerSession, type RtmpSessionSnapshot } from '../../media/rtmp/session.js';
import { FlvToTsRemuxer } from '../../media/rtmp/remux.js';
import {
  handoffMessageType,
  parseRtmpPublishHandoff,
  RTMP_HANDOFF_VERSION,
  type RtmpPublishHandoff,
  type RtmpSessionState,
  type SupervisorToAgent,
} from '../../protocol/rtmp-handoff.js';
import type { PublishFeed, PublishHub } from './sources/publish.js';

/** This process's end of the IPC channel (process itself in the daemon; a fake in unit tests). */
export interface AgentChannel {
  readonly connected: boolean;
  send(msg: SupervisorToAgent): void;
  onMessage(fn: (msg: unknown, handle: unknown) => void): void;
  onDisconnect(fn: () => void): void;
}

/** The daemon's channel to the agent, when it was spawned with one. */
export function processChannel(): AgentChannel | undefined {
  if (typeof process.send !== 'function') return undefined;
  return {
    get connected() {
      return process.connected;
    },
    send(msg) {
      // with a callback a closed channel is an error passed here, not an 'error' event that
      // would take the process down
      if (process.connected) process.send!(msg, undefined, {}, () => {});
    },
    onMessage: (fn) => void process.on('message', fn),
    onDisconnect: (fn) => void process.on('disconnect', fn),
  };
}

const DEFAULTS = { maxMessageSize: 16 * 1024 * 1024, idleTimeoutMs: 30_000, maxOutputBuffer: 1024 * 1024, readPacingMs: 40, trackWaitMs: 1000 };

/** A number the agent sent, or the default (an absent or absurd value does not loosen a limit). */
function limit(v: unknown, dflt: number): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : dflt;
}

export class RtmpIngest {
  private readonly live = new Map<number, ResumedPublication>();

  constructor(
    private readonly hub: PublishHub,
    private readonly channel: AgentChannel,
    private readonly log: Logger,
    /** false when the stream has no publish:// input */
    private readonly acceptsPublish: () => boolean,
  ) {}

  /** Listens for handoffs and kicks, and tells the agent so (it hands nothing over before). */
  start(): void {
    this.channel.onMessage((msg, handle) => this.onMessage(msg, handle));
    this.channel.onDisconnect(() => this.log.info({ publications: this.live.size }, 'agent channel closed: publications here go on'));
    this.channel.send({ type: 'rtmp-ready', version: RTMP_HANDOFF_VERSION });
  }

  get publications(): number {
    return this.live.size;
  }

  /** Disconnects every handed-over publisher (the supervisor stops). */
  closeAll(reason: string): void {
    for (const p of [...this.live.values()]) p.close(reason);
  }

  private onMessage(msg: unknown, handle: unknown): void {
    const type = handoffMessageType(msg);
    if (type === 'rtmp-publish') this.take(msg, handle);
    else if (type === 'rtmp-kick') {
      const { id, reason } = msg as { id?: unknown; reason?: unknown };
      const p = typeof id === 'number' ? this.live.get(id) : undefined;
      p?.close(typeof reason === 'string' ? reason : 'kicked by the node');
    }
  }

  private refuse(socket: net.Socket | undefined, id: number, reason: string, bytesIn = 0): void {
    this.log.warn({ session: id, reason }, 'rtmp handoff refused');
    if (socket) {
      socket.on('error', () => {});
      socket.destroy();
    }
    this.channel.send({ type: 'rtmp-ended', id, reason, accepted: false, bytesIn, tsBytes: 0 });
  }

  private take(raw: unknown, handle: unknown): void {
    const socket = handle instanceof net.Socket ? handle : undefined;
    const id = typeof (raw as { id?: unknown }).id === 'number' ? (raw as { id: number }).id : -1;
    let msg: RtmpPublishHandoff;
    try {
      msg = parseRtmpPublishHandoff(raw);
    } catch (err) {
      this.refuse(socket, id, (err as Error).message);
      return;
    }
    if (!socket) return this.refuse(undefined, id, 'rtmp-publish without its socket');
    if (!this.acceptsPublish()) return this.refuse(socket, id, 'the stream has no publish:// input');
    // one publisher per stream, as POST /ingest answers 409
    if (this.hub.publisher !== null) return this.refuse(socket, id, 'stream already has a publisher', msg.session.stats.bytesIn);
    const remote = `rtmp ${msg.remoteAddress}:${msg.remotePort}`;
    const pub = new ResumedPublication(msg, socket, this.log, (p, reason) => {
      this.live.delete(p.id);
      this.channel.send({ type: 'rtmp-ended', id: p.id, reason, accepted: true, bytesIn: p.bytesIn, tsBytes: p.tsBytes });
    });
    if (pub.failed !== undefined) return this.refuse(socket, id, pub.failed, msg.session.stats.bytesIn);
    const feed = this.hub.open(remote, 'rtmp-handoff', () => pub.close('publication stopped'))!;
    this.live.set(msg.id, pub);
    this.log.info({ session: msg.id, remote, bytesIn: msg.session.stats.bytesIn }, 'rtmp publication taken over from the node');
    pub.start(feed);
  }
}

/** The part of a socket's libuv handle the read pacing uses (net.Socket's `_handle`). */
interface ReadHandle {
  reading?: boolean;
  readStart(): number;
  readStop(): number;
}

/** One publisher's RTMP session, resumed here. */
class ResumedPublication {
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

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.session.push(chunk);
    this.flush();
    if (this.pacingMs <= 0 || this.closed || this.pacer !== null) return;
    if (this.handle !== undefined) {
      // Read pacing at the handle: between ticks the bytes wait in the kernel, and no read (no
      // wake-up) happens at all. A paused stream would go on reading into its buffer as they
      // arrive. The reads of this poll drain what the kernel holds: stop after them.
      if (!this.burst) {
        this.burst = true;
        setImmediate(() => this.stopReads());
      }
      return;
    }
    this.socket.pause();
    this.pacer = setTimeout(() => {
      this.pacer = null;
      if (!this.closed) this.socket.resume();
    }, this.pacingMs);
  }

  private stopReads(): void {
    this.burst = false;
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
    }, this.pacingMs);
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
    const s = this.socket;
    if (!s.destroyed) {
      s.pause();
      s.end();
      const t = setTimeout(() => s.destroy(), 2000);
      t.unref();
      s.once('close', () => clearTimeout(t));
    }
    this.log.info({ session: this.id, reason, bytesIn: this.bytesIn, tsBytes: this.tsBytes }, 'rtmp publication ended');
    this.onEnd(this, reason);
  }
}
