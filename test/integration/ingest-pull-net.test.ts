/**
 * Pulled network inputs (through an ffmpeg child): srt:// caller to an ffmpeg listener, rtmp://
 * from nginx-rtmp, rtsp:// from a tiny RTSP relay of ffmpeg RTP. Each: segments appear,
 * ffprobe-valid, status running.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  FFMPEG,
  TESTSRC,
  expectLive,
  ffmpegTestSource,
  freeTcpPort,
  freeUdpPort,
  startProc,
  startRespawning,
  startSupervisorProc,
  tempEnv,
  waitFor,
  writeSpec,
} from './supervisor-helpers.js';
import { TinyRtspServer } from './supervisor-rtsp-server.js';

const hasProtocol = (p: string) => spawnSync(FFMPEG, ['-hide_banner', '-protocols'], { encoding: 'utf8' }).stdout.split(/\s+/).includes(p);

test('srt:// caller pulls from an ffmpeg SRT listener', { skip: !hasProtocol('srt') && 'ffmpeg has no srt protocol' }, async (t) => {
  const env = await tempEnv(t);
  const port = await freeUdpPort();
  startRespawning(t, FFMPEG, [
    '-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-f', 'lavfi', '-i', TESTSRC, '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '15', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '48k',
    '-f', 'mpegts', `srt://127.0.0.1:${port}?mode=listener&pkt_size=1316`,
  ]);
  await new Promise((r) => setTimeout(r, 500));
  const { file, stream } = await writeSpec(env, 'srt1', { inputs: [{ url: `srt://127.0.0.1:${port}`, srt_latency: '50ms' }], hls: { segment_duration: '1s' } });
  const sup = await startSupervisorProc(t, env, file, 'srt1');
  const { status } = await expectLive(sup, stream, { segments: 3, audio: true });
  assert.equal(status.ffmpeg.length, 1);
  assert.ok(status.ffmpeg[0]!.args.some((a) => a.startsWith(`srt://127.0.0.1:${port}`) && a.includes('mode=caller')));
});

test('rtmp:// pulls from nginx-rtmp', { skip: !existsSync('/usr/lib/nginx/modules/ngx_rtmp_module.so') && 'no nginx rtmp module' }, async (t) => {
  const env = await tempEnv(t);
  const port = await freeTcpPort();
  const ngx = path.join(env.dir, 'nginx');
  await mkdir(path.join(ngx, 'logs'), { recursive: true });
  await writeFile(
    path.join(ngx, 'nginx.conf'),
    [
      'load_module /usr/lib/nginx/modules/ngx_rtmp_module.so;',
      `error_log ${ngx}/logs/error.log warn;`,
      `pid ${ngx}/nginx.pid;`,
      'events { worker_connections 64; }',
      `rtmp { server { listen 127.0.0.1:${port}; chunk_size 4096; application live { live on; record off; } } }`,
      '',
    ].join('\n'),
  );
  const nginx = startProc(t, 'nginx', ['-p', ngx, '-c', path.join(ngx, 'nginx.conf'), '-g', 'daemon off; master_process off;']);
  await waitFor('nginx listening', async () => {
    const net = await import('node:net');
    return new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        r(true);
      });
      s.on('error', () => r(false));
    });
  }, 5000).catch((e: Error) => {
    throw new Error(`${e.message}: ${nginx.stderrText()}`);
  });
  ffmpegTestSource(t, `rtmp://127.0.0.1:${port}/live/cam`, { format: 'flv' });
  const { file, stream } = await writeSpec(env, 'rtmp1', { inputs: [{ url: `rtmp://127.0.0.1:${port}/live/cam` }], hls: { segment_duration: '1s' } });
  const sup = await startSupervisorProc(t, env, file, 'rtmp1');
  const { status } = await expectLive(sup, stream, { segments: 3, audio: true, timeoutMs: 30_000 });
  assert.equal(status.ffmpeg.length, 1);
  assert.equal(status.ffmpeg[0]!.role, 'pull');
});

test('rtsp:// pulls over TCP from a tiny RTSP relay of ffmpeg RTP', async (t) => {
  const env = await tempEnv(t);
  const rtsp = new TinyRtspServer();
  await rtsp.start();
  t.after(() => rtsp.stop());
  const sdpFile = path.join(env.dir, 'src.sdp');
  startProc(t, FFMPEG, [
    '-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-f', 'lavfi', '-i', TESTSRC,
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '15', '-pix_fmt', 'yuv420p',
    '-an', '-f', 'rtp', '-sdp_file', sdpFile, `rtp://127.0.0.1:${rtsp.rtpPort}?pkt_size=1200`,
  ]);
  const sdp = await waitFor('sdp file', async () => (existsSync(sdpFile) ? (await readFile(sdpFile, 'utf8')) || null : null), 5000);
  rtsp.setSdp(sdp);
  const { file, stream } = await writeSpec(env, 'rtsp1', { inputs: [{ url: `rtsp://127.0.0.1:${rtsp.port}/cam`, rtsp_transport: 'tcp' }], hls: { segment_duration: '1s' } });
  const sup = await startSupervisorProc(t, env, file, 'rtsp1');
  const { status } = await expectLive(sup, stream, { segments: 3, timeoutMs: 30_000 });
  assert.equal(status.ffmpeg.length, 1);
  assert.ok(status.ffmpeg[0]!.args.includes('tcp'));
  assert.ok(rtsp.requests.includes('DESCRIBE') && rtsp.requests.includes('PLAY'));
});

test('rtsp:// H.264 High with B-frames + AAC, no transcoder: stream copy yields segments (no "first pts and dts" exits)', async (t) => {
  const env = await tempEnv(t);
  const rtsp = new TinyRtspServer();
  await rtsp.start({ audio: true });
  t.after(() => rtsp.stop());
  const sdpFile = path.join(env.dir, 'src.sdp');
  startProc(t, FFMPEG, [
    '-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-f', 'lavfi', '-i', TESTSRC, '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-map', '0:v', '-c:v', 'libx264', '-profile:v', 'high', '-bf', '3', '-g', '15', '-pix_fmt', 'yuv420p', '-preset', 'veryfast',
    '-f', 'rtp', `rtp://127.0.0.1:${rtsp.rtpPort}?pkt_size=1200`,
    '-map', '1:a', '-c:a', 'aac', '-b:a', '48k', '-f', 'rtp', `rtp://127.0.0.1:${rtsp.rtpAudioPort}?pkt_size=1200`,
    '-sdp_file', sdpFile,
  ]);
  const sdp = await waitFor('sdp file', async () => (existsSync(sdpFile) ? (await readFile(sdpFile, 'utf8')) || null : null), 5000);
  rtsp.setSdp(sdp);
  assert.match(rtsp.sdp, /m=audio/);
  const { file, stream } = await writeSpec(env, 'rtspb', { inputs: [{ url: `rtsp://127.0.0.1:${rtsp.port}/cam`, rtsp_transport: 'tcp' }], hls: { segment_duration: '1s' } });
  const sup = await startSupervisorProc(t, env, file, 'rtspb');
  const { status, playlist } = await expectLive(sup, stream, { segments: 3, audio: true, timeoutMs: 30_000 });
  // one ffmpeg from the start: it never died on the timestamp-less first keyframe
  assert.equal(status.ffmpeg.length, 1);
  assert.equal(status.restarts, 0, JSON.stringify(status.events));
  assert.ok(status.ffmpeg[0]!.args.includes('copy'));
  // B-frames really went through: a segment holds packets whose PTS differs from their DTS
  const seg = path.join(stream.root, 'v1a1', playlist.entries[playlist.entries.length - 2]!.uri);
  const pk = spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'v', '-show_entries', 'packet=pts,dts', '-of', 'csv=p=0', seg], { encoding: 'utf8' }).stdout.trim().split('\n');
  assert.ok(pk.some((l) => { const [p, d] = l.split(','); return p !== d; }), 'no reordered frames in the segment');
  assert.doesNotMatch(await sup.log(), /first pts and dts/);
});
