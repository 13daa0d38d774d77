/**
 * The DVR on a real archive (real ffmpeg encode, cut by the real HLS writer): retention, a crash/gap and
 * a damaged index repaired by the recorder, and archive playback through handleDvrRequest on a real
 * node:http server — the playlists are played by ffmpeg itself, the .ts/.mp4 downloads are probed.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createReadStream } from 'node:fs';
import { access, appendFile, mkdtemp, rm, truncate, unlink, writeFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import HLS from 'hls-parser';
import { DvrRecorder } from '../../src/dvr/recorder.js';
import { Archive } from '../../src/dvr/archive.js';
import { handleDvrRequest } from '../../src/dvr/http.js';
import { indexFilePath, readHourIndex, RECORD_SIZE } from '../../src/dvr/index-file.js';
import { hourOf } from '../../src/protocol/layout.js';
import { safeJoin } from '../../src/core/paths.js';
import type { ResolvedStream } from '../../src/config/model.js';
import { FFMPEG, decodeErrors, makeArchive, probeDuration, run, tempDir } from '../helpers/dvr-fixture.js';
import type { WrittenSegment } from '../../src/daemons/stream/hls-writer.js';

const START = Date.UTC(2026, 10, 24, 22, 59, 30);
const sec = (ms: number) => Math.floor(ms / 1000);
const exists = (p: string) => access(p).then(() => true, () => false);

async function indexed(root: string, rendition = 'v1a1'): Promise<number[]> {
  const out: number[] = [];
  for (const h of [hourOf(START), hourOf(START) + 1]) {
    const r = await readHourIndex(indexFilePath(root, rendition, h));
    assert.equal(r.damaged, false);
    out.push(...r.table.start.subarray(0, r.table.length));
  }
  return out;
}

test('retention removes old segments of a real archive with their index records', async (t) => {
  const root = await tempDir(t);
  const rec = await DvrRecorder.open({ root, renditions: ['v1a1'], retentionMs: 60_000, now: () => START + 80_000, window: 6 });
  t.after(() => rec.close());
  const { segments } = await makeArchive(root, { startMs: START, recorder: rec });
  const res = await rec.runRetention();
  // cutoff = START + 20 s: the 10 segments ending by then go
  assert.equal(res.removedSegments, 10);
  for (const s of segments.slice(0, 10)) assert.equal(await exists(s.path), false, s.uri);
  for (const s of segments.slice(10)) assert.ok(await exists(s.path), s.uri);
  assert.deepEqual(await indexed(root), segments.slice(10).map((s) => s.startMs));
  assert.equal(rec.status.oldest, START + 20_000);
});

test('a crash gap (segments deleted mid-archive) and a damaged index are repaired when the recorder reopens', async (t) => {
  const root = await tempDir(t);
  const rec1 = await DvrRecorder.open({ root, renditions: ['v1a1'] });
  const { segments } = await makeArchive(root, { startMs: START, recorder: rec1 });
  await rec1.close();
  const gone = segments.slice(12, 16);
  for (const s of gone) await unlink(s.path);
  // the other hour's index: truncated mid-record, then garbage
  const idx0 = indexFilePath(root, 'v1a1', hourOf(START));
  const size0 = (await stat(idx0)).size;
  await truncate(idx0, size0 - RECORD_SIZE - 9);
  await appendFile(idx0, Buffer.from('\u0000garbage-after-a-crash'));
  assert.equal((await readHourIndex(idx0)).damaged, true);

  const rec2 = await DvrRecorder.open({ root, renditions: ['v1a1'] });
  t.after(() => rec2.close());
  assert.equal(rec2.status.rebuiltHours, 2);
  const kept = segments.filter((s) => !gone.includes(s));
  assert.deepEqual(await indexed(root), kept.map((s) => s.startMs));
  assert.equal(rec2.status.segments, kept.length);

  const sum = await new Archive(root).summary('v1a1');
  assert.deepEqual(sum.gaps.map((g) => [g.fromMs - START, g.toMs - START, g.reason]), [[24_000, 32_000, 'missing']]);
  assert.equal(sum.ranges.length, 2);
});

// ---------------------------------------------------------------------------------------------- HTTP

let dir: string;
let root: string;
let base: string;
let server: http.Server;
let v1: WrittenSegment[];

function streamOf(renditions: string[]): ResolvedStream {
  return {
    name: 'cams/door',
    disabled: false,
    inputs: [],
    root,
    dvr: { root },
    push: [],
    hls: { segmentDurationMs: 2000, window: 6 },
    auth: { playToken: false, secureLink: false },
    renditions,
  };
}

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'flux-dvr-http-'));
  root = path.join(dir, 'cams', 'door');
  const rec = await DvrRecorder.open({ root, renditions: ['v1a1', 'v2a1'] });
  v1 = (await makeArchive(root, { startMs: START, recorder: rec, rendition: 'v1a1' })).segments;
  await makeArchive(root, { startMs: START, recorder: rec, rendition: 'v2a1' });
  // a gap in v1a1: 3 segments lost in a crash, repaired by the next open
  for (const s of v1.slice(20, 23)) await unlink(s.path);
  await rec.close();
  await (await DvrRecorder.open({ root, renditions: ['v1a1', 'v2a1'] })).close();
  const single = streamOf(['v1a1']);
  const multi = { ...streamOf(['v1a1', 'v2a1']), name: 'multi' };
  server = http.createServer(async (req, res) => {
    const url = new URL(req.url!, 'http://x');
    const m = /^\/(cams\/door|multi)\/(.*)$/.exec(url.pathname);
    if (!m) return void res.writeHead(404).end();
    const stream = m[1] === 'multi' ? multi : single;
    if (await handleDvrRequest(req, res, stream, m[2]!, { query: url.searchParams, now: () => START + 120_000 })) return;
    // what the node's playback router does for segment URLs
    const parts = m[2]!.split('/');
    if (parts[0]!.startsWith('tracks-') && parts.length === 6) {
      const file = safeJoin(root, parts[0]!.slice(7), ...parts.slice(1));
      if (await exists(file)) {
        res.writeHead(200, { 'Content-Type': 'video/mp2t' });
        createReadStream(file).pipe(res);
        return;
      }
    }
    res.writeHead(404).end('no');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  await rm(dir, { recursive: true, force: true });
});

async function get(p: string): Promise<{ status: number; body: Buffer; type: string | null }> {
  const r = await fetch(base + p);
  return { status: r.status, body: Buffer.from(await r.arrayBuffer()), type: r.headers.get('content-type') };
}

/** ffmpeg plays the URL (a playlist) to the end; returns its errors ('' when clean) and the media duration. */
async function play(url: string, t: { after: (fn: () => Promise<void>) => void }): Promise<{ errors: string; duration: number }> {
  const d = await tempDir(t, 'flux-dvr-play-');
  const out = path.join(d, 'out.ts');
  const r = await run(FFMPEG, ['-hide_banner', '-v', 'error', '-i', url, '-c', 'copy', '-f', 'mpegts', out]);
  if (r.code !== 0) return { errors: r.stderr || `exit ${r.code}`, duration: 0 };
  return { errors: r.stderr.trim(), duration: await probeDuration(out) };
}

