/**
 * Server side of one RTMP connection, as a pure state machine: bytes in (push), bytes out and
 * events through the handler. Publish-only (ingest): connect, releaseStream, FCPublish,
 * createStream, publish, @setDataFrame/onMetaData, FCUnpublish/deleteStream/closeStream.
 *
 * It never throws on peer input: a protocol error ends the session (handler.close(reason)) and
 * every later input is ignored. The owner closes the socket once `close` fired (after writing
 * whatever `send` produced before it, e.g. a rejection status).
 *
 * Flow for a publisher:
 *   handshake → connect → _result(NetConnection.Connect.Success)
 *   createStream → _result(streamId)
 *   publish(name) → handler.publish(req) → owner calls acceptPublish() or rejectPublish(…)
 *   → onStatus NetStream.Publish.Start → handler.media(...) for each audio/video message
 */
import { Buffer } from 'node:buffer';
import { decodeAmf0, encodeAmf0, type Amf0Object, type Amf0Value } from './amf0.js';
import { ChunkReader, ChunkWriter, DEFAULT_MAX_MESSAGE_SIZE, MessageType, type ByteBudget, type ChunkReaderSnapshot, type RtmpMessage } from './chunk.js';
import { HANDSHAKE_SIZE, RTMP_VERSION, serverHandshake } from './handshake.js';

export const UserControlEvent = {
  StreamBegin: 0,
  StreamEof: 1,
  StreamDry: 2,
  SetBufferLength: 3,
  StreamIsRecorded: 4,
  PingRequest: 6,
  PingResponse: 7,
} as const;

/** chunk stream ids we use for output */
const CSID_CONTROL = 2;
const CSID_COMMAND = 3;
const CSID_STATUS = 5;

/** Largest message before a publication is accepted: commands are small, media waits for acceptance. */
export const PRE_AUTH_MAX_MESSAGE_SIZE = 64 * 1024;

export interface RtmpSessionOptions {
  /** largest accepted message once a publication is accepted (default 16 MiB) */
  maxMessageSize?: number;
  /**
   * largest accepted message until then (default 64 KiB): a peer that has not been authorized
   * cannot make the server hold big buffers
   */
  preAuthMaxMessageSize?: number;
  /** byte budget shared by every session not yet authorized (message buffers are taken from it) */
  preAuthBudget?: ByteBudget;
  /** chunk size announced to and used towards the peer (default 4096) */
  outChunkSize?: number;
  /** Window Acknowledgement Size sent to the peer (default 2 500 000) */
  windowAckSize?: number;
  /** Set Peer Bandwidth sent to the peer (default 2 500 000, dynamic) */
  peerBandwidth?: number;
  /** value of S1's time field (default: 0) */
  uptimeMs?: number;
}

export interface ConnectInfo {
  /** application name without query string and surrounding slashes, e.g. "live" ("" when absent) */
  app: string;
  /** query string that followed the app ("" when none) */
  query: string;
  tcUrl: string;
  flashVer: string;
  objectEncoding: number;
  /** the whole command object as sent */
  command: Amf0Object;
}

export interface PublishRequest {
  app: string;
  /** publishing name without its query string, e.g. "test" from "test?key=abc" */
  name: string;
  /** the query string of the app and of the name, joined by '&' ("" when none), without '?' */
  query: string;
  /** parsed query parameters (name's win over app's) */
  params: Record<string, string>;
  tcUrl: string;
  /** publishing type: "live" | "record" | "append" (as sent) */
  type: string;
  /** message stream id the media will arrive on */
  streamId: number;
}

export interface MediaMessage {
  kind: 'audio' | 'video';
  /** RTMP timestamp in ms, unsigned 32-bit (wraps after ~49.7 days) */
  timestamp: number;
  streamId: number;
  /** FLV tag body (audio/video tag header + data) */
  payload: Buffer;
}

export type SessionPhase = 'handshake' | 'connecting' | 'connected' | 'publishing' | 'closed';

export interface RtmpSessionHandler {
  /** bytes to write to the peer, in order */
  send(bytes: Buffer): void;
  /** connect was received and answered */
  connect?(info: ConnectInfo): void;
  /**
   * The peer asked to publish. Answer later with acceptPublish() or rejectPublish(); without a
   * publish handler every publish is accepted.
   */
  publish?(req: PublishRequest): void;
  /** an audio or video message of the accepted publication */
  media?(msg: MediaMessage): void;
  /** onMetaData (from @setDataFrame or direct) of the accepted publication */
  metadata?(data: Amf0Object): void;
  /** the publisher stopped (FCUnpublish, closeStream or deleteStream); the connection stays */
  unpublish?(reason: string): void;
  /** the session ended (protocol error, rejection or end()); called once */
  close?(reason: string): void;
}

