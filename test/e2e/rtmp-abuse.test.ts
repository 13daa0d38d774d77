/**
 * RTMP abuse against a real node (built binary), from issue 18: malformed AMF connects are
 * answered `_error` with a reason and closed; 100 clients that pin memory with an oversized chunk
 * leave the agent's RSS flat; a flood of stalled handshakes from one address never locks out a
 * publisher from another address (127.0.0.2 on loopback).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type net from 'node:net';
import { freePort, publishStream, sleep, startNode, tempDir } from '../helpers/index.js';
import { malformedConnectClient, oversizedChunkClient, rssBytes, rtmpPublish, stalledHandshakeClient, type RtmpPeer } from '../helpers/rtmp-abuse.js';
import type { Amf0Object, Amf0Value } from '../../src/media/rtmp/amf0.js';

const MiB = 1024 * 1024;

async function rtmpNode(t: Parameters<typeof startNode>[0]) {
  const dir = await tempDir(t);
  const rtmp = await freePort();
  const node = await startNode(t, { dir, server: { rtmp }, streams: { live: publishStream(), other: publishStream() } });
  return { node, rtmp };
}

function errorOf(peer: RtmpPeer): Amf0Object | undefined {
  const e = peer.commands.find((v: Amf0Value[]) => v[0] === '_error');
  return e ? (e[3] as Amf0Object) : undefined;
}

test('malformed AMF connect: _error with the reason, then the connection is closed', { timeout: 60_000 }, async (t) => {
  const { rtmp } = await rtmpNode(t);
  const cases = [
    { kind: 'deep' as const, levels: 100_000, reason: /exceeds limit 65536/ }, // 400 KB: over the pre-auth message cap
    { kind: 'deep' as const, levels: 10_000, reason: /malformed connect: AMF0 nesting too deep/ },
    { kind: 'huge-string' as const, levels: undefined, reason: /malformed connect: truncated AMF0 data/ },
  ];
  for (const c of cases) {
    const peer = await malformedConnectClient({ port: rtmp }, c.kind, c.levels);
    await Promise.race([peer.closed, sleep(5000).then(() => assert.fail(`${c.kind}/${c.levels}: not closed within 5 s`))]);
    const err = errorOf(peer);
    assert.ok(err, `${c.kind}/${c.levels}: _error expected, got ${JSON.stringify(peer.commands.map((v) => v[0]))}`);
    assert.equal(err.code, 'NetConnection.Connect.Rejected');
    assert.match(String(err.description), c.reason);
    assert.ok(!peer.commands.some((v) => v[0] === '_result'), 'never NetConnection.Connect.Success');
  }
  // the listener is fine afterwards
  const ok = await rtmpPublish({ port: rtmp, app: 'live', name: 'live' });
  ok.socket.destroy();
});

test('100 oversized-chunk clients: closed at once, agent RSS stays flat', { timeout: 120_000 }, async (t) => {
  const { node, rtmp } = await rtmpNode(t);
  const pid = (await node.info()).pid;
  // warm the listener (first connection paths, lazy modules) before the baseline
  (await rtmpPublish({ port: rtmp, app: 'live', name: 'live' })).socket.destroy();
  await sleep(500);
  const before = await rssBytes(pid);
  // each declares a 16,777,215-byte message after Set Chunk Size 0x7fffffff and sends 2 MB of it
  const peers = await Promise.all(Array.from({ length: 100 }, () => oversizedChunkClient({ port: rtmp }, 2 * MiB)));
  await sleep(1000);
  const peak = await rssBytes(pid);
  const open = peers.filter((p) => !p.socket.destroyed && p.socket.readyState === 'open').length;
  for (const p of peers) p.socket.destroy();
  t.diagnostic(`agent RSS ${(before / MiB).toFixed(1)} MiB → ${(peak / MiB).toFixed(1)} MiB under 100 clients (${open} still open)`);
  await Promise.all(peers.map((p) => p.closed));
  // 100 × 2 MB would be pinned without the pre-auth cap; allow the sockets' own overhead
  assert.equal(open, 0, 'every oversized client is disconnected');
  assert.ok(peak - before < 40 * MiB, `agent RSS grew ${((peak - before) / MiB).toFixed(1)} MiB`);
  // a publisher still gets in
  (await rtmpPublish({ port: rtmp, app: 'live', name: 'live' })).socket.destroy();
});

test('a stalled-handshake flood from one address never locks out a publisher from another', { timeout: 120_000 }, async (t) => {
  const { rtmp } = await rtmpNode(t);
  const flood = new Set<net.Socket>();
  let stop = false;
  const spawnOne = () => {
    if (stop) return;
    const s = stalledHandshakeClient({ port: rtmp, localAddress: '127.0.0.1' });
    flood.add(s);
    // the attacker reconnects whatever happens to it
    s.once('close', () => {
      flood.delete(s);
      if (!stop) setTimeout(spawnOne, 100).unref();
    });
  };
  t.after(() => {
    stop = true;
    for (const s of flood) s.destroy();
  });
  for (let i = 0; i < 1000; i++) {
    spawnOne();
    if (i % 100 === 99) await sleep(20);
  }
  await sleep(1000); // the flood is in place
  for (let round = 0; round < 3; round++) {
    const pub = await rtmpPublish({ port: rtmp, localAddress: '127.0.0.2', app: 'live', name: 'live', timeoutMs: 5000 });
    t.diagnostic(`round ${round}: publisher from 127.0.0.2 got in after ${pub.ms.toFixed(0)} ms during a ${flood.size}-connection flood`);
    assert.ok(pub.ms < 3000, `publisher needed ${pub.ms} ms`);
    pub.socket.destroy();
    await sleep(300);
  }
  // and a stalled connection is cut by the handshake timeout (5 s), not kept for the publish timeout
  const t0 = Date.now();
  const s = stalledHandshakeClient({ port: rtmp, localAddress: '127.0.0.3' });
  await new Promise<void>((r) => s.once('close', () => r()));
  const ms = Date.now() - t0;
  assert.ok(ms >= 4000 && ms < 8000, `stalled handshake closed after ${ms} ms`);
});
