/**
 * Playback HTTP end to end: a node:http server on 127.0.0.1:0 around createPlaybackHandler, over a
 * live HlsWriter fed by ffmpeg. Headers, HEAD, Range, 404s, traversal attempts (raw request
 * targets, not normalized by a client), and concurrent readers while the writer renames new
 * playlists into place. Run against two handlers: default (bodies cached in memory) and one that
 * always goes to disk (stat per request, segments streamed from an fd).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request, Agent } from 'node:http';
import { connect } from 'node:net';
import { readFile, writeFile, mkdir, stat, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import { parse, setOptions, types } from 'hls-parser';
import type { ResolvedStream } from '../../src/config/model.js';
import { createPlaybackHandler } from '../../src/daemons/node/playback.js';
import { HlsWriter } from '../../src/daemons/stream/hls-writer.js';
import { MasterWriter } from '../../src/daemons/stream/master-writer.js';
import { defer, serve, startSource, tempDir, waitFor, sleep } from './hls-support.js';

setOptions({ strictMode: true, silent: true });

function streamAt(name: string, root: string, renditions = ['v1a1']): ResolvedStream {
  return {
    name,
    disabled: false,
    inputs: [],
    root,
    push: [],
    hls: { segmentDurationMs: 1000, window: 5 },
    auth: { playToken: false, secureLink: false },
    renditions,
  };
}

interface Resp {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** One request with the target sent exactly as given (no client-side normalization). */
function raw(base: string, target: string, opts: { method?: string; headers?: Record<string, string>; agent?: Agent } = {}): Promise<Resp> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path: target, method: opts.method ?? 'GET', headers: opts.headers, agent: opts.agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Bytes straight on a socket, for request targets an HTTP client refuses to send. */
function rawSocket(port: number, requestLine: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(`${requestLine}\r\nHost: x\r\nConnection: close\r\n\r\n`, 'latin1'));
    let out = '';
    s.on('data', (d: Buffer) => (out += d.toString('latin1')));
    s.on('end', () => resolve(out));
    s.on('error', reject);
  });
}

