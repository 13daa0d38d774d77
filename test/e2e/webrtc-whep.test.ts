/**
 * WHEP end to end against a real node (built `flux` binary, fake:// H.264+AAC stream): a werift
 * client in the test posts an offer, completes ICE/DTLS with the node and receives H.264 RTP that
 * starts with a keyframe, and Opus audio from the shared transcoder. The answer's candidates use
 * webrtc.port_range. Bad input: malformed SDP (400), no H.264 (406), wrong type (415), DELETE of
 * an unknown session (404); offers that never do ICE are capped by webrtc.max_sessions (503) and
 * released after webrtc.ice_timeout. /metrics: viewers connected, sessions, bytes sent, ICE failures
 * of those offers. A viewer's play session (auth.session_timeout 2 s) stays open while it watches
 * for many timeouts without a request, and `flux session kill` of it hangs the viewer up.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RTCPeerConnection, RTCRtpCodecParameters, type RtpPacket } from 'werift';
import { fakeStream, freePort, http, startNode, tempDir, waitFor } from '../helpers/index.js';
import { gatheredOffer } from '../helpers/webrtc.js';
import { parsePrometheus, sample, type Exposition } from './prometheus-text.js';

const scrape = async (node: { api(method: string, path: string): Promise<{ status: number; text: string }> }): Promise<Exposition> => {
  const r = await node.api('GET', '/metrics');
  assert.equal(r.status, 200, r.text);
  return parsePrometheus(r.text);
};

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

  // metrics while it watches
  const watching = await scrape(node);
  assert.equal(sample(watching, 'flux_webrtc_viewers', { stream: 'cam' }), 1);
  assert.equal(sample(watching, 'flux_webrtc_publishers', { stream: 'cam' }), 0);
  assert.equal(sample(watching, 'flux_webrtc_sessions_total', { stream: 'cam', kind: 'whep' }), 1);
  const sent = sample(watching, 'flux_webrtc_bytes_sent_total', { stream: 'cam' })!;
  const got = video.reduce((a, p) => a + p.length, 0);
  assert.ok(sent > got, `bytes sent ${sent} ≥ the video payload received ${got}`);

  // DELETE ends it; a second DELETE is 404
  assert.equal((await http(`${node.baseUrl}${location}`, { method: 'DELETE' })).status, 200);
  const left = await scrape(node);
  assert.equal(sample(left, 'flux_webrtc_viewers', { stream: 'cam' }), 0);
  assert.ok(sample(left, 'flux_webrtc_bytes_sent_total', { stream: 'cam' })! >= sent, 'bytes stay counted after the session');
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
  // those four never did ICE: four ICE failures (and the one after them is still waiting)
  const failed = await scrape(node);
  assert.equal(sample(failed, 'flux_webrtc_ice_failures_total', { stream: 'cam', kind: 'whep' }), 4);
  assert.equal(sample(failed, 'flux_webrtc_sessions_total', { stream: 'cam', kind: 'whep' }), 6);
  assert.equal(sample(failed, 'flux_webrtc_viewers', { stream: 'cam' }), 0);
});

test('WHEP keeps its play session alive while connected (session_timeout 2 s, 8 s of watching), and `flux session kill` hangs it up', { timeout: 120_000 }, async (t) => {
  const dir = await tempDir(t);
  const node = await startNode(t, {
    dir,
    streams: { cam: fakeStream({}, { size: '320x240', fps: 25 }) },
    extra: { auth: { session_timeout: '2s' }, webrtc: { ice_servers: [] } },
  });
  await waitFor(async () => (await http(`${node.baseUrl}/cam/index.m3u8`)).status === 200, { timeoutMs: 30_000, message: 'cam is live' });
  const sessions = async () => ((await node.cli(['session', 'ls', '--json', '--stream', 'cam'])).json as { sessions: { id: string; proto: string; updated_at: number }[] }).sessions;
  // the playlist request above opened an HLS session of its own: it idles out
  await waitFor(async () => (await sessions()).length === 0, { timeoutMs: 10_000, message: 'the HLS session idles out after 2 s' });

  const pc = viewer();
  t.after(() => pc.close());
  let packets = 0;
  pc.onTrack.subscribe((track) => {
    track.onReceiveRtp.subscribe(() => {
      if (track.kind === 'video') packets++;
    });
  });
  const res = await post(`${node.baseUrl}/cam/whep`, await offerFrom(pc));
  assert.equal(res.status, 201, res.text);
  await pc.setRemoteDescription({ type: 'answer', sdp: res.text });
  await waitFor(() => pc.connectionState === 'connected', { timeoutMs: 20_000, message: 'connected' });
  const [opened] = await sessions();
  assert.ok(opened, 'the WHEP POST opened a play session');
  assert.equal(opened.proto, 'webrtc');

  // 4× the timeout without a request: still listed, touched recently, media still flowing
  await new Promise((r) => setTimeout(r, 8000));
  const still = await sessions();
  assert.equal(still.length, 1, JSON.stringify(still));
  assert.equal(still[0]!.id, opened.id);
  assert.ok(Date.now() - still[0]!.updated_at < 2000, `touched recently (updated_at ${Date.now() - still[0]!.updated_at} ms ago)`);
  assert.equal(pc.connectionState, 'connected');
  const before = packets;
  await waitFor(() => packets > before + 25, { timeoutMs: 5000, message: 'video still flows' });
  assert.equal(sample(await scrape(node), 'flux_webrtc_viewers', { stream: 'cam' }), 1);

  // the operator kills it: the node hangs up (no viewer, no more media)
  const kill = await node.cli(['session', 'kill', opened.id]);
  assert.equal(kill.code, 0, kill.stderr);
  await waitFor(async () => sample(await scrape(node), 'flux_webrtc_viewers', { stream: 'cam' }) === 0, { timeoutMs: 5000, message: 'the viewer is gone from the metrics' });
  await new Promise((r) => setTimeout(r, 500));
  const after = packets;
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(packets, after, 'no media after the kill');
  assert.deepEqual(await sessions(), []);
});
