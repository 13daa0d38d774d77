/**
 * RTMP chunk stream: parser (ChunkReader) and serializer (ChunkWriter).
 *
 * Wire format (per chunk): basic header (1–3 bytes: fmt:2 + csid, csid 0 → 2-byte form 64+b1,
 * csid 1 → 3-byte form 64+b1+256*b2), message header (fmt 0: 11 bytes, 1: 7, 2: 3, 3: 0),
 * optional 4-byte extended timestamp (when the 24-bit field is 0xFFFFFF), then up to `chunkSize`
 * payload bytes.
 *
 * Timestamp rules (the spec leaves some cases open; we follow FFmpeg/SRS, which agree with
 * librtmp and nginx-rtmp on everything real encoders send):
 * - fmt 0 carries the absolute timestamp; fmt 1/2 carry a delta added to the previous timestamp.
 * - fmt 3 starting a new message repeats the previous header's timestamp field: added as a delta
 *   (after fmt 0 that field was the absolute value, as in FFmpeg's own reader and writer).
 * - When the field was extended (0xFFFFFF), fmt 3 chunks carry the 4-byte extended timestamp too.
 *   On continuation chunks some old encoders omit it: there we consume the 4 bytes only when they
 *   equal the extended value of the message's first chunk (SRS does the same).
 * - Timestamps are unsigned 32-bit milliseconds and wrap.
 *
 * Payloads: a message that arrives whole in one input buffer is delivered as a subarray view of
 * that buffer (zero copy); otherwise it is assembled in one Buffer per message. Callers must
 * therefore not reuse the Buffers they push (socket 'data' Buffers are never reused).
 *
 * The reader never throws on bad input: a protocol error sets `error`, calls onError once and
 * ignores all further input.
 */
import { Buffer } from 'node:buffer';

export const MessageType = {
  SetChunkSize: 1,
  Abort: 2,
  Acknowledgement: 3,
  UserControl: 4,
  WindowAckSize: 5,
  SetPeerBandwidth: 6,
  Audio: 8,
  Video: 9,
  DataAmf3: 15,
  SharedObjectAmf3: 16,
  CommandAmf3: 17,
  DataAmf0: 18,
  SharedObjectAmf0: 19,
  CommandAmf0: 20,
  Aggregate: 22,
} as const;

export interface RtmpMessage {
  /** chunk stream id the message arrived on (2..65599) */
  csid: number;
  /** message type id (see MessageType) */
  type: number;
  /** message stream id (0 = NetConnection) */
  streamId: number;
  /** milliseconds, unsigned 32-bit (wraps) */
  timestamp: number;
  payload: Buffer;
}

export const DEFAULT_CHUNK_SIZE = 128;
export const DEFAULT_MAX_MESSAGE_SIZE = 16 * 1024 * 1024;
const MAX_CSID = 65599;
/** Messages up to this size get their whole buffer at once; bigger ones grow as bytes arrive. */
const EAGER_ALLOC = 256 * 1024;

interface ChunkStreamState {
  csid: number;
  /** absolute timestamp of the current/last message */
  timestamp: number;
  /** last timestamp field value (absolute after fmt 0, delta after fmt 1/2), extended value resolved */
  tsField: number;
  /** the last fmt 0/1/2 header used an extended timestamp */
  extended: boolean;
  length: number;
  type: number;
  streamId: number;
  /** message being assembled (null between messages) */
  buf: Buffer | null;
  received: number;
}

export interface ChunkReaderOptions {
  /** largest accepted message length (default 16 MiB); bigger declared lengths are a protocol error */
  maxMessageSize?: number;
  /** largest total of partially received messages across chunk streams (default 2 × maxMessageSize) */
  maxPendingBytes?: number;
  /**
   * A byte budget shared with other readers (e.g. every unauthenticated connection of a server):
   * buffers for partially received messages are taken from it too and given back when delivered,
   * dropped, or when the reader stops or fails. Detach it with `setLimits`.
   */
  budget?: ByteBudget;
}

/** A pool of bytes shared by several readers. */
export interface ByteBudget {
  /** bytes held now */
  used: number;
  /** most bytes that may be held at once */
  readonly limit: number;
}

