/**
 * WHIP end to end against a real node: a werift publisher in the test sends H.264 + Opus RTP
 * (encoded by ffmpeg from test sources) to `POST /pub/whip` of a publish:// stream with a
 * publish_password; the node turns it into HLS with H.264 + AAC (ffprobe). A missing key is 401,
 * a second publisher 409, an offer with neither H.264 nor VP8 406, DELETE ends the publication.
 * A VP8 publisher is transcoded to H.264 (keyframes on the segment grid). /metrics follows:
 * publishers connected, sessions, bytes received, and ICE failures of offers that never connect.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import dgram from 'node:dgram';
import { promisify } from 'node:util';
import { MediaStreamTrack, RTCPeerConnection, RTCRtpCodecParameters } from 'werift';
import httpServer from 'node:http';
import { http, publishStream, startNode, tempDir, waitFor, type Cleanup } from '../helpers/index.js';
import { gatheredOffer } from '../helpers/webrtc.js';
import { parsePrometheus, sample, type Exposition } from './prometheus-text.js';

const run = promisify(execFile);

function publisher(video = 'video/H264'): { pc: RTCPeerConnection; v: MediaStreamTrack; a: MediaStreamTrack } {
  const pc = new RTCPeerConnection({
    codecs: {
      video: [new RTCRtpCodecParameters({ mimeType: video, clockRate: 90000, rtcpFeedback: [{ type: 'nack', parameter: 'pli' }], parameters: video === 'video/H264' ? 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f' : undefined })],
      audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2 })],
    },
  });
  const v = new MediaStreamTrack({ kind: 'video' });
  const a = new MediaStreamTrack({ kind: 'audio' });
  pc.addTransceiver(v, { direction: 'sendonly' });
  pc.addTransceiver(a, { direction: 'sendonly' });
  return { pc, v, a };
}

const offer = gatheredOffer;

/** ffmpeg encodes a test source to RTP on a loopback port; every packet goes to `track`. */
async function rtpSource(t: Cleanup, track: MediaStreamTrack, args: string[]): Promise<void> {
  const sock = dgram.createSocket('udp4');
  sock.on('message', (m) => track.writeRtp(m));
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  t.after(() => sock.close());
  const p = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', ...args, `rtp://127.0.0.1:${sock.address().port}?pkt_size=1200`], { stdio: 'ignore' });
  t.after(() => {
    if (p.exitCode === null) p.kill('SIGKILL');
  });
}

const scrape = async (node: { api(method: string, path: string): Promise<{ status: number; text: string }> }): Promise<Exposition> => {
  const r = await node.api('GET', '/metrics');
  assert.equal(r.status, 200, r.text);
  return parsePrometheus(r.text);
};

const post = (url: string, sdp: string, key?: string) =>
  http(url, { method: 'POST', body: sdp, headers: { 'content-type': 'application/sdp', ...(key ? { authorization: `Bearer ${key}` } : {}) } });

