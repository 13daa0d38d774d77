/**
 * DASH from the CMAF segments of a two-rendition ladder (two fMP4 writers at real-time pace, served by
 * the playback handler): the live MPD lists every rendition (video) and the audio, with a
 * SegmentTimeline; per-track init and media segments decode with ffprobe; dash.js (npm dashjs) in
 * headless Chromium plays index.mpd.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { dashPosition, launchChromium, startDashPlayer } from '../helpers/browser.js';
import type { ResolvedStream } from '../../src/config/model.js';
import { createPlaybackHandler } from '../../src/daemons/node/playback.js';
import { HlsWriter } from '../../src/daemons/stream/hls-writer.js';
import { MasterWriter } from '../../src/daemons/stream/master-writer.js';
import { defer, serve, startSource, tempDir, waitFor } from '../integration/hls-support.js';

// the package's `require` entry is the UMD build (dist/modern/umd/dash.all.min.js)

test('DASH: index.mpd lists every rendition, per-track segments decode, dash.js plays it', { timeout: 180_000 }, async (t) => {
  const dir = await tempDir(t);
  const stream: ResolvedStream = {
    name: 'dl',
    disabled: false,
    inputs: [],
    root: path.join(dir, 'dl'),
    push: [],
    hls: { segmentDurationMs: 1000, window: 8, container: 'fmp4' },
    auth: { playToken: false, secureLink: false },
    renditions: ['v1a1', 'v2a1'],
  };
  const master = new MasterWriter({ root: stream.root, renditions: stream.renditions });
  const writers: HlsWriter[] = [];
  for (const [rendition, size] of [['v1a1', '320x180'], ['v2a1', '160x120']] as const) {
    const holder: { w?: HlsWriter } = {};
    const w = await HlsWriter.open({ root: stream.root, rendition, segmentDurationMs: 1000, window: 8, keepSegments: false, container: 'fmp4', onSegment: () => master.updateFrom(holder.w!) });
    holder.w = w;
    defer(t, () => w.close());
    writers.push(w);
    startSource({ seconds: 60, realtime: true, size }, (c) => w.write(c), t);
  }
  const { base } = await serve(t, createPlaybackHandler({ getStream: (n) => (n === stream.name ? stream : undefined), listStreams: () => [stream.name] }));
  await waitFor('four segments in each rendition', () => writers.every((w) => w.stats.segments >= 4), 40_000);

  const r = await fetch(`${base}/dl/index.mpd`);
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'application/dash+xml');
  const mpd = await r.text();
  assert.match(mpd, /type="dynamic"/);
  assert.match(mpd, /profiles="urn:mpeg:dash:profile:isoff-live:2011"/);
  assert.match(mpd, /availabilityStartTime="\d{4}-\d{2}-\d{2}T[\d:.]+Z"/);
  assert.match(mpd, /<Representation id="v1a1-v"[^>]*codecs="avc1\.[0-9a-f]{6}"[^>]*width="320" height="180"/);
  assert.match(mpd, /<Representation id="v2a1-v"[^>]*width="160" height="120"/);
  assert.match(mpd, /<Representation id="v1a1-a"[^>]*codecs="mp4a\.40\.2"[^>]*audioSamplingRate="48000"/);
  assert.match(mpd, /<SegmentTemplate timescale="90000" initialization="dash\/\$RepresentationID\$\/init\.mp4" media="dash\/\$RepresentationID\$\/\$Time\$\.m4s">/);
  const firstT = /<Representation id="v1a1-v"[\s\S]*?<S t="(\d+)"/.exec(mpd)![1]!;

  // per-track files: video only, audio only
  const init = Buffer.from(await (await fetch(`${base}/dl/dash/v1a1-v/init.mp4`)).arrayBuffer());
  const seg = await fetch(`${base}/dl/dash/v1a1-v/${firstT}.m4s`);
  assert.equal(seg.status, 200);
  const file = path.join(dir, 'v.mp4');
  await writeFile(file, Buffer.concat([init, Buffer.from(await seg.arrayBuffer())]));
  const p = spawnSync('ffprobe', ['-v', 'error', '-of', 'json', '-count_frames', '-show_streams', file], { encoding: 'utf8' });
  assert.equal(p.status, 0, p.stderr);
  const streams = (JSON.parse(p.stdout) as { streams: { codec_name: string; nb_read_frames: string }[] }).streams;
  assert.deepEqual(streams.map((s) => s.codec_name), ['h264']);
  assert.equal(Number(streams[0]!.nb_read_frames), 25);
  assert.equal((await fetch(`${base}/dl/dash/v1a1-v/123.m4s`)).status, 404);
  assert.equal((await fetch(`${base}/dl/dash/v9a9-v/init.mp4`)).status, 404);

  // dash.js
  const browser = await launchChromium(t);
  const page = await browser.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  await page.goto(`${base}/dl/embed.html?autoplay=0`); // same origin as the MPD; its hls.js player stays idle
  await startDashPlayer(page, `${base}/dl/index.mpd`);
  const start = await waitFor('dash.js starts playing', async () => {
    const pos = await dashPosition(page);
    return pos > 0.5 ? pos : undefined;
  }, 60_000, 250);
  await waitFor('dash.js plays on for 4 s', async () => {
    const pos = await dashPosition(page);
    return pos > start + 4;
  }, 60_000, 250);
  assert.deepEqual(pageErrors, []);
});
