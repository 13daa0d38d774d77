/**
 * Read pacing of a handed-over RTMP publication (rtmp-publication.ts) on a real loopback socket:
 * the publisher writes a media message every 5 ms and the test counts the reads the supervisor's
 * side makes. With a latency-sensitive reader (a live TS tap, LL-HLS) the socket is read at the
 * agent's pacing (40 ms here); without one at RELAXED_READ_PACING_MS; and the switch takes effect
 * at the next read, both ways. Nothing of the media is lost either way.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { silentLogger } from '../../../../src/core/logger.js';
import { RtmpServerSession } from '../../../../src/media/rtmp/session.js';
import { MessageType } from '../../../../src/media/rtmp/chunk.js';
import { ResumedPublication } from '../../../../src/daemons/stream/rtmp-publication.js';
import { RELAXED_READ_PACING_MS } from '../../../../src/daemons/stream/read-pacer.js';
import { RTMP_HANDOFF_VERSION, type RtmpPublishHandoff } from '../../../../src/protocol/rtmp-handoff.js';
import type { PublishFeed } from '../../../../src/daemons/stream/sources/publish.js';
import { publisher } from '../../media/rtmp-publisher.js';

const PACING_MS = 40;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A publication resumed on the server end of a loopback connection; `reads` counts its socket reads. */
async function publication(t: test.TestContext, sensitive: { now: boolean }) {
  const batchPauseMs = () => (sensitive.now ? 0 : RELAXED_READ_PACING_MS);
  const pub = publisher();
  // the agent's part: the session up to NetStream.Publish, snapshotted for the handoff
  let first!: RtmpServerSession;
  first = new RtmpServerSession({ send: () => {}, media: () => {}, metadata: () => {}, unpublish: () => {}, close: () => {}, publish: () => first.acceptPublish() });
  first.push(pub.head);
  const msg: RtmpPublishHandoff = {
    type: 'rtmp-publish',
    version: RTMP_HANDOFF_VERSION,
    id: 1,
    stream: 'cam',
    remoteAddress: '127.0.0.1',
    remotePort: 1,
    connectedAt: Date.now(),
    publishingSince: Date.now(),
    limits: { readPacingMs: PACING_MS },
    session: JSON.parse(JSON.stringify(first.snapshot())) as RtmpPublishHandoff['session'],
    unread: '',
  };
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  const [socket] = (await once(server, 'connection')) as [net.Socket];
  t.after(() => {
    client.destroy();
    socket.destroy();
    server.close();
  });
  const ended: string[] = [];
  const p = new ResumedPublication(msg, socket, silentLogger, (_p, reason) => ended.push(reason), batchPauseMs);
  assert.equal(p.failed, undefined);
  const feed: PublishFeed = { info: { since: Date.now(), bytes: 0, remote: null, via: 'rtmp-handoff' }, data: () => {}, end: () => {} };
  let reads = 0;
  socket.on('data', () => reads++);
  p.start(feed);
  // the body the fixture's chunk writer already encoded (its headers are compressed against it)
  client.write(pub.body);
  let sent = pub.body.length;
  let ts = 0x1000100;
  /** a 600-byte video message every 5 ms for `ms` */
  const publish = async (ms: number) => {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      const b = pub.media(MessageType.Video, (ts += 5), 600, ts & 0xff);
      sent += b.length;
      client.write(b);
      await sleep(5);
    }
  };
  return { p, publish, reads: () => reads, sent: () => sent, ended };
}

test('plain HLS: the socket is read in batches of RELAXED_READ_PACING_MS', async (t) => {
  const s = await publication(t, { now: false });
  const before = s.p.bytesIn;
  const r0 = s.reads();
  await s.publish(1600);
  const reads = s.reads() - r0;
  // 1600 / 200 = 8 reads at most, plus the one the window may start in (40 ms pacing would read 40 times)
  assert.equal(RELAXED_READ_PACING_MS, 200);
  assert.ok(reads <= 10, `${reads} reads in 1.6 s`);
  assert.ok(reads >= 3, `the socket is still read: ${reads} reads; ended ${s.ended.join()} bytesIn ${s.p.bytesIn - before} sent ${s.sent()}`);
  await sleep(RELAXED_READ_PACING_MS * 2);
  assert.equal(s.p.bytesIn - before, s.sent(), 'every byte sent was read');
  assert.deepEqual(s.ended, []);
});

test('a latency-sensitive reader: read at the agent pacing, switched at the next read both ways', async (t) => {
  const sensitive = { now: true };
  const s = await publication(t, sensitive);
  const before = s.p.bytesIn;
  let r0 = s.reads();
  await s.publish(1600);
  const fast = s.reads() - r0;
  // 40 reads at 40 ms; a loaded machine makes fewer, never as few as the relaxed pacing's 8
  assert.ok(fast >= 14, `${fast} reads in 1.6 s at ${PACING_MS} ms pacing`);
  // the reader leaves: batches again
  sensitive.now = false;
  await s.publish(RELAXED_READ_PACING_MS); // the read already scheduled at 40 ms, then one at 200
  r0 = s.reads();
  await s.publish(1600);
  const slow = s.reads() - r0;
  assert.ok(slow <= 10, `${slow} reads in 1.6 s after the reader left`);
  // and comes back: within one relaxed pause the reads are frequent again
  sensitive.now = true;
  await s.publish(RELAXED_READ_PACING_MS);
  r0 = s.reads();
  await s.publish(1600);
  const again = s.reads() - r0;
  assert.ok(again >= 14 && again > slow, `${again} reads in 1.6 s with a reader again (${slow} without)`);
  await sleep(RELAXED_READ_PACING_MS * 2);
  assert.equal(s.p.bytesIn - before, s.sent(), 'every byte sent was read');
  assert.deepEqual(s.ended, []);
});
