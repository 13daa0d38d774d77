/**
 * Native RTMP publish listener: TCP ↔ RtmpServerSession (src/media/rtmp), FLV → MPEG-TS with
 * FlvToTsRemuxer, TS handed to a PublishSink chosen by the caller per stream.
 *
 *   const srv = await startRtmpServer({
 *     host: '127.0.0.1', port: 1935,
 *     authorize: async ({ app, name, query, params, remoteAddress }) => ({ ok: true, stream: name }),
 *     onPublish: (stream, publisher) => ({ write: (ts) => …, end: (reason) => … }),
 *   });
 *
 * - URLs: rtmp://host/<app>/<name> and rtmp://host/<name> (FFmpeg sends app "<name>", name "" then)
 *   arrive as (app, name); `authorize` maps them to a stream name (see rtmpStreamCandidates). OBS-style
 *   server rtmp://host/live + key NAME is app "live", name "NAME". Query strings of the app and
 *   the name (?key=…, ?password=…) reach authorize as `query`/`params`.
 * - One publisher per stream: a second one gets NetStream.Publish.BadName and is disconnected.
 * - Hostile or broken peers (garbage, stalled handshake, idle, not reading, abrupt disconnect)
 *   only ever end their own session. Every session end calls sink.end(reason) exactly once.
 * - Handoff (issue #14): with `handoff`, an accepted publication's socket leaves this process right
 *   after NetStream.Publish.Start, with the session's state (RtmpServerSession.snapshot), and
 *   another process (the stream's supervisor) reads the media: no media byte is parsed here then.
 *   The connection stays listed (handedOff) until the other side reports its end.
 * - Until its publication is accepted a connection is unauthenticated: messages are capped at
 *   64 KiB, their buffers come from one budget shared by all unauthenticated connections, and one
 *   address may hold only so many of them (a flood of stalled connections from one address cannot
 *   fill the global cap and lock publishers from other addresses out).
 */
import net from 'node:net';
import { once } from 'node:events';
import { PassThrough, type Readable } from 'node:stream';
import { Buffer } from 'node:buffer';
import { streamNameProblem } from '../../core/paths.js';
import { silentLogger } from '../../core/logger.js';
import { endSocket } from '../../core/net.js';
import { DEFAULT_READ_PACING_MS, type RtmpPublishHandoff } from '../../protocol/rtmp-handoff.js';
import { RtmpServerSession, type PublishRequest, type RtmpSessionSnapshot, type SessionPhase } from '../../media/rtmp/session.js';
import type { ByteBudget } from '../../media/rtmp/chunk.js';
import { FlvToTsRemuxer, type RemuxInfo } from '../../media/rtmp/remux.js';

export interface RtmpLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface RtmpPublishAttempt {
  /** application from the URL, without query ("" for rtmp://host/NAME) */
  app: string;
  /** publishing name (stream key) without query */
  name: string;
  /** raw query of the app and the name joined by '&', e.g. "key=secret" */
  query: string;
  /** parsed query (the name's parameters win) */
  params: Record<string, string>;
  tcUrl: string;
  remoteAddress: string;
}

export type RtmpAuthResult = { ok: true; stream: string } | { ok: false; reason: string };

/** Where the TS of one publication goes. */
export interface PublishSink {
  /**
   * Whole 188-byte TS packets. Returning false asks for backpressure: the server stops reading
   * from the publisher until `waitDrain()` resolves (without waitDrain it is ignored). Throwing
   * ends the publication.
   */
  write(ts: Buffer): boolean | void;
  /** The publication ended (publisher left, unpublished, timed out, server closing …). Called once. */
  end(reason: string): void;
  waitDrain?(): Promise<void>;
}

