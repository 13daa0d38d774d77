/**
 * RTMP abuse against a real node (issue 18), two figures:
 *  - agent RSS under N oversized-chunk clients (handshake, Set Chunk Size 0x7fffffff, a message
 *    declaring 16,777,215 bytes, 2 MB of its body, then silence): RSS before, peak (sampled every
 *    100 ms for 3 s while the clients are connected) and growth;
 *  - time for a real publisher from another address (127.0.0.2) to get NetStream.Publish.Start
 *    while F connections from 127.0.0.1 stall the handshake and reconnect whenever cut (median and
 *    max over K tries, and how many tries failed).
 *
 *   node --import tsx bench/rtmp-abuse.ts [--clients 100] [--flood 1000] [--tries 10]
 *   npm run bench -- rtmp-abuse --runs 3
 */
import type net from 'node:net';
import { freePort, publishStream, sleep, startNode, tempDir } from '../test/helpers/index.js';
import { oversizedChunkClient, rssBytes, rtmpPublish, stalledHandshakeClient } from '../test/helpers/rtmp-abuse.js';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i < 0 ? def : Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} needs a whole number ≥ 1`);
  return v;
}
const CLIENTS = arg('clients', 100);
const FLOOD = arg('flood', 1000);
const TRIES = arg('tries', 10);
const MiB = 1024 * 1024;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

const cleanups: (() => unknown)[] = [];
const t = { after: (fn: () => unknown) => void cleanups.push(fn) };

try {
  const dir = await tempDir(t, 'flux-bench-');
  const rtmp = await freePort();
  const node = await startNode(t, { dir, server: { rtmp }, streams: { live: publishStream() } });
  const pid = (await node.info()).pid;
  (await rtmpPublish({ port: rtmp, app: 'live', name: 'live' })).socket.destroy();
  await sleep(1000);

  // 1. memory under oversized-chunk clients
  const before = await rssBytes(pid);
  const peers = await Promise.all(Array.from({ length: CLIENTS }, () => oversizedChunkClient({ port: rtmp }, 2 * MiB)));
  let peak = before;
  for (let i = 0; i < 30; i++) {
    peak = Math.max(peak, await rssBytes(pid));
    await sleep(100);
  }
  const stillOpen = peers.filter((p) => !p.socket.destroyed && p.socket.readyState === 'open').length;
  for (const p of peers) p.socket.destroy();
  await sleep(1000);

  // 2. a publisher from another address during a stalled-handshake flood
  const flood = new Set<net.Socket>();
  let stop = false;
  const spawnOne = () => {
    if (stop) return;
    const s = stalledHandshakeClient({ port: rtmp, localAddress: '127.0.0.1' });
    flood.add(s);
    s.once('close', () => {
      flood.delete(s);
      if (!stop) setTimeout(spawnOne, 100).unref();
    });
  };
  for (let i = 0; i < FLOOD; i++) {
    spawnOne();
    if (i % 100 === 99) await sleep(20);
  }
  await sleep(1000);
  const times: number[] = [];
  let failed = 0;
  for (let i = 0; i < TRIES; i++) {
    try {
      const pub = await rtmpPublish({ port: rtmp, localAddress: '127.0.0.2', app: 'live', name: 'live', timeoutMs: 10_000 });
      times.push(pub.ms);
      pub.socket.destroy();
    } catch {
      failed++;
    }
    await sleep(300);
  }
  stop = true;
  for (const s of flood) s.destroy();

  console.log(
    JSON.stringify({
      metrics: {
        rss_before_mb: { value: +(before / MiB).toFixed(1), unit: 'MB', better: 'lower' },
        rss_peak_mb: { value: +(peak / MiB).toFixed(1), unit: 'MB', better: 'lower' },
        rss_growth_mb: { value: +((peak - before) / MiB).toFixed(1), unit: 'MB', better: 'lower' },
        oversized_still_open: { value: stillOpen, unit: 'connections', better: 'lower' },
        publish_during_flood_ms: { value: +median(times).toFixed(1), unit: 'ms', better: 'lower' },
        publish_during_flood_max_ms: { value: +(times.length ? Math.max(...times) : NaN).toFixed(1), unit: 'ms', better: 'lower' },
        publish_during_flood_failed: { value: failed, unit: 'tries', better: 'lower' },
      },
      notes: `${CLIENTS} oversized-chunk clients (16,777,215-byte message declared after Set Chunk Size 0x7fffffff, 2 MB sent, then silence); RSS of the agent from /proc status (peak over 3 s). Flood: ${FLOOD} stalled-handshake connections from 127.0.0.1 that reconnect when cut; ${TRIES} publishers from 127.0.0.2 (handshake, connect, createStream, publish → NetStream.Publish.Start)`,
    }),
  );
} finally {
  for (const fn of cleanups) await fn();
}
