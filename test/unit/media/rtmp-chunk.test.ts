import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { ChunkReader, ChunkWriter, MessageType, type OutgoingMessage, type RtmpMessage } from '../../../src/media/rtmp/chunk.js';

function payloadOf(len: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(len);
  let x = seed || 1;
  for (let i = 0; i < len; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

function collect(opts?: ConstructorParameters<typeof ChunkReader>[2]) {
  const messages: RtmpMessage[] = [];
  const errors: string[] = [];
  // copy payloads: zero-copy views must stay valid, but make the comparison independent of that
  const reader = new ChunkReader((m) => messages.push({ ...m, payload: Buffer.from(m.payload) }), (e) => errors.push(e), opts);
  return { reader, messages, errors };
}

function expectSame(got: RtmpMessage[], want: OutgoingMessage[]) {
  assert.equal(got.length, want.length, 'message count');
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    assert.equal(g.csid, w.csid, `csid of #${i}`);
    assert.equal(g.type, w.type, `type of #${i}`);
    assert.equal(g.streamId, w.streamId, `streamId of #${i}`);
    assert.equal(g.timestamp, w.timestamp >>> 0, `timestamp of #${i}`);
    assert.ok(g.payload.equals(w.payload), `payload of #${i} (${g.payload.length} vs ${w.payload.length})`);
  }
}

/** A varied message sequence: several chunk streams, equal and different sizes, big timestamps. */
function sequence(): OutgoingMessage[] {
  const msgs: OutgoingMessage[] = [];
  let ts = 0;
  const lens = [0, 1, 5, 127, 128, 129, 300, 4095, 4096, 4097, 9000, 9000, 9000];
  lens.forEach((len, i) => {
    ts += i % 3 === 0 ? 0 : 40;
    msgs.push({ csid: i % 2 ? 6 : 4, type: i % 2 ? MessageType.Video : MessageType.Audio, streamId: 1, timestamp: ts, payload: payloadOf(len, i + 1) });
  });
  // same type/size/delta repeated: fmt 3 new messages
  for (let i = 0; i < 4; i++) {
    ts += 23;
    msgs.push({ csid: 4, type: MessageType.Audio, streamId: 1, timestamp: ts, payload: payloadOf(200, 100 + i) });
  }
  // 2- and 3-byte basic headers, message stream 0, a command
  msgs.push({ csid: 63, type: MessageType.CommandAmf0, streamId: 0, timestamp: 0, payload: payloadOf(50, 7) });
  msgs.push({ csid: 64, type: MessageType.DataAmf0, streamId: 1, timestamp: 5, payload: payloadOf(70, 8) });
  msgs.push({ csid: 319, type: MessageType.Video, streamId: 1, timestamp: 6, payload: payloadOf(700, 9) });
  msgs.push({ csid: 320, type: MessageType.Video, streamId: 1, timestamp: 7, payload: payloadOf(10, 10) });
  msgs.push({ csid: 65599, type: MessageType.Audio, streamId: 7, timestamp: 8, payload: payloadOf(1000, 11) });
  // extended timestamps: absolute, then deltas below and above 0xFFFFFF
  msgs.push({ csid: 8, type: MessageType.Video, streamId: 1, timestamp: 0x1000000, payload: payloadOf(5000, 12) });
  msgs.push({ csid: 8, type: MessageType.Video, streamId: 1, timestamp: 0x1000000 + 40, payload: payloadOf(5000, 13) });
  msgs.push({ csid: 8, type: MessageType.Video, streamId: 1, timestamp: 0x1000000 + 40 + 0x1000001, payload: payloadOf(5000, 14) });
  msgs.push({ csid: 8, type: MessageType.Video, streamId: 1, timestamp: 0x1000000 + 40 + 2 * 0x1000001, payload: payloadOf(5000, 15) });
  msgs.push({ csid: 8, type: MessageType.Video, streamId: 1, timestamp: 0xfffffff0, payload: payloadOf(300, 16) });
  return msgs;
}

function encode(msgs: OutgoingMessage[], chunkSize: number, compress: boolean, extOnCont = true): Buffer {
  const w = new ChunkWriter({ extendedOnContinuation: extOnCont });
  w.chunkSize = chunkSize;
  return Buffer.concat(msgs.map((m) => w.write(m, compress)));
}

test('round trip at chunk sizes from 1 to 65536, whole buffer, fmt 0 and compressed headers', () => {
  const msgs = sequence();
  const sizes = new Set([1, 2, 3, 4, 7, 64, 127, 128, 129, 255, 256, 1000, 1024, 4095, 4096, 4097, 8192, 32768, 65535, 65536]);
  for (let s = 5; s <= 300; s += 7) sizes.add(s);
  for (const size of sizes) {
    for (const compress of [false, true]) {
      const { reader, messages, errors } = collect();
      reader.chunkSize = size;
      assert.equal(reader.push(encode(msgs, size, compress)), true);
      assert.deepEqual(errors, [], `chunk size ${size}`);
      expectSame(messages, msgs);
    }
  }
});

test('byte-by-byte and random-split feeding give the same messages', () => {
  const msgs = sequence();
  for (const size of [1, 128, 4096]) {
    const wire = encode(msgs, size, true);
    const a = collect();
    a.reader.chunkSize = size;
    for (let i = 0; i < wire.length; i++) a.reader.push(wire.subarray(i, i + 1));
    assert.deepEqual(a.errors, []);
    expectSame(a.messages, msgs);

    let seed = size;
    const b = collect();
    b.reader.chunkSize = size;
    for (let i = 0; i < wire.length; ) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const n = 1 + (seed >>> 16) % 40;
      b.reader.push(wire.subarray(i, i + n));
      i += n;
    }
    expectSame(b.messages, msgs);
  }
});