export interface RtmpSessionInfo {
  id: number;
  remoteAddress: string;
  remotePort: number;
  phase: SessionPhase;
  app?: string;
  name?: string;
  /** the stream being published (after authorization) */
  stream?: string;
  connectedAt: number;
  publishingSince?: number;
  bytesIn: number;
  bytesOut: number;
  /** TS bytes handed to the sink */
  tsBytes: number;
  video?: RemuxInfo['video'];
  audio?: RemuxInfo['audio'];
  /** media messages not turned into TS */
  ignored: number;
  /** times reading from the publisher was paused because the sink asked for backpressure */
  sinkWaits: number;
  /** audio/video messages parsed in this process (0 for a publication handed over at once) */
  mediaMessages: number;
  /** the socket was handed to another process (RtmpServerOptions.handoff), which reads the media */
  handedOff: boolean;
  /** what the other process reported at the end of a handed-off publication */
  remote?: { bytesIn: number; tsBytes: number };
}

/**
 * What a handed-over publication needs to go on elsewhere: the wire message of protocol/rtmp-handoff.ts
 * (one field list) before it is encoded: the session as the media code snapshots it, unread bytes as a Buffer.
 */
export type RtmpHandoffState = Omit<RtmpPublishHandoff, 'type' | 'version' | 'session' | 'unread'> & {
  session: RtmpSessionSnapshot;
  /** bytes read from the socket here and not parsed */
  unread: Buffer;
};

/** A publication whose socket went to another process. */
export interface HandedOver {
  /** asks the other process to disconnect the publisher (`ended` follows) */
  kick(reason: string): void;
  /** the publication is over there (the publisher left, was refused or kicked, or the process went) */
  ended: Promise<{ reason: string; bytesIn?: number; tsBytes?: number }>;
}

/** Another process that may take accepted publications (RtmpServerOptions.handoff). */
export interface RtmpHandoffTarget {
  /**
   * Sends the socket with the state. Rejects with an error whose `handleKept` is true when the
   * socket did not leave (the publication then goes on here, through onPublish); any other
   * rejection ends the connection.
   */
  handOver(state: RtmpHandoffState, socket: net.Socket): Promise<HandedOver>;
}

/** Handle given to onPublish: who publishes, live stats, and a way to kick the publisher. */
export interface RtmpPublisher {
  readonly id: number;
  readonly stream: string;
  readonly app: string;
  readonly name: string;
  readonly params: Record<string, string>;
  readonly remoteAddress: string;
  info(): RtmpSessionInfo;
  /** Disconnects the publisher (sink.end(reason) follows). */
  close(reason: string): void;
}

export interface RtmpServerOptions {
  /** address to bind (default 0.0.0.0) */
  host?: string;
  /** TCP port; 0 picks a free one */
  port: number;
  authorize(req: RtmpPublishAttempt): Promise<RtmpAuthResult> | RtmpAuthResult;
  onPublish(stream: string, publisher: RtmpPublisher): PublishSink;
  /**
   * Asked for each accepted publication: a target to hand its socket to (then onPublish is not
   * called, unless the handover fails before the socket left), or undefined to remux it here.
   */
  handoff?(stream: string, publisher: RtmpPublisher): RtmpHandoffTarget | undefined;
  logger?: RtmpLogger;
  /** handshake must complete within this (default 5 s; real clients need a round trip or two) */
  handshakeTimeoutMs?: number;
  /** publishing must start within this after the TCP connection (default 30 s) */
  publishTimeoutMs?: number;
  /** no byte received for this long ends the session (default 30 s) */
  idleTimeoutMs?: number;
  /** concurrent connections beyond this are refused (default 1000) */
  maxConnections?: number;
  /** unauthenticated (not yet publishing) connections from one address beyond this are refused (default 64) */
  maxPendingPerAddress?: number;
  /** largest RTMP message of an accepted publisher (default 16 MiB) */
  maxMessageSize?: number;
  /** largest RTMP message before the publication is accepted (default 64 KiB) */
  preAuthMaxMessageSize?: number;
  /** message buffers all unauthenticated connections together may hold (default 8 MiB) */
  preAuthBudgetBytes?: number;
  /** unsent bytes to a peer that does not read before it is dropped (default 1 MiB) */
  maxOutputBuffer?: number;
  /** media time held back while waiting for the second track's configuration (default 1000 ms) */
  trackWaitMs?: number;
  /**
   * A publishing socket is read at most once per this many ms (default 40; 0 = as data arrives):
   * a publisher's frames come as 4 KiB RTMP chunks, and a read per chunk was most of the agent's
   * per-stream CPU. Between reads the bytes wait in the kernel's socket buffer (TCP flow control
   * holds the sender back if ever it fills); one timer resumes every paced socket of the server.
   */
  readPacingMs?: number;
}

