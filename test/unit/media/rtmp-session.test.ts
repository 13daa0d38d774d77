import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { decodeAmf0, ecmaArray, encodeAmf0, type Amf0Value } from '../../../src/media/rtmp/amf0.js';
import { ChunkReader, ChunkWriter, MessageType, type RtmpMessage } from '../../../src/media/rtmp/chunk.js';
import { clientHandshakeFinish, clientHandshakeStart, HANDSHAKE_SIZE } from '../../../src/media/rtmp/handshake.js';
import {
  RtmpServerSession,
  type ConnectInfo,
  type MediaMessage,
  type PublishRequest,
  type RtmpSessionHandler,
} from '../../../src/media/rtmp/session.js';

/** A session plus everything it reported. */
function harness(opts: { autoAccept?: boolean; maxMessageSize?: number } = {}) {
  const out: Buffer[] = [];
  const events = {
    connect: [] as ConnectInfo[],
    publish: [] as PublishRequest[],
    media: [] as MediaMessage[],
    metadata: [] as Record<string, unknown>[],
    unpublish: [] as string[],
    close: [] as string[],
  };
  let session!: RtmpServerSession;
  const handler: RtmpSessionHandler = {
    send: (b) => out.push(Buffer.from(b)),
    connect: (i) => events.connect.push(i),
    publish: (r) => {
      events.publish.push(r);
      if (opts.autoAccept) session.acceptPublish();
    },
    media: (m) => events.media.push({ ...m, payload: Buffer.from(m.payload) }),
    metadata: (d) => events.metadata.push(d),
    unpublish: (r) => events.unpublish.push(r),
    close: (r) => events.close.push(r),
  };
  session = new RtmpServerSession(handler, { maxMessageSize: opts.maxMessageSize, uptimeMs: 1234 });
  return { session, out, events };
}

/** Client side: produces a publisher's byte stream and parses the server's answers. */
class Client {
  readonly c0c1 = clientHandshakeStart(0, 777, 0x09007c02); // digest-style version like FFmpeg
  private readonly w = new ChunkWriter();
  readonly received: RtmpMessage[] = [];
  private readonly reader = new ChunkReader((m) => this.received.push({ ...m, payload: Buffer.from(m.payload) }));
  private hs: Buffer | null = Buffer.alloc(0);
  c2: Buffer | undefined;

  constructor(chunkSize = 128) {
    this.w.chunkSize = chunkSize;
  }

  /** feed server output */
  take(bytes: Buffer[]): void {
    for (const b of bytes.splice(0)) {
      if (this.hs !== null) {
        this.hs = Buffer.concat([this.hs, b]);
        if (this.hs.length >= 1 + 2 * HANDSHAKE_SIZE) {
          const c2 = clientHandshakeFinish(this.hs, this.c0c1.subarray(1));
          assert.ok(Buffer.isBuffer(c2), String(c2));
          this.c2 = c2;
          const rest = this.hs.subarray(1 + 2 * HANDSHAKE_SIZE);
          this.hs = null;
          if (rest.length) this.reader.push(rest);
        }
      } else this.reader.push(b);
    }
  }

  setChunkSize(size: number): Buffer {
    const p = Buffer.alloc(4);
    p.writeUInt32BE(size);
    const b = this.w.write({ csid: 2, type: MessageType.SetChunkSize, streamId: 0, timestamp: 0, payload: p });
    this.w.chunkSize = size;
    return b;
  }

  command(streamId: number, ...values: unknown[]): Buffer {
    return this.w.write({ csid: 3, type: MessageType.CommandAmf0, streamId, timestamp: 0, payload: encodeAmf0(...values) });
  }

  data(streamId: number, ...values: unknown[]): Buffer {
    return this.w.write({ csid: 4, type: MessageType.DataAmf0, streamId, timestamp: 0, payload: encodeAmf0(...values) });
  }

  media(type: number, streamId: number, timestamp: number, payload: Buffer): Buffer {
    return this.w.write({ csid: type === MessageType.Audio ? 4 : 6, type, streamId, timestamp, payload }, true);
  }

  raw(type: number, payload: Buffer, csid = 2, streamId = 0): Buffer {
    return this.w.write({ csid, type, streamId, timestamp: 0, payload });
  }