/**
 * The parse state of a ChunkReader, to carry a connection over to another reader (another
 * process: the RTMP handoff). Plain JSON; bytes are base64. Limits and the budget are not part of
 * it: the reader that resumes applies its own.
 */
export interface ChunkReaderSnapshot {
  chunkSize: number;
  requestedChunkSize: number;
  /** every chunk stream seen, with the header state later chunks are read against */
  streams: (Omit<ChunkStreamState, 'buf' | 'received'> & {
    /** the message being assembled (base64 of the bytes received so far, maybe none), absent between messages */
    partial?: string;
  })[];
  /** inside a chunk's payload: the chunk stream and the payload bytes left in that chunk */
  payload?: { csid: number; chunkLeft: number };
  /** bytes of a chunk header cut by the end of the input (base64) */
  header?: string;
}

const enum St {
  Header = 0,
  Payload = 1,
}

export class ChunkReader {
  /** incoming chunk size (changed by Set Chunk Size messages, handled internally) */
  chunkSize = DEFAULT_CHUNK_SIZE;
  /** first protocol error; once set, all input is ignored */
  error: string | undefined;

  private maxMessageSize: number;
  private maxPending: number;
  private budget: ByteBudget | undefined;
  /** chunk size the peer asked for (chunkSize is this clamped to maxMessageSize) */
  private requestedChunkSize = DEFAULT_CHUNK_SIZE;
  private pending = 0;
  private readonly streams: (ChunkStreamState | undefined)[] = [];
  private state = St.Header;
  private cur: ChunkStreamState | null = null;
  /** payload bytes left in the current chunk */
  private chunkLeft = 0;
  /** a header split across two pushes is assembled here */
  private readonly scratch = Buffer.alloc(32);
  private partial = 0;
  private stopped = false;

  constructor(
    private readonly onMessage: (msg: RtmpMessage) => void,
    private readonly onError: (reason: string) => void = () => {},
    options: ChunkReaderOptions = {},
  ) {
    this.maxMessageSize = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    this.maxPending = options.maxPendingBytes ?? 2 * this.maxMessageSize;
    this.budget = options.budget;
  }

  /**
   * New limits (e.g. raised once a publisher is authorized). The shared budget is given back and
   * detached unless `budget` names one. Buffers already held stay (they are within the old limits).
   */
  setLimits(limits: { maxMessageSize: number; maxPendingBytes?: number; budget?: ByteBudget }): void {
    if (this.budget !== undefined) this.budget.used -= this.pending;
    this.budget = limits.budget;
    if (this.budget !== undefined) this.budget.used += this.pending;
    this.maxMessageSize = limits.maxMessageSize;
    this.maxPending = limits.maxPendingBytes ?? 2 * limits.maxMessageSize;
    // the clamp below depends on the limit: a message no larger than it arrives whole in one chunk
    // of the peer's size, so re-deriving the chunk size keeps the parse exact
    this.chunkSize = Math.min(this.requestedChunkSize, this.maxMessageSize);
  }

  /**
   * The parse state, to resume in another reader with `restore`. Undefined once stopped or failed.
   * Pure copy: this reader goes on unchanged.
   */
  snapshot(): ChunkReaderSnapshot | undefined {
    if (this.error !== undefined || this.stopped) return undefined;
    const streams: ChunkReaderSnapshot['streams'] = [];
    for (const s of this.streams) {
      if (s === undefined) continue;
      const { csid, timestamp, tsField, extended, length, type, streamId } = s;
      const partial = s.buf !== null ? s.buf.toString('base64', 0, s.received) : undefined;
      streams.push(partial === undefined ? { csid, timestamp, tsField, extended, length, type, streamId } : { csid, timestamp, tsField, extended, length, type, streamId, partial });
    }
    const snap: ChunkReaderSnapshot = { chunkSize: this.chunkSize, requestedChunkSize: this.requestedChunkSize, streams };
    if (this.state === St.Payload && this.cur !== null) snap.payload = { csid: this.cur.csid, chunkLeft: this.chunkLeft };
    if (this.partial > 0) snap.header = this.scratch.toString('base64', 0, this.partial);
    return snap;
  }

