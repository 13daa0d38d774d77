/**
 * The WHIP receiver's ffmpeg: H.264 publishers are copied, VP8 ones encoded to H.264 with
 * keyframes on a grid that divides the segment duration; the SDP names VP8 (RFC 7741) or H.264.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { whipFfmpegArgs, whipInputSdp, whipKeyframeSeconds, WHIP_MAXRATE_KBPS } from '../../../src/ffmpeg/webrtc-args.js';

const after = (args: string[], flag: string) => args[args.indexOf(flag) + 1];

test('whipKeyframeSeconds: 1–2 s, dividing longer segments; short segments reach 1 s in whole segments', () => {
  assert.equal(whipKeyframeSeconds(2000), 2);
  assert.equal(whipKeyframeSeconds(1000), 1);
  assert.equal(whipKeyframeSeconds(1500), 1.5);
  assert.equal(whipKeyframeSeconds(6000), 2);
  assert.equal(whipKeyframeSeconds(4000), 2);
  assert.equal(whipKeyframeSeconds(3000), 1.5);
  assert.equal(whipKeyframeSeconds(5000), 1.667);
  assert.equal(whipKeyframeSeconds(10_000), 2);
  assert.equal(whipKeyframeSeconds(500), 1);
  assert.equal(whipKeyframeSeconds(300), 1.2);
  for (const ms of [700, 1000, 2000, 2500, 3000, 4000, 6000, 8000, 9000, 12_000]) {
    const k = whipKeyframeSeconds(ms);
    assert.ok(k >= 0.9 && k <= 2, `${ms} ms → ${k} s`);
    if (ms >= 1000) assert.ok(Math.abs((ms / 1000 / k) - Math.round(ms / 1000 / k)) < 0.01, `${k} s divides ${ms} ms`);
  }
});

test('whipFfmpegArgs: H.264 copied; VP8 encoded by libx264 veryfast/zerolatency, capped bitrate, forced keyframes; Opus → AAC either way', () => {
  const copy = whipFfmpegArgs();
  assert.equal(after(copy, '-c:v'), 'copy');
  assert.ok(!copy.includes('libx264'));
  const enc = whipFfmpegArgs({ keyframeSeconds: 1.5 });
  assert.equal(after(enc, '-c:v'), 'libx264');
  assert.equal(after(enc, '-preset'), 'veryfast');
  assert.equal(after(enc, '-tune'), 'zerolatency');
  assert.equal(after(enc, '-pix_fmt'), 'yuv420p');
  assert.equal(after(enc, '-maxrate'), `${WHIP_MAXRATE_KBPS}k`);
  assert.equal(after(enc, '-bufsize'), `${2 * WHIP_MAXRATE_KBPS}k`);
  assert.equal(after(enc, '-force_key_frames'), 'expr:gte(t,n_forced*1.5)');
  assert.equal(after(whipFfmpegArgs({ keyframeSeconds: 2, maxrateKbps: 800 }), '-maxrate'), '800k');
  for (const a of [copy, enc]) {
    assert.equal(after(a, '-c:a'), 'aac');
    assert.equal(after(a, '-f'), 'sdp');
    assert.deepEqual(a.slice(-7), ['-f', 'mpegts', '-muxdelay', '0', '-flush_packets', '1', 'pipe:1']);
    assert.ok(a.includes('0:a:0?'), 'audio optional');
  }
});

test('whipInputSdp: VP8 or H.264 on the video port, Opus on the audio port, fixed payload types', () => {
  const h = whipInputSdp(30000, 30002);
  assert.match(h, /^m=video 30000 RTP\/AVP 96\r$/m);
  assert.match(h, /^a=rtpmap:96 H264\/90000\r$/m);
  assert.match(h, /^a=fmtp:96 packetization-mode=1\r$/m);
  assert.match(h, /^m=audio 30002 RTP\/AVP 111\r$/m);
  assert.match(h, /^a=rtpmap:111 opus\/48000\/2\r$/m);
  const v = whipInputSdp(30000, 30002, 'vp8');
  assert.match(v, /^a=rtpmap:96 VP8\/90000\r$/m);
  assert.doesNotMatch(v, /H264|fmtp:96/);
  assert.ok(v.endsWith('\r\n'));
  assert.doesNotMatch(whipInputSdp(30000, null, 'vp8'), /m=audio|opus/, 'no audio section for a publisher without audio');
});
