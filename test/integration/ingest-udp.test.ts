/**
 * udp:// native passthrough (no ffmpeg in the supervisor): unicast from an ffmpeg sender, and
 * multicast (239.x joined on the loopback interface; the sender uses TTL 0 so nothing leaves the host).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { expectLive, ffmpegTestSource, freeUdpPort, startSupervisorProc, tempEnv, writeSpec } from './supervisor-helpers.js';

test('udp unicast: ffmpeg → udp://127.0.0.1:PORT → segments, no ffmpeg child, monitor counters', async (t) => {
  const env = await tempEnv(t);
  const port = await freeUdpPort();
  const { file, stream } = await writeSpec(env, 'udp1', { inputs: [{ url: `udp://127.0.0.1:${port}` }], hls: { segment_duration: '1s' } });
  const sup = await startSupervisorProc(t, env, file, 'udp1');
  ffmpegTestSource(t, `udp://127.0.0.1:${port}?pkt_size=1316`);
  const { status } = await expectLive(sup, stream, { audio: true });
  assert.deepEqual(status.ffmpeg, [], 'passthrough needs no ffmpeg');
  const i = status.inputs[0]!;
  assert.equal(i.state, 'active');
  assert.ok(i.bitrate > 20_000, `bitrate ${i.bitrate}`);
  assert.ok(i.fps >= 10 && i.fps <= 20, `fps ${i.fps}`);
  assert.equal(i.ccErrors, 0);
  assert.ok((status.mediaInfo as { codecs?: string }).codecs?.startsWith('avc1.'));
});

test('udp multicast: 239.x joined on the loopback interface', async (t) => {
  const env = await tempEnv(t);
  const port = await freeUdpPort();
  const group = '239.255.42.' + (1 + (process.pid % 200));
  // can this kernel loop multicast back on lo?
  const canLoop = await new Promise<boolean>((resolve) => {
    const r = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    const s = dgram.createSocket('udp4');
    const done = (v: boolean) => {
      clearTimeout(timer);
      r.close();
      s.close();
      resolve(v);
    };
    const timer = setTimeout(() => done(false), 1000);
    r.on('message', () => done(true));
    r.on('error', () => done(false));
    r.bind(port, group, () => {
      try {
        r.addMembership(group, '127.0.0.1');
      } catch {
        done(false);
        return;
      }
      s.bind(0, '127.0.0.1', () => {
        s.setMulticastInterface('127.0.0.1');
        s.setMulticastTTL(0);
        s.setMulticastLoopback(true);
        s.send(Buffer.alloc(188), port, group);
      });
    });
  });
  if (!canLoop) {
    t.skip('this kernel does not loop multicast back on lo');
    return;
  }
  const { file, stream } = await writeSpec(env, 'mcast', { inputs: [{ url: `udp://${group}:${port}`, interface: '127.0.0.1' }], hls: { segment_duration: '1s' } });
  const sup = await startSupervisorProc(t, env, file, 'mcast');
  // ffmpeg → stdout → multicast datagrams out of lo with TTL 0
  const src = ffmpegTestSource(t, '-');
  const tx = dgram.createSocket('udp4');
  await new Promise<void>((r) => tx.bind(0, '127.0.0.1', () => r()));
  tx.setMulticastInterface('127.0.0.1');
  tx.setMulticastTTL(0);
  tx.setMulticastLoopback(true);
  t.after(() => tx.close());
  let pending = Buffer.alloc(0);
  src.stdout!.on('data', (c: Buffer) => {
    pending = Buffer.concat([pending, c]);
    while (pending.length >= 1316) {
      tx.send(pending.subarray(0, 1316), port, group);
      pending = pending.subarray(1316);
    }
  });
  const { status } = await expectLive(sup, stream);
  assert.deepEqual(status.ffmpeg, []);
  assert.equal(status.inputs[0]!.url, `udp://${group}:${port}`);
  assert.ok(status.inputs[0]!.fps > 0);
});
