/**
 * Chromium publishes its fake camera and microphone over WHIP to a real node (built `flux` binary):
 * a page on another origin (served by the test; 127.0.0.1 is a secure context for getUserMedia)
 * posts its offer with the stream's publish key, applies the answer, and the stream's HLS plays
 * H.264 + AAC (ffprobe) with segments that keep coming.
 *
 * Twice on one stream: VP8 only (setCodecPreferences), which the node transcodes to H.264, then
 * Chromium's own offer (VP8 first, H.264 too: this Chromium encodes H.264 with OpenH264), where
 * the node takes H.264 and copies it. Chromium's getStats names the codec it actually sends.
 * Build first: `npm run build`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import httpServer from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { launchChromium } from '../helpers/browser.js';
import { http, publishStream, startNode, tempDir, waitFor } from '../helpers/index.js';

const run = promisify(execFile);

/** The publishing page: `publish(url, key, onlyCodec?)`, `sent()` (outbound video), `hangUp()`. */
const PAGE = `<!doctype html><meta charset="utf-8"><title>whip publisher</title><script>
let pc = null, media = null, session = null;
window.publish = async (url, key, only) => {
  media = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
  pc = new RTCPeerConnection();
  for (const track of media.getTracks()) {
    const tr = pc.addTransceiver(track, { direction: 'sendonly', streams: [media] });
    if (track.kind === 'video' && only) {
      tr.setCodecPreferences(RTCRtpSender.getCapabilities('video').codecs.filter((c) => c.mimeType.toLowerCase() === only.toLowerCase()));
    }
  }
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((r) => {
    if (pc.iceGatheringState === 'complete') return r();
    pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && r());
    setTimeout(r, 2000);
  });
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/sdp', authorization: 'Bearer ' + key }, body: pc.localDescription.sdp });
  const answer = await res.text();
  if (res.status !== 201) return { status: res.status, answer, offer: pc.localDescription.sdp };
  session = new URL(res.headers.get('location'), url).href;
  await pc.setRemoteDescription({ type: 'answer', sdp: answer });
  return { status: res.status, answer, offer: pc.localDescription.sdp };
};
window.sent = async () => {
  const out = { state: pc ? pc.connectionState : 'none', frames: 0, bytes: 0, codec: '', audioBytes: 0 };
  if (!pc) return out;
  const stats = await pc.getStats();
  stats.forEach((s) => {
    if (s.type === 'outbound-rtp' && s.kind === 'video') {
      out.frames += s.framesEncoded || 0;
      out.bytes += s.bytesSent || 0;
      if (s.codecId && stats.get(s.codecId)) out.codec = stats.get(s.codecId).mimeType;
    }
    if (s.type === 'outbound-rtp' && s.kind === 'audio') out.audioBytes += s.bytesSent || 0;
  });
  return out;
};
window.hangUp = async () => {
  const status = session ? (await fetch(session, { method: 'DELETE' })).status : 0;
  pc.close();
  for (const t of media.getTracks()) t.stop();
  pc = null;
  session = null;
  return status;
};
</script>`;

interface Sent {
  state: string;
  frames: number;
  bytes: number;
  codec: string;
  audioBytes: number;
}

