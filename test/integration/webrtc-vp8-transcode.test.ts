/**
 * The WHIP receiver's ffmpeg arguments and input SDP (src/ffmpeg/webrtc-args.ts) with a real
 * ffmpeg: VP8 RTP on loopback, as the gateway re-sends a browser's, comes out as H.264 MPEG-TS
 * with keyframes on the forced grid (skipped when ffmpeg has no libvpx to make the VP8).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { whipFfmpegArgs, whipInputSdp } from '../../src/ffmpeg/webrtc-args.js';

const hasVpx = spawnSync('ffmpeg', ['-hide_banner', '-encoders'], { encoding: 'utf8' }).stdout?.includes('libvpx');

test('a real ffmpeg with these arguments turns VP8 RTP into H.264 MPEG-TS with keyframes every 1 s', { skip: !hasVpx && 'ffmpeg without libvpx', timeout: 60_000 }, async () => {
  // find a free even port pair for the receiver
  const probe = dgram.createSocket('udp4');
  await new Promise<void>((r) => probe.bind(0, '127.0.0.1', () => r()));
  const base = probe.address().port & ~1;
  probe.close();
  const recv = spawn('ffmpeg', whipFfmpegArgs({ keyframeSeconds: 1 }), { stdio: ['pipe', 'pipe', 'pipe'] });
  recv.stdin.end(whipInputSdp(base, null, 'vp8')); // video only, as a publisher without a microphone
  const chunks: Buffer[] = [];
  recv.stdout.on('data', (c: Buffer) => chunks.push(c));
  let err = '';
  recv.stderr.on('data', (c: Buffer) => (err += c.toString()));
  await new Promise((r) => setTimeout(r, 500));
  // 4 s of VP8 (keyframe every 100 frames: the receiver's keyframes are its own) as RTP
  const send = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=25:duration=4', '-c:v', 'libvpx', '-deadline', 'realtime', '-g', '100', '-b:v', '300k', '-payload_type', '96', '-f', 'rtp', `rtp://127.0.0.1:${base}?pkt_size=1200`], { stdio: 'ignore' });
  await new Promise((r) => send.on('exit', r));
  await new Promise((r) => setTimeout(r, 1000));
  recv.kill('SIGKILL'); // the gateway kills it so too (a SIGINT'd receiver waits on its UDP input for seconds)
  await new Promise((r) => recv.on('exit', r));
  const ts = Buffer.concat(chunks);
  assert.ok(ts.length > 10_000, `MPEG-TS out (${ts.length} bytes): ${err}`);
  const out = spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width:frame=key_frame,pts_time', '-of', 'json', '-i', 'pipe:0'], { input: ts, encoding: 'utf8' });
  const j = JSON.parse(out.stdout) as { streams: { codec_name: string; width: number }[]; frames: { key_frame: number; pts_time: string }[] };
  assert.equal(j.streams[0]!.codec_name, 'h264');
  assert.equal(j.streams[0]!.width, 160);
  const keys = j.frames.filter((f) => f.key_frame === 1).map((f) => Number(f.pts_time));
  assert.ok(keys.length >= 3, `keyframes at ${keys.join(', ')}`);
  const gaps = keys.slice(1).map((k, i) => k - keys[i]!);
  for (const g of gaps) assert.ok(g > 0.9 && g < 1.1, `keyframe gaps ~1 s: ${gaps.join(', ')}`);
});