  /**
   * Takes over a snapshot of another reader (a fresh reader, before any push). Returns the reason
   * when the snapshot is inconsistent or does not fit this reader's limits; the reader then fails
   * (onError) as on bad input.
   */
  restore(snap: ChunkReaderSnapshot): string | undefined {
    const bad = (why: string): string => {
      this.fail(`cannot resume the chunk stream: ${why}`);
      return this.error!;
    };
    const int = (v: unknown, min: number, max: number): boolean => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
    if (!int(snap.requestedChunkSize, 1, 0x7fffffff)) return bad('chunk size');
    this.requestedChunkSize = snap.requestedChunkSize;
    this.chunkSize = Math.min(snap.requestedChunkSize, this.maxMessageSize);
    if (!Array.isArray(snap.streams) || snap.streams.length > MAX_CSID) return bad('chunk streams');
    for (const x of snap.streams) {
      if (!int(x.csid, 2, MAX_CSID) || !int(x.length, 0, this.maxMessageSize) || !int(x.type, 0, 255)) return bad(`chunk stream ${String(x.csid)}`);
      if (!int(x.timestamp, 0, 0xffffffff) || !int(x.tsField, 0, 0xffffffff) || !int(x.streamId, 0, 0xffffffff)) return bad(`chunk stream ${x.csid}`);
      const s: ChunkStreamState = { csid: x.csid, timestamp: x.timestamp, tsField: x.tsField, extended: x.extended === true, length: x.length, type: x.type, streamId: x.streamId, buf: null, received: 0 };
      if (typeof x.partial === 'string') {
        const got = Buffer.from(x.partial, 'base64');
        if (got.length >= x.length) return bad(`partial message of chunk stream ${x.csid}`);
        const alloc = Math.max(got.length, Math.min(x.length, EAGER_ALLOC));
        const refused = this.reserve(alloc);
        if (refused !== undefined) return bad(refused);
        s.buf = Buffer.allocUnsafe(alloc);
        got.copy(s.buf);
        s.received = got.length;
      }
      this.streams[x.csid] = s;
    }
    if (snap.payload !== undefined) {
      const s = this.streams[snap.payload.csid];
      if (s === undefined || s.buf === null || !int(snap.payload.chunkLeft, 1, Math.min(this.chunkSize, s.length - s.received))) return bad('chunk in progress');
      this.cur = s;
      this.chunkLeft = snap.payload.chunkLeft;
      this.state = St.Payload;
    }
    if (typeof snap.header === 'string') {
      const h = Buffer.from(snap.header, 'base64');
      if (h.length === 0 || h.length > this.scratch.length) return bad('cut header');
      h.copy(this.scratch);
      this.partial = h.length;
    }
    return undefined;
  }

  /** bytes held for partially received messages */
  get pendingBytes(): number {
    return this.pending;
  }

  /** Stops delivering messages (e.g. the session ended inside a callback) and frees its buffers. */
  stop(): void {
    this.stopped = true;
    this.freeAll();
  }

  private freeAll(): void {
    for (const s of this.streams) if (s !== undefined) this.release(s);
    if (this.budget !== undefined) {
      this.budget.used -= this.pending;
      this.budget = undefined;
    }
    this.pending = 0;
  }

  /** Takes n bytes for message buffers; the reason when this reader's or the shared limit is reached. */
  private reserve(n: number): string | undefined {
    if (this.pending + n > this.maxPending) return `partially received messages exceed ${this.maxPending} bytes`;
    const b = this.budget;
    if (b !== undefined) {
      if (b.used + n > b.limit) return `buffers of unauthenticated connections exceed ${b.limit} bytes`;
      b.used += n;
    }
    this.pending += n;
    return undefined;
  }

  private free(n: number): void {
    this.pending -= n;
    if (this.budget !== undefined) this.budget.used -= n;
  }

  /** Feeds bytes. Returns false once a protocol error happened or the reader was stopped. Never throws. */
  push(data: Buffer): boolean {
    try {
      return this.pushInner(data);
    } catch (err) {
      // a bug, not the peer's fault, but it must not escape: end this stream only
      this.fail(`internal chunk parser error: ${err instanceof Error ? err.message : String(err)}`);
      return false;
    }
  }

