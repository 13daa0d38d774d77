/**
 * LL-HLS serving for a two-rendition ladder: two fMP4 writers with parts fed at real-time pace, served by
 * the playback handler. Every media playlist reports the other rendition (EXT-X-RENDITION-REPORT with
 * its LAST-MSN / LAST-PART), a blocking request is released (404) when its stream leaves the config, and
 * a GOP longer than the segment target keeps INDEPENDENT only on parts that start with a keyframe.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { ResolvedStream } from '../../src/config/model.js';
import { createPlaybackHandler } from '../../src/daemons/node/playback.js';
import { HlsWriter } from '../../src/daemons/stream/hls-writer.js';
import { defer, serve, startSource, tempDir, waitFor } from '../integration/hls-support.js';

async function text(url: string): Promise<{ status: number; body: string }> {
  const r = await fetch(url);
  return { status: r.status, body: await r.text() };
}

test('LL-HLS ladder: rendition reports, release on stream removal, long GOP', { timeout: 120_000 }, async (t) => {
  const dir = await tempDir(t);
  const stream: ResolvedStream = {
    name: 'lad',
    disabled: false,
    inputs: [],
    root: path.join(dir, 'lad'),
    push: [],
    hls: { segmentDurationMs: 1000, window: 6, container: 'fmp4', lowLatency: { partDurationMs: 500 } },
    auth: { playToken: false, secureLink: false },
    renditions: ['v1a1', 'v2a1'],
  };
  const writers: HlsWriter[] = [];
  for (const [rendition, gop] of [['v1a1', 25], ['v2a1', 75]] as const) {
    const w = await HlsWriter.open({ root: stream.root, rendition, segmentDurationMs: 1000, window: 6, keepSegments: false, container: 'fmp4', lowLatency: { partDurationMs: 500 } });
    defer(t, () => w.close());
    writers.push(w);
    // v2a1: a 3 s GOP against 1 s segments: cuts are forced, parts in between are not independent
    startSource({ seconds: 30, realtime: true, size: '160x120', gop }, (c) => w.write(c), t);
  }
  let present = true;
  const { base } = await serve(t, createPlaybackHandler({ getStream: (n) => (present && n === stream.name ? stream : undefined), listStreams: () => [stream.name] }));
  await waitFor('four segments in each rendition', () => writers.every((w) => w.stats.segments >= 4), 40_000);

  const v1 = (await text(`${base}/lad/tracks-v1a1/index.m3u8`)).body;
  const v2 = (await text(`${base}/lad/tracks-v2a1/index.m3u8`)).body;
  const report = /^#EXT-X-RENDITION-REPORT:URI="\.\.\/tracks-v2a1\/index\.m3u8",LAST-MSN=(\d+),LAST-PART=(\d+)$/m.exec(v1);
  assert.ok(report, v1);
  assert.match(v2, /^#EXT-X-RENDITION-REPORT:URI="\.\.\/tracks-v1a1\/index\.m3u8",LAST-MSN=\d+,LAST-PART=\d+$/m);
  assert.doesNotMatch(v1, /tracks-v1a1\/index\.m3u8/, 'no report about itself');
  // LAST-MSN is the other rendition's newest segment (or the one being written), within a segment of now
  const v2Next = Number(/^#EXT-X-MEDIA-SEQUENCE:(\d+)$/m.exec(v2)![1]) + (v2.match(/^#EXTINF/gm) ?? []).length;
  assert.ok(Math.abs(Number(report[1]) - v2Next) <= 1, `LAST-MSN ${report[1]} vs ${v2Next}`);

  // long GOP: forced cuts; INDEPENDENT only where a part starts with a keyframe (one segment in three)
  const v2parts = v2.split('\n').filter((l) => l.startsWith('#EXT-X-PART:'));
  assert.ok(v2parts.length >= 4);
  const independent = v2parts.filter((l) => l.includes('INDEPENDENT=YES')).length;
  assert.ok(independent < v2parts.length / 2, `independent parts ${independent} of ${v2parts.length}`);

  // a held request is released when the stream goes away
  const next = v2Next + 1;
  const held = text(`${base}/lad/tracks-v2a1/index.m3u8?_HLS_msn=${next}`);
  await new Promise((r) => setTimeout(r, 200));
  present = false;
  const t0 = Date.now();
  const r = await held;
  assert.equal(r.status, 404);
  assert.ok(Date.now() - t0 < 1000, `released in ${Date.now() - t0} ms`);
});