test('playback serves a live stream: types, caching, CORS, HEAD, Range, 404s, no traversal, no torn reads', async (t) => {
  const dir = await tempDir(t);
  const door = streamAt('cams/door', path.join(dir, 'data', 'cams', 'door'));
  const cams = streamAt('cams', path.join(dir, 'data', 'cams-only'));
  const streams = new Map([door, cams].map((s) => [s.name, s]));
  const getStream = (n: string) => streams.get(n);
  const listStreams = () => [...streams.keys()];
  // files that must never be served
  await writeFile(path.join(dir, 'secret.txt'), 'TOPSECRET');
  await mkdir(path.join(dir, 'data'), { recursive: true });
  await writeFile(path.join(dir, 'data', 'secret.txt'), 'TOPSECRET');

  const cached = await serve(t, createPlaybackHandler({ getStream, listStreams }));
  const direct = await serve(t, createPlaybackHandler({ getStream, listStreams, playlistRevalidateMs: 0, segmentCacheBytes: 0 }));

  const master = new MasterWriter({ root: door.root, renditions: door.renditions });
  const w = await HlsWriter.open({ root: door.root, rendition: 'v1a1', segmentDurationMs: 1000, window: 5, keepSegments: false, onSegment: () => master.updateFrom(w) });
  defer(t, () => w.close());
  const src = startSource({ seconds: 12, realtime: true }, (c) => w.write(c), t);
  await waitFor('two segments and a master', async () => w.stats.segments >= 2 && (await stat(path.join(door.root, 'index.m3u8')).catch(() => null)), 15_000);

  for (const { base, port } of [cached, direct]) {
    // master
    let r = await raw(base, '/cams/door/index.m3u8');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/vnd.apple.mpegurl');
    assert.equal(r.headers['cache-control'], 'no-cache');
    assert.equal(r.headers['access-control-allow-origin'], '*');
    assert.equal(Number(r.headers['content-length']), r.body.length);
    const m = parse(r.body.toString()) as types.MasterPlaylist;
    assert.ok(m.isMasterPlaylist);
    assert.equal(m.variants[0]!.uri, 'tracks-v1a1/index.m3u8');

    // media playlists (index and mono alias)
    for (const p of ['/cams/door/tracks-v1a1/index.m3u8', '/cams/door/tracks-v1a1/mono.m3u8?token=x']) {
      r = await raw(base, p);
      assert.equal(r.status, 200, p);
      assert.equal(r.headers['content-type'], 'application/vnd.apple.mpegurl');
      assert.equal(r.headers['cache-control'], 'no-cache');
      assert.ok(!(parse(r.body.toString()) as types.MediaPlaylist).isMasterPlaylist);
    }
    const media = parse(r.body.toString()) as types.MediaPlaylist;
    const segUri = media.segments[0]!.uri;
    const segPath = `/cams/door/tracks-v1a1/${segUri}`;
    const onDisk = await readFile(path.join(door.root, 'v1a1', segUri));

    // segment: full GET
    r = await raw(base, segPath);
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'video/mp2t');
    assert.equal(r.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(r.headers['access-control-allow-origin'], '*');
    assert.equal(r.headers['accept-ranges'], 'bytes');
    assert.equal(Number(r.headers['content-length']), onDisk.length);
    assert.ok(r.body.equals(onDisk), 'segment bytes are the file');
    const etag = r.headers.etag as string;
    assert.ok(etag);

    // conditional
    r = await raw(base, segPath, { headers: { 'If-None-Match': etag } });
    assert.equal(r.status, 304);
    assert.equal(r.body.length, 0);

    // HEAD
    r = await raw(base, segPath, { method: 'HEAD' });
    assert.equal(r.status, 200);
    assert.equal(Number(r.headers['content-length']), onDisk.length);
    assert.equal(r.body.length, 0);
    r = await raw(base, '/cams/door/tracks-v1a1/index.m3u8', { method: 'HEAD' });
    assert.equal(r.status, 200);
    assert.equal(r.body.length, 0);
    assert.ok(Number(r.headers['content-length']) > 0);

    // Range
    r = await raw(base, segPath, { headers: { Range: 'bytes=0-187' } });
    assert.equal(r.status, 206);
    assert.equal(r.headers['content-range'], `bytes 0-187/${onDisk.length}`);
    assert.ok(r.body.equals(onDisk.subarray(0, 188)));
    assert.equal(r.body[0], 0x47);
    r = await raw(base, segPath, { headers: { Range: 'bytes=-188' } });
    assert.equal(r.status, 206);
    assert.ok(r.body.equals(onDisk.subarray(onDisk.length - 188)));
    r = await raw(base, segPath, { headers: { Range: `bytes=1000-${onDisk.length + 5000}` } });
    assert.equal(r.status, 206);
    assert.equal(r.headers['content-range'], `bytes 1000-${onDisk.length - 1}/${onDisk.length}`);
    assert.ok(r.body.equals(onDisk.subarray(1000)));
    r = await raw(base, segPath, { headers: { Range: `bytes=${onDisk.length}-` } });
    assert.equal(r.status, 416);
    assert.equal(r.headers['content-range'], `bytes */${onDisk.length}`);
    r = await raw(base, segPath, { method: 'HEAD', headers: { Range: 'bytes=10-19' } });
    assert.equal(r.status, 206);
    assert.equal(r.headers['content-length'], '10');
    assert.equal(r.body.length, 0);

    // CORS preflight, refused methods
    r = await raw(base, segPath, { method: 'OPTIONS', headers: { Origin: 'https://example.com', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'range' } });
    assert.equal(r.status, 204);
    assert.equal(r.headers['access-control-allow-origin'], '*');
    assert.match(String(r.headers['access-control-allow-methods']), /GET/);
    assert.match(String(r.headers['access-control-allow-headers']), /range/i);
    r = await raw(base, '/cams/door/index.m3u8', { method: 'POST' });
    assert.equal(r.status, 405);

    // embed page and its player script (reached through a relative URL)
    r = await raw(base, '/cams/door/embed.html');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'text/html; charset=utf-8');
    const html = r.body.toString();
    const script = /<script src="([^"]+hls\.min\.js)"/.exec(html)?.[1];
    assert.ok(script, 'embed page loads hls.min.js');
    assert.match(html, /'index\.m3u8'/);
    const scriptPath = new URL(script, `${base}/cams/door/embed.html`).pathname;
    assert.equal(scriptPath, '/flux/static/hls.min.js');
    r = await raw(base, scriptPath);
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/javascript; charset=utf-8');
    assert.ok(r.body.length > 100_000);

    // 404s: unknown stream, unknown rendition, missing segment, master not written yet, not-a-segment files
    const notFound = [
      '/nope/index.m3u8',
      '/cams/door/tracks-v9a9/index.m3u8',
      '/cams/door/tracks-v1a1/2020/01/01/00/1577836800000-2000.ts',
      '/cams/index.m3u8',
      '/cams/door/tracks-v1a1/live.json',
      '/cams/door/tracks-v1a1/2020/01/01/00/live.json',
      '/cams/door/v1a1/index.m3u8',
      '/flux/static/package.json',
      '/cams/door/secret.txt',
    ];
    for (const p of notFound) {
      r = await raw(base, p);
      assert.equal(r.status, 404, p);
      assert.doesNotMatch(r.body.toString(), /TOPSECRET|mediaSequence/);
    }
    r = await raw(base, '/cams/index.m3u8');
    assert.match(r.body.toString(), /no master playlist yet/);

    // traversal attempts: 400 or 404, never a file's content
    const attacks = [
      '/cams/door/../../secret.txt',
      '/cams/door/../../../secret.txt',
      '/cams/door/tracks-v1a1/../../../../secret.txt',
      '/cams/door/%2e%2e/%2e%2e/%2e%2e/secret.txt',
      '/cams/door/%2E%2E%2F%2E%2E%2F%2E%2E%2Fsecret.txt',
      '/cams/door/tracks-v1a1/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fsecret.txt',
      '/cams%2F..%2F..%2Fsecret.txt',
      '/cams/door/tracks-v1a1%2F..%2F..%2F..%2F..%2Fsecret.txt',
      '/cams/door/tracks-v1a1/2020/01/01/00/%2F..%2F..%2F..%2F..%2Flive.json',
      '/cams/door/%252e%252e/%252e%252e/secret.txt',
      `/cams/door/tracks-v1a1/${path.join(dir, 'secret.txt')}`,
      `/cams/door/tracks-v1a1//${dir}/secret.txt`,
      '//etc/passwd',
      '/cams/door//etc/passwd',
      `/${dir}/secret.txt`,
      '/cams/door/index.m3u8%00.ts',
      '/cams/door/tracks-v1a1/index.m3u8%00',
      '/cams/door/..%5C..%5C..%5Csecret.txt',
      '/cams/door/tracks-v1a1/..\\..\\..\\..\\secret.txt',
      '/cams/door/%c0%ae%c0%ae/secret.txt',
      '/cams/door/%zz/secret.txt',
      '/flux/static/..%2F..%2Fpackage.json',
      `http://127.0.0.1:${port}/cams/door/../../secret.txt`,
    ];
    for (const p of attacks) {
      r = await raw(base, p);
      assert.ok(r.status === 400 || r.status === 404, `${p} → ${r.status}`);
      assert.doesNotMatch(r.body.toString(), /TOPSECRET|mediaSequence|root:|"name"/, p);
    }
    for (const line of ['GET /cams/door/index.m3u8\u0000 HTTP/1.1', 'GET /cams/door/..\u0000/..\u0000/secret.txt HTTP/1.1', 'GET ../../secret.txt HTTP/1.1']) {
      const out = await rawSocket(port, line);
      assert.match(out, /^HTTP\/1\.1 (400|404)/, JSON.stringify(line));
      assert.doesNotMatch(out, /TOPSECRET/);
    }
  }

  // concurrent readers while the writer keeps renaming new versions into place: every playlist
  // body is whole (parses, ends on a segment line, matches Content-Length) and every segment too
  const stopAt = Date.now() + 4000;
  const seenVersions = new Set<string>();
  let playlists = 0;
  let segments = 0;
  const reader = async (base: string) => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      while (Date.now() < stopAt) {
        const r = await raw(base, '/cams/door/tracks-v1a1/index.m3u8', { agent });
        assert.equal(r.status, 200);
        const text = r.body.toString();
        assert.equal(Number(r.headers['content-length']), r.body.length);
        assert.ok(text.endsWith('.ts\n'), `torn playlist: ${JSON.stringify(text.slice(-40))}`);
        const pl = parse(text) as types.MediaPlaylist;
        seenVersions.add(String(pl.mediaSequenceBase));
        playlists++;
        const last = pl.segments.at(-1)!.uri;
        const s = await raw(base, `/cams/door/tracks-v1a1/${last}`, { agent });
        assert.equal(s.status, 200, `segment named by the playlist is served: ${last}`);
        assert.equal(Number(s.headers['content-length']), s.body.length);
        assert.equal(s.body.length % 188, 0, 'whole TS packets');
        assert.equal(s.body[0], 0x47);
        segments++;
      }
    } finally {
      agent.destroy();
    }
  };
  await Promise.all([cached.base, cached.base, cached.base, direct.base, direct.base, direct.base].map(reader));
  assert.ok(playlists > 30 && segments > 30, `exercised: ${playlists} playlists, ${segments} segments`);
  assert.ok(seenVersions.size >= 2, 'readers saw the playlist change');


  // clients that vanish before or during a streamed body leave no file descriptor behind
  const pl = parse((await raw(direct.base, '/cams/door/tracks-v1a1/index.m3u8')).body.toString()) as types.MediaPlaylist;
  const target = `/cams/door/tracks-v1a1/${pl.segments.at(-1)!.uri}`;
  await Promise.all(
    Array.from({ length: 40 }, (_, i) =>
      new Promise<void>((resolve) => {
        const s = connect(direct.port, '127.0.0.1', () => {
          s.write(`GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`);
          if (i % 2 === 0) s.destroy();
          else s.once('data', () => s.destroy());
        });
        s.on('close', () => resolve());
        s.on('error', () => resolve());
      }),
    ),
  );
  const openUnder = async () => {
    let n = 0;
    for (const f of await readdir('/proc/self/fd')) {
      const l = await readlink(`/proc/self/fd/${f}`).catch(() => '');
      if (l.startsWith(dir) && l.endsWith('.ts')) n++; // (the writer's open segment is a .tmp)
    }
    return n;
  };
  await waitFor('segment fds closed', async () => (await openUnder()) === 0 || undefined, 3000).catch(async () => {
    assert.equal(await openUnder(), 0, 'file descriptors of segments still open');
  });

  src.stop();
  await sleep(10);
});

