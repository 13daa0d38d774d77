/**
 * HLS over fMP4 with the built binary: a node runs a fake:// stream with `hls.container: fmp4`; the
 * media playlist names CMAF segments (.m4s) and its init segment (EXT-X-MAP, version 6), ffprobe reads
 * the live playlist over HTTP, and hls.js in headless Chromium plays embed.html without errors.
 * preview.mp4 of that stream and of a TS stream is one decodable keyframe; preview.jpg (only with
 * `thumbnails: true`) is a JPEG at the stream size or `?width=`, and with dvr `<unix>-preview.jpg`
 * is the recorded keyframe nearest to that time. DASH: the live index.mpd of the fMP4 stream, and the
 * DVR archive/rewind MPDs of the recorded TS stream (dash.js plays both).
 * Build first: `npm run build`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { dashPosition, launchChromium, startDashPlayer } from '../helpers/browser.js';
import { fakeStream, http, startNode, tempDir, waitFor } from '../helpers/index.js';


test('hls.container: fmp4 — CMAF segments with EXT-X-MAP, read by ffprobe, played by hls.js', { timeout: 180_000 }, async (t) => {
  const dir = await tempDir(t);
  const node = await startNode(t, {
    dir,
    streams: {
      'live/fm': fakeStream({ hls: { segment_duration: '1s', window: 4, container: 'fmp4' } }, { size: '320x180', fps: 25 }),
      'live/ts': fakeStream({ thumbnails: true, dvr: { path: './dvr' } }, { tone: false }),
    },
    waitAlive: true,
  });
  const base = `${node.baseUrl}/live/fm`;
  const master = await waitFor(async () => {
    const r = await http(`${base}/index.m3u8`);
    return r.status === 200 ? r.text : undefined;
  }, { timeoutMs: 30_000, message: 'master playlist' });
  assert.match(master, /CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2"/);

  const media = await waitFor(async () => {
    const r = await http(`${base}/tracks-v1a1/index.m3u8`);
    return r.status === 200 && (r.text.match(/\.m4s$/gm) ?? []).length >= 3 ? r.text : undefined;
  }, { timeoutMs: 30_000, message: 'three fMP4 segments' });
  assert.match(media, /^#EXT-X-VERSION:6$/m);
  const map = /^#EXT-X-MAP:URI="(init-[0-9a-f]{12}\.mp4)"$/m.exec(media);
  assert.ok(map, media);
  assert.ok(media.indexOf('#EXT-X-MAP') < media.indexOf('#EXTINF'), 'EXT-X-MAP before the first segment');
  assert.doesNotMatch(media, /\.ts$/m);
  assert.match(media, /#EXT-X-PROGRAM-DATE-TIME:/);

  const init = await fetch(`${base}/tracks-v1a1/${map[1]}`);
  assert.equal(init.status, 200);
  assert.equal(init.headers.get('content-type'), 'video/mp4');
  const initBody = Buffer.from(await init.arrayBuffer());
  assert.equal(initBody.toString('latin1', 4, 8), 'ftyp');
  const segUri = media.split('\n').find((l) => l.endsWith('.m4s'))!;
  const seg = await fetch(`${base}/tracks-v1a1/${segUri}`);
  assert.equal(seg.status, 200);
  assert.equal(seg.headers.get('content-type'), 'video/iso.segment');
  assert.equal(Buffer.from(await seg.arrayBuffer()).toString('latin1', 4, 8), 'moof');
  // a segment name in the TS form does not exist for this stream
  assert.equal((await http(`${base}/tracks-v1a1/${segUri.replace(/\.m4s$/, '.ts')}`)).status, 404);

  const probe = spawnSync('ffprobe', ['-v', 'error', '-of', 'json', '-show_streams', `${base}/tracks-v1a1/index.m3u8`], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(probe.status, 0, probe.stderr);
  const streams = (JSON.parse(probe.stdout) as { streams: { codec_name: string; width?: number }[] }).streams;
  assert.deepEqual(streams.map((s) => s.codec_name).sort(), ['aac', 'h264']);
  assert.equal(streams.find((s) => s.codec_name === 'h264')!.width, 320);

  // live DASH of the fMP4 stream from the same files; none for the TS stream
  const live = await http(`${base}/index.mpd`);
  assert.equal(live.status, 200);
  assert.match(live.text, /type="dynamic"/);
  assert.match(live.text, /<Representation id="v1a1-v"[^>]*width="320" height="180"/);
  assert.equal((await http(`${node.baseUrl}/live/ts/index.mpd`)).status, 404);

  // preview.mp4: the newest keyframe as a one-frame MP4, for a CMAF and a TS stream
  for (const [name, width] of [['live/fm', 320], ['live/ts', 160]] as const) {
    const body = await waitFor(async () => {
      const r = await fetch(`${node.baseUrl}/${name}/preview.mp4`);
      return r.status === 200 ? Buffer.from(await r.arrayBuffer()) : undefined;
    }, { timeoutMs: 30_000, message: `${name}/preview.mp4` });
    const file = path.join(dir, `${name.replace('/', '-')}.mp4`);
    await writeFile(file, body);
    const p = spawnSync('ffprobe', ['-v', 'error', '-of', 'json', '-count_frames', '-select_streams', 'v', '-show_streams', file], { encoding: 'utf8' });
    assert.equal(p.status, 0, p.stderr);
    const v = (JSON.parse(p.stdout) as { streams: { width: number; nb_read_frames: string }[] }).streams[0]!;
    assert.equal(v.width, width, name);
    assert.equal(Number(v.nb_read_frames), 1, name);
  }

  // preview.jpg: only with thumbnails: true; decoded JPEG at the stream size or ?width=
  const jpgSize = async (u: string) => {
    const r = await fetch(u);
    assert.equal(r.status, 200, u);
    assert.equal(r.headers.get('content-type'), 'image/jpeg');
    const file = path.join(dir, 'thumb.jpg');
    await writeFile(file, Buffer.from(await r.arrayBuffer()));
    const p = spawnSync('ffprobe', ['-v', 'error', '-of', 'json', '-show_streams', file], { encoding: 'utf8' });
    assert.equal(p.status, 0, p.stderr);
    const st = (JSON.parse(p.stdout) as { streams: { codec_name: string; width: number; height: number }[] }).streams[0]!;
    assert.equal(st.codec_name, 'mjpeg');
    return `${st.width}x${st.height}`;
  };
  assert.equal(await jpgSize(`${node.baseUrl}/live/ts/preview.jpg`), '160x120');
  assert.equal(await jpgSize(`${node.baseUrl}/live/ts/preview.jpg?width=80`), '80x60');
  assert.equal((await http(`${node.baseUrl}/live/ts/preview.jpg?width=5`)).status, 400);
  assert.equal((await http(`${node.baseUrl}/live/ts/preview.jpg?width=abc`)).status, 400);
  assert.equal((await http(`${node.baseUrl}/live/fm/preview.jpg`)).status, 404, 'no thumbnails: true');
  // DVR: <unix>-preview.jpg is the recorded keyframe nearest to that time
  const unix = Math.floor(Date.now() / 1000) - 2;
  assert.equal(await jpgSize(`${node.baseUrl}/live/ts/${unix}-preview.jpg?width=64`), '64x48');
  assert.equal((await http(`${node.baseUrl}/live/ts/1000000000-preview.jpg`)).status, 404, 'nothing recorded near 2001');
  assert.equal((await http(`${node.baseUrl}/live/fm/${unix}-preview.jpg`)).status, 404, 'no dvr');

  // DVR DASH: a static MPD of a recorded range, its TS segments remuxed to CMAF per track on request
  const from = unix - 4;
  const amp = await http(`${node.baseUrl}/live/ts/archive-${from}-4.mpd`);
  assert.equal(amp.status, 200);
  assert.match(amp.text, /type="static"/);
  assert.match(amp.text, new RegExp(`media="dvr-dash-${from}/\\$RepresentationID\\$/\\$Time\\$\\.m4s"`));
  const rep = /<Representation id="(v1a1-v)"[^>]*width="160" height="120"[\s\S]*?<S t="(\d+)"/.exec(amp.text);
  assert.ok(rep, amp.text);
  const initUri = /initialization="(dvr-dash-\d+\/)\$RepresentationID\$(\/init-\d+\.mp4)"/.exec(amp.text)!;
  const vinit = Buffer.from(await (await fetch(`${node.baseUrl}/live/ts/${initUri[1]}v1a1-v${initUri[2]}`)).arrayBuffer());
  const vseg = await fetch(`${node.baseUrl}/live/ts/dvr-dash-${from}/v1a1-v/${rep[2]}.m4s`);
  assert.equal(vseg.status, 200);
  const dfile = path.join(dir, 'dvr-dash.mp4');
  await writeFile(dfile, Buffer.concat([vinit, Buffer.from(await vseg.arrayBuffer())]));
  const dp = spawnSync('ffprobe', ['-v', 'error', '-of', 'json', '-count_frames', '-show_streams', '-show_entries', 'stream=codec_name,nb_read_frames,start_time', dfile], { encoding: 'utf8' });
  assert.equal(dp.status, 0, dp.stderr);
  const dst = (JSON.parse(dp.stdout) as { streams: { codec_name: string; nb_read_frames: string; start_time: string }[] }).streams;
  assert.deepEqual(dst.map((x) => x.codec_name), ['h264']);
  assert.ok(Number(dst[0]!.nb_read_frames) >= 9, 'a 1 s segment at 10 fps');
  assert.ok(Math.abs(Number(dst[0]!.start_time) - Number(rep[2]) / 90000) < 0.2, 'on the archive timeline');
  // rewind: a dynamic window on a fixed timeline (2020-01-01), so it can be refreshed like a live MPD
  const rw = await http(`${node.baseUrl}/live/ts/rewind-30.mpd`);
  assert.equal(rw.status, 200);
  assert.match(rw.text, /type="dynamic" availabilityStartTime="2020-01-01T00:00:00\.000Z"/);
  assert.match(rw.text, /timeShiftBufferDepth="PT30S"/);
  const rt = /<Representation id="v1a1-a"[\s\S]*?<S t="(\d+)"/.exec(rw.text);
  assert.ok(rt, 'the audio representation');
  const aseg = await fetch(`${node.baseUrl}/live/ts/dvr-dash-1577836800/v1a1-a/${rt[1]}.m4s`);
  assert.equal(aseg.status, 200, 'an audio segment found by its t in the sample-rate timescale');
  assert.equal(Buffer.from(await aseg.arrayBuffer()).toString('latin1', 4, 8), 'moof');
  assert.equal((await http(`${node.baseUrl}/live/ts/archive-1000000000-60.mpd`)).status, 404, 'nothing recorded then');
  assert.equal((await http(`${node.baseUrl}/live/ts/archive-${from}-999999.mpd`)).status, 400, 'more than a day');

  const browser = await launchChromium(t);
  const page = await browser.newPage({ viewport: { width: 640, height: 360 } });
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  const failed: string[] = [];
  page.on('response', (r) => {
    if (r.status() >= 400 && !/favicon/.test(r.url())) failed.push(`${r.status()} ${r.url()}`);
  });
  await page.goto(`${base}/embed.html`);
  type PlayerState = { t: number; fatal: string | null; err: number | null; errors: string[] };
  const read = (): Promise<PlayerState> =>
    page.evaluate(`(() => {
      const p = window.fluxPlayer;
      return { t: p.video.currentTime, fatal: p.fatal, err: p.video.error ? p.video.error.code : null, errors: p.errors.slice() };
    })()`) as Promise<PlayerState>;
  const start = await waitFor(async () => {
    const s = await read();
    if (s.fatal || s.err !== null) throw new Error(`player failed: ${JSON.stringify(s)}`);
    return s.t > 0.5 ? s.t : undefined;
  }, { timeoutMs: 40_000, intervalMs: 250, message: 'playback starts' });
  await waitFor(async () => {
    const s = await read();
    if (s.fatal || s.err !== null) throw new Error(`player failed: ${JSON.stringify(s)}`);
    return s.t > start + 4;
  }, { timeoutMs: 40_000, intervalMs: 250, message: 'playback goes on for 4 s' });
  // dash.js plays the archive MPD (static) of the recorded TS stream
  const dpage = await browser.newPage();
  dpage.on('pageerror', (e) => pageErrors.push(String(e)));
  await dpage.goto(`${node.baseUrl}/live/ts/embed.html?autoplay=0`); // same origin; its hls.js stays idle
  await startDashPlayer(dpage, `archive-${from}-4.mpd`);
  await waitFor(async () => {
    const pos = await dashPosition(dpage);
    return pos > 2;
  }, { timeoutMs: 40_000, intervalMs: 250, message: 'dash.js plays the archive MPD' });
  // and the rewind MPD (dynamic, refreshed like a live stream), in a page of its own
  const rpage = await browser.newPage();
  rpage.on('pageerror', (e) => pageErrors.push(String(e)));
  await rpage.goto(`${node.baseUrl}/live/ts/embed.html?autoplay=0`);
  await startDashPlayer(rpage, 'rewind-20.mpd');
  const r0 = await waitFor(async () => {
    const pos = await dashPosition(rpage);
    return pos > 0 ? pos : undefined;
  }, { timeoutMs: 40_000, intervalMs: 250, message: 'dash.js plays the rewind MPD' });
  await waitFor(async () => (await dashPosition(rpage)) > r0 + 3, { timeoutMs: 40_000, intervalMs: 250, message: 'dash.js goes on playing the rewind MPD (MPD refreshes)' });

  const end = await read();
  const bad = /^recovering|Parsing|bufferAppendError|bufferAddCodecError|IncompatibleCodecs|remuxAllocError/;
  assert.deepEqual(end.errors.filter((e) => bad.test(e) || e.includes('parsing')), [], JSON.stringify(end.errors));
  assert.deepEqual(pageErrors, []);
  assert.deepEqual(failed, []);
});
