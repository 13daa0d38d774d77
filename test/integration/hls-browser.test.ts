/**
 * A real browser plays a live Flux stream: headless Chromium (the system /usr/bin/chromium,
 * driven by playwright-core) opens /<stream>/embed.html served by the playback handler over a
 * writer fed by ffmpeg at real-time pace; hls.js (served locally) must play past 6 s without a
 * media error. A screenshot goes to test-artifacts/hls-browser.png.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../helpers/browser.js';
import type { ResolvedStream } from '../../src/config/model.js';
import { createPlaybackHandler } from '../../src/daemons/node/playback.js';
import { HlsWriter } from '../../src/daemons/stream/hls-writer.js';
import { MasterWriter } from '../../src/daemons/stream/master-writer.js';
import { defer, serve, startSource, tempDir, waitFor } from './hls-support.js';

const ARTIFACTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'test-artifacts');

test('headless Chromium plays embed.html of a live stream past 6 s', async (t) => {
  const dir = await tempDir(t);
  const stream: ResolvedStream = {
    name: 'live/cam',
    disabled: false,
    inputs: [],
    root: path.join(dir, 'data', 'live', 'cam'),
    push: [],
    hls: { segmentDurationMs: 1000, window: 6 },
    auth: { playToken: false, secureLink: false },
    renditions: ['v1a1'],
  };
  const master = new MasterWriter({ root: stream.root, renditions: stream.renditions });
  const w = await HlsWriter.open({ root: stream.root, rendition: 'v1a1', segmentDurationMs: 1000, window: 6, keepSegments: false, onSegment: () => master.updateFrom(w) });
  defer(t, () => w.close());
  const src = startSource({ seconds: 40, realtime: true }, (c) => w.write(c), t);
  const { base } = await serve(t, createPlaybackHandler({ getStream: (n) => (n === stream.name ? stream : undefined), listStreams: () => [stream.name] }));
  await waitFor('master playlist and 3 segments', async () => w.stats.segments >= 3 && (await stat(path.join(stream.root, 'index.m3u8')).catch(() => null)), 20_000);

  const browser = await launchChromium(t);
  const page = await browser.newPage({ viewport: { width: 640, height: 360 } });
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  const failedRequests: string[] = [];
  page.on('response', (r) => {
    if (r.status() >= 400) failedRequests.push(`${r.status()} ${r.url()}`);
  });

  await page.goto(`${base}/live/cam/embed.html`);
  // (browser-side code as strings: this project compiles without the DOM lib)
  const canPlay = await page.evaluate(`!!window.MediaSource && MediaSource.isTypeSupported('video/mp4; codecs="avc1.64000d,mp4a.40.2"')`);
  assert.ok(canPlay, 'this Chromium has MSE with H.264/AAC');

  type PlayerState = { t: number; fatal: string | null; err: number | null; errors: string[] };
  const read = (): Promise<PlayerState> =>
    page.evaluate(`(() => {
      const p = window.fluxPlayer;
      return { t: p.video.currentTime, fatal: p.fatal, err: p.video.error ? p.video.error.code : null, errors: p.errors.slice() };
    })()`) as Promise<PlayerState>;
  let last: PlayerState | undefined;
  try {
    await waitFor(
      'playback past 6 s',
      async () => {
        last = await read();
        if (last.fatal || last.err !== null) throw new Error(`player failed: ${JSON.stringify(last)}`);
        return last.t > 6;
      },
      30_000,
      250,
    );
  } finally {
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'hls-browser.png') });
  }
  const end = await read();
  assert.equal(end.fatal, null);
  assert.equal(end.err, null, 'no media error');
  // hls.js reports benign non-fatal events as errors too (bufferSeekOverHole: it skipped a tiny gap
  // at the live start); what must never appear: a fatal error it recovered from, or anything that
  // says a playlist or a segment could not be parsed or appended
  const bad = /^recovering|Parsing|bufferAppendError|bufferAddCodecError|IncompatibleCodecs|remuxAllocError|fragDecryptError/;
  assert.deepEqual(end.errors.filter((e) => bad.test(e) || e.includes('parsing')), [], `hls.js errors: ${JSON.stringify(end.errors)}`);
  assert.deepEqual(pageErrors, []);
  assert.deepEqual(failedRequests.filter((r) => !/favicon/.test(r)), []);
  const overlay = await page.locator('#status').getAttribute('class');
  assert.notEqual(overlay, 'error');
  src.stop();
});
