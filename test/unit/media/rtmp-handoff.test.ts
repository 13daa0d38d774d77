/**
 * The RTMP handoff's pure part: a publishing session snapshotted at any byte of its input (cut
 * headers, messages half received, extended timestamps, chunk size changes) and resumed in another
 * session (through JSON, as over the IPC channel) delivers exactly what one session would have.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { ChunkReader, MessageType } from '../../../src/media/rtmp/chunk.js';
import { HANDSHAKE_SIZE } from '../../../src/media/rtmp/handshake.js';
import { publisher } from './rtmp-publisher.js';
import { RtmpServerSession, type RtmpSessionHandler, type RtmpSessionSnapshot } from '../../../src/media/rtmp/session.js';
import { parseRtmpPublishHandoff, RtmpHandoffError, RTMP_HANDOFF_VERSION, type RtmpSessionState } from '../../../src/protocol/rtmp-handoff.js';

interface Seen {
  media: string[];
  metadata: unknown[];
  out: Buffer[];
  unpublish: string[];
  close: string[];
}

function handler(seen: Seen): RtmpSessionHandler {
  return {
    send: (b) => seen.out.push(Buffer.from(b)),
    media: (m) => seen.media.push(`${m.kind}@${m.timestamp}:${m.payload.length}:${m.payload.subarray(0, 4).toString('hex')}:${m.payload.subarray(-4).toString('hex')}`),
    metadata: (d) => seen.metadata.push(d),
    unpublish: (r) => seen.unpublish.push(r),
    close: (r) => seen.close.push(r),
  };
}

const fresh = (): Seen => ({ media: [], metadata: [], out: [], unpublish: [], close: [] });

function accepted(seen: Seen): RtmpServerSession {
  let s!: RtmpServerSession;
  s = new RtmpServerSession({ ...handler(seen), publish: () => s.acceptPublish() });
  return s;
}

test('a session resumed from a snapshot at any byte delivers what one session does', () => {
  const { head, body } = publisher();
  const ref = fresh();
  const one = accepted(ref);
  one.push(head);
  assert.equal(one.phase, 'publishing');
  one.push(body);
  assert.equal(ref.media.length, 8);
  assert.equal(ref.metadata.length, 1);
  assert.deepEqual(ref.close, []);

  for (let cut = 0; cut <= body.length; cut += cut < 1400 ? 1 : 7) {
    const a = fresh();
    const first = accepted(a);
    first.push(head);
    first.push(body.subarray(0, cut));
    const snap = first.snapshot();
    assert.ok(snap, `snapshot at ${cut}`);
    // through JSON, as over the IPC channel, and through the protocol's type
    const wire: RtmpSessionState = JSON.parse(JSON.stringify(snap)) as RtmpSessionSnapshot;
    const b = fresh();
    const second = RtmpServerSession.resume(wire as RtmpSessionSnapshot, handler(b));
    assert.equal(second.phase, 'publishing', `resumed at ${cut}: ${b.close.join()}`);
    second.push(body.subarray(cut));
    assert.deepEqual([...a.media, ...b.media], ref.media, `media split at byte ${cut}`);
    assert.equal(a.metadata.length + b.metadata.length, 1);
    assert.deepEqual(b.close, []);
    assert.equal(second.stats.bytesIn, one.stats.bytesIn, 'bytes received go on from the snapshot');
    assert.equal(second.stats.mediaMessages, one.stats.mediaMessages, "counters go on from the snapshot");
  }
});

test('acknowledgements go on counting from the snapshot (the peer announced a 1500-byte window)', () => {
  const { head, body } = publisher();
  const acks = (out: Buffer[]): number[] => {
    const got: number[] = [];
    const r = new ChunkReader((m) => m.type === MessageType.Acknowledgement && got.push(m.payload.readUInt32BE(0)));
    const all = Buffer.concat(out);
    r.push(all.subarray(1 + 2 * HANDSHAKE_SIZE));
    return got;
  };
  // acks are sent after a push: the reference gets the same pushes as the pair
  const ref = fresh();
  const one = accepted(ref);
  one.push(head);
  one.push(body.subarray(0, 3000));
  one.push(body.subarray(3000));
  const a = fresh();
  const first = accepted(a);
  first.push(head);
  first.push(body.subarray(0, 3000));
  const b = fresh();
  const second = RtmpServerSession.resume(first.snapshot()!, handler(b));
  second.push(body.subarray(3000));
  // the resumed session sends only acks here (one message per buffer, the value last)
  const refAcks = acks(ref.out);
  assert.ok(refAcks.length >= 2, `the reference acknowledged: ${refAcks.join()}`);
  const pairAcks = [...acks(a.out), ...b.out.map((x) => x.readUInt32BE(x.length - 4))];
  assert.deepEqual(pairAcks, refAcks);
});

test('no snapshot before publishing; an inconsistent snapshot ends the resumed session', () => {
  const { head } = publisher();
  const seen = fresh();
  const s = new RtmpServerSession(handler(seen));
  s.push(head.subarray(0, 2000));
  assert.equal(s.snapshot(), undefined, 'mid-handshake');
  const ok = accepted(fresh());
  ok.push(head);
  const snap = ok.snapshot()!;
  const bad = JSON.parse(JSON.stringify(snap)) as RtmpSessionSnapshot;
  bad.reader.payload = { csid: 6, chunkLeft: 10 }; // a chunk of a message never started
  const b = fresh();
  const r = RtmpServerSession.resume(bad, handler(b));
  assert.equal(r.closed, true);
  assert.match(b.close[0] ?? '', /cannot resume the chunk stream/);
  const huge = JSON.parse(JSON.stringify(snap)) as RtmpSessionSnapshot;
  huge.reader.streams.push({ csid: 9, timestamp: 0, tsField: 0, extended: false, length: 64 * 1024 * 1024, type: 9, streamId: 1 });
  const c = fresh();
  assert.equal(RtmpServerSession.resume(huge, handler(c)).closed, true, 'a message beyond the limit is refused as on the wire');
});

test('the handoff envelope: version and shape are checked', () => {
  const ok = accepted(fresh());
  ok.push(publisher().head);
  const msg = {
    type: 'rtmp-publish',
    version: RTMP_HANDOFF_VERSION,
    id: 1,
    stream: 'cam',
    remoteAddress: '127.0.0.1',
    remotePort: 5000,
    connectedAt: 1,
    publishingSince: 2,
    limits: {},
    session: ok.snapshot(),
    unread: '',
  };
  assert.equal(parseRtmpPublishHandoff(JSON.parse(JSON.stringify(msg))).stream, 'cam');
  assert.throws(() => parseRtmpPublishHandoff({ ...msg, version: RTMP_HANDOFF_VERSION + 1 }), RtmpHandoffError);
  assert.throws(() => parseRtmpPublishHandoff({ ...msg, session: { ...msg.session, reader: null } }), RtmpHandoffError);
  assert.throws(() => parseRtmpPublishHandoff({ ...msg, id: 'x' }), /without id/);
});