test('archive-<from>-<duration>.m3u8 across the gap: VOD, PDT, discontinuity; ffmpeg plays it', async (t) => {
  const p = `/cams/door/archive-${sec(START) + 30}-20.m3u8`;
  const r = await get(p);
  assert.equal(r.status, 200);
  const pl = HLS.parse(r.body.toString()) as HLS.types.MediaPlaylist;
  assert.equal(pl.playlistType, 'VOD');
  assert.equal(pl.endlist, true);
  // 30 s … 50 s without the 40–46 s gap: 7 segments, a discontinuity at 46 s
  assert.deepEqual(pl.segments.map((s) => s.programDateTime?.getTime() ?? null), [START + 30_000, null, null, null, null, START + 46_000, null]);
  assert.deepEqual(pl.segments.map((s) => !!s.discontinuity), [false, false, false, false, false, true, false]);
  assert.equal(pl.segments[0]!.uri, `tracks-v1a1/${v1[15]!.uri}`);
  const played = await play(base + p, t);
  assert.equal(played.errors, '');
  // 14 s of media; the same encoder session on both sides keeps its timestamps, so the hole stays in the timeline
  assert.ok(Math.abs(played.duration - 20) <= 1.5, `played ${played.duration} s`);
  // the pre-4.7 name answers the same playlist
  assert.equal((await get(`/cams/door/index-${sec(START) + 30}-20.m3u8`)).body.toString(), r.body.toString());
});

