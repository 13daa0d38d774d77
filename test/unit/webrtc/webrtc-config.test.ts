import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateText } from '../../../src/config/load.js';
import { resolveConfig } from '../../../src/config/resolve.js';
import { peerConfig } from '../../../src/webrtc/gateway.js';
import { packetizeH264, offerHasH264 } from '../../../src/webrtc/h264-rtp.js';
import { whipCodecs } from '../../../src/webrtc/whip.js';

const lines = (text: string) => validateText(text, 'flux.yaml').issues.map((i) => `${i.line}:${i.col}: ${i.message}`);

test('webrtc section: port_range, ice_servers (STUN/TURN with credentials), max_sessions, ice_timeout reach the peer configuration', () => {
  const text = [
    'webrtc:',
    '  port_range: 40000-40100',
    '  ice_servers:',
    '    - urls: stun:stun.example.com:3478',
    '    - { urls: "turn:turn.example.com:3478?transport=udp", username: u, credential: p }',
    '  max_sessions: 50',
    '  ice_timeout: 4s',
    'streams: {}',
    '',
  ].join('\n');
  const r = validateText(text, 'flux.yaml');
  assert.deepEqual(r.issues, []);
  const cfg = resolveConfig(r.input!, '/tmp/flux.yaml');
  assert.deepEqual(cfg.webrtc, {
    portRange: [40000, 40100],
    iceServers: [{ urls: 'stun:stun.example.com:3478', username: undefined, credential: undefined }, { urls: 'turn:turn.example.com:3478?transport=udp', username: 'u', credential: 'p' }],
    maxSessions: 50,
    iceTimeoutMs: 4000,
  });
  const pc = peerConfig(cfg.webrtc);
  assert.deepEqual(pc.icePortRange, [40000, 40100]);
  assert.deepEqual(pc.iceServers[1], { urls: 'turn:turn.example.com:3478?transport=udp', username: 'u', credential: 'p' });
  assert.equal(pc.codecs.video[0]!.mimeType, 'video/H264');
  // defaults
  const d = resolveConfig(validateText('streams: {}\n', 'flux.yaml').input!, '/tmp/flux.yaml').webrtc;
  assert.deepEqual(d, { portRange: undefined, iceServers: [], maxSessions: 200, iceTimeoutMs: 10_000 });
  assert.equal(peerConfig(d).icePortRange, undefined);
});

test('webrtc section: bad values are reported at their place', () => {
  assert.deepEqual(lines('webrtc:\n  port_range: 50000-40000\n'), ['2:15: webrtc.port_range: two ports from 1024 to 65535, the first lower (e.g. 40000-40999)']);
  assert.deepEqual(lines('webrtc:\n  port_range: lots\n'), ['2:15: webrtc.port_range: expected a UDP port range such as 40000-40999, got "lots"']);
  assert.deepEqual(lines('webrtc:\n  ice_servers: [{ urls: "http://x" }]\n'), ['2:25: webrtc.ice_servers[0].urls: expected a stun:, turn: or turns: URL, got "http://x"']);
  assert.equal(lines('webrtc:\n  max_sessions: 0\n').length, 1);
  assert.equal(lines('webrtc:\n  ice_timeout: soon\n').length, 1);
  assert.equal(lines('webrtc:\n  whip: true\n').length, 1, 'unknown keys are refused');
});

test('H.264 RTP packetization (RFC 6184): single NALs, FU-A for large ones, AUD dropped', () => {
  const sc = Buffer.from([0, 0, 0, 1]);
  const aud = Buffer.from([0x09, 0xf0]);
  const sps = Buffer.from([0x67, 0x42, 0xe0, 0x1f, 0xaa]);
  const idr = Buffer.alloc(2500, 0x11);
  idr[0] = 0x65;
  const au = Buffer.concat([sc, aud, sc, sps, sc, idr]);
  const p = packetizeH264(au, 1000);
  assert.deepEqual(p[0], sps);
  const fu = p.slice(1);
  assert.equal(fu.length, 3);
  for (const f of fu) {
    assert.equal(f[0], (0x65 & 0xe0) | 28, 'FU indicator: NRI of the NAL, type 28');
    assert.ok(f.length <= 1000);
  }
  assert.equal(fu[0]![1], 0x80 | 5, 'start bit + type');
  assert.equal(fu[1]![1], 5);
  assert.equal(fu[2]![1], 0x40 | 5, 'end bit + type');
  // the fragments carry the NAL body exactly once
  assert.deepEqual(Buffer.concat([Buffer.from([0x65]), ...fu.map((f) => f.subarray(2))]), idr);
  assert.ok(offerHasH264('v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 H264/90000\r\n'));
  assert.ok(!offerHasH264('v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\n'));
});

test('WHIP codecs: one video codec per session, the one chosen from the offer, and Opus', () => {
  assert.deepEqual(whipCodecs('h264').video.map((c) => c.mimeType), ['video/H264']);
  assert.match(whipCodecs('h264').video[0]!.parameters ?? '', /packetization-mode=1/);
  assert.deepEqual(whipCodecs('vp8').video.map((c) => c.mimeType), ['video/VP8']);
  assert.ok(whipCodecs('vp8').video[0]!.rtcpFeedback.some((f) => f.type === 'nack' && f.parameter === 'pli'), 'PLI is negotiated (keyframe requests)');
  assert.deepEqual(whipCodecs('vp8').audio.map((c) => c.mimeType), ['audio/opus']);
});