  commands(): Amf0Value[][] {
    return this.received.filter((m) => m.type === MessageType.CommandAmf0).map((m) => decodeAmf0(m.payload).values);
  }
}

function publisherStream(c: Client, name = 'test?key=abc') {
  const head = [
    c.c0c1,
    Buffer.alloc(HANDSHAKE_SIZE, 7), // C2 (content is not checked)
    c.setChunkSize(4096),
    c.command(0, 'connect', 1, { app: 'live', type: 'nonprivate', flashVer: 'FMLE/3.0', tcUrl: 'rtmp://127.0.0.1/live' }),
    c.command(0, 'releaseStream', 2, null, 'test'),
    c.command(0, 'FCPublish', 3, null, 'test'),
    c.command(0, 'createStream', 4, null),
    c.command(1, 'publish', 5, null, name, 'live'),
  ];
  const body = [
    c.data(1, '@setDataFrame', 'onMetaData', ecmaArray({ width: 320, height: 240, videocodecid: 7 })),
    c.media(MessageType.Video, 1, 0, Buffer.from([0x17, 0, 0, 0, 0, 1, 2, 3])),
    c.media(MessageType.Audio, 1, 0, Buffer.from([0xaf, 0, 0x12, 0x10])),
    c.media(MessageType.Audio, 1, 23, Buffer.alloc(300, 0xaf)),
    c.media(MessageType.Video, 1, 40, Buffer.alloc(9000, 0x27)),
    c.media(MessageType.Video, 1, 0x1000000, Buffer.alloc(500, 0x27)),
    c.command(1, 'FCUnpublish', 6, null, 'test'),
    c.command(0, 'deleteStream', 7, null, 1),
  ];
  return { head, body };
}

test('a publisher is connected, asked for authorization, accepted and its media delivered', () => {
  const { session, out, events } = harness();
  const c = new Client();
  const { head, body } = publisherStream(c);
  session.push(head[0]!);
  assert.equal(out.length, 1);
  assert.equal(out[0]!.length, 1 + 2 * HANDSHAKE_SIZE);
  assert.equal(out[0]![0], 3);
  assert.equal(out[0]!.readUInt32BE(5), 0, 'S1 zero version: simple handshake');
  assert.deepEqual(out[0]!.subarray(1 + HANDSHAKE_SIZE), c.c0c1.subarray(1), 'S2 echoes C1');
  for (const b of head.slice(1)) session.push(b);
  c.take(out);

  assert.equal(events.connect.length, 1);
  assert.equal(events.connect[0]!.app, 'live');
  assert.equal(events.publish.length, 1);
  const req = events.publish[0]!;
  assert.equal(req.app, 'live');
  assert.equal(req.name, 'test');
  assert.equal(req.query, 'key=abc');
  assert.deepEqual(req.params, { key: 'abc' });
  assert.equal(req.streamId, 1);
  assert.equal(session.phase, 'connected');

  // control messages then _result for connect
  const types = c.received.map((m) => m.type);
  assert.deepEqual(types.slice(0, 3), [MessageType.WindowAckSize, MessageType.SetPeerBandwidth, MessageType.SetChunkSize]);
  const cmds = c.commands();
  const connectResult = cmds[0]!;
  assert.equal(connectResult[0], '_result');
  assert.equal(connectResult[1], 1);
  assert.equal((connectResult[3] as Record<string, unknown>).code, 'NetConnection.Connect.Success');
  assert.deepEqual(cmds[1], ['_result', 2, null]); // releaseStream
  assert.equal(cmds[2]![0], 'onFCPublish');
  assert.deepEqual(cmds[3], ['_result', 4, null, 1]); // createStream → stream id 1

  // media before acceptance is dropped
  session.push(c.media(MessageType.Audio, 1, 1, Buffer.from([0xaf, 1, 9])));
  assert.equal(events.media.length, 0);
  assert.equal(session.stats.droppedMessages, 1);

  session.acceptPublish();
  c.take(out);
  const status = c.commands().at(-1)!;
  assert.equal(status[0], 'onStatus');
  assert.equal((status[3] as Record<string, unknown>).code, 'NetStream.Publish.Start');
  const begin = c.received.find((m) => m.type === MessageType.UserControl)!;
  assert.equal(begin.payload.readUInt16BE(0), 0);
  assert.equal(begin.payload.readUInt32BE(2), 1);
  assert.equal(session.phase, 'publishing');

  for (const b of body) session.push(b);
  assert.deepEqual(events.metadata, [{ width: 320, height: 240, videocodecid: 7 }]);
  assert.deepEqual(
    events.media.map((m) => [m.kind, m.timestamp, m.payload.length]),
    [
      ['video', 0, 8],
      ['audio', 0, 4],
      ['audio', 23, 300],
      ['video', 40, 9000],
      ['video', 0x1000000, 500],
    ],
  );
  assert.deepEqual(events.unpublish, ['FCUnpublish']);
  assert.equal(session.phase, 'connected');
  assert.deepEqual(events.close, []);
});