test('a master playlist for several renditions; ffmpeg plays it', async (t) => {
  const r = await get(`/multi/archive-${sec(START)}-10.m3u8`);
  const pl = HLS.parse(r.body.toString()) as HLS.types.MasterPlaylist;
  assert.deepEqual(pl.variants.map((v) => v.uri), [`tracks-v1a1/archive-${sec(START)}-10.m3u8`, `tracks-v2a1/archive-${sec(START)}-10.m3u8`]);
  const child = HLS.parse((await get(`/multi/tracks-v2a1/archive-${sec(START)}-10.m3u8`)).body.toString()) as HLS.types.MediaPlaylist;
  assert.equal(child.segments.length, 5);
  assert.equal(child.segments[0]!.uri, v1[0]!.uri);
  const played = await play(`${base}/multi/archive-${sec(START)}-10.m3u8`, t);
  assert.equal(played.errors, '');
  assert.ok(Math.abs(played.duration - 10) <= 1.5, `played ${played.duration} s`);
});

test('archive-<from>-now (EVENT) and rewind-<seconds> (live window)', async () => {
  const ev = await get(`/cams/door/archive-${sec(START) + 50}-now.m3u8`);
  const e = HLS.parse(ev.body.toString()) as HLS.types.MediaPlaylist;
  assert.equal(e.playlistType, 'EVENT');
  assert.equal(e.endlist, false);
  assert.equal(e.segments.length, 5);
  const rw = await get('/cams/door/rewind-10.m3u8');
  const w = HLS.parse(rw.body.toString()) as HLS.types.MediaPlaylist;
  assert.equal(w.endlist, false);
  assert.equal(w.playlistType, undefined);
  assert.equal(w.segments.length, 5);
  assert.equal(w.mediaSequenceBase, v1[25]!.mediaSequence);
  assert.equal(w.segments[4]!.uri, `tracks-v1a1/${v1[29]!.uri}`);
});

test('archive-….ts and archive-….mp4 stream playable media; recording_status.json lists the ranges', async (t) => {
  const d = await tempDir(t, 'flux-dvr-dl-');
  const ts = await get(`/cams/door/archive-${sec(START) + 10}-20.ts`);
  assert.equal(ts.status, 200);
  assert.equal(ts.type, 'video/mp2t');
  assert.equal(ts.body.length, v1.slice(5, 15).reduce((a, s) => a + s.bytes, 0));
  await writeFile(path.join(d, 'a.ts'), ts.body);
  assert.ok(Math.abs((await probeDuration(path.join(d, 'a.ts'))) - 20) <= 1);
  assert.equal(await decodeErrors(path.join(d, 'a.ts')), '');

  const mp4 = await get(`/cams/door/archive-${sec(START) + 10}-20.mp4`);
  assert.equal(mp4.status, 200);
  assert.equal(mp4.type, 'video/mp4');
  await writeFile(path.join(d, 'a.mp4'), mp4.body);
  assert.ok(Math.abs((await probeDuration(path.join(d, 'a.mp4'))) - 20) <= 1);
  assert.equal(await decodeErrors(path.join(d, 'a.mp4')), '');

  const none = await get(`/cams/door/archive-${sec(START) - 600}-60.mp4`);
  assert.equal(none.status, 404);
  assert.match(none.body.toString(), /nothing recorded/);

  const st = JSON.parse((await get('/cams/door/recording_status.json')).body.toString());
  assert.deepEqual(st.ranges, [
    { from: sec(START), duration: 40 },
    { from: sec(START) + 46, duration: 14 },
  ]);
  const multi = JSON.parse((await get(`/multi/recording_status.json?from=${sec(START)}&to=${sec(START) + 3600}`)).body.toString());
  assert.deepEqual(multi.ranges, st.ranges, 'the ranges of the first rendition');
  assert.deepEqual(multi.renditions.v2a1.ranges, [{ from: sec(START), duration: 60 }]);
});