export interface RtmpServer {
  readonly port: number;
  readonly host: string;
  sessions(): RtmpSessionInfo[];
  /** Stops listening, disconnects everyone (sinks end with "server closing"). */
  close(): Promise<void>;
}

/**
 * Stream names an (app, name) pair may mean, most specific first: every suffix of "app/name".
 * What FFmpeg sends: rtmp://host/live/NAME → ("live", "NAME") → ["live/NAME", "NAME"];
 * rtmp://host/live/cams/door → ("live/cams", "door") → ["live/cams/door", "cams/door", "door"];
 * rtmp://host/NAME → ("NAME", "") → ["NAME"]. OBS: server rtmp://host/live + key NAME → like the first.
 */
export function rtmpStreamCandidates(app: string, name: string): string[] {
  const parts = `${app}/${name}`.split('/').filter((p) => p !== '');
  const out: string[] = [];
  for (let i = 0; i < parts.length; i++) out.push(parts.slice(i).join('/'));
  return out;
}

/**
 * A PublishSink feeding a Readable (e.g. an HTTP request body towards a supervisor), with
 * backpressure. When the consumer destroys the readable, sink writes throw and the publication ends.
 *
 * The remuxer hands over one small TS run per FLV tag (~70 a second for 25 fps video + AAC); each
 * would be a write on the way to the supervisor and a read there. They are batched instead: sent
 * once `batchBytes` are pending or `batchMs` after the first pending byte, whichever comes first
 * (40 ms = one frame at 25 fps of added latency).
 */
export function createReadableSink(highWaterMark = 4 * 1024 * 1024, batch: { bytes?: number; ms?: number } = {}): { sink: PublishSink; readable: Readable } {
  const pt = new PassThrough({ highWaterMark });
  pt.on('error', () => {});
  const batchBytes = batch.bytes ?? 64 * 1024;
  const batchMs = batch.ms ?? 40;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let timer: NodeJS.Timeout | null = null;
  const gone = () => pt.destroyed || pt.writableEnded;
  const flush = (): boolean => {
    if (timer) {
      clearTimeout(timer);
      timer = null;
    }
    if (pendingBytes === 0 || gone()) return !pt.writableNeedDrain;
    const out = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    return pt.write(out);
  };
  const sink: PublishSink = {
    write(ts) {
      if (gone()) throw new Error('TS consumer is gone');
      pending.push(ts);
      pendingBytes += ts.length;
      if (pendingBytes >= batchBytes || batchMs <= 0) return flush();
      timer ??= setTimeout(flush, batchMs);
      return !pt.writableNeedDrain;
    },
    end() {
      flush();
      if (!gone()) pt.end();
    },
    async waitDrain() {
      if (pt.destroyed || !pt.writableNeedDrain) return;
      await Promise.race([once(pt, 'drain'), once(pt, 'close')]).catch(() => {});
    },
  };
  return { sink, readable: pt };
}

let nextId = 1;

class Connection {
  readonly id = nextId++;
  readonly session: RtmpServerSession;
  readonly connectedAt = Date.now();
  readonly remoteAddress: string;
  readonly remotePort: number;
  stream: string | undefined;
  publishingSince: number | undefined;
  private sink: PublishSink | undefined;
  private remux: FlvToTsRemuxer | undefined;
  private lastInfo: RemuxInfo | undefined;
  private tsBytes = 0;
  private timers: NodeJS.Timeout[] = [];
  private publishTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private paused = false;
  private sinkWaits = 0;
  /** counted in the server's per-address tally of unauthenticated connections */
  private pending = true;
  /** reading stopped for a handoff (the socket is leaving or gone) */
  private handingOff = false;
  private handed: HandedOver | undefined;
  private remoteStats: { bytesIn: number; tsBytes: number } | undefined;