test('routing: longest stream-name prefix wins, DVR URLs go to the DVR handler, unknown paths are declined', async (t) => {
  const dir = await tempDir(t);
  const a = streamAt('a', path.join(dir, 'a'));
  const ab = streamAt('a/b', path.join(dir, 'ab'));
  await mkdir(path.join(ab.root), { recursive: true });
  await mkdir(path.join(a.root, 'b'), { recursive: true });
  await writeFile(path.join(ab.root, 'index.m3u8'), '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-STREAM-INF:BANDWIDTH=1\ntracks-v1a1/index.m3u8\n');
  await writeFile(path.join(a.root, 'b', 'index.m3u8'), 'WRONG STREAM');
  const streams = new Map([a, ab].map((s) => [s.name, s]));
  const dvrCalls: { stream: string; rest: string; from: string | null }[] = [];
  const handler = createPlaybackHandler({
    getStream: (n) => streams.get(n),
    listStreams: () => [...streams.keys()],
    dvr: async (_req, res, stream, rest, ctx) => {
      dvrCalls.push({ stream: stream.name, rest, from: ctx.query.get('from') });
      if (!rest.startsWith('archive-')) return false;
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('dvr');
      return true;
    },
  });
  const { base } = await serve(t, handler);
  let r = await raw(base, '/a/b/index.m3u8');
  assert.equal(r.status, 200);
  assert.match(r.body.toString(), /^#EXTM3U/);
  r = await raw(base, '/a/b/archive-1700000000-60.m3u8?from=5');
  assert.equal(r.body.toString(), 'dvr');
  assert.deepEqual(dvrCalls.at(-1), { stream: 'a/b', rest: 'archive-1700000000-60.m3u8', from: '5' });
  r = await raw(base, '/a/recording_status.json');
  assert.equal(r.status, 404, 'declined by the DVR handler, declined by playback → the server 404s');
  assert.deepEqual(dvrCalls.at(-1), { stream: 'a', rest: 'recording_status.json', from: null });
  r = await raw(base, '/a');
  assert.equal(r.status, 404);
  r = await raw(base, '/api/v3/streams');
  assert.equal(r.status, 404);
});