test('WHIP: H.264 + Opus from a werift publisher becomes HLS H.264 + AAC; 401 without the key, 409 for a second publisher, 406 without H.264 or VP8; metrics', { timeout: 180_000 }, async (t) => {
  const dir = await tempDir(t);
  const node = await startNode(t, { dir, streams: { pub: publishStream({ auth: { publish_password: 'k3y' } }) }, extra: { webrtc: { ice_timeout: '5s' } } });
  // running = its socket answers (a pid alone is a supervisor still starting: an ingest then gets 502)
  await waitFor(async () => (await node.stream('pub')).stats.supervisor?.state === 'running', { timeoutMs: 20_000, message: 'pub supervisor' });
  const whip = `${node.baseUrl}/pub/whip`;

  const { pc, v, a } = publisher();
  t.after(() => pc.close());
  const sdp = await offer(pc);
  const denied = await post(whip, sdp);
  assert.equal(denied.status, 401, denied.text);
  assert.equal((await post(whip, sdp, 'wrong')).status, 401);

  const res = await post(whip, sdp, 'k3y');
  assert.equal(res.status, 201, res.text);
  const location = res.headers.get('location')!;
  assert.match(location, /^\/pub\/whip\/[0-9a-f]{24}$/);
  await pc.setRemoteDescription({ type: 'answer', sdp: res.text });
  await waitFor(() => pc.connectionState === 'connected', { timeoutMs: 20_000, message: 'publisher connected' });
  await rtpSource(t, v, ['-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-profile:v', 'baseline', '-g', '25', '-f', 'rtp']);
  await rtpSource(t, a, ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-ac', '2', '-c:a', 'libopus', '-b:a', '64k', '-f', 'rtp']);

  // a second publisher while this one is on (VP8 or H.264 alike)
  const second = publisher();
  t.after(() => second.pc.close());
  const busy = await post(whip, await offer(second.pc), 'k3y');
  assert.equal(busy.status, 409, busy.text);
  const vp8 = publisher('video/VP8');
  t.after(() => vp8.pc.close());
  assert.equal((await post(whip, await offer(vp8.pc), 'k3y')).status, 409);

  await waitFor(async () => (await http(`${node.baseUrl}/pub/index.m3u8`)).status === 200, { timeoutMs: 40_000, message: 'HLS from the WHIP publisher' });
  const probe = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,width,height', '-of', 'json', `${node.baseUrl}/pub/index.m3u8`], { timeout: 30_000 });
  const streams = (JSON.parse(probe.stdout) as { streams: { codec_name: string; width?: number }[] }).streams;
  assert.deepEqual(streams.map((s) => s.codec_name).sort(), ['aac', 'h264']);
  assert.equal(streams.find((s) => s.codec_name === 'h264')!.width, 320);

  // neither H.264 nor VP8 in the offer
  const vp9 = publisher('video/VP9');
  t.after(() => vp9.pc.close());
  const refused = await post(whip, await offer(vp9.pc), 'k3y');
  assert.equal(refused.status, 406);
  assert.match(refused.text, /neither H\.264 nor VP8/);

  // metrics: one publisher connected, its session counted, its media counted as received
  const m = await waitFor(async () => {
    const p = await scrape(node);
    return (sample(p, 'flux_webrtc_bytes_received_total', { stream: 'pub' }) ?? 0) > 100_000 ? p : undefined;
  }, { timeoutMs: 10_000, message: 'WHIP bytes received in /metrics' });
  assert.equal(sample(m, 'flux_webrtc_publishers', { stream: 'pub' }), 1);
  assert.equal(sample(m, 'flux_webrtc_viewers', { stream: 'pub' }), 0);
  assert.equal(sample(m, 'flux_webrtc_sessions_total', { stream: 'pub', kind: 'whip' }), 1, 'refused offers (401, 409, 406) are no sessions');
  assert.equal(sample(m, 'flux_webrtc_ice_failures_total', { stream: 'pub', kind: 'whip' }), 0);

  // hang up; the slot is free again
  assert.equal((await http(`${node.baseUrl}${location}`, { method: 'DELETE' })).status, 200);
  const gone = await scrape(node);
  assert.equal(sample(gone, 'flux_webrtc_publishers', { stream: 'pub' }), 0);
  assert.ok(sample(gone, 'flux_webrtc_bytes_received_total', { stream: 'pub' })! >= sample(m, 'flux_webrtc_bytes_received_total', { stream: 'pub' })!, 'bytes stay counted after the session');
  assert.equal((await http(`${node.baseUrl}${location}`, { method: 'DELETE' })).status, 404);
  const third = publisher();
  t.after(() => third.pc.close());
  const sdp3 = await offer(third.pc);
  await waitFor(async () => (await post(whip, sdp3, 'k3y')).status === 201, { timeoutMs: 15_000, message: 'a new publisher after DELETE' });
});

test('WebRTC under protection: WHEP is play (signed link needed), WHIP is publish (publish backend asked, play rules not applied)', { timeout: 120_000 }, async (t) => {
  const dir = await tempDir(t);
  // a publish backend that allows the key "good" only
  const asked: string[] = [];
  const backend = httpServer.createServer((req, res) => {
    const q = new URL(req.url ?? '/', 'http://x').searchParams;
    asked.push(`${q.get('proto')}:${q.get('token')}`);
    res.writeHead(q.get('token') === 'good' ? 200 : 403).end();
  });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => backend.close(() => r())));
  const backendUrl = `http://127.0.0.1:${(backend.address() as import('node:net').AddressInfo).port}/publish`;
  const node = await startNode(t, {
    dir,
    streams: { pub: publishStream({ auth: { secure_link: true, publish_backend: backendUrl } }) },
    extra: { auth: { securetoken: 'node-secret-123' }, webrtc: { ice_timeout: '5s' } },
  });
  // running = its socket answers (a pid alone is a supervisor still starting: an ingest then gets 502)
  await waitFor(async () => (await node.stream('pub')).stats.supervisor?.state === 'running', { timeoutMs: 20_000, message: 'pub supervisor' });
  const { pc } = publisher();
  t.after(() => pc.close());
  const sdp = await offer(pc);
  // WHEP without a signed link: refused as play
  const whep = await http(`${node.baseUrl}/pub/whep`, { method: 'POST', body: sdp, headers: { 'content-type': 'application/sdp' } });
  assert.equal(whep.status, 403, whep.text);
  // WHIP: the secure_link play rule does not apply; the publish backend decides
  const bad = await post(`${node.baseUrl}/pub/whip`, sdp, 'bad');
  assert.equal(bad.status, 403, bad.text);
  const good = await post(`${node.baseUrl}/pub/whip`, sdp, 'good');
  assert.equal(good.status, 201, good.text);
  assert.deepEqual(asked, ['webrtc:bad', 'webrtc:good']);
  const loc = good.headers.get('location');
  if (loc) await http(`${node.baseUrl}${loc}`, { method: 'DELETE' });
});