  constructor(
    readonly socket: net.Socket,
    private readonly srv: Server,
  ) {
    this.remoteAddress = socket.remoteAddress ?? '?';
    this.remotePort = socket.remotePort ?? 0;
    const o = srv.opts;
    this.session = new RtmpServerSession(
      {
        send: (b) => this.send(b),
        publish: (req) => void this.authorize(req),
        media: (m) => this.remux?.media(m.kind, m.timestamp, m.payload),
        metadata: (d) => this.remux?.metadata(d),
        unpublish: (reason) => this.endPublication(reason),
        close: (reason) => this.close(reason),
      },
      { maxMessageSize: o.maxMessageSize, preAuthMaxMessageSize: o.preAuthMaxMessageSize, preAuthBudget: srv.preAuthBudget, uptimeMs: Date.now() - srv.startedAt },
    );
    socket.setNoDelay(true);
    socket.setTimeout(o.idleTimeoutMs ?? 30_000);
    socket.on('timeout', () => this.close('idle timeout'));
    socket.on('error', (err) => this.srv.log.debug({ session: this.id, err: err.message }, 'rtmp socket error'));
    socket.on('close', () => this.close('disconnected'));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.timer(() => {
      if (this.session.phase === 'handshake') this.close('handshake timeout');
    }, o.handshakeTimeoutMs ?? 5_000);
    this.armPublishTimer();
  }

  private timer(fn: () => void, ms: number): NodeJS.Timeout {
    const t = setTimeout(fn, ms);
    t.unref();
    this.timers.push(t);
    return t;
  }

  /** A connection must be publishing within publishTimeoutMs (of connecting, or of unpublishing). */
  private armPublishTimer(): void {
    if (this.publishTimer) clearTimeout(this.publishTimer);
    this.publishTimer = this.timer(() => {
      if (this.stream === undefined) this.close('no publish in time');
    }, this.srv.opts.publishTimeoutMs ?? 30_000);
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.session.push(chunk);
    if (this.sink !== undefined && !this.closed) this.srv.pace(this);
  }

  /** Read pacing (RtmpServerOptions.readPacingMs): the server's timer resumes it. */
  pacedPause(): void {
    this.socket.pause();
  }

  pacedResume(): void {
    // a sink's backpressure pause outranks pacing: its drain resumes the socket
    if (!this.closed && !this.paused && !this.handingOff) this.socket.resume();
  }

  private send(bytes: Buffer): void {
    const s = this.socket;
    if (this.closed || s.destroyed) return;
    s.write(bytes);
    if (s.writableLength > (this.srv.opts.maxOutputBuffer ?? 1024 * 1024)) this.close('peer does not read');
  }

