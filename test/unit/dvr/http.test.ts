import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import HLS from 'hls-parser';
import { handleDvrRequest, parseDvrPath } from '../../../src/dvr/http.js';
import { Archive } from '../../../src/dvr/archive.js';
import { DvrRecorder } from '../../../src/dvr/recorder.js';
import type { ResolvedStream } from '../../../src/config/model.js';
import { T0, content, run, tempRoot, writeSegments } from './helpers.js';

function streamOf(root: string, renditions = ['v1a1'], dvr = true): ResolvedStream {
  return {
    name: 'cams/door',
    disabled: false,
    inputs: [],
    root,
    dvr: dvr ? { root } : undefined,
    push: [],
    hls: { segmentDurationMs: 2000, window: 3 },
    auth: { playToken: false, secureLink: false },
    renditions,
  };
}

async function serve(t: { after: (fn: () => Promise<void>) => void }, stream: ResolvedStream, now = T0 + 3_600_000) {
  const archive = new Archive(stream.root);
  const server = http.createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    const prefix = `/${stream.name}/`;
    const rest = url.pathname.startsWith(prefix) ? url.pathname.slice(prefix.length) : '';
    handleDvrRequest(req, res, stream, rest, { archive, query: url.searchParams, now: () => now }).then((handled) => {
      if (!handled) res.writeHead(418).end('not dvr');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/${stream.name}/`;
  return async (p: string, init?: RequestInit) => {
    const res = await fetch(base + p, init);
    return { status: res.status, type: res.headers.get('content-type'), text: Buffer.from(await res.arrayBuffer()), headers: res.headers };
  };
}

const sec = (ms: number) => Math.floor(ms / 1000);

test('parseDvrPath recognizes Flussonic archive URLs and nothing else', () => {
  assert.deepEqual(parseDvrPath('archive-1700000000-3600.m3u8'), { kind: 'range', rendition: undefined, name: 'archive', fromMs: 1.7e12, durationMs: 3_600_000, ext: 'm3u8' });
  assert.equal(parseDvrPath('index-1700000000-60.m3u8')?.kind, 'range');
  assert.equal((parseDvrPath('archive-1700000000-now.m3u8') as { durationMs: unknown }).durationMs, 'now');
  assert.equal(parseDvrPath('tracks-v2a1/archive-1700000000-60.m3u8')?.kind, 'range');
  assert.equal((parseDvrPath('tracks-v2a1/rewind-300.m3u8') as { rendition: string }).rendition, 'v2a1');
  assert.equal(parseDvrPath('archive-1700000000-60.mp4')?.kind, 'range');
  assert.equal(parseDvrPath('recording_status.json')?.kind, 'status');
  for (const p of ['index.m3u8', 'tracks-v1a1/index.m3u8', 'tracks-v1a1/2026/11/24/22/1-2000.ts', 'archive-x-60.m3u8', 'a/b/archive-1-2.m3u8', 'archive-1-2.mkv']) {
    assert.equal(parseDvrPath(p), undefined, p);
  }
});

test('archive / index- / now / rewind playlists for one rendition', async (t) => {
  const root = await tempRoot(t);
  const segs = [...run(T0, 10), ...run(T0 + 40_000, 10)];
  const rec = await DvrRecorder.open({ root, renditions: ['v1a1'] });
  for (const [i, s] of segs.entries()) {
    await writeSegments(root, 'v1a1', [s]);
    await rec.onSegment({ rendition: 'v1a1', startMs: s.startMs, durationMs: s.durationMs, bytes: s.bytes, mediaSequence: 100 + i });
  }
  await rec.close();
  const get = await serve(t, streamOf(root));

  const vod = await get(`archive-${sec(T0)}-60.m3u8`);
  assert.equal(vod.status, 200);
  assert.equal(vod.type, 'application/vnd.apple.mpegurl');
  const pl = HLS.parse(vod.text.toString()) as HLS.types.MediaPlaylist;
  assert.equal(pl.playlistType, 'VOD');
  assert.equal(pl.endlist, true);
  assert.equal(pl.segments.length, 20);
  assert.equal(pl.segments[0]!.uri, `tracks-v1a1/2026/11/24/22/${T0}-2000.ts`);
  assert.equal(pl.segments[10]!.discontinuity, true, 'the gap is a discontinuity');
  assert.equal(pl.segments[10]!.programDateTime!.getTime(), T0 + 40_000);

  const old = await get(`index-${sec(T0)}-60.m3u8`);
  assert.equal(old.text.toString(), vod.text.toString(), 'pre-4.7 name answers the same');

  const part = await get(`archive-${sec(T0) + 41}-4.m3u8`);
  assert.equal((HLS.parse(part.text.toString()) as HLS.types.MediaPlaylist).segments.length, 3);

  const ev = await get(`archive-${sec(T0) + 40}-now.m3u8`);
  assert.match(ev.text.toString(), /#EXT-X-PLAYLIST-TYPE:EVENT/);
  assert.doesNotMatch(ev.text.toString(), /ENDLIST/);
  assert.equal((HLS.parse(ev.text.toString()) as HLS.types.MediaPlaylist).segments.length, 10);

  const rw = await get('rewind-6.m3u8');
  const rpl = HLS.parse(rw.text.toString()) as HLS.types.MediaPlaylist;
  assert.equal(rpl.segments.length, 3);
  assert.equal(rpl.endlist, false);
  assert.equal(rpl.mediaSequenceBase, 117);
  assert.equal(rpl.discontinuitySequenceBase, 1);

  const per = await get(`tracks-v1a1/archive-${sec(T0)}-4.m3u8?token=abc`);
  assert.match(per.text.toString(), new RegExp(`\n2026/11/24/22/${T0}-2000\\.ts\\?token=abc\n`));

  const none = await get(`archive-${sec(T0) - 7200}-60.m3u8`);
  assert.equal(none.status, 404);
  assert.match(none.text.toString(), /^nothing recorded for cams\/door between/);
  assert.equal((await get('tracks-v9a9/archive-1-2.m3u8')).status, 404);
  assert.equal((await get(`archive-${sec(T0)}-0.m3u8`)).status, 400);
  assert.equal((await get(`archive-${sec(T0)}-now.ts`)).status, 400);
  assert.equal((await get(`archive-${sec(T0)}-60.m3u8`, { method: 'POST' })).status, 405);
  assert.equal((await get('index.m3u8')).status, 418, 'not a DVR URL: false');
});

test('a master playlist when the stream has several renditions', async (t) => {
  const root = await tempRoot(t);
  await writeSegments(root, 'v1a1', run(T0, 5, 2000, 1000));
  await writeSegments(root, 'v2a1', run(T0, 5, 2000, 250));
  const get = await serve(t, streamOf(root, ['v1a1', 'v2a1']));
  const m = await get(`archive-${sec(T0)}-10.m3u8?token=x`);
  const pl = HLS.parse(m.text.toString()) as HLS.types.MasterPlaylist;
  assert.equal(pl.isMasterPlaylist, true);
  assert.deepEqual(pl.variants.map((v) => [v.uri, v.bandwidth]), [
    [`tracks-v1a1/archive-${sec(T0)}-10.m3u8?token=x`, 4000],
    [`tracks-v2a1/archive-${sec(T0)}-10.m3u8?token=x`, 1000],
  ]);
  const child = await get(`tracks-v2a1/archive-${sec(T0)}-10.m3u8`);
  assert.equal((HLS.parse(child.text.toString()) as HLS.types.MediaPlaylist).segments[0]!.uri, `2026/11/24/22/${T0}-2000.ts`);
});

test('archive-….ts streams the bytes of the segments in order; recording_status.json lists ranges', async (t) => {
  const root = await tempRoot(t);
  const segs = [...run(T0, 5, 2000, 188), ...run(T0 + 30_000, 5, 2000, 376)];
  await writeSegments(root, 'v1a1', segs);
  const get = await serve(t, streamOf(root));
  const ts = await get(`archive-${sec(T0) + 2}-6.ts`);
  assert.equal(ts.status, 200);
  assert.equal(ts.type, 'video/mp2t');
  assert.equal(ts.headers.get('transfer-encoding'), 'chunked');
  assert.deepEqual(ts.text, Buffer.concat(segs.slice(1, 4).map(content)));

  const st = await get('recording_status.json');
  const body = JSON.parse(st.text.toString());
  assert.equal(body.stream, 'cams/door');
  assert.deepEqual(body.ranges, [
    { from: sec(T0), duration: 10 },
    { from: sec(T0) + 30, duration: 10 },
  ]);
  assert.deepEqual(body.gaps, [{ from: sec(T0) + 10, duration: 20, reason: 'missing' }]);
  const win = JSON.parse((await get(`recording_status.json?from=${sec(T0) + 30}&to=${sec(T0) + 34}`)).text.toString());
  assert.deepEqual(win.ranges, [{ from: sec(T0) + 30, duration: 4 }]);
  assert.equal((await get('recording_status.json?from=abc')).status, 400);
  assert.equal((await get(`archive-${sec(T0) + 100}-5.ts`)).status, 404);
});

test('a stream without dvr answers 404 with the reason', async (t) => {
  const root = await tempRoot(t);
  const get = await serve(t, streamOf(root, ['v1a1'], false));
  const r = await get('archive-1-2.m3u8');
  assert.equal(r.status, 404);
  assert.match(r.text.toString(), /has no dvr/);
});