export interface RtmpSessionStats {
  bytesIn: number;
  bytesOut: number;
  messagesIn: number;
  mediaMessages: number;
  /** media received outside an accepted publication */
  droppedMessages: number;
}

/**
 * What a publishing session needs to go on in another process (the RTMP handoff: the node agent
 * runs the handshake, connect and publish, the stream's supervisor reads the media). Plain JSON.
 * Taken once the publication is accepted; the connect command object is not carried (only its
 * fields in ConnectInfo).
 */
export interface RtmpSessionSnapshot {
  connect: Omit<ConnectInfo, 'command'>;
  publication: PublishRequest;
  stats: RtmpSessionStats;
  lastPong?: number;
  nextStreamId: number;
  streams: number[];
  /** Window Acknowledgement Size the peer announced (0 = none) and bytesIn at the last ack sent */
  peerWindow: number;
  lastAcked: number;
  objectEncoding: number;
  /** chunk size used towards the peer */
  outChunkSize: number;
  reader: ChunkReaderSnapshot;
}

function splitQuery(s: string): [string, string] {
  const i = s.indexOf('?');
  return i < 0 ? [s, ''] : [s.slice(0, i), s.slice(i + 1)];
}

function parseParams(query: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (query === '') return out;
  try {
    for (const [k, v] of new URLSearchParams(query)) {
      Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
    }
  } catch {
    // malformed escapes: no params
  }
  return out;
}

function str(v: Amf0Value | undefined): string {
  return typeof v === 'string' ? v : '';
}

