/**
 * Playback across nodes on a real etcd: `/<stream>/mpegts` (continuous TS that ffprobe reads), an
 * edge restreaming the origin's stream through a `peer://` input (tshttp from /mpegts, with the
 * cluster key), a wrong cluster key refused with 403, and the balancer's answers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { http, sleep, waitFor } from '../helpers/index.js';
import { startClusterNode, startEtcdCluster, waitPeers } from './cluster-support.js';

const run = promisify(execFile);
const FAKE = { inputs: [{ url: 'fake://testsrc?size=160x120&fps=10' }], hls: { segment_duration: '1s', window: 4 } };
const KEY = 'cluster-secret-1';

/** Read `ms` of a chunked response body. */
async function readFor(url: string, ms: number, headers: Record<string, string> = {}): Promise<{ status: number; type: string | null; body: Buffer }> {
  const ac = new AbortController();
  const res = await fetch(url, { signal: ac.signal, headers });
  const chunks: Buffer[] = [];
  const timer = setTimeout(() => ac.abort(), ms);
  try {
    for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(c));
  } catch {
    /* aborted */
  } finally {
    clearTimeout(timer);
  }
  return { status: res.status, type: res.headers.get('content-type'), body: Buffer.concat(chunks) };
}

test('mpegts output, an edge pulling from its peer with the cluster key, and a wrong key refused', { timeout: 150_000 }, async (t) => {
  const { etcd, dir } = await startEtcdCluster(t);
  const origin = await startClusterNode(t, etcd, 'origin', { streams: { ch: FAKE }, cluster: { cluster_key: KEY } });
  const edge = await startClusterNode(t, etcd, 'edge', {
    streams: { ch: { inputs: [{ url: 'peer://origin' }], hls: { segment_duration: '1s', window: 4 } }, other: { inputs: [{ url: 'peer://origin/ch' }], hls: { segment_duration: '1s' } } },
    cluster: { cluster_key: KEY },
  });
  await waitPeers(edge, ['edge', 'origin']);
  await waitFor(async () => (await http(`${origin.baseUrl}/ch/index.m3u8`)).status === 200, { timeoutMs: 30_000, message: 'origin live' });

  // /mpegts: continuous TS from a keyframe, readable by ffprobe (as by VLC)
  const ts = await readFor(`${origin.baseUrl}/ch/mpegts`, 3500);
  assert.equal(ts.status, 200);
  assert.equal(ts.type, 'video/mp2t');
  assert.ok(ts.body.length > 188 * 50, `got ${ts.body.length} bytes`);
  for (let i = 0; i + 188 <= ts.body.length; i += 188) assert.equal(ts.body[i], 0x47, `sync byte at ${i}`);
  assert.equal(((ts.body[1]! & 0x1f) << 8) | ts.body[2]!, 0, 'starts with the PAT');
  const file = path.join(dir, 'cap.ts');
  await writeFile(file, ts.body);
  const probe = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type,codec_name', '-of', 'json', file]);
  const codecs = (JSON.parse(probe.stdout).streams as { codec_type: string }[]).map((s) => s.codec_type).sort();
  assert.deepEqual(codecs, ['audio', 'video']);
  assert.equal((await http(`${origin.baseUrl}/nope/mpegts`)).status, 404);

  // the edge restreams the origin's stream (same name, and another name through peer://origin/ch)
  for (const name of ['ch', 'other']) {
    await waitFor(async () => (await http(`${edge.baseUrl}/${name}/index.m3u8`)).status === 200 && (await edge.stream(name)).stats.alive, { timeoutMs: 40_000, message: `edge serves ${name}` });
  }
  const st = await edge.stream('ch');
  assert.match(JSON.stringify(st.stats), /tshttp:\/\/127\.0\.0\.1:\d+\/ch\/mpegts/);

  // node-to-node requests with a wrong key: 403 (and a log line on the origin)
  const bad = await fetch(`${origin.baseUrl}/ch/mpegts`, { headers: { 'x-flux-cluster-key': 'wrong-key-123' } });
  assert.equal(bad.status, 403);
  await bad.body?.cancel();
  const good = await readFor(`${origin.baseUrl}/ch/mpegts`, 500, { 'x-flux-cluster-key': KEY });
  assert.equal(good.status, 200);
  const logFile = (await origin.info()).log_file!;
  await waitFor(async () => /wrong cluster key refused/.test(await readFile(logFile, 'utf8')), { timeoutMs: 5000, message: 'the refusal logged' });
});