  private pushInner(data: Buffer): boolean {
    if (this.error !== undefined || this.stopped) return false;
    const end = data.length;
    let pos = 0;

    if (this.partial > 0) {
      // finish a header that straddled the previous push
      const take = Math.min(end, this.scratch.length - this.partial);
      data.copy(this.scratch, this.partial, 0, take);
      const avail = this.partial + take;
      const n = this.parseHeader(this.scratch, 0, avail, data);
      if (n < 0) return false;
      if (n === 0) {
        this.partial = avail;
        return true;
      }
      if (n < this.partial) {
        // the header ended inside the kept bytes (a peek for an omitted extended timestamp
        // needed more bytes than the header took): replay the rest of them, then all of data
        const leftover = Buffer.from(this.scratch.subarray(n, this.partial));
        this.partial = 0;
        if (this.error !== undefined || this.stopped || !this.pushInner(leftover)) return false;
        return this.pushInner(data);
      }
      pos = n - this.partial;
      this.partial = 0;
      if (this.error !== undefined || this.stopped) return false;
    }

    while (pos < end) {
      if (this.state === St.Payload) {
        pos = this.copyPayload(data, pos, end);
        if (this.error !== undefined || this.stopped) return false;
        continue;
      }
      const n = this.parseHeader(data, pos, end, data);
      if (n < 0) return false;
      if (n === 0) {
        // incomplete header: keep its bytes (at most 18 are ever needed)
        data.copy(this.scratch, 0, pos, end);
        this.partial = end - pos;
        return true;
      }
      pos += n;
      if (this.error !== undefined || this.stopped) return false;
    }
    return true;
  }

  private fail(reason: string): -1 {
    if (this.error === undefined) {
      this.error = reason;
      this.freeAll();
      this.onError(reason);
    }
    return -1;
  }

  /**
   * Parses one chunk header at buf[p, end). Returns bytes consumed, 0 when more bytes are needed
   * (nothing is changed then), -1 on a protocol error. When the header completes, state moves to
   * Payload (or a message that is whole in `buf` is delivered at once). `data` is the caller's
   * input buffer: zero-copy delivery only happens when parsing straight from it.
   */
  private parseHeader(buf: Buffer, p: number, end: number, data: Buffer): number {
    const start = p;
    if (p >= end) return 0;
    const b0 = buf[p++]!;
    const fmt = b0 >> 6;
    let csid = b0 & 0x3f;
    if (csid === 0) {
      if (p + 1 > end) return 0;
      csid = 64 + buf[p]!;
      p += 1;
    } else if (csid === 1) {
      if (p + 2 > end) return 0;
      csid = 64 + buf[p]! + buf[p + 1]! * 256;
      p += 2;
    }
    const st = this.streams[csid];
    let tsField: number;
    let length: number;
    let type: number;
    let streamId: number;
    let extended: boolean;
    const continuing = st !== undefined && st.buf !== null && st.received < st.length;

    if (fmt === 3) {
      if (st === undefined) {
        return this.fail(`chunk fmt 3 on chunk stream ${csid} without a previous header`);
      }
      extended = st.extended;
      length = st.length;
      type = st.type;
      streamId = st.streamId;
      tsField = st.tsField;
      if (extended) {
        if (p + 4 > end) return 0;
        const ext = buf.readUInt32BE(p);
        if (!continuing) {
          tsField = ext;
          p += 4;
        } else if (ext === st.tsField) {
          p += 4;
        }
      }
    } else {
      const hl = fmt === 0 ? 11 : fmt === 1 ? 7 : 3;
      if (p + hl > end) return 0;
      tsField = (buf[p]! << 16) | (buf[p + 1]! << 8) | buf[p + 2]!;
      if (fmt <= 1) {
        length = (buf[p + 3]! << 16) | (buf[p + 4]! << 8) | buf[p + 5]!;
        type = buf[p + 6]!;
        streamId = fmt === 0 ? buf.readUInt32LE(p + 7) : (st?.streamId ?? 0);
      } else {
        length = st?.length ?? 0;
        type = st?.type ?? 0;
        streamId = st?.streamId ?? 0;
      }
      p += hl;
      extended = tsField === 0xffffff;
      if (extended) {
        if (p + 4 > end) return 0;
        tsField = buf.readUInt32BE(p);
        p += 4;
      }
      // lenient: a first header of fmt 1 on a chunk stream starts from timestamp 0 / stream 0
      if (fmt === 2 && st === undefined) {
        return this.fail(`chunk fmt 2 on chunk stream ${csid} without a previous header`);
      }
    }

    // header complete: commit
    let s = st;
    if (s === undefined) {
      s = { csid, timestamp: 0, tsField: 0, extended: false, length: 0, type: 0, streamId: 0, buf: null, received: 0 };
      this.streams[csid] = s;
    }
    if (fmt !== 3 || !continuing) {
      if (continuing) {
        // a new header in the middle of a message: the peer dropped the rest; so do we
        this.release(s);
      }
      if (length > this.maxMessageSize) {
        return this.fail(`message length ${length} exceeds limit ${this.maxMessageSize}`);
      }
      s.timestamp = fmt === 0 ? tsField : (s.timestamp + tsField) >>> 0;
      s.tsField = tsField;
      s.extended = extended;
      s.length = length;
      s.type = type;
      s.streamId = streamId;
      s.received = 0;
      s.buf = null;
      if (length === 0) {
        this.state = St.Header;
        this.deliver(s, Buffer.alloc(0));
        return p - start;
      }
      // zero copy: the whole message is in this chunk and already in the input buffer
      if (length <= this.chunkSize && buf === data && p + length <= end) {
        this.state = St.Header;
        this.deliver(s, data.subarray(p, p + length));
        return p - start + length;
      }
      const alloc = length <= EAGER_ALLOC ? length : EAGER_ALLOC;
      const refused = this.reserve(alloc);
      if (refused !== undefined) return this.fail(refused);
      s.buf = Buffer.allocUnsafe(alloc);
    }
    this.cur = s;
    this.chunkLeft = Math.min(s.length - s.received, this.chunkSize);
    this.state = St.Payload;
    return p - start;
  }

