/**
 * VOD through a real node: a `vod:` location of MP4 files (moov at the end, moov first, a truncated
 * one) served as HLS without transcoding. Checked with ffprobe (segments cut on keyframes, the
 * whole playlist as long as the file), Range on the file, a clear 422 for the truncated file with
 * the node still serving, and hls.js in headless Chromium playing and seeking.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, open, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { launchChromium } from '../helpers/browser.js';
import { freePort, http, startNode, tempDir, waitFor } from '../helpers/index.js';

const FFMPEG = process.env.FLUX_FFMPEG ?? 'ffmpeg';
const FFPROBE = process.env.FLUX_FFPROBE ?? 'ffprobe';

test('vod: MP4 files as HLS (ffprobe, Range, truncated → 422, hls.js in Chromium)', { timeout: 180_000 }, async (t) => {
  const dir = await tempDir(t);
  const media = path.join(dir, 'media');
  await mkdir(path.join(media, 'sub'), { recursive: true });
  const end = path.join(media, 'end.mp4');
  // 20 s, keyframe every 2 s, B-frames, AAC; ffmpeg writes the moov at the end by default
  execFileSync(FFMPEG, ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', '20',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '50', '-keyint_min', '50', '-sc_threshold', '0', '-bf', '2', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', '-y', end]);
  execFileSync(FFMPEG, ['-v', 'error', '-i', end, '-c', 'copy', '-movflags', '+faststart', '-y', path.join(media, 'sub', 'start.mp4')]);
  const size = (await stat(end)).size;
  const fh = await open(end, 'r');
  const half = Buffer.alloc(Math.floor(size / 2));
  await fh.read(half, 0, half.length, 0);
  await fh.close();
  await writeFile(path.join(media, 'cut.mp4'), half);
  await writeFile(path.join(media, 'notes.mp4'), 'not a video at all\n');
  // multi-bitrate: a second rendition (half size) and a SMIL-like list naming both
  execFileSync(FFMPEG, ['-v', 'error', '-i', end, '-vf', 'scale=160:120', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '50', '-keyint_min', '50', '-sc_threshold', '0', '-bf', '2', '-c:a', 'copy', '-y', path.join(media, 'sub', 'low.mp4')]);
  await writeFile(path.join(media, 'show.smil'), '<smil><body><switch>\n  <video src="end.mp4" system-bitrate="800000"/>\n  <video src="sub/low.mp4"/>\n</switch></body></smil>\n');
  await writeFile(path.join(media, 'broken.smil'), '<smil><video src="../../etc/passwd.mp4"/><video src="nope.mp4"/></smil>');

  const port = await freePort();
  const yaml = `server: { http: ${port}, host: 127.0.0.1, rtmp: false, data_dir: ./data, run_dir: ./run }\nstreams: {}\nvod:\n  movies: { path: ./media }\n`;
  await startNode(t, { dir, yaml, server: { http: port } });
  const base = `http://127.0.0.1:${port}/vod/movies`;

  for (const file of ['end.mp4', 'sub/start.mp4']) {
    const pl = await http(`${base}/${file}/index.m3u8`);
    assert.equal(pl.status, 200, `${file}: ${pl.text}`);
    assert.match(pl.headers.get('content-type') ?? '', /mpegurl/);
    assert.match(pl.text, /#EXT-X-PLAYLIST-TYPE:VOD/);
    assert.match(pl.text, /#EXT-X-ENDLIST\n$/);
    assert.deepEqual([...pl.text.matchAll(/#EXTINF:([\d.]+),\n(seg-\d+\.ts)/g)].map((m) => [Number(m[1]), m[2]]), [[6, 'seg-0.ts'], [6, 'seg-1.ts'], [6, 'seg-2.ts'], [2, 'seg-3.ts']], file);
  }
  // a segment: cut on keyframes, exactly its frames (6 s × 25 fps), starting with a keyframe, no re-encoding
  const seg = await fetch(`${base}/end.mp4/seg-1.ts`);
  assert.equal(seg.status, 200);
  const segFile = path.join(dir, 'seg1.ts');
  await writeFile(segFile, Buffer.from(await seg.arrayBuffer()));
  const pk = execFileSync(FFPROBE, ['-v', 'error', '-select_streams', 'v', '-show_entries', 'packet=pts_time,flags', '-of', 'csv=p=0', segFile], { encoding: 'utf8' }).split('\n').filter(Boolean);
  assert.equal(pk.length, 150, 'frames in segment 1');
  assert.match(pk[0]!, /K/, 'the segment starts with a keyframe');
  assert.equal(pk.filter((l) => l.includes('K')).length, 3);
  const firstPts = Number(pk[0]!.split(',')[0]);
  assert.ok(Math.abs(firstPts - 6) < 0.05, `segment 1 starts at file time 6 s (${firstPts})`);
  const codecs = execFileSync(FFPROBE, ['-v', 'error', '-show_entries', 'stream=codec_name,width', '-of', 'csv=p=0', segFile], { encoding: 'utf8' });
  assert.match(codecs, /h264,320/);
  assert.match(codecs, /aac/);
  // ffprobe reads the whole playlist: as long as the file
  const dur = Number(execFileSync(FFPROBE, ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', `${base}/end.mp4/index.m3u8`], { encoding: 'utf8' }));
  assert.ok(Math.abs(dur - 20) < 0.5, `HLS duration ${dur} ≈ 20 s`);

  // multi-bitrate from the SMIL list: a master over both files; ffprobe sees both renditions
  const master = await http(`${base}/show.smil/index.m3u8`);
  assert.equal(master.status, 200, master.text);
  assert.deepEqual([...master.text.matchAll(/#EXT-X-STREAM-INF:BANDWIDTH=(\d+),RESOLUTION=(\d+x\d+)\n(\S+)/g)].map((m) => [m[2], m[3]]), [['320x240', '../end.mp4/index.m3u8'], ['160x120', '../sub/low.mp4/index.m3u8']]);
  assert.match(master.text, /BANDWIDTH=800000,/);
  const widths = execFileSync(FFPROBE, ['-v', 'error', '-show_entries', 'stream=width', '-of', 'csv=p=0', `${base}/show.smil/index.m3u8`], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  assert.deepEqual([...new Set(widths)].sort((a, b) => a - b), [160, 320], 'one program per rendition');
  const broken = await http(`${base}/broken.smil/index.m3u8`);
  assert.equal(broken.status, 422);
  assert.match(broken.text, /SMIL source "\.\.\/\.\.\/etc\/passwd\.mp4": .*"\.\." segment/);

  // the file itself, with Range
  const part = await http(`${base}/end.mp4`, { headers: { range: 'bytes=100-199' } });
  assert.equal(part.status, 206);
  assert.equal(part.headers.get('content-range'), `bytes 100-199/${size}`);
  assert.equal(part.headers.get('content-length'), '100');

  // bad files: clear 422, and the node keeps serving
  const cut = await http(`${base}/cut.mp4/index.m3u8`);
  assert.equal(cut.status, 422);
  assert.match(cut.text, /^cut\.mp4: truncated MP4: box mdat at offset \d+ needs \d+ bytes, the file has \d+ left\n$/);
  const notes = await http(`${base}/notes.mp4/index.m3u8`);
  assert.equal(notes.status, 422);
  assert.match(notes.text, /not an MP4 file/);
  assert.equal((await http(`${base}/nope.mp4/index.m3u8`)).status, 404);
  assert.equal((await http(`http://127.0.0.1:${port}/vod/other/end.mp4/index.m3u8`)).status, 404);
  assert.equal((await http(`${base}/end.mp4/seg-4.ts`)).status, 404);
  assert.ok([400, 404].includes((await http(`${base}/..%2Fmedia%2Fend.mp4/index.m3u8`)).status), 'no way out of the location');
  assert.ok([400, 404].includes((await http(`${base}/.hidden.mp4/index.m3u8`)).status));
  assert.equal((await http(`${base}/end.mp4/index.m3u8`)).status, 200, 'still serving after the bad files');
  const probe = spawnSync(FFPROBE, ['-v', 'error', `${base}/cut.mp4/index.m3u8`], { encoding: 'utf8' });
  assert.notEqual(probe.status, 0);

  // hls.js in Chromium plays the VOD and seeks into it
  const browser = await launchChromium(t);
  const page = await browser.newPage();
  const root = `http://127.0.0.1:${port}`;
  await page.route(`${root}/vod-test.html`, (route) =>
    route.fulfill({
      contentType: 'text/html',
      body: `<!doctype html><video id="v" muted autoplay></video><script src="/flux/static/hls.min.js"></script><script>
        window.errs = [];
        const hls = new Hls(); hls.on(Hls.Events.ERROR, (e, d) => window.errs.push(d.details + (d.fatal ? ' fatal' : '')));
        hls.loadSource('/vod/movies/end.mp4/index.m3u8'); hls.attachMedia(document.getElementById('v'));
      </script>`,
    }),
  );
  await page.goto(`${root}/vod-test.html`);
  const state = () => page.evaluate(`({ t: document.getElementById('v').currentTime, d: document.getElementById('v').duration, errs: window.errs, err: document.getElementById('v').error && document.getElementById('v').error.code })`) as Promise<{ t: number; d: number; errs: string[]; err: number | null }>;
  await waitFor(async () => (await state()).t > 2, { timeoutMs: 30_000, message: 'hls.js plays the VOD past 2 s' });
  const s1 = await state();
  assert.ok(Math.abs(s1.d - 20) < 0.5, `duration ${s1.d}`);
  await page.evaluate(`document.getElementById('v').currentTime = 14`);
  await waitFor(async () => (await state()).t > 15, { timeoutMs: 30_000, message: 'plays on after a seek to 14 s' });
  const s2 = await state();
  assert.equal(s2.err, null);
  assert.deepEqual(s2.errs.filter((e) => /fatal|Parsing|bufferAppendError|AddCodec/.test(e)), []);
});