test('byte-by-byte input gives the same events as whole buffers', () => {
  const { session, out, events } = harness({ autoAccept: true });
  const c = new Client();
  const { head, body } = publisherStream(c, 'cam?password=x&key=y');
  const all = Buffer.concat([...head, ...body]);
  for (let i = 0; i < all.length; i++) session.push(all.subarray(i, i + 1));
  c.take(out);
  assert.equal(events.publish[0]!.query, 'password=x&key=y');
  assert.equal(events.media.length, 5);
  assert.deepEqual(events.media.map((m) => m.timestamp), [0, 0, 23, 40, 0x1000000]);
  assert.equal(events.unpublish.length, 1);
  assert.deepEqual(events.close, []);
});

test('rejection sends an error status and ends the session', () => {
  const { session, out, events } = harness();
  const c = new Client();
  const { head } = publisherStream(c);
  for (const b of head) session.push(b);
  session.rejectPublish('NetStream.Publish.BadName', 'stream is busy');
  c.take(out);
  const status = c.commands().at(-1)!;
  assert.equal(status[0], 'onStatus');
  assert.deepEqual(
    { level: (status[3] as Record<string, unknown>).level, code: (status[3] as Record<string, unknown>).code },
    { level: 'error', code: 'NetStream.Publish.BadName' },
  );
  assert.equal(events.close.length, 1);
  assert.match(events.close[0]!, /BadName/);
  assert.equal(session.closed, true);
  // later input is ignored
  session.push(c.media(MessageType.Video, 1, 0, Buffer.from([0x17, 1, 0, 0, 0])));
  assert.equal(events.media.length, 0);
});

test('query strings in the app and the name are merged; the name wins', () => {
  const { session, events } = harness();
  const c = new Client();
  session.push(c.c0c1);
  session.push(Buffer.alloc(HANDSHAKE_SIZE));
  session.push(c.command(0, 'connect', 1, { app: 'live?key=fromapp&x=1' }));
  session.push(c.command(0, 'createStream', 2, null));
  session.push(c.command(1, 'publish', 3, null, 'obs?key=fromname', 'live'));
  const r = events.publish[0]!;
  assert.equal(r.app, 'live');
  assert.equal(r.name, 'obs');
  assert.equal(r.query, 'key=fromapp&x=1&key=fromname');
  assert.deepEqual(r.params, { key: 'fromname', x: '1' });
});

test('a second publish on the same connection is refused without ending the first', () => {
  const { session, out, events } = harness({ autoAccept: true });
  const c = new Client();
  for (const b of publisherStream(c).head) session.push(b);
  session.push(c.command(0, 'createStream', 8, null));
  session.push(c.command(2, 'publish', 9, null, 'other', 'live'));
  c.take(out);
  const last = c.commands().at(-1)!;
  assert.equal((last[3] as Record<string, unknown>).code, 'NetStream.Publish.BadName');
  assert.equal(events.publish.length, 1);
  assert.equal(session.phase, 'publishing');
});