/** Segments listed by the live media playlist: media sequence + count = segments written so far. */
async function segmentsWritten(url: string): Promise<number> {
  const r = await http(url);
  if (r.status !== 200) return 0;
  const seq = Number(/^#EXT-X-MEDIA-SEQUENCE:(\d+)/m.exec(r.text)?.[1] ?? 0);
  return seq + (r.text.match(/^#EXTINF:/gm)?.length ?? 0);
}

test('Chromium publishes its fake camera over WHIP: VP8 (transcoded) then H.264 (copied) become HLS H.264 + AAC', { timeout: 150_000 }, async (t) => {
  const dir = await tempDir(t);
  const node = await startNode(t, { dir, streams: { pub: publishStream({ auth: { publish_password: 'k3y' } }) }, extra: { webrtc: { ice_timeout: '10s' } } });
  // running = its socket answers (an ingest into a supervisor still starting gets 502)
  await waitFor(async () => (await node.stream('pub')).stats.supervisor?.state === 'running', { timeoutMs: 20_000, message: 'pub supervisor' });
  const whip = `${node.baseUrl}/pub/whip`;
  const media = `${node.baseUrl}/pub/tracks-v1a1/index.m3u8`;

  // the publishing page, on an origin of its own (the WHIP endpoint answers CORS)
  const site = httpServer.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE));
  await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => site.close(() => r())));
  const browser = await launchChromium(t, ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream']);
  const page = await browser.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  await page.goto(`http://127.0.0.1:${(site.address() as AddressInfo).port}/`);

  const sent = () => page.evaluate('window.sent()') as Promise<Sent>;
  const publishOnce = async (only: string | null, expect: RegExp) => {
    const r = (await page.evaluate(`window.publish(${JSON.stringify(whip)}, 'k3y', ${JSON.stringify(only)})`)) as { status: number; answer: string; offer: string };
    assert.equal(r.status, 201, r.answer);
    const answered = [...r.answer.matchAll(/^a=rtpmap:\d+ ([\w-]+)\/90000/gm)].map((m) => m[1]);
    assert.ok(answered.length > 0 && answered.every((c) => expect.test(c!)), `answer's video codecs ${answered.join(',')} (offer: ${[...r.offer.matchAll(/^a=rtpmap:\d+ ([\w-]+)\/90000/gm)].map((m) => m[1]).join(',')})`);
    await waitFor(async () => (await sent()).state === 'connected', { timeoutMs: 20_000, message: 'Chromium connected' });
  };
  const playsH264 = async (what: string, from: number) => {
    // the segments keep coming (the playlist lists ~1 s segments from this publisher)
    const n = await waitFor(async () => {
      const k = await segmentsWritten(media);
      return k >= from + 3 ? k : undefined;
    }, { timeoutMs: 40_000, intervalMs: 250, message: `${what}: three new segments` });
    const probe = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,width,height', '-of', 'json', `${node.baseUrl}/pub/index.m3u8`], { timeout: 30_000 });
    const streams = (JSON.parse(probe.stdout) as { streams: { codec_name: string; width?: number; height?: number }[] }).streams;
    assert.deepEqual(streams.map((s) => s.codec_name).sort(), ['aac', 'h264'], `${what}: ${probe.stdout}`);
    const v = streams.find((s) => s.codec_name === 'h264')!;
    assert.ok(v.width! >= 320 && v.height! >= 240, `${what}: the fake camera's picture (${v.width}x${v.height})`);
    await waitFor(async () => (await segmentsWritten(media)) >= n + 2, { timeoutMs: 20_000, intervalMs: 250, message: `${what}: segments grow` });
    const s = await sent();
    assert.ok(s.frames > 20 && s.audioBytes > 0, `${what}: Chromium sent video and audio: ${JSON.stringify(s)}`);
    t.diagnostic(`${what}: HLS ${v.width}x${v.height} h264 + aac; Chromium sent ${s.codec}, ${s.frames} frames, ${s.bytes} bytes`);
    return s;
  };

  // 1. VP8 only: the node answers VP8 and transcodes it
  await publishOnce('video/VP8', /^VP8$/);
  const vp8 = await playsH264('VP8', 0);
  assert.equal(vp8.codec, 'video/VP8');
  assert.equal(await page.evaluate('window.hangUp()'), 200);

  // 2. Chromium's own offer (VP8 first, H.264 too): the node takes H.264
  const before = await segmentsWritten(media);
  await waitFor(async () => {
    try {
      await publishOnce(null, /^H264$/);
      return true;
    } catch (e) {
      // the slot frees once the supervisor has ended the previous ingest
      if (!/already has a publisher/.test(String(e))) throw e;
      await page.evaluate('window.hangUp()').catch(() => {});
      return false;
    }
  }, { timeoutMs: 15_000, message: 'a second publication' });
  const h264 = await playsH264('H.264', before);
  assert.equal(h264.codec, 'video/H264');
  assert.equal(await page.evaluate('window.hangUp()'), 200);
  assert.deepEqual(pageErrors, []);
});