  private copyPayload(data: Buffer, pos: number, end: number): number {
    const s = this.cur!;
    const n = Math.min(this.chunkLeft, end - pos);
    let buf = s.buf!;
    const need = s.received + n;
    if (need > buf.length) {
      const size = Math.min(s.length, Math.max(buf.length * 2, need));
      const refused = this.reserve(size - buf.length);
      if (refused !== undefined) {
        this.fail(refused);
        return end;
      }
      const grown = Buffer.allocUnsafe(size);
      buf.copy(grown, 0, 0, s.received);
      buf = grown;
      s.buf = grown;
    }
    data.copy(buf, s.received, pos, pos + n);
    s.received += n;
    this.chunkLeft -= n;
    pos += n;
    if (this.chunkLeft === 0) {
      this.state = St.Header;
      if (s.received >= s.length) {
        const payload = buf.length === s.length ? buf : buf.subarray(0, s.length);
        this.free(buf.length);
        s.buf = null;
        this.deliver(s, payload);
      }
    }
    return pos;
  }

  private release(s: ChunkStreamState): void {
    if (s.buf !== null) {
      this.free(s.buf.length);
      s.buf = null;
    }
    s.received = 0;
  }

  private deliver(s: ChunkStreamState, payload: Buffer): void {
    // protocol control messages that change parsing are applied before anything else runs
    if (s.type === MessageType.SetChunkSize && s.streamId === 0) {
      if (payload.length < 4) {
        this.fail('Set Chunk Size message shorter than 4 bytes');
        return;
      }
      const size = payload.readUInt32BE(0) & 0x7fffffff;
      if (size < 1) {
        this.fail('Set Chunk Size of 0');
        return;
      }
      // a chunk size beyond the largest message changes nothing: clamp it
      this.requestedChunkSize = size;
      this.chunkSize = Math.min(size, this.maxMessageSize);
    } else if (s.type === MessageType.Abort && s.streamId === 0 && payload.length >= 4) {
      const csid = payload.readUInt32BE(0);
      const target = csid <= MAX_CSID ? this.streams[csid] : undefined;
      if (target !== undefined && target !== s) this.release(target);
    }
    this.onMessage({ csid: s.csid, type: s.type, streamId: s.streamId, timestamp: s.timestamp, payload });
  }
}

// ---------------------------------------------------------------------------------------------

export interface ChunkWriterOptions {
  /** write the extended timestamp on fmt 3 continuation chunks (spec, FFmpeg); default true */
  extendedOnContinuation?: boolean;
}

interface OutState {
  timestamp: number;
  tsField: number;
  length: number;
  type: number;
  streamId: number;
}

