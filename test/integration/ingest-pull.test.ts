/**
 * Pulled inputs (through an ffmpeg child): file:// looped as live, hls:// from an ffmpeg-made live
 * HLS dir over a small HTTP server. Network pulls (srt, rtmp, rtsp) are in ingest-pull-net.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import {
  FFMPEG,
  TESTSRC,
  expectLive,
  ffmpegTestSource,
  startSupervisorProc,
  tempEnv,
  waitFor,
  writeSpec,
} from './supervisor-helpers.js';

test('file:// is looped as live', async (t) => {
  const env = await tempEnv(t);
  const mp4 = path.join(env.dir, 'clip.mp4');
  const gen = spawnSync(FFMPEG, ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `${TESTSRC}:duration=2`, '-f', 'lavfi', '-i', 'sine=duration=2', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '15', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', mp4]);
  assert.equal(gen.status, 0, gen.stderr?.toString());
  const { file, stream } = await writeSpec(env, 'file1', { inputs: [{ url: `file://${mp4}` }], hls: { segment_duration: '1s' } });
  const sup = await startSupervisorProc(t, env, file, 'file1');
  // a 2 s clip giving 4+ segments means it loops
  const { status } = await expectLive(sup, stream, { segments: 4, audio: true });
  assert.equal(status.ffmpeg.length, 1);
  assert.ok(status.ffmpeg[0]!.args.includes('-stream_loop'));
  assert.equal(status.restarts, 0, 'looping, not restarting');
});

test('hls:// pulls a live HLS playlist served over HTTP', async (t) => {
  const env = await tempEnv(t);
  const hlsDir = path.join(env.dir, 'src-hls');
  await mkdir(hlsDir, { recursive: true });
  ffmpegTestSource(t, path.join(hlsDir, 'index.m3u8'), { format: 'hls', outArgs: ['-hls_time', '1', '-hls_list_size', '5', '-hls_flags', 'delete_segments'] });
  const server = http.createServer(async (req, res) => {
    const name = path.basename((req.url ?? '/').split('?')[0]!);
    try {
      const body = await readFile(path.join(hlsDir, name));
      res.writeHead(200, { 'content-type': name.endsWith('.m3u8') ? 'application/vnd.apple.mpegurl' : 'video/mp2t' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.after(() => new Promise<void>((r) => {
    server.closeAllConnections();
    server.close(() => r());
  }));
  const port = (server.address() as AddressInfo).port;
  await waitFor('source playlist', () => existsSync(path.join(hlsDir, 'index.m3u8')), 10_000);
  const { file, stream } = await writeSpec(env, 'hls1', { inputs: [{ url: `hls://127.0.0.1:${port}/live/index.m3u8` }], hls: { segment_duration: '1s' } });
  const sup = await startSupervisorProc(t, env, file, 'hls1');
  const { status } = await expectLive(sup, stream, { segments: 3, timeoutMs: 30_000 });
  assert.equal(status.ffmpeg.length, 1);
  assert.ok(status.ffmpeg[0]!.args.some((a) => a.startsWith(`http://127.0.0.1:${port}/`)));
});

