/**
 * RTMP publications handed over by the node agent (protocol/rtmp-handoff.ts): the agent ran the
 * handshake, connect, publish and the authorization, then sent the socket with the session's
 * state over this process's IPC channel. Here the session goes on with the same media code
 * (src/media/rtmp: chunk parsing, control messages, acks, FLV → TS, the agent's limits) and its TS
 * goes straight into the publish hub, the way an HTTP body from the agent does (sources/publish.ts):
 * no request between the two processes, no copy on the way.
 *
 * Cost per stream: a publishing socket is read at most once per `readPacingMs` (40 ms, as the agent
 * did) while a reader needs the frames at once (a live TS tap such as WebRTC, or LL-HLS parts), else
 * once per 200 ms (RELAXED_READ_PACING_MS); its handle stops reading in between, so the kernel holds
 * the bytes and nothing wakes up for them. The small TS runs the remuxer makes of one read (one per
 * FLV tag) are fed as one chunk.
 *
 * An SRT publisher's TS comes the same way as a pipe (ts-publish): the agent runs the ffmpeg that
 * terminates SRT and hands over the read end of its stdout, so the TS reaches the hub without
 * crossing the agent.
 *
 * The RTMP code (src/media/rtmp) is loaded with the first handoff (rtmp-publication.ts): a
 * supervisor that never gets one does not carry it.
 *
 * The channel is only a way in: when it closes (the agent exited) the publications here go on, and
 * their end is no longer reported. A supervisor started without one (none today: the agent always
 * gives one; an adopted supervisor keeps the one it had, or has none left) takes TS over HTTP only.
 */
import net from 'node:net';
import type { Logger } from '../../core/logger.js';
import { DEFAULT_READ_PACING_MS, handoffMessageType, parseRtmpPublishHandoff, parseTsPublishHandoff, RTMP_HANDOFF_VERSION, type RtmpPublishHandoff, type SupervisorToAgent } from '../../protocol/rtmp-handoff.js';
import { endSocket } from '../../core/net.js';
import type { PublishHub } from './sources/publish.js';
import { pacingMs, ReadPacer } from './read-pacer.js';
import type { ResumedPublication } from './rtmp-publication.js';

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

export class RtmpIngest {
  private readonly live = new Map<number, ResumedPublication>();
  /** handed-over TS pipes, by their end function */
  private readonly pipes = new Set<(reason: string) => void>();

  constructor(
    private readonly hub: PublishHub,
    private readonly channel: AgentChannel,
    private readonly log: Logger,
    /** false when the stream has no publish:// input */
    private readonly acceptsPublish: () => boolean,
    /** the stream's batching pause (Supervisor.batchPauseMs of its publish:// input; 0: the agent's pacing) */
    private readonly batchPauseMs: () => number = () => 0,
  ) {}

  /** Listens for handoffs and kicks, and tells the agent so (it hands nothing over before). */
  start(): void {
    this.channel.onMessage((msg, handle) => this.onMessage(msg, handle));
    this.channel.onDisconnect(() => this.log.info({ publications: this.live.size }, 'agent channel closed: publications here go on'));
    this.channel.send({ type: 'rtmp-ready', version: RTMP_HANDOFF_VERSION });
  }

  get publications(): number {
    return this.live.size + this.pipes.size;
  }

  /** Disconnects every handed-over publisher (the supervisor stops). */
  closeAll(reason: string): void {
    for (const p of [...this.live.values()]) p.close(reason);
    for (const end of [...this.pipes]) end(reason);
  }

  private onMessage(msg: unknown, handle: unknown): void {
    const type = handoffMessageType(msg);
    if (type === 'rtmp-publish') this.take(msg, handle);
    else if (type === 'ts-publish') this.takeTs(msg, handle);
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
    socket?.on('error', () => {});
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
    // meanwhile what the publisher sends waits in the socket's buffer (nothing consumes it before 'data')
    import('./rtmp-publication.js').then(
      (m) => this.resume(m.ResumedPublication, msg, socket),
      (err: Error) => this.refuse(socket, id, `cannot load the RTMP code: ${err.message}`),
    );
  }

  /**
   * ts-publish: a publisher's TS pipe (SRT: the agent's ffmpeg listener writes into it) read into
   * the hub until EOF, paced as a handed-over RTMP socket is. The agent ends it by stopping the
   * writer; a stop here (kick, supervisor stopping) closes the pipe, and that ffmpeg exits on it.
   */
  private takeTs(raw: unknown, handle: unknown): void {
    const pipe = handle instanceof net.Socket ? handle : undefined;
    pipe?.on('error', () => {});
    const id = typeof (raw as { id?: unknown }).id === 'number' ? (raw as { id: number }).id : -1;
    const refuse = (reason: string): void => {
      this.log.warn({ publisher: id, reason }, 'ts handoff refused');
      pipe?.destroy();
      this.channel.send({ type: 'ts-ended', id, reason, accepted: false, tsBytes: 0 });
    };
    let msg;
    try {
      msg = parseTsPublishHandoff(raw);
    } catch (err) {
      return refuse((err as Error).message);
    }
    if (!pipe) return refuse('ts-publish without its pipe');
    if (!this.acceptsPublish()) return refuse('the stream has no publish:// input');
    if (this.hub.publisher !== null) return refuse('stream already has a publisher');
    let tsBytes = 0;
    let ended = false;
    const pacer = new ReadPacer(pipe, () => pacingMs(DEFAULT_READ_PACING_MS, this.batchPauseMs()));
    const feed = this.hub.open(msg.remote, 'ts-handoff', () => end('publication stopped'))!;
    const end = (reason: string): void => {
      if (ended) return;
      ended = true;
      pacer.stop();
      feed.end(reason);
      endSocket(pipe);
      this.pipes.delete(end);
      this.log.info({ publisher: id, remote: msg.remote, reason, tsBytes }, 'ts publication ended');
      this.channel.send({ type: 'ts-ended', id, reason, accepted: true, tsBytes });
    };
    this.pipes.add(end);
    pipe.on('data', (chunk: Buffer) => {
      if (ended) return;
      tsBytes += chunk.length;
      feed.data(chunk);
      pacer.afterRead(chunk.length);
    });
    pipe.on('end', () => end('publisher gone'));
    pipe.on('close', () => end('publisher gone'));
    this.log.info({ publisher: id, remote: msg.remote }, 'ts publication taken over from the node');
  }

  private resume(Publication: typeof ResumedPublication, msg: RtmpPublishHandoff, socket: net.Socket): void {
    const id = msg.id;
    if (socket.destroyed) return this.refuse(socket, id, 'the publisher left during the handoff', msg.session.stats.bytesIn);
    // another publisher may have come while the code loaded
    if (this.hub.publisher !== null) return this.refuse(socket, id, 'stream already has a publisher', msg.session.stats.bytesIn);
    const remote = `rtmp ${msg.remoteAddress}:${msg.remotePort}`;
    const pub = new Publication(msg, socket, this.log, (p, reason) => {
      this.live.delete(p.id);
      this.channel.send({ type: 'rtmp-ended', id: p.id, reason, accepted: true, bytesIn: p.bytesIn, tsBytes: p.tsBytes });
    }, this.batchPauseMs);
    if (pub.failed !== undefined) return this.refuse(socket, id, pub.failed, msg.session.stats.bytesIn);
    const feed = this.hub.open(remote, 'rtmp-handoff', () => pub.close('publication stopped'))!;
    this.live.set(id, pub);
    this.log.info({ session: id, remote, bytesIn: msg.session.stats.bytesIn }, 'rtmp publication taken over from the node');
    pub.start(feed);
  }
}