function isObject(v: Amf0Value | undefined): v is Amf0Object {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

export class RtmpServerSession {
  phase: SessionPhase = 'handshake';
  closeReason: string | undefined;
  connectInfo: ConnectInfo | undefined;
  /** the accepted publication */
  publication: PublishRequest | undefined;
  /** a publish waiting for acceptPublish/rejectPublish */
  pendingPublish: PublishRequest | undefined;
  readonly stats: RtmpSessionStats = { bytesIn: 0, bytesOut: 0, messagesIn: 0, mediaMessages: 0, droppedMessages: 0 };
  /** last Ping Response timestamp received from the peer */
  lastPong: number | undefined;

  private readonly reader: ChunkReader;
  private readonly writer = new ChunkWriter();
  private readonly opts: Required<Omit<RtmpSessionOptions, 'preAuthBudget'>>;
  private authorized = false;
  /** handshake bytes collected so far (C0+C1, then C2) */
  private hs: Buffer | null = Buffer.allocUnsafe(1 + HANDSHAKE_SIZE);
  private hsLen = 0;
  private hsStage: 0 | 1 = 0;
  private nextStreamId = 1;
  private readonly streams = new Set<number>();
  /** window announced by the peer: acknowledge every this many bytes (0 = never) */
  private peerWindow = 0;
  private lastAcked = 0;
  /** 0 when the peer announced AMF0 objectEncoding */
  private objectEncoding = 0;

  constructor(
    private readonly handler: RtmpSessionHandler,
    options: RtmpSessionOptions = {},
  ) {
    this.opts = {
      maxMessageSize: options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE,
      preAuthMaxMessageSize: options.preAuthMaxMessageSize ?? PRE_AUTH_MAX_MESSAGE_SIZE,
      outChunkSize: options.outChunkSize ?? 4096,
      windowAckSize: options.windowAckSize ?? 2_500_000,
      peerBandwidth: options.peerBandwidth ?? 2_500_000,
      uptimeMs: options.uptimeMs ?? 0,
    };
    this.reader = new ChunkReader(
      (m) => this.onMessage(m),
      (reason) => this.protocolError(reason),
      { maxMessageSize: Math.min(this.opts.preAuthMaxMessageSize, this.opts.maxMessageSize), budget: options.preAuthBudget },
    );
  }

  /**
   * The state to resume this publishing session elsewhere (RtmpServerSession.resume); undefined
   * unless a publication is accepted and the session is sound. The caller stops feeding this one.
   */
  snapshot(): RtmpSessionSnapshot | undefined {
    const pub = this.publication;
    const conn = this.connectInfo;
    if (this.phase !== 'publishing' || pub === undefined || conn === undefined || this.hs !== null) return undefined;
    const reader = this.reader.snapshot();
    if (reader === undefined) return undefined;
    return {
      connect: { app: conn.app, query: conn.query, tcUrl: conn.tcUrl, flashVer: conn.flashVer, objectEncoding: conn.objectEncoding },
      publication: { ...pub, params: { ...pub.params } },
      stats: { ...this.stats },
      ...(this.lastPong !== undefined ? { lastPong: this.lastPong } : {}),
      nextStreamId: this.nextStreamId,
      streams: [...this.streams],
      peerWindow: this.peerWindow,
      lastAcked: this.lastAcked,
      objectEncoding: this.objectEncoding,
      outChunkSize: this.writer.chunkSize,
      reader,
    };
  }

  /**
   * A session taken over from a snapshot, publishing (authorized: the full message limit applies).
   * An inconsistent snapshot ends it at once (handler.close with the reason).
   */
  static resume(snap: RtmpSessionSnapshot, handler: RtmpSessionHandler, options: Omit<RtmpSessionOptions, 'preAuthBudget'> = {}): RtmpServerSession {
    const s = new RtmpServerSession(handler, options);
    s.hs = null;
    s.authorized = true;
    s.reader.setLimits({ maxMessageSize: s.opts.maxMessageSize });
    s.connectInfo = { ...snap.connect, command: {} };
    s.publication = { ...snap.publication, params: { ...snap.publication.params } };
    s.phase = 'publishing';
    Object.assign(s.stats, snap.stats);
    s.lastPong = snap.lastPong;
    s.nextStreamId = snap.nextStreamId;
    for (const id of snap.streams) s.streams.add(id);
    s.peerWindow = snap.peerWindow;
    s.lastAcked = snap.lastAcked;
    s.objectEncoding = snap.objectEncoding;
    s.writer.chunkSize = snap.outChunkSize;
    s.reader.restore(snap.reader);
    return s;
  }

  get closed(): boolean {
    return this.phase === 'closed';
  }

  /** Feeds bytes received from the peer. Never throws. */
  push(data: Buffer): void {
    if (this.phase === 'closed' || data.length === 0) return;
    this.stats.bytesIn += data.length;
    try {
      let rest = data;
      if (this.hs !== null) {
        const consumed = this.handshake(data);
        if (consumed < 0 || this.hs !== null) return;
        rest = data.subarray(consumed);
        if (rest.length === 0) return;
      }
      this.reader.push(rest);
      this.maybeAck();
    } catch (err) {
      // defensive: nothing above should throw on input, but a bug must not take the process down
      this.end(`internal error: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** Answers the pending publish with NetStream.Publish.Start. */
  acceptPublish(): void {
    const req = this.pendingPublish;
    if (req === undefined || this.phase === 'closed') return;
    this.pendingPublish = undefined;
    this.publication = req;
    this.phase = 'publishing';
    if (!this.authorized) {
      // authorized: media messages may now be as large as the full limit, off the shared budget
      this.authorized = true;
      this.reader.setLimits({ maxMessageSize: this.opts.maxMessageSize });
    }
    this.userControl(UserControlEvent.StreamBegin, req.streamId);
    this.onStatus(req.streamId, 'status', 'NetStream.Publish.Start', `${req.name} is now published.`, req.name);
  }

  /**
   * Answers the pending publish with an error status and ends the session.
   * @param code e.g. "NetStream.Publish.BadName" (name busy/invalid) or "NetStream.Publish.Rejected" (auth)
   */
  rejectPublish(code: string, description: string): void {
    const req = this.pendingPublish;
    if (this.phase === 'closed') return;
    this.pendingPublish = undefined;
    this.onStatus(req?.streamId ?? 1, 'error', code, description, req?.name);
    this.end(`publish rejected: ${code}: ${description}`);
  }

  /** Sends a User Control Ping Request; the answer lands in `lastPong`. */
  ping(timestamp: number): void {
    if (this.phase === 'closed' || this.hs !== null) return;
    const b = Buffer.allocUnsafe(6);
    b.writeUInt16BE(UserControlEvent.PingRequest, 0);
    b.writeUInt32BE(timestamp >>> 0, 2);
    this.sendMessage(CSID_CONTROL, MessageType.UserControl, 0, b);
  }

  /** Ends the session (idempotent). */
  end(reason: string): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    this.closeReason = reason;
    this.reader.stop();
    this.hs = null;
    this.handler.close?.(reason);
  }

  // ------------------------------------------------------------------------------------------

  /**
   * A chunk-level error ends the session. Before connect succeeded the peer is most likely sending
   * its connect (an oversized or broken one): it gets `_error` with the reason first, as a client
   * reports a connect error (transaction 1 is every client's connect).
   */
  private protocolError(reason: string): void {
    if (this.phase === 'connecting') {
      this.command(CSID_COMMAND, 0, '_error', 1, null, { level: 'error', code: 'NetConnection.Connect.Rejected', description: `protocol error: ${reason}` });
    }
    this.end(`protocol error: ${reason}`);
  }

  /** Returns bytes of `data` consumed by the handshake, -1 when it failed. */
  private handshake(data: Buffer): number {
    const hs = this.hs!;
    const want = this.hsStage === 0 ? 1 + HANDSHAKE_SIZE : HANDSHAKE_SIZE;
    if (this.hsStage === 0 && this.hsLen === 0 && data[0] !== RTMP_VERSION) {
      const v = data[0]!;
      this.end(v === 6 || v === 8 ? 'encrypted RTMP (RTMPE) is not supported' : `not RTMP: first byte 0x${v.toString(16)}`);
      return -1;
    }
    const take = Math.min(want - this.hsLen, data.length);
    data.copy(hs, this.hsLen, 0, take);
    this.hsLen += take;
    if (this.hsLen < want) return take;
    if (this.hsStage === 0) {
      const reply = serverHandshake(hs.subarray(1, 1 + HANDSHAKE_SIZE), this.opts.uptimeMs);
      this.out(reply);
      this.hsStage = 1;
      this.hsLen = 0;
      if (this.phase === 'closed') return -1;
      const more = data.subarray(take);
      if (more.length === 0) return take;
      const n = this.handshake(more);
      return n < 0 ? n : take + n;
    }
    // C2 complete (content ignored: clients echo S1, or not)
    this.hs = null;
    this.phase = 'connecting';
    return take;
  }

  private out(bytes: Buffer): void {
    this.stats.bytesOut += bytes.length;
    this.handler.send(bytes);
  }

  private sendMessage(csid: number, type: number, streamId: number, payload: Buffer, timestamp = 0): void {
    if (this.phase === 'closed') return;
    this.out(this.writer.write({ csid, type, streamId, timestamp, payload }));
  }

  private control(type: number, value: number, extra?: number): void {
    const b = Buffer.allocUnsafe(extra === undefined ? 4 : 5);
    b.writeUInt32BE(value >>> 0, 0);
    if (extra !== undefined) b[4] = extra;
    this.sendMessage(CSID_CONTROL, type, 0, b);
  }

  private userControl(event: number, value: number): void {
    const b = Buffer.allocUnsafe(6);
    b.writeUInt16BE(event, 0);
    b.writeUInt32BE(value >>> 0, 2);
    this.sendMessage(CSID_CONTROL, MessageType.UserControl, 0, b);
  }

  private command(csid: number, streamId: number, ...values: unknown[]): void {
    this.sendMessage(csid, MessageType.CommandAmf0, streamId, encodeAmf0(...values));
  }

  private onStatus(streamId: number, level: string, code: string, description: string, details?: string): void {
    const info: Record<string, unknown> = { level, code, description };
    if (details !== undefined) info.details = details;
    this.command(CSID_STATUS, streamId, 'onStatus', 0, null, info);
  }

  private maybeAck(): void {
    if (this.peerWindow <= 0 || this.phase === 'closed') return;
    if (this.stats.bytesIn - this.lastAcked >= this.peerWindow) {
      this.lastAcked = this.stats.bytesIn;
      this.control(MessageType.Acknowledgement, this.stats.bytesIn % 0x100000000);
    }
  }

  private onMessage(m: RtmpMessage): void {
    if (this.phase === 'closed') return;
    this.stats.messagesIn++;
    switch (m.type) {
      case MessageType.Audio:
      case MessageType.Video:
        this.onMedia(m.type === MessageType.Audio ? 'audio' : 'video', m.streamId, m.timestamp, m.payload);
        return;
      case MessageType.CommandAmf0:
        this.onCommand(m, 0);
        return;
      case MessageType.CommandAmf3:
        // AMF3 command messages start with a format byte (0) followed by AMF0 values
        this.onCommand(m, 1);
        return;
      case MessageType.DataAmf0:
        this.onData(m, 0);
        return;
      case MessageType.DataAmf3:
        this.onData(m, 1);
        return;
      case MessageType.SetChunkSize:
      case MessageType.Abort:
      case MessageType.Acknowledgement:
        return; // chunk size / abort already applied by the reader; acks need nothing
      case MessageType.WindowAckSize:
        if (m.payload.length >= 4) this.peerWindow = m.payload.readUInt32BE(0);
        return;
      case MessageType.SetPeerBandwidth:
        return;
      case MessageType.UserControl:
        this.onUserControl(m.payload);
        return;
      case MessageType.Aggregate:
        this.onAggregate(m);
        return;
      default:
        return; // shared objects and unknown types: ignored
    }
  }

  private onMedia(kind: 'audio' | 'video', streamId: number, timestamp: number, payload: Buffer): void {
    const pub = this.publication;
    if (pub === undefined || streamId !== pub.streamId || payload.length === 0) {
      this.stats.droppedMessages++;
      return;
    }
    this.stats.mediaMessages++;
    this.handler.media?.({ kind, timestamp, streamId, payload });
  }

  private onAggregate(m: RtmpMessage): void {
    // FLV-like sub tags: type u8, size u24, ts u24, ts-ext u8, stream id u24, data, back pointer u32
    const p = m.payload;
    let pos = 0;
    let base: number | undefined;
    while (pos + 11 <= p.length && this.phase !== 'closed') {
      const type = p[pos]!;
      const size = (p[pos + 1]! << 16) | (p[pos + 2]! << 8) | p[pos + 3]!;
      const ts = ((p[pos + 7]! << 24) | (p[pos + 4]! << 16) | (p[pos + 5]! << 8) | p[pos + 6]!) >>> 0;
      const start = pos + 11;
      if (start + size > p.length) break;
      base ??= ts;
      const timestamp = (m.timestamp + ts - base) >>> 0;
      if (type === MessageType.Audio || type === MessageType.Video) {
        this.onMedia(type === MessageType.Audio ? 'audio' : 'video', m.streamId, timestamp, p.subarray(start, start + size));
      }
      pos = start + size + 4;
    }
  }

  private onUserControl(p: Buffer): void {
    if (p.length < 6) return;
    const event = p.readUInt16BE(0);
    const value = p.readUInt32BE(2);
    if (event === UserControlEvent.PingRequest) this.userControl(UserControlEvent.PingResponse, value);
    else if (event === UserControlEvent.PingResponse) this.lastPong = value;
  }

  private onData(m: RtmpMessage, skip: number): void {
    if (m.payload.length <= skip) return;
    const { values } = decodeAmf0(m.payload, skip);
    let i = 0;
    if (values[0] === '@setDataFrame') i = 1;
    if (values[i] !== 'onMetaData') return;
    const data = values[i + 1];
    if (!isObject(data)) return;
    const pub = this.publication;
    if (pub === undefined || m.streamId !== pub.streamId) return;
    this.handler.metadata?.(data);
  }

  private onCommand(m: RtmpMessage, skip: number): void {
    if (m.payload.length <= skip) return;
    const { values, error } = decodeAmf0(m.payload, skip);
    const name = values[0];
    if (typeof name !== 'string') {
      if (error !== undefined) this.end(`bad command message: ${error}`);
      return;
    }
    const tx = typeof values[1] === 'number' ? values[1] : 0;
    if (error !== undefined) {
      // a command whose arguments do not decode (too deep, a length past the data …) is never
      // acted on with what was read so far: answered _error with the reason, then the session ends
      const connect = name === 'connect';
      const reason = `malformed ${connect ? 'connect' : 'command'}: ${error}`;
      this.command(CSID_COMMAND, 0, '_error', tx, null, {
        level: 'error',
        code: connect ? 'NetConnection.Connect.Rejected' : 'NetConnection.Call.Failed',
        description: reason,
      });
      this.end(reason);
      return;
    }
    switch (name) {
      case 'connect':
        this.onConnect(tx, values[2]);
        return;
      case 'releaseStream':
        this.command(CSID_COMMAND, 0, '_result', tx, null);
        return;
      case 'FCPublish': {
        const n = str(values[3]);
        this.command(CSID_COMMAND, 0, 'onFCPublish', 0, null, { code: 'NetStream.Publish.Start', description: n });
        return;
      }
      case 'createStream': {
        if (this.connectInfo === undefined) {
          this.end('createStream before connect');
          return;
        }
        if (this.streams.size >= 16) {
          this.end('too many streams created');
          return;
        }
        const id = this.nextStreamId++;
        this.streams.add(id);
        this.command(CSID_COMMAND, 0, '_result', tx, null, id);
        return;
      }
      case 'publish':
        this.onPublish(m.streamId, values);
        return;
      case 'FCUnpublish': {
        const n = str(values[3]);
        this.command(CSID_COMMAND, 0, 'onFCUnpublish', 0, null, { code: 'NetStream.Unpublish.Success', description: n });
        this.stopPublishing('FCUnpublish');
        return;
      }
      case 'closeStream':
        if (this.publication?.streamId === m.streamId || m.streamId === 0) this.stopPublishing('closeStream');
        return;
      case 'deleteStream': {
        const id = typeof values[3] === 'number' ? values[3] : m.streamId;
        this.streams.delete(id);
        if (this.publication?.streamId === id) this.stopPublishing('deleteStream');
        return;
      }
      case 'play':
      case 'play2':
        this.onStatus(m.streamId, 'error', 'NetStream.Play.Failed', 'playback is not served over RTMP by this server');
        return;
      case 'getStreamLength':
      case '_checkbw':
      case '_result':
      case '_error':
      case 'onStatus':
      case 'receiveAudio':
      case 'receiveVideo':
      case 'pause':
      case 'seek':
        return;
      default:
        if (tx > 0) {
          this.command(CSID_COMMAND, 0, '_error', tx, null, {
            level: 'error',
            code: 'NetConnection.Call.Failed',
            description: `unknown method ${name.slice(0, 64)}`,
          });
        }
        return;
    }
  }

  private onConnect(tx: number, obj: Amf0Value | undefined): void {
    if (this.connectInfo !== undefined) {
      this.end('connect received twice');
      return;
    }
    const cmd = isObject(obj) ? obj : {};
    const [appRaw, query] = splitQuery(str(cmd.app));
    const app = appRaw.replace(/^\/+|\/+$/g, '');
    const objectEncoding = typeof cmd.objectEncoding === 'number' ? cmd.objectEncoding : 0;
    this.objectEncoding = objectEncoding;
    this.connectInfo = { app, query, tcUrl: str(cmd.tcUrl), flashVer: str(cmd.flashVer), objectEncoding, command: cmd };
    this.phase = 'connected';
    this.control(MessageType.WindowAckSize, this.opts.windowAckSize);
    this.control(MessageType.SetPeerBandwidth, this.opts.peerBandwidth, 2);
    this.control(MessageType.SetChunkSize, this.opts.outChunkSize);
    this.writer.chunkSize = this.opts.outChunkSize;
    this.command(
      CSID_COMMAND,
      0,
      '_result',
      tx,
      { fmsVer: 'FMS/3,5,7,7009', capabilities: 31, mode: 1 },
      {
        level: 'status',
        code: 'NetConnection.Connect.Success',
        description: 'Connection succeeded.',
        objectEncoding: this.objectEncoding,
      },
    );
    this.handler.connect?.(this.connectInfo);
  }

  private onPublish(streamId: number, values: Amf0Value[]): void {
    const conn = this.connectInfo;
    if (conn === undefined) {
      this.end('publish before connect');
      return;
    }
    const [name, nameQuery] = splitQuery(str(values[3]));
    const req: PublishRequest = {
      app: conn.app,
      name: name.replace(/^\/+/, ''),
      query: [conn.query, nameQuery].filter((q) => q !== '').join('&'),
      params: {},
      tcUrl: conn.tcUrl,
      type: str(values[4]) || 'live',
      streamId,
    };
    req.params = { ...parseParams(conn.query), ...parseParams(nameQuery) };
    if (this.publication !== undefined || this.pendingPublish !== undefined) {
      this.onStatus(streamId, 'error', 'NetStream.Publish.BadName', 'this connection is already publishing', req.name);
      return;
    }
    this.pendingPublish = req;
    if (this.handler.publish === undefined) this.acceptPublish();
    else this.handler.publish(req);
  }

  private stopPublishing(reason: string): void {
    if (this.pendingPublish !== undefined) this.pendingPublish = undefined;
    if (this.publication === undefined) return;
    this.publication = undefined;
    if (this.phase === 'publishing') this.phase = 'connected';
    this.handler.unpublish?.(reason);
  }
}