test('WHIP: a VP8 publisher is transcoded to H.264 with keyframes on the segment grid; an offer that never does ICE is an ICE failure', { timeout: 120_000 }, async (t) => {
  const dir = await tempDir(t);
  const node = await startNode(t, { dir, streams: { pub: publishStream({ hls: { segment_duration: '1s', window: 10 } }) }, extra: { webrtc: { ice_timeout: '2s' } } });
  await waitFor(async () => (await node.stream('pub')).stats.supervisor?.state === 'running', { timeoutMs: 20_000, message: 'pub supervisor' });
  const whip = `${node.baseUrl}/pub/whip`;

  // an offer whose ICE never completes: closed after ice_timeout (2 s) and counted, and the
  // stream's publisher slot is free again
  const idle = publisher('video/VP8');
  t.after(() => idle.pc.close());
  const never = await post(whip, await offer(idle.pc));
  assert.equal(never.status, 201, never.text);
  const failed = await waitFor(async () => {
    const p = await scrape(node);
    return sample(p, 'flux_webrtc_ice_failures_total', { stream: 'pub', kind: 'whip' }) === 1 ? p : undefined;
  }, { timeoutMs: 10_000, message: 'an ICE failure after webrtc.ice_timeout' });
  assert.equal(sample(failed, 'flux_webrtc_publishers', { stream: 'pub' }), 0);
  assert.equal(sample(failed, 'flux_webrtc_ice_failures_total', { stream: 'pub', kind: 'whep' }), 0);

  const { pc, v, a } = publisher('video/VP8');
  t.after(() => pc.close());
  const res = await waitFor(async () => {
    const r = await post(whip, await offer(pc));
    return r.status === 201 ? r : undefined;
  }, { timeoutMs: 10_000, message: 'the slot is free after the ICE timeout' });
  const answer = res.text;
  assert.match(answer, /a=rtpmap:\d+ VP8\/90000/, 'the answer takes VP8');
  assert.doesNotMatch(answer, /H264/);
  await pc.setRemoteDescription({ type: 'answer', sdp: answer });
  await waitFor(() => pc.connectionState === 'connected', { timeoutMs: 20_000, message: 'publisher connected' });
  // VP8 with rare keyframes (every 4 s): the stream's keyframes are the transcoder's
  await rtpSource(t, v, ['-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25', '-pix_fmt', 'yuv420p', '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '500k', '-g', '100', '-f', 'rtp']);
  await rtpSource(t, a, ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-ac', '2', '-c:a', 'libopus', '-b:a', '64k', '-f', 'rtp']);

  // a few segments of H.264 + AAC, cut at ~1 s (segment_duration) on the transcoder's keyframes
  const playlist = `${node.baseUrl}/pub/tracks-v1a1/index.m3u8`;
  const durations = await waitFor(async () => {
    const r = await http(playlist);
    if (r.status !== 200) return undefined;
    const d = [...r.text.matchAll(/^#EXTINF:([\d.]+)/gm)].map((x) => Number(x[1]));
    return d.length >= 4 ? d : undefined;
  }, { timeoutMs: 40_000, message: 'four segments from the VP8 publisher' });
  // the first segment may start anywhere; the later ones are cut on the 1 s keyframe grid
  for (const d of durations.slice(1)) assert.ok(d > 0.8 && d < 1.3, `segments of ~1 s: ${durations.join(', ')}`);
  const probe = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,width,height', '-of', 'json', `${node.baseUrl}/pub/index.m3u8`], { timeout: 30_000 });
  const streams = (JSON.parse(probe.stdout) as { streams: { codec_name: string; width?: number }[] }).streams;
  assert.deepEqual(streams.map((s) => s.codec_name).sort(), ['aac', 'h264']);
  assert.equal(streams.find((s) => s.codec_name === 'h264')!.width, 320);
  const m = await scrape(node);
  assert.equal(sample(m, 'flux_webrtc_publishers', { stream: 'pub' }), 1);
  assert.equal(sample(m, 'flux_webrtc_sessions_total', { stream: 'pub', kind: 'whip' }), 2);
  assert.ok(sample(m, 'flux_webrtc_bytes_received_total', { stream: 'pub' })! > 50_000);
});