test('Set Chunk Size in the stream changes how later chunks are read, up to 65536 and beyond', () => {
  for (const size of [1, 2, 100, 128, 4096, 65536, 0x7fffffff]) {
    const w = new ChunkWriter();
    const setSize = Buffer.alloc(4);
    setSize.writeUInt32BE(size);
    const parts = [w.write({ csid: 2, type: MessageType.SetChunkSize, streamId: 0, timestamp: 0, payload: setSize })];
    w.chunkSize = Math.min(size, 1 << 20);
    const msgs = [
      { csid: 4, type: MessageType.Video, streamId: 1, timestamp: 10, payload: payloadOf(70_000, 3) },
      { csid: 4, type: MessageType.Video, streamId: 1, timestamp: 50, payload: payloadOf(3, 4) },
    ];
    for (const m of msgs) parts.push(w.write(m, true));
    const { reader, messages, errors } = collect();
    reader.push(Buffer.concat(parts));
    assert.deepEqual(errors, []);
    assert.equal(messages[0]!.type, MessageType.SetChunkSize);
    expectSame(messages.slice(1), msgs);
  }
});

test('the spec example: fmt 0, fmt 2, then fmt 3 repeats the delta (5.3.2.1)', () => {
  // csid 3, stream 12345, type 8, length 32; timestamps 1000, 1020, 1040, 1060
  const p = payloadOf(32, 1);
  const h0 = Buffer.from([0x03, 0x00, 0x03, 0xe8, 0x00, 0x00, 0x20, 0x08, 0x39, 0x30, 0x00, 0x00]);
  const h2 = Buffer.from([0x83, 0x00, 0x00, 0x14]);
  const h3 = Buffer.from([0xc3]);
  const { reader, messages } = collect();
  reader.push(Buffer.concat([h0, p, h2, p, h3, p, h3, p]));
  assert.deepEqual(messages.map((m) => m.timestamp), [1000, 1020, 1040, 1060]);
  assert.ok(messages.every((m) => m.streamId === 12345 && m.type === 8 && m.payload.equals(p)));
});

test('fmt 1 and fmt 2 deltas wrap at 2^32', () => {
  const p = payloadOf(4, 2);
  const h0 = Buffer.from([0x04, 0xff, 0xff, 0xff, 0, 0, 4, 9, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xf0]); // ext ts 0xFFFFFFF0
  const h1 = Buffer.from([0x44, 0x00, 0x00, 0x20, 0, 0, 4, 9]); // +32 → wraps to 16
  const { reader, messages, errors } = collect();
  reader.push(Buffer.concat([h0, p, h1, p]));
  assert.deepEqual(errors, []);
  assert.deepEqual(messages.map((m) => m.timestamp), [0xfffffff0, 16]);
});

test('extended timestamps on continuation chunks: read when present, tolerated when omitted', () => {
  const msgs: OutgoingMessage[] = [
    { csid: 5, type: MessageType.Video, streamId: 1, timestamp: 0x01000000, payload: payloadOf(1000, 1) },
    { csid: 5, type: MessageType.Video, streamId: 1, timestamp: 0x01000000 + 0x01000000, payload: payloadOf(1000, 2) },
    { csid: 5, type: MessageType.Video, streamId: 1, timestamp: 0x01000000 + 0x02000000, payload: payloadOf(1000, 3) },
  ];
  for (const extOnCont of [true, false]) {
    const wire = encode(msgs, 128, true, extOnCont);
    const withExt = encode(msgs, 128, true, true).length;
    if (!extOnCont) assert.ok(wire.length < withExt, 'omitted extended fields make the stream shorter');
    for (const step of [wire.length, 1]) {
      const { reader, messages, errors } = collect();
      for (let i = 0; i < wire.length; i += step) reader.push(wire.subarray(i, i + step));
      assert.deepEqual(errors, []);
      expectSame(messages, msgs);
    }
  }
});