export interface OutgoingMessage {
  csid: number;
  type: number;
  streamId: number;
  timestamp: number;
  payload: Buffer;
}

function basicHeaderSize(csid: number): number {
  return csid < 64 ? 1 : csid < 320 ? 2 : 3;
}

function writeBasicHeader(buf: Buffer, pos: number, fmt: number, csid: number): number {
  if (csid < 64) {
    buf[pos] = (fmt << 6) | csid;
    return pos + 1;
  }
  if (csid < 320) {
    buf[pos] = fmt << 6;
    buf[pos + 1] = csid - 64;
    return pos + 2;
  }
  buf[pos] = (fmt << 6) | 1;
  buf[pos + 1] = (csid - 64) & 0xff;
  buf[pos + 2] = (csid - 64) >> 8;
  return pos + 3;
}

/**
 * Serializes messages into chunks at `chunkSize` (set it after sending Set Chunk Size). With
 * `compress` it picks the smallest header (fmt 1/2/3) allowed by the previous message on the same
 * chunk stream, like FFmpeg does; otherwise every message starts with fmt 0.
 */
export class ChunkWriter {
  chunkSize = DEFAULT_CHUNK_SIZE;
  private readonly prev = new Map<number, OutState>();
  private readonly extOnCont: boolean;

  constructor(options: ChunkWriterOptions = {}) {
    this.extOnCont = options.extendedOnContinuation ?? true;
  }

  write(msg: OutgoingMessage, compress = false): Buffer {
    const { csid, type, streamId, payload } = msg;
    if (csid < 2 || csid > MAX_CSID) throw new RangeError(`chunk stream id ${csid} out of range 2..65599`);
    const timestamp = msg.timestamp >>> 0;
    const length = payload.length;
    if (length > 0xffffff) throw new RangeError('message longer than 16 MiB - 1');
    const prev = this.prev.get(csid);
    let fmt = 0;
    let tsField = timestamp;
    if (compress && prev !== undefined && prev.streamId === streamId && timestamp >= prev.timestamp) {
      tsField = timestamp - prev.timestamp;
      if (prev.type === type && prev.length === length) fmt = tsField === prev.tsField ? 3 : 2;
      else fmt = 1;
    }
    const ext = tsField >= 0xffffff;
    const bh = basicHeaderSize(csid);
    const mh = fmt === 0 ? 11 : fmt === 1 ? 7 : fmt === 2 ? 3 : 0;
    // a fmt 3 header repeats the previous field, so it carries the extended value when that was extended
    const extFirst = fmt === 3 ? prev!.tsField >= 0xffffff : ext;
    const chunks = length === 0 ? 1 : Math.ceil(length / this.chunkSize);
    const contHeader = bh + (extFirst && this.extOnCont ? 4 : 0);
    const size = bh + mh + (extFirst ? 4 : 0) + length + (chunks - 1) * contHeader;
    const out = Buffer.allocUnsafe(size);
    let pos = writeBasicHeader(out, 0, fmt, csid);
    if (fmt <= 2) {
      const f = ext ? 0xffffff : tsField;
      out[pos] = f >>> 16;
      out[pos + 1] = (f >>> 8) & 0xff;
      out[pos + 2] = f & 0xff;
      pos += 3;
      if (fmt <= 1) {
        out[pos] = length >>> 16;
        out[pos + 1] = (length >>> 8) & 0xff;
        out[pos + 2] = length & 0xff;
        out[pos + 3] = type;
        pos += 4;
        if (fmt === 0) {
          out.writeUInt32LE(streamId >>> 0, pos);
          pos += 4;
        }
      }
    }
    if (extFirst) {
      out.writeUInt32BE(tsField >>> 0, pos);
      pos += 4;
    }
    let off = 0;
    for (let i = 0; i < chunks; i++) {
      if (i > 0) {
        pos = writeBasicHeader(out, pos, 3, csid);
        if (extFirst && this.extOnCont) {
          out.writeUInt32BE(tsField >>> 0, pos);
          pos += 4;
        }
      }
      const n = Math.min(this.chunkSize, length - off);
      payload.copy(out, pos, off, off + n);
      pos += n;
      off += n;
    }
    this.prev.set(csid, { timestamp, tsField, length, type, streamId });
    return out;
  }
}
