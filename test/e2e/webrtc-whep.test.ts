/**
 * WHEP end to end against a real node (built `flux` binary, fake:// H.264+AAC stream): a werift
 * client in the test posts an offer, completes ICE/DTLS with the node and receives H.264 RTP that
 * starts with a keyframe, and Opus audio from the shared transcoder. The answer's candidates use
 * webrtc.port_range. Bad input: malformed SDP (400), no H.264 (406), wrong type (415), DELETE of
 * an unknown session (404); offers that never do ICE are capped by webrtc.max_sessions (503) and
 * released after webrtc.ice_timeout.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RTCPeerConnection, RTCRtpCodecParameters, type RtpPacket } from 'werift';
import { fakeStream, freePort, http, startNode, tempDir, waitFor } from '../helpers/index.js';
import { gatheredOffer } from '../helpers/webrtc.js';

async function offerFrom(pc: RTCPeerConnection): Promise<string> {
  pc.addTransceiver('video', { direction: 'recvonly' });
  pc.addTransceiver('audio', { direction: 'recvonly' });
  return gatheredOffer(pc);
}

/** A viewer that offers H.264 (werift's default offer is VP8 only) and Opus. */
function viewer(): RTCPeerConnection {
  return new RTCPeerConnection({
    codecs: {
      video: [new RTCRtpCodecParameters({ mimeType: 'video/H264', clockRate: 90000, rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }], parameters: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f' })],
      audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2 })],
    },
  });
}

const post = (url: string, sdp: string, type = 'application/sdp') => http(url, { method: 'POST', body: sdp, headers: { 'content-type': type } });

/** H.264 NAL type at the start of an RTP payload (single NAL, FU-A start, or STAP-A's first NAL). */
function startNalType(p: Buffer): number | null {
  const t = p[0]! & 0x1f;
  if (t >= 1 && t <= 23) return t;
  if (t === 28) return p[1]! & 0x80 ? p[1]! & 0x1f : null;
  if (t === 24) return p[3]! & 0x1f;
  return null;
}

test('WHEP: a werift viewer gets H.264 from a keyframe and Opus; port_range, DELETE; bad offers; session cap and ICE timeout', { timeout: 180_000 }, async (t) => {
  const dir = await tempDir(t);
  const lo = 20000 + Math.floor(Math.random() * 20000);
  const portRange = `${lo}-${lo + 30}`;
  const node = await startNode(t, {
    dir,
    streams: { cam: fakeStream({}, { size: '320x240', fps: 25 }) },
    extra: { webrtc: { port_range: portRange, max_sessions: 4, ice_timeout: '3s', ice_servers: [] } },
  });
  await waitFor(async () => (await http(`${node.baseUrl}/cam/index.m3u8`)).status === 200, { timeoutMs: 30_000, message: 'cam is live' });
  const whep = `${node.baseUrl}/cam/whep`;

  // a viewer
  const pc = viewer();
  t.after(() => pc.close());
  const video: Buffer[] = [];
  let audio = 0;
  pc.onTrack.subscribe((track) => {
    track.onReceiveRtp.subscribe((rtp: RtpPacket) => {
      if (track.kind === 'video') video.push(Buffer.from(rtp.payload));
      else audio++;
    });
  });
  const res = await post(whep, await offerFrom(pc));
  assert.equal(res.status, 201, res.text);
  assert.equal(res.headers.get('content-type'), 'application/sdp');
  const location = res.headers.get('location')!;
  assert.match(location, /^\/cam\/whep\/[0-9a-f]{24}$/);
  const answer = res.text;
  assert.match(answer, /a=rtpmap:\d+ H264\/90000/);
  const ports = [...answer.matchAll(/a=candidate:\S+ 1 udp \d+ \S+ (\d+) typ host/g)].map((m) => Number(m[1]));
  assert.ok(ports.length > 0, 'host candidates in the answer');
  for (const p of ports) assert.ok(p >= lo && p <= lo + 30, `candidate port ${p} within webrtc.port_range ${portRange}`);
  await pc.setRemoteDescription({ type: 'answer', sdp: answer });
  await waitFor(() => pc.connectionState === 'connected', { timeoutMs: 20_000, message: 'ICE + DTLS connected' });
  await waitFor(() => video.length > 50, { timeoutMs: 20_000, message: 'H.264 RTP arrives' });
  const first = video.map(startNalType).find((x) => x !== null);
  assert.ok(first === 7 || first === 5, `the first NAL is SPS or IDR (got ${first})`);
  assert.ok(video.some((p) => startNalType(p) === 5), 'an IDR slice arrived');
  assert.ok(video.some((p) => startNalType(p) === 1), 'delta frames follow');
  await waitFor(() => audio > 20, { timeoutMs: 20_000, message: 'Opus RTP arrives' });

  // DELETE ends it; a second DELETE is 404
  assert.equal((await http(`${node.baseUrl}${location}`, { method: 'DELETE' })).status, 200);
  assert.equal((await http(`${node.baseUrl}${location}`, { method: 'DELETE' })).status, 404);
  assert.equal((await http(`${whep}/000000000000000000000000`, { method: 'DELETE' })).status, 404);

  // bad offers
  const bad = await post(whep, 'hello');
  assert.equal(bad.status, 400);
  assert.match(bad.text, /malformed SDP/);
  assert.equal((await post(whep, 'v=0\r\n', 'text/plain')).status, 415);
  const vp8Only = new RTCPeerConnection({
    codecs: { video: [new RTCRtpCodecParameters({ mimeType: 'video/VP8', clockRate: 90000 })], audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2 })] },
  });
  t.after(() => vp8Only.close());
  const noH264 = await post(whep, await offerFrom(vp8Only));
  assert.equal(noH264.status, 406);
  assert.match(noH264.text, /no H\.264/);
  assert.equal((await http(`${node.baseUrl}/nosuch/whep`, { method: 'POST', body: 'v=0', headers: { 'content-type': 'application/sdp' } })).status, 404);

  // offers that never do ICE: at most max_sessions (4) at once, 503 beyond, released after ice_timeout (3s)
  const idle = viewer();
  t.after(() => idle.close());
  const offer = await offerFrom(idle);
  const answers = await Promise.all(Array.from({ length: 12 }, () => post(whep, offer)));
  const codes = answers.map((a) => a.status).sort();
  assert.deepEqual(codes, [201, 201, 201, 201, 503, 503, 503, 503, 503, 503, 503, 503]);
  assert.equal(answers.find((a) => a.status === 503)!.headers.get('retry-after'), '5');
  await waitFor(async () => (await post(whep, offer)).status === 201, { timeoutMs: 15_000, message: 'sessions released after ice_timeout' });
});
