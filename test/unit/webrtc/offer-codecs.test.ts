/**
 * What a WHIP answer takes from an offer: H.264 first (copied), else VP8 (transcoded), else
 * nothing; only video sections count; audio is sent when an audio section is not rejected.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { offerHasAudio, offerVideoCodecs, whipVideoCodec } from '../../../src/webrtc/offer-codecs.js';

const offer = (video: string[], audio = ['111 opus/48000/2'], audioPort = 9) =>
  [
    'v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0 1',
    `m=audio ${audioPort} UDP/TLS/RTP/SAVPF 111`, ...audio.map((a) => `a=rtpmap:${a}`),
    'm=video 9 UDP/TLS/RTP/SAVPF 96 97 102', ...video.map((v) => `a=rtpmap:${v}`), '',
  ].join('\r\n');

test('a Chromium-like offer lists VP8, rtx, VP9, H.264 …: H.264 is taken', () => {
  const sdp = offer(['96 VP8/90000', '97 rtx/90000', '98 VP9/90000', '102 H264/90000', '103 rtx/90000', '45 AV1/90000']);
  assert.deepEqual(offerVideoCodecs(sdp), ['vp8', 'rtx', 'vp9', 'h264', 'av1']);
  assert.equal(whipVideoCodec(sdp), 'h264');
});

test('VP8 without H.264 → vp8; neither → null; codec names in audio sections do not count', () => {
  assert.equal(whipVideoCodec(offer(['96 VP8/90000', '97 rtx/90000'])), 'vp8');
  assert.equal(whipVideoCodec(offer(['98 VP9/90000', '45 AV1/90000'])), null);
  assert.equal(whipVideoCodec(offer(['98 VP9/90000'], ['111 opus/48000/2', '96 H264/90000'])), null);
  assert.equal(whipVideoCodec('v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 vp8/90000\r\n'), 'vp8', 'case-insensitive, LF or CRLF');
  assert.equal(whipVideoCodec('v=0\nm=video 9 RTP/AVP 96\na=rtpmap:96 H264/90000\n'), 'h264');
});

test('offerHasAudio: an audio section with a port; port 0 (rejected) or none: no audio', () => {
  assert.ok(offerHasAudio(offer(['96 VP8/90000'])));
  assert.ok(!offerHasAudio(offer(['96 VP8/90000'], [], 0)));
  assert.ok(!offerHasAudio('v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\n'));
});