test('balancer: /balance/<stream>/… → least-loaded node that can serve; owner only for cluster_ingest', { timeout: 150_000 }, async (t) => {
  const { etcd, dir } = await startEtcdCluster(t);
  const a = await startClusterNode(t, etcd, 'a', { cluster: { max_bitrate: '100M' } });
  const b = await startClusterNode(t, etcd, 'b', { cluster: { max_bitrate: '1M' } });
  await waitPeers(a, ['a', 'b']);
  const file = path.join(dir, 'shared.json');
  await writeFile(file, JSON.stringify({ streams: { sh: FAKE, ing: { ...FAKE, cluster_ingest: true, capture_at: 'b' } } }));
  assert.equal((await a.cli(['cluster', 'apply', file])).code, 0);
  for (const n of [a, b]) await waitFor(async () => (await http(`${n.baseUrl}/sh/index.m3u8`)).status === 200, { timeoutMs: 30_000, message: `${n.name} serves sh` });
  await waitFor(async () => (await a.clusterStatus()).owners.ing === 'b', { timeoutMs: 20_000, message: 'b owns ing' });

  // load a: fetch its segments until its heartbeat shows output bitrate
  const loadA = async () => {
    const pl = (await http(`${a.baseUrl}/sh/tracks-v1a1/index.m3u8`)).text;
    const seg = pl.split('\n').find((l) => l.endsWith('.ts'));
    if (seg) await fetch(`${a.baseUrl}/sh/tracks-v1a1/${seg}`).then((r) => r.arrayBuffer());
  };
  await waitFor(
    async () => {
      await loadA();
      const peers = (await b.clusterStatus()).peers as { name: string; output_bitrate: number }[];
      return peers.find((p) => p.name === 'a')!.output_bitrate > 0;
    },
    { timeoutMs: 15_000, intervalMs: 200, message: 'a reports output bitrate' },
  );
  const loc = async (base: string, p: string) => {
    const r = await fetch(base + p, { redirect: 'manual' });
    return { status: r.status, location: r.headers.get('location') };
  };
  assert.deepEqual(await loc(a.baseUrl, '/balance/sh/index.m3u8?mode=bitrate'), { status: 302, location: `${b.baseUrl}/sh/index.m3u8?mode=bitrate` });
  // usage = output / max_bitrate: b (1M) idle has usage 0, a loaded has > 0 → b. b served the
  // playlists polled above: wait until its heartbeat shows it idle again (else 1M makes it look busy)
  await waitFor(
    async () => {
      await loadA();
      // the balancer asked below is b's: b's view must show it too, not only a's (heartbeats race)
      for (const n of [a, b]) {
        const peers = (await n.clusterStatus()).peers as { name: string; output_bitrate: number }[];
        if (!(peers.find((p) => p.name === 'b')!.output_bitrate === 0 && peers.find((p) => p.name === 'a')!.output_bitrate > 0)) return false;
      }
      return true;
    },
    { timeoutMs: 20_000, intervalMs: 200, message: 'b idle, a loaded in the heartbeats, as both nodes see them' },
  );
  assert.equal((await loc(b.baseUrl, '/balance/sh/index.m3u8?mode=usage')).location, `${b.baseUrl}/sh/index.m3u8?mode=usage`);
  // clients: both saw the same single loopback client at most once; a has one, b none → b
  assert.equal((await loc(a.baseUrl, '/balance/sh/tracks-v1a1/index.m3u8')).location, `${b.baseUrl}/sh/tracks-v1a1/index.m3u8`);
  // an ingest stream is served by its owner only
  assert.deepEqual(await loc(a.baseUrl, '/balance/ing/index.m3u8'), { status: 302, location: `${b.baseUrl}/ing/index.m3u8` });
  assert.equal((await loc(a.baseUrl, '/balance/sh/index.m3u8?mode=fastest')).status, 400);
  assert.equal((await loc(a.baseUrl, '/balance/none/index.m3u8')).status, 404);
  await sleep(10);
});