test('ping requests are answered, acknowledgements follow the peer window', () => {
  const { session, out } = harness({ autoAccept: true });
  const c = new Client();
  for (const b of publisherStream(c).head) session.push(b);
  const ping = Buffer.alloc(6);
  ping.writeUInt16BE(6);
  ping.writeUInt32BE(0xabcdef, 2);
  session.push(c.raw(MessageType.UserControl, ping));
  const win = Buffer.alloc(4);
  win.writeUInt32BE(5000);
  session.push(c.raw(MessageType.WindowAckSize, win));
  session.push(c.media(MessageType.Video, 1, 0, Buffer.alloc(6000, 0x17)));
  c.take(out);
  const uc = c.received.filter((m) => m.type === MessageType.UserControl).map((m) => [m.payload.readUInt16BE(0), m.payload.readUInt32BE(2)]);
  assert.deepEqual(uc.at(-1), [7, 0xabcdef]);
  const acks = c.received.filter((m) => m.type === MessageType.Acknowledgement);
  assert.equal(acks.length, 1);
  assert.equal(acks[0]!.payload.readUInt32BE(0), session.stats.bytesIn);
  session.ping(42);
  c.take(out);
  const req = c.received.at(-1)!;
  assert.equal(req.payload.readUInt16BE(0), 6);
});

test('aggregate messages are split into media messages with rebased timestamps', () => {
  const { session, events } = harness({ autoAccept: true });
  const c = new Client();
  for (const b of publisherStream(c).head) session.push(b);
  const sub = (type: number, ts: number, data: Buffer) => {
    const h = Buffer.alloc(11);
    h[0] = type;
    h.writeUIntBE(data.length, 1, 3);
    h.writeUIntBE(ts & 0xffffff, 4, 3);
    h[7] = ts >>> 24;
    const back = Buffer.alloc(4);
    back.writeUInt32BE(11 + data.length);
    return Buffer.concat([h, data, back]);
  };
  const agg = Buffer.concat([sub(9, 5000, Buffer.from([0x17, 1, 0, 0, 0, 9])), sub(8, 5020, Buffer.from([0xaf, 1, 7]))]);
  session.push(c.raw(MessageType.Aggregate, agg, 6, 1));
  // message timestamp 0 → sub tags at 0 and 20
  assert.deepEqual(events.media.map((m) => [m.kind, m.timestamp, m.payload.length]), [
    ['video', 0, 6],
    ['audio', 20, 3],
  ]);
});

