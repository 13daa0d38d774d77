/**
 * udp:// delivery on a real loopback socket: one datagram per delivery while a reader needs frames
 * at once, batches otherwise (the chain then runs a few times a second instead of per datagram),
 * and the bytes are the same either way, in order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { UdpSource } from '../../../../src/daemons/stream/sources/udp.js';
import { freeUdpPort } from '../../../helpers/index.js';
import { Supervisor } from '../../../../src/daemons/stream/supervisor.js';
import { RELAXED_READ_PACING_MS } from '../../../../src/daemons/stream/read-pacer.js';
import { fakeWriterFactory, input, logger, stream } from './fakes.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function run(t: test.TestContext, batchMs: { now: number }) {
  const port = await freeUdpPort();
  const got: Buffer[] = [];
  let epochs = 0;
  const src = new UdpSource(`udp://127.0.0.1:${port}`, undefined, { onData: (c) => got.push(Buffer.from(c)), onEpoch: () => epochs++, onError: () => {} }, () => batchMs.now);
  src.start();
  t.after(() => src.stop());
  const tx = dgram.createSocket('udp4');
  t.after(() => tx.close());
  await sleep(100);
  const sent: Buffer[] = [];
  /** a 7-packet TS datagram every 5 ms for `ms` */
  const send = async (ms: number) => {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      const d = Buffer.alloc(7 * 188, sent.length & 0xff);
      for (let k = 0; k < 7; k++) d[k * 188] = 0x47;
      sent.push(d);
      tx.send(d, port, '127.0.0.1');
      await sleep(5);
    }
  };
  return { src, got, sent, send, epochs: () => epochs };
}

test('udp:// datagrams: batched when no reader needs them at once, one by one when one does; same bytes', async (t) => {
  const batch = { now: 200 };
  const r = await run(t, batch);
  await r.send(1000);
  await sleep(300);
  const batched = r.got.length;
  // ~150 datagrams in 1 s in at most 1000/200 + 2 deliveries
  assert.ok(r.sent.length > 50, `${r.sent.length} sent`);
  assert.ok(batched <= 7, `${batched} deliveries for ${r.sent.length} datagrams`);
  // a reader arrives: each datagram at once (the batch waiting is delivered first)
  batch.now = 0;
  const before = r.got.length;
  const sentBefore = r.sent.length;
  await r.send(500);
  await sleep(100);
  const single = r.got.length - before;
  assert.ok(single >= (r.sent.length - sentBefore) * 0.9, `${single} deliveries for ${r.sent.length - sentBefore} datagrams`);
  assert.equal(r.epochs(), 1);
  assert.deepEqual(Buffer.concat(r.got), Buffer.concat(r.sent), 'the same bytes in the same order');
});

test('Supervisor.batchPauseMs: 200 ms for plain HLS, at most a quarter of source_timeout, 0 with a live reader or LL-HLS', () => {
  const deps = { ffmpegPath: '/bin/false', buildPipelineArgs: () => null, openWriter: fakeWriterFactory().open, logger };
  const slow = input('udp://127.0.0.1:1', { sourceTimeoutMs: 10_000 });
  const quick = input('udp://127.0.0.1:2', { sourceTimeoutMs: 300 }, 1);
  const sup = new Supervisor({ stream: stream('b', [slow, quick]), specHash: 'x' }, deps);
  assert.equal(sup.batchPauseMs(slow), RELAXED_READ_PACING_MS);
  assert.equal(sup.batchPauseMs(quick), 75, 'a batch never reads as a silent input');
  const tap = () => {};
  sup.liveTaps.add(tap);
  assert.equal(sup.batchPauseMs(slow), 0, 'a live TS reader (WebRTC) gets every frame at once');
  sup.liveTaps.delete(tap);
  assert.equal(sup.batchPauseMs(slow), RELAXED_READ_PACING_MS);
  const ll = new Supervisor({ stream: stream('ll', [slow], { hls: { segmentDurationMs: 2000, window: 5, container: 'fmp4', lowLatency: { partDurationMs: 500 } } }), specHash: 'x' }, deps);
  assert.equal(ll.batchPauseMs(slow), 0, 'LL-HLS parts want every frame at once');
});
