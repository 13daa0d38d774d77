/**
 * Transcoding and push through the daemon: a native udp:// input feeds a transcoder ffmpeg on its
 * stdin (one process, every rendition on its own pipe: fd 1, 3); a push target receives the
 * chosen rendition's TS.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { ffmpegTestSource, ffprobe, freeUdpPort, readPlaylist, startSupervisorProc, tempEnv, waitFor, writeSpec } from './supervisor-helpers.js';

test('udp input + 2-profile transcoder: stdin-fed ffmpeg, two renditions, master playlist', async (t) => {
  const env = await tempEnv(t);
  const port = await freeUdpPort();
  const { file, stream } = await writeSpec(env, 'ladder', {
    inputs: [{ url: `udp://127.0.0.1:${port}` }],
    transcoder: { video: [{ bitrate: '200k', size: '160x120', preset: 'ultrafast' }, { bitrate: '100k', size: '96x72', preset: 'ultrafast' }], audio: { bitrate: '48k' } },
    hls: { segment_duration: '1s' },
  });
  assert.deepEqual(stream.renditions, ['v1a1', 'v2a1']);
  const sup = await startSupervisorProc(t, env, file, 'ladder');
  ffmpegTestSource(t, `udp://127.0.0.1:${port}?pkt_size=1316`);
  const widths: number[] = [];
  for (const r of stream.renditions) {
    const pl = await waitFor(`segments of ${r}`, async () => {
      const p = await readPlaylist(stream, r);
      return p && p.entries.length >= 2 ? p : null;
    }, 25_000);
    const probe = ffprobe(path.join(stream.root, r, pl.entries[1]!.uri));
    widths.push(probe.streams.find((s) => s.codec_type === 'video')!.width!);
  }
  assert.deepEqual(widths, [160, 96]);
  const st = await sup.status();
  assert.equal(st.state, 'running');
  assert.equal(st.ffmpeg.length, 1, 'one ffmpeg for the whole ladder');
  assert.equal(st.ffmpeg[0]!.role, 'transcoder');
  assert.ok(st.ffmpeg[0]!.args.includes('pipe:0'));
  assert.deepEqual(st.renditions.map((r) => r.name), ['v1a1', 'v2a1']);
  assert.ok(st.renditions.every((r) => r.segments >= 2));
  const master = await waitFor('master with two variants', async () => {
    const m = existsSync(path.join(stream.root, 'index.m3u8')) ? await readFile(path.join(stream.root, 'index.m3u8'), 'utf8') : '';
    return (m.match(/#EXT-X-STREAM-INF/g) ?? []).length === 2 ? m : null;
  }, 10_000);
  assert.match(master, /tracks-v1a1\/index\.m3u8/);
  assert.match(master, /tracks-v2a1\/index\.m3u8/);
});

test('push: the stream is restreamed to a file target; status.push reports it', async (t) => {
  const env = await tempEnv(t);
  const out = path.join(env.dir, 'pushed.ts');
  const { file, stream } = await writeSpec(env, 'pusher', {
    inputs: [{ url: 'fake://testsrc?size=160x120&fps=15' }],
    push: [{ url: `file://${out}` }],
    hls: { segment_duration: '1s' },
  });
  const sup = await startSupervisorProc(t, env, file, 'pusher');
  const st = await waitFor('push running', async () => {
    const s = await sup.status();
    return s.push[0]?.state === 'running' && s.push[0].bytes > 50_000 ? s : null;
  }, 20_000);
  const p = st.push[0]!;
  assert.equal(p.url, `file://${out}`);
  for (const k of ['url', 'state', 'bytes', 'errors', 'lastError', 'restarts'] as const) assert.ok(k in p, `push.${k}`);
  assert.equal(p.errors, 0);
  await waitFor('pushed file grows', () => existsSync(out) && statSync(out).size > 50_000, 10_000);
  const probe = ffprobe(out);
  assert.equal(probe.streams.find((s) => s.codec_type === 'video')?.codec_name, 'h264');
  await sup.post('/stop');
  assert.equal((await sup.exited).code, 0);
  void stream;
});