test('fmt 3 starting a new message after an extended header reads its own extended field', () => {
  // hand-built: fmt 0 with ext 0x01000000, then fmt 3 (new message, same length) with ext delta
  const p = payloadOf(10, 5);
  const h0 = Buffer.from([0x06, 0xff, 0xff, 0xff, 0, 0, 10, 9, 1, 0, 0, 0, 0x01, 0x00, 0x00, 0x00]);
  const h3 = Buffer.from([0xc6, 0x01, 0x00, 0x00, 0x00]);
  const { reader, messages, errors } = collect();
  reader.push(Buffer.concat([h0, p, h3, p]));
  assert.deepEqual(errors, []);
  assert.deepEqual(messages.map((m) => m.timestamp), [0x01000000, 0x02000000]);
});

test('Abort discards the partial message of a chunk stream', () => {
  const w = new ChunkWriter();
  const big = w.write({ csid: 6, type: MessageType.Video, streamId: 1, timestamp: 0, payload: payloadOf(300, 1) });
  const abort = Buffer.alloc(4);
  abort.writeUInt32BE(6);
  const partial = big.subarray(0, 12 + 128); // first chunk only
  const abortMsg = w.write({ csid: 2, type: MessageType.Abort, streamId: 0, timestamp: 0, payload: abort });
  const next = { csid: 6, type: MessageType.Video, streamId: 1, timestamp: 40, payload: payloadOf(20, 2) };
  const w2 = new ChunkWriter();
  const nextWire = w2.write(next);
  const { reader, messages, errors } = collect();
  reader.push(Buffer.concat([partial, abortMsg, nextWire]));
  assert.deepEqual(errors, []);
  assert.deepEqual(messages.map((m) => m.type), [MessageType.Abort, MessageType.Video]);
  expectSame(messages.slice(1), [next]);
});

test('limits and protocol errors end parsing with a reason, never an exception', () => {
  // declared length above the limit
  const tooBig = Buffer.from([0x04, 0, 0, 0, 0x01, 0x00, 0x01, 9, 1, 0, 0, 0]);
  let c = collect({ maxMessageSize: 0x10000 });
  assert.equal(c.reader.push(tooBig), false);
  assert.match(c.errors[0]!, /exceeds limit/);
  assert.equal(c.reader.push(Buffer.from([0x04])), false, 'input after an error is ignored');
  assert.equal(c.errors.length, 1);

  // fmt 3 on a chunk stream never seen
  c = collect();
  c.reader.push(Buffer.from([0xc9, 1, 2, 3]));
  assert.match(c.errors[0]!, /without a previous header/);

  // Set Chunk Size 0
  c = collect();
  const w = new ChunkWriter();
  c.reader.push(w.write({ csid: 2, type: MessageType.SetChunkSize, streamId: 0, timestamp: 0, payload: Buffer.alloc(4) }));
  assert.match(c.errors[0]!, /Set Chunk Size of 0/);

  // many chunk streams each starting a large message: bounded memory
  c = collect({ maxMessageSize: 1 << 20, maxPendingBytes: 4 << 20 });
  const parts: Buffer[] = [];
  for (let csid = 10; csid < 40; csid++) {
    parts.push(Buffer.from([csid, 0, 0, 0, 0x0f, 0xff, 0xff, 9, 1, 0, 0, 0]), payloadOf(128, csid));
  }
  c.reader.push(Buffer.concat(parts));
  assert.match(c.errors[0]!, /partially received messages exceed/);
});

test('random garbage never throws', () => {
  let seed = 99;
  for (let i = 0; i < 300; i++) {
    const b = Buffer.allocUnsafe(1 + ((i * 37) % 4000));
    for (let k = 0; k < b.length; k++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      b[k] = seed >>> 24;
    }
    const c = collect({ maxMessageSize: 1 << 20 });
    c.reader.push(b);
    for (let k = 0; k < 50; k++) c.reader.push(b.subarray(k * 7, k * 7 + 7));
  }
});

test('mutated valid streams fed in random pieces never throw and fail with a reason at most', () => {
  const wire = encode(sequence(), 128, true, false);
  let seed = 4242;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  for (let round = 0; round < 150; round++) {
    const b = Buffer.from(wire);
    for (let k = 0; k < 1 + (round % 8); k++) b[rnd(b.length)] = rnd(256);
    const errors: string[] = [];
    const r = new ChunkReader(() => {}, (e) => errors.push(e), { maxMessageSize: 1 << 20 });
    for (let i = 0; i < b.length; ) {
      const n = 1 + rnd(round % 2 ? 5 : 300);
      r.push(b.subarray(i, i + n));
      i += n;
    }
    assert.ok(errors.length <= 1);
    assert.ok(errors.every((e) => !e.startsWith('internal')), errors.join());
  }
});

test('a message whole in one input buffer is delivered without copying', () => {
  const w = new ChunkWriter();
  w.chunkSize = 4096;
  const wire = w.write({ csid: 4, type: MessageType.Audio, streamId: 1, timestamp: 0, payload: payloadOf(300, 1) });
  let got: Buffer | undefined;
  const r = new ChunkReader((m) => (got = m.payload));
  r.chunkSize = 4096;
  r.push(wire);
  assert.equal(got!.buffer, wire.buffer);
  assert.equal(got!.byteOffset, wire.byteOffset + 12);
});
