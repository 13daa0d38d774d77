/**
 * embed.html?proto=webrtc in headless Chromium against a real node (built `flux` binary, fake://
 * H.264 + AAC stream protected by signed links): the page POSTs its WHEP offer with the page's token
 * (without one the endpoint is refused), Chromium decodes H.264 (getStats inbound-rtp video
 * framesDecoded increasing) and receives Opus (inbound-rtp audio), and the page shows the latency it
 * measures from the node's `flux-clock` DataChannel (frames' RTP timestamps mapped to the time they
 * reached Flux): a positive number below a generous bound for a loaded machine. Leaving the page
 * DELETEs the WHEP session.
 * Build first: `npm run build`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launchChromium } from '../helpers/browser.js';
import { fakeStream, http, startNode, tempDir, waitFor } from '../helpers/index.js';


interface Inbound {
  framesDecoded: number;
  video: number;
  audio: number;
}

test('embed.html?proto=webrtc: Chromium plays WHEP with the page token, decodes video and audio, shows the measured latency', { timeout: 180_000 }, async (t) => {
  const dir = await tempDir(t);
  const node = await startNode(t, {
    dir,
    streams: { tv: fakeStream({ auth: { secure_link: true } }, { size: '320x240', fps: 25 }) },
    extra: { auth: { securetoken: 'node-secret-webrtc' } },
    waitAlive: true,
  });
  const base = node.baseUrl;
  const signed = await node.cli(['auth', 'sign', 'tv', '--ttl', '1h', '--json']);
  assert.equal(signed.code, 0, signed.stderr);
  const token = (signed.json as { token: string }).token;

  // WHEP of a protected stream without the token is refused like its playlists
  const noToken = await http(`${base}/tv/whep`, { method: 'POST', body: 'v=0\r\n', headers: { 'content-type': 'application/sdp' } });
  assert.equal(noToken.status, 403);

  const browser = await launchChromium(t);
  const page = await browser.newPage({ viewport: { width: 320, height: 240 } });
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  const whepPosts: { status: number; url: string; location: string | null }[] = [];
  page.on('response', (r) => {
    if (r.request().method() === 'POST' && /\/whep(\?|$)/.test(r.url())) whepPosts.push({ status: r.status(), url: r.url(), location: r.headers()['location'] ?? null });
  });
  await page.goto(`${base}/tv/embed.html?proto=webrtc&token=${encodeURIComponent(token)}`);

  const inbound = (): Promise<Inbound> =>
    page.evaluate(`(async () => {
      const p = window.fluxPlayer;
      if (p.fatal) throw new Error('player failed: ' + p.fatal);
      const out = { framesDecoded: 0, video: 0, audio: 0 };
      if (!p.pc) return out;
      (await p.pc.getStats()).forEach((s) => {
        if (s.type !== 'inbound-rtp') return;
        if (s.kind === 'video') { out.framesDecoded = s.framesDecoded || 0; out.video = s.packetsReceived || 0; }
        if (s.kind === 'audio') out.audio = s.packetsReceived || 0;
      });
      return out;
    })()`) as Promise<Inbound>;

  const first = await waitFor(async () => {
    const s = await inbound();
    return s.framesDecoded > 25 ? s : undefined;
  }, { timeoutMs: 60_000, intervalMs: 250, message: 'Chromium decodes 25 frames over WHEP' });
  assert.equal(whepPosts.length, 1, JSON.stringify(whepPosts));
  assert.equal(whepPosts[0]!.status, 201);
  assert.match(whepPosts[0]!.url, new RegExp(`/tv/whep\\?token=${encodeURIComponent(token)}$`), 'the page token goes with the offer');
  const later = await waitFor(async () => {
    const s = await inbound();
    return s.framesDecoded > first.framesDecoded + 25 && s.audio > first.audio ? s : undefined;
  }, { timeoutMs: 30_000, intervalMs: 250, message: 'frames go on decoding and Opus packets arrive' });
  assert.ok(later.audio > 0, 'inbound audio');

  // the latency on the page, measured against the node's clock
  type Latency = { latency: number | null; text: string; measured: number; min: number; max: number; rttMax: number };
  const lat = await waitFor(async () => {
    const s = (await page.evaluate(`(() => {
      const p = window.fluxPlayer;
      const l = p.latencies || [];
      return { latency: p.latency, text: document.getElementById('latency').textContent, measured: p.measuredFrames || 0,
               min: l.length ? Math.min(...l) : NaN, max: l.length ? Math.max(...l) : NaN, rttMax: p.clockRttMax || 0 };
    })()`)) as Latency;
    return s.latency !== null && s.measured >= 25 ? s : undefined;
  }, { timeoutMs: 30_000, intervalMs: 250, message: 'the page measures latency' });
  assert.equal(typeof lat.latency, 'number');
  assert.ok(lat.latency! > 0 && lat.latency! < 3, `latency ${lat.latency} s within (0, 3) on a loaded machine`);
  // a frame is never shown before it reached Flux; the page's clock alignment is off by at most half the
  // round trip of the ping/pong it uses (tens of ms when the machine is loaded), so that is the tolerance
  assert.ok(lat.min > -lat.rttMax / 2, `no frame shown before it reached Flux (min ${lat.min} ms, clock error ≤ ${lat.rttMax / 2} ms)`);
  assert.match(lat.text, /^WebRTC · latency \d+ ms$/);
  assert.deepEqual(pageErrors, []);

  // leaving the page hangs up: its session is gone (an empty trickle PATCH, which changes nothing,
  // answers 204 while the session exists and 404 once it is deleted)
  const location = whepPosts[0]!.location;
  assert.ok(location, 'the WHEP answer has a Location');
  const patch = async () => (await http(`${base}${location}?token=${encodeURIComponent(token)}`, { method: 'PATCH', body: '', headers: { 'content-type': 'application/trickle-ice-sdpfrag' } })).status;
  assert.equal(await patch(), 204, 'the session exists while the page plays');
  await page.goto('about:blank');
  await waitFor(async () => (await patch()) === 404, {
    timeoutMs: 15_000,
    message: 'the WHEP session is deleted when the page goes away',
  });
});