  private async authorize(req: PublishRequest): Promise<void> {
    const attempt: RtmpPublishAttempt = {
      app: req.app,
      name: req.name,
      query: req.query,
      params: req.params,
      tcUrl: req.tcUrl,
      remoteAddress: this.remoteAddress,
    };
    let verdict: RtmpAuthResult;
    try {
      verdict = await this.srv.opts.authorize(attempt);
    } catch (err) {
      verdict = { ok: false, reason: `authorization failed: ${err instanceof Error ? err.message : String(err)}` };
    }
    if (this.closed) return;
    const log = this.srv.log;
    if (!verdict.ok) {
      log.info({ session: this.id, app: req.app, name: req.name, remote: this.remoteAddress, reason: verdict.reason }, 'rtmp publish rejected');
      this.session.rejectPublish('NetStream.Publish.Rejected', verdict.reason);
      return;
    }
    const stream = verdict.stream;
    const problem = streamNameProblem(stream);
    if (problem) {
      this.session.rejectPublish('NetStream.Publish.BadName', `invalid stream name: ${problem}`);
      return;
    }
    const holder = this.srv.publishers.get(stream);
    if (holder !== undefined && holder !== this) {
      log.info({ session: this.id, stream, remote: this.remoteAddress, holder: holder.id }, 'rtmp publish refused: stream busy');
      this.session.rejectPublish('NetStream.Publish.BadName', `stream "${stream}" is already being published`);
      return;
    }
    this.srv.publishers.set(stream, this);
    this.stream = stream;
    const handle = this.publisherHandle(stream, req);
    let target: RtmpHandoffTarget | undefined;
    try {
      target = this.srv.opts.handoff?.(stream, handle);
    } catch (err) {
      log.warn({ session: this.id, stream, err: (err as Error).message }, 'rtmp handoff unavailable: remuxing here');
    }
    if (target !== undefined) {
      this.authenticated();
      this.publishingSince = Date.now();
      this.session.acceptPublish();
      log.info({ session: this.id, stream, app: req.app, name: req.name, remote: this.remoteAddress }, 'rtmp publish started');
      // synchronously after Publish.Start: not one media byte is read here
      void this.handOver(target, stream, handle);
      return;
    }
    let sink: PublishSink;
    try {
      sink = this.srv.opts.onPublish(stream, handle);
    } catch (err) {
      this.srv.publishers.delete(stream);
      this.stream = undefined;
      this.session.rejectPublish('NetStream.Publish.Rejected', `cannot start: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    this.startRemux(sink);
    this.authenticated();
    this.publishingSince = Date.now();
    this.session.acceptPublish();
    log.info({ session: this.id, stream, app: req.app, name: req.name, remote: this.remoteAddress }, 'rtmp publish started');
  }

  private startRemux(sink: PublishSink): void {
    this.sink = sink;
    this.remux = new FlvToTsRemuxer((ts) => this.toSink(ts), { trackWaitMs: this.srv.opts.trackWaitMs });
  }

  /**
   * Stops reading the socket for good and returns the bytes read but not parsed yet; undefined
   * when this socket cannot stop its reads (nothing changed then). After a socket is sent to
   * another process Node drops whatever its handle still reads here, so the handle must stop
   * reading before: what the publisher sends next waits in the kernel for the new owner.
   */
  private stopReading(): Buffer | undefined {
    const s = this.socket;
    const h = (s as unknown as { _handle?: { reading?: boolean; readStop?: () => number } | null })._handle;
    if (!h || typeof h.readStop !== 'function' || s.destroyed) return undefined;
    this.handingOff = true;
    this.srv.unpace(this);
    s.removeAllListeners('data');
    s.pause();
    const parts: Buffer[] = [];
    for (let b = s.read() as Buffer | null; b !== null; b = s.read() as Buffer | null) parts.push(b);
    // read() may have restarted the handle's reads (the buffer fell below its mark): stop them now,
    // in the same tick, before any is delivered, and keep the stream from restarting them (a
    // scheduled resume would call _read)
    h.reading = false;
    h.readStop();
    (s as unknown as { _read: (n: number) => void })._read = () => {};
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  /** Goes on here after all (the handoff did not take the socket): reads again, through onPublish. */
  private resumeHere(stream: string, handle: RtmpPublisher, unread: Buffer): void {
    this.handingOff = false;
    // the prototype's _read again, and the handle reading (a read() meanwhile may have left the
    // stream waiting for a push that only the handle's next read brings)
    delete (this.socket as unknown as { _read?: unknown })._read;
    const h = (this.socket as unknown as { _handle?: { reading?: boolean; readStart?: () => number } | null })._handle;
    if (h && typeof h.readStart === 'function' && !h.reading) {
      h.reading = true;
      h.readStart();
    }
    let sink: PublishSink;
    try {
      sink = this.srv.opts.onPublish(stream, handle);
    } catch (err) {
      this.close(`cannot start: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    this.startRemux(sink);
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    if (unread.length > 0) this.onData(unread);
    if (!this.closed && !this.srv.isPaced(this)) this.socket.resume();
  }

  private async handOver(target: RtmpHandoffTarget, stream: string, handle: RtmpPublisher): Promise<void> {
    const log = this.srv.log;
    const unread = this.stopReading();
    const session = this.session.snapshot();
    if (unread === undefined || session === undefined) {
      log.warn({ session: this.id, stream }, 'rtmp handoff impossible for this socket: remuxing here');
      if (unread !== undefined) this.resumeHere(stream, handle, unread);
      else {
        try {
          this.startRemux(this.srv.opts.onPublish(stream, handle));
        } catch (err) {
          this.close(`cannot start: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      return;
    }
    const s = this.socket;
    // Publish.Start (and anything before it) leaves from here before the socket does
    if (s.writableLength > 0) {
      const drained = await Promise.race([once(s, 'drain').then(() => true, () => false), new Promise<boolean>((r) => setTimeout(() => r(false), 5000).unref())]);
      if (!drained && !this.closed) this.close('peer does not read');
    }
    if (this.closed) return;
    const o = this.srv.opts;
    const state: RtmpHandoffState = {
      id: this.id,
      stream,
      remoteAddress: this.remoteAddress,
      remotePort: this.remotePort,
      connectedAt: this.connectedAt,
      publishingSince: this.publishingSince ?? Date.now(),
      session,
      unread,
      limits: { maxMessageSize: o.maxMessageSize, idleTimeoutMs: o.idleTimeoutMs, maxOutputBuffer: o.maxOutputBuffer, readPacingMs: o.readPacingMs, trackWaitMs: o.trackWaitMs },
    };
    let handed: HandedOver;
    try {
      handed = await target.handOver(state, s);
    } catch (err) {
      const kept = (err as { handleKept?: unknown }).handleKept === true;
      log.warn({ session: this.id, stream, err: (err as Error).message, kept }, kept ? 'rtmp handoff refused: remuxing here' : 'rtmp handoff failed');
      if (this.closed) return;
      if (kept) this.resumeHere(stream, handle, unread);
      else this.close(`handoff failed: ${(err as Error).message}`);
      return;
    }
    if (this.closed) {
      // closed while the socket was on its way (server closing, idle): it goes over there too
      handed.kick(this.session.closeReason ?? 'closed');
      return;
    }
    this.handed = handed;
    this.srv.handedOver++;
    // the socket object here is an empty shell now (its handle left): only its timers go
    for (const t of this.timers) clearTimeout(t);
    s.removeAllListeners('timeout');
    s.removeAllListeners('close');
    s.setTimeout(0);
    log.info({ session: this.id, stream, remote: this.remoteAddress, bytesIn: this.session.stats.bytesIn }, 'rtmp publication handed over');
    void handed.ended.then(
      (r) => this.handedEnded(r.reason, r),
      (err: Error) => this.handedEnded(`handoff lost: ${err.message}`, {}),
    );
  }

  private handedEnded(reason: string, r: { bytesIn?: number; tsBytes?: number }): void {
    if (this.handed === undefined) return; // forgotten (server closed)
    this.handed = undefined;
    if (r.bytesIn !== undefined || r.tsBytes !== undefined) this.remoteStats = { bytesIn: r.bytesIn ?? 0, tsBytes: r.tsBytes ?? 0 };
    const stream = this.stream;
    if (stream !== undefined && this.srv.publishers.get(stream) === this) this.srv.publishers.delete(stream);
    this.stream = undefined;
    this.srv.connections.delete(this);
    if (!this.closed) {
      this.closed = true;
      this.session.end(reason);
    }
    this.srv.log.info({ session: this.id, stream, reason, ...this.remoteStats }, 'rtmp publish ended (handed over)');
  }

  /** Leaves a handed-over publication to the other process (this server closes; it goes on there). */
  forget(): void {
    if (this.handed === undefined) return;
    this.handed = undefined;
    this.srv.connections.delete(this);
  }

  get isHandedOff(): boolean {
    return this.handed !== undefined;
  }

  private publisherHandle(stream: string, req: PublishRequest): RtmpPublisher {
    return {
      id: this.id,
      stream,
      app: req.app,
      name: req.name,
      params: req.params,
      remoteAddress: this.remoteAddress,
      info: () => this.info(),
      close: (reason) => this.close(reason),
    };
  }

  private toSink(ts: Buffer): void {
    const sink = this.sink;
    if (sink === undefined) return;
    this.tsBytes += ts.length;
    let ok: boolean | void;
    try {
      ok = sink.write(ts);
    } catch (err) {
      this.close(`sink failed: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    if (ok === false && sink.waitDrain && !this.paused) {
      this.paused = true;
      this.sinkWaits++;
      this.socket.pause();
      sink
        .waitDrain()
        .catch(() => {})
        .finally(() => {
          this.paused = false;
          if (!this.closed) this.socket.resume();
        });
    }
  }

  /** Ends the current publication (the connection may stay, e.g. after FCUnpublish). */
  private endPublication(reason: string): void {
    const sink = this.sink;
    const stream = this.stream;
    if (this.remux) {
      try {
        this.remux.flush();
      } catch {
        // pure code; nothing should throw, but teardown must complete
      }
      this.lastInfo = this.remux.info;
    }
    this.sink = undefined;
    this.remux = undefined;
    if (stream !== undefined) {
      if (this.srv.publishers.get(stream) === this) this.srv.publishers.delete(stream);
      this.srv.log.info({ session: this.id, stream, reason, tsBytes: this.tsBytes }, 'rtmp publish ended');
    }
    this.stream = undefined;
    if (!this.closed && stream !== undefined) this.armPublishTimer();
    if (sink) {
      try {
        sink.end(reason);
      } catch (err) {
        this.srv.log.warn({ session: this.id, err: (err as Error).message }, 'sink.end threw');
      }
    }
  }

  /** Leaves the per-address tally of unauthenticated connections (once). */
  private authenticated(): void {
    if (!this.pending) return;
    this.pending = false;
    this.srv.leavePending(this.remoteAddress);
  }

  close(reason: string): void {
    if (this.handed !== undefined) {
      // the publisher is over there: ask it to go (handedEnded follows)
      this.handed.kick(reason);
      return;
    }
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.authenticated();
    this.session.end(reason);
    this.endPublication(reason);
    this.srv.connections.delete(this);
    // flush what the session wrote last (e.g. a rejection status), then make sure it goes away
    endSocket(this.socket);
    this.srv.log.debug({ session: this.id, remote: this.remoteAddress, reason }, 'rtmp session closed');
  }

  info(): RtmpSessionInfo {
    const r = this.remux?.info ?? this.lastInfo;
    const st = this.session.stats;
    return {
      id: this.id,
      remoteAddress: this.remoteAddress,
      remotePort: this.remotePort,
      phase: this.session.phase,
      app: this.session.connectInfo?.app,
      name: this.session.publication?.name ?? this.session.pendingPublish?.name,
      stream: this.stream,
      connectedAt: this.connectedAt,
      publishingSince: this.publishingSince,
      bytesIn: st.bytesIn,
      bytesOut: st.bytesOut,
      tsBytes: this.tsBytes,
      video: r?.video ? { ...r.video } : undefined,
      audio: r?.audio ? { ...r.audio } : undefined,
      ignored: (r?.ignored ?? 0) + st.droppedMessages,
      sinkWaits: this.sinkWaits,
      mediaMessages: st.mediaMessages,
      handedOff: this.handed !== undefined || this.remoteStats !== undefined,
      ...(this.remoteStats ? { remote: { ...this.remoteStats } } : {}),
    };
  }
}

class Server {
  readonly connections = new Set<Connection>();
  readonly publishers = new Map<string, Connection>();
  readonly startedAt = Date.now();
  readonly log: RtmpLogger;
  /** publications handed to another process so far */
  handedOver = 0;
  readonly preAuthBudget: ByteBudget;
  /** unauthenticated connections by remote address */
  private readonly pendingByAddress = new Map<string, number>();
  /** refusals not yet logged (a flood is logged once a second, not once per connection) */
  private refused = { count: 0, reason: '', remote: '', timer: undefined as NodeJS.Timeout | undefined };

  private readonly paced = new Set<Connection>();
  private pacer: NodeJS.Timeout | null = null;
  private readonly pacingMs: number;

  constructor(readonly opts: RtmpServerOptions) {
    this.log = opts.logger ?? silentLogger;
    this.preAuthBudget = { used: 0, limit: opts.preAuthBudgetBytes ?? 8 * 1024 * 1024 };
    this.pacingMs = opts.readPacingMs ?? DEFAULT_READ_PACING_MS;
  }

  /** A publishing connection just read: hold its socket until the next pacing tick. */
  pace(c: Connection): void {
    if (this.pacingMs <= 0 || this.paced.has(c)) return;
    c.pacedPause();
    this.paced.add(c);
    this.pacer ??= setTimeout(() => {
      this.pacer = null;
      const batch = [...this.paced];
      this.paced.clear();
      for (const x of batch) x.pacedResume();
    }, this.pacingMs);
    this.pacer.unref();
  }

  unpace(c: Connection): void {
    this.paced.delete(c);
  }

  isPaced(c: Connection): boolean {
    return this.paced.has(c);
  }

  stopPacing(): void {
    if (this.pacer) clearTimeout(this.pacer);
    this.pacer = null;
    this.paced.clear();
  }

  leavePending(address: string): void {
    const n = (this.pendingByAddress.get(address) ?? 1) - 1;
    if (n > 0) this.pendingByAddress.set(address, n);
    else this.pendingByAddress.delete(address);
  }

  private refuse(socket: net.Socket, reason: string): void {
    socket.on('error', () => {});
    socket.destroy();
    const r = this.refused;
    r.count++;
    r.reason = reason;
    r.remote = socket.remoteAddress ?? '?';
    r.timer ??= setTimeout(() => {
      this.log.warn({ remote: r.remote, refused: r.count }, `rtmp connection refused: ${r.reason}`);
      r.count = 0;
      r.timer = undefined;
    }, 1000).unref();
  }

  accept(socket: net.Socket): void {
    if (this.connections.size >= (this.opts.maxConnections ?? 1000)) {
      this.refuse(socket, 'too many connections');
      return;
    }
    const addr = socket.remoteAddress ?? '?';
    const pending = this.pendingByAddress.get(addr) ?? 0;
    if (pending >= (this.opts.maxPendingPerAddress ?? 64)) {
      this.refuse(socket, 'too many unauthenticated connections from this address');
      return;
    }
    this.pendingByAddress.set(addr, pending + 1);
    try {
      this.connections.add(new Connection(socket, this));
    } catch (err) {
      this.leavePending(addr);
      this.log.error({ err: (err as Error).message }, 'rtmp connection setup failed');
      socket.destroy();
    }
  }
}

export async function startRtmpServer(opts: RtmpServerOptions): Promise<RtmpServer> {
  const srv = new Server(opts);
  const tcp = net.createServer({ noDelay: true }, (socket) => srv.accept(socket));
  tcp.on('error', (err) => srv.log.error({ err: err.message }, 'rtmp listener error'));
  const host = opts.host ?? '0.0.0.0';
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    tcp.once('error', onError);
    tcp.listen(opts.port, host, () => {
      tcp.off('error', onError);
      resolve();
    });
  });
  const addr = tcp.address() as net.AddressInfo;
  srv.log.info({ host, port: addr.port }, 'rtmp listener started');
  let closing: Promise<void> | undefined;
  return {
    port: addr.port,
    host,
    sessions: () => [...srv.connections].map((c) => c.info()),
    close: () => {
      closing ??= (async () => {
        const done = new Promise<void>((resolve) => tcp.close(() => resolve()));
        srv.stopPacing();
        for (const c of [...srv.connections]) {
          if (c.isHandedOff) {
            c.forget();
            continue;
          }
          c.close('server closing');
          c.socket.destroy();
        }
        // Node counts a socket sent to a child among its listener's connections until that child
        // closes it (child_process socket lists): the listener's close would wait for publishers
        // that belong to the supervisors now. The port is free at once anyway.
        if (srv.handedOver === 0) await done;
        srv.log.info({ port: addr.port }, 'rtmp listener stopped');
      })();
      return closing;
    },
  };
}