test('garbage ends the session with a reason and never throws', () => {
  const http = harness();
  http.session.push(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
  assert.match(http.events.close[0]!, /not RTMP/);
  assert.equal(http.out.length, 0);

  const rtmpe = harness();
  rtmpe.session.push(Buffer.from([6, 1, 2, 3]));
  assert.match(rtmpe.events.close[0]!, /RTMPE/);

  // valid handshake, then random bytes, in many seeds and splits
  let seed = 1;
  for (let round = 0; round < 200; round++) {
    const h = harness({ autoAccept: true, maxMessageSize: 1 << 20 });
    const c = new Client();
    h.session.push(Buffer.concat([c.c0c1, Buffer.alloc(HANDSHAKE_SIZE)]));
    const junk = Buffer.alloc(200 + round * 10);
    for (let i = 0; i < junk.length; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      junk[i] = seed >>> 24;
    }
    for (let i = 0; i < junk.length; i += 1 + (round % 13)) h.session.push(junk.subarray(i, i + 1 + (round % 13)));
    assert.ok(h.events.close.length <= 1);
    assert.ok(h.events.close.every((r) => !r.startsWith('internal')), h.events.close.join());
  }
});

test('message size limit and commands out of order end the session', () => {
  const big = harness({ maxMessageSize: 1000 });
  const c = new Client();
  big.session.push(Buffer.concat([c.c0c1, Buffer.alloc(HANDSHAKE_SIZE)]));
  big.session.push(c.media(MessageType.Video, 1, 0, Buffer.alloc(2000)));
  assert.match(big.events.close[0]!, /exceeds limit/);

  const early = harness();
  const c2 = new Client();
  early.session.push(Buffer.concat([c2.c0c1, Buffer.alloc(HANDSHAKE_SIZE)]));
  early.session.push(c2.command(1, 'publish', 0, null, 'x', 'live'));
  assert.match(early.events.close[0]!, /publish before connect/);
});

test('unknown methods with a transaction id get _error; play is refused', () => {
  const { session, out } = harness({ autoAccept: true });
  const c = new Client();
  for (const b of publisherStream(c).head) session.push(b);
  session.push(c.command(0, 'someCustomCall', 9, null));
  session.push(c.command(1, 'play', 0, null, 'x'));
  c.take(out);
  const cmds = c.commands();
  const err = cmds.find((v) => v[0] === '_error')!;
  assert.equal(err[1], 9);
  const play = cmds.at(-1)!;
  assert.equal((play[3] as Record<string, unknown>).code, 'NetStream.Play.Failed');
});

test('before publish is accepted messages are capped at 64 KiB; after, the full limit applies', () => {
  const h = harness({ autoAccept: false });
  const c = new Client(4096);
  for (const b of publisherStream(c).head) h.session.push(b);
  assert.equal(h.events.publish.length, 1, 'publish pending');
  // still unauthorized: a 70 KB message is refused
  const early = harness();
  const c1 = new Client(4096);
  early.session.push(Buffer.concat([c1.c0c1, Buffer.alloc(HANDSHAKE_SIZE)]));
  early.session.push(c1.raw(MessageType.DataAmf0, Buffer.alloc(70_000), 4));
  assert.match(early.events.close[0]!, /message length 70000 exceeds limit 65536/);
  // the peer asks for a chunk size beyond the cap before it is accepted (clamped meanwhile) …
  h.session.push(c.setChunkSize(0x7fffffff));
  // … accepted: a 200 KB keyframe sent as one chunk of the peer's size is parsed and delivered
  h.session.acceptPublish();
  const big = Buffer.alloc(200_000, 0x27);
  big[0] = 0x17;
  h.session.push(c.media(MessageType.Video, 1, 0, big));
  assert.deepEqual(h.events.close, []);
  assert.equal(h.events.media.length, 1);
  assert.equal(h.events.media[0]!.payload.length, 200_000);
});

test('unauthorized sessions share one byte budget; a closed session gives its bytes back', () => {
  const budget = { used: 0, limit: 100_000 };
  const mk = () => {
    const closes: string[] = [];
    const s = new RtmpServerSession({ send: () => {}, close: (r) => closes.push(r) }, { preAuthBudget: budget });
    const c = new Client(128);
    s.push(Buffer.concat([c.c0c1, Buffer.alloc(HANDSHAKE_SIZE)]));
    // the first 128-byte chunk of a 60,000-byte message: the whole buffer is reserved at once
    s.push(c.raw(MessageType.DataAmf0, Buffer.alloc(60_000), 4).subarray(0, 12 + 128));
    return { s, closes };
  };
  const a = mk();
  assert.equal(budget.used, 60_000);
  const b = mk();
  assert.match(b.closes[0]!, /buffers of unauthenticated connections exceed 100000 bytes/);
  assert.equal(budget.used, 60_000, 'the refused session holds nothing');
  a.s.end('bye');
  assert.equal(budget.used, 0, 'given back on close');
});

test('a command whose AMF does not decode is answered _error with the reason and ends the session', () => {
  for (const [payload, re] of [
    [Buffer.concat([encodeAmf0('connect', 1), Buffer.alloc(4 * 40, 0).map((_, i) => [0x03, 0x00, 0x01, 0x61][i % 4]!)]), /malformed connect: AMF0 nesting too deep/],
    [Buffer.concat([encodeAmf0('connect', 1), Buffer.from([0x03, 0x00, 0x03, 0x61, 0x70, 0x70, 0x0c, 0xff, 0xff, 0xff, 0xff, 0x6c, 0x69])]), /malformed connect: truncated AMF0 data/],
  ] as const) {
    const { session, out, events } = harness();
    const c = new Client();
    session.push(Buffer.concat([c.c0c1, Buffer.alloc(HANDSHAKE_SIZE)]));
    session.push(c.raw(MessageType.CommandAmf0, payload, 3));
    c.take(out);
    const cmds = c.commands();
    assert.equal(cmds.length, 1, JSON.stringify(cmds));
    assert.equal(cmds[0]![0], '_error');
    assert.equal(cmds[0]![1], 1);
    const info = cmds[0]![3] as Record<string, unknown>;
    assert.equal(info.code, 'NetConnection.Connect.Rejected');
    assert.match(String(info.description), re);
    assert.match(events.close[0]!, re);
    assert.equal(events.connect.length, 0);
  }
});
