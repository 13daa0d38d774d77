/**
 * Signed links (Flussonic securetoken) on a real node: `flux auth sign` URLs play; expired,
 * wrong-address, other-stream and malformed tokens are refused; the token rides along in the
 * playlists' URIs so segments play too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launchChromium } from '../helpers/browser.js';
import { signToken } from '../../src/auth/securetoken.js';
import { fakeStream, getFrom, publishStream, startNode, tempDir, waitFor } from '../helpers/index.js';

const get = (url: string, from?: string) => getFrom(url, { from });

test('signed links: flux auth sign, valid / expired / wrong IP / other stream / malformed', { timeout: 120_000 }, async (t) => {
  const dir = await tempDir(t);
  const node = await startNode(t, {
    dir,
    streams: {
      tv: fakeStream({ auth: { secure_link: true } }),
      own: publishStream({ auth: { securetoken: 'stream-own-secret' } }),
      free: publishStream(),
    },
    extra: { auth: { securetoken: 'node-secret-123' } },
  });
  const base = node.baseUrl;

  // no token, malformed token: refused; a stream without protection plays
  assert.equal((await get(`${base}/tv/index.m3u8`)).status, 403);
  assert.equal((await get(`${base}/tv/index.m3u8?token=abc-def`)).status, 403);
  assert.equal((await get(`${base}/free/index.m3u8`)).status, 404, 'unprotected: no playlist yet, but not refused');

  // a signed URL plays, segments included (the token is written into the playlists' URIs)
  const signed = await node.cli(['auth', 'sign', 'tv', '--ttl', '1h', '--json']);
  assert.equal(signed.code, 0, signed.stderr);
  const link = signed.json as { url: string; token: string; start: number; end: number; ip: string | null };
  assert.equal(link.end - link.start, 3600);
  assert.equal(link.ip, null);
  assert.match(link.url, new RegExp(`^http://127\\.0\\.0\\.1:${node.httpPort}/tv/index\\.m3u8\\?token=[0-9a-f]{40}-`));
  const master = await waitFor(async () => {
    const r = await get(link.url);
    return r.status === 200 ? r : undefined;
  }, { timeoutMs: 30_000, message: 'signed master playlist' });
  const mediaUri = master.text.split('\n').find((l) => l && !l.startsWith('#'))!;
  assert.ok(mediaUri.endsWith(`token=${encodeURIComponent(link.token)}`), mediaUri);
  const media = await get(`${base}/tv/${mediaUri}`);
  assert.equal(media.status, 200);
  const seg = media.text.split('\n').find((l) => l && !l.startsWith('#'))!;
  assert.equal((await get(`${base}/tv/tracks-v1a1/${seg}`)).status, 200);
  // human output is the URL alone, for scripts
  const plain = await node.cli(['auth', 'sign', 'tv']);
  assert.equal(plain.code, 0);
  assert.match(plain.stdout.trim(), /^http:\/\/\S+\/tv\/index\.m3u8\?token=\S+$/);

  // the player page passes its token on: Chromium plays the protected stream with hls.js
  const browser = await launchChromium(t);
  const page = await browser.newPage({ viewport: { width: 320, height: 240 } });
  const refused: string[] = [];
  page.on('response', (r) => {
    if (r.status() === 403) refused.push(r.url());
  });
  await page.goto(`${base}/tv/embed.html?token=${encodeURIComponent(link.token)}`);
  await waitFor(async () => {
    const s = (await page.evaluate(`(() => { const p = window.fluxPlayer; return { t: p.video.currentTime, fatal: p.fatal }; })()`)) as { t: number; fatal: string | null };
    if (s.fatal) throw new Error(`player failed: ${s.fatal}`);
    return s.t > 2;
  }, { timeoutMs: 40_000, intervalMs: 250, message: 'Chromium playing the signed stream' });
  assert.deepEqual(refused, []);
  await browser.close();

  // expired (beyond the 30 s skew) and not yet valid
  const now = Math.floor(Date.now() / 1000);
  const expired = signToken({ stream: 'tv', secret: 'node-secret-123', start: now - 7200, end: now - 3600 });
  assert.equal((await get(`${base}/tv/index.m3u8?token=${expired}`)).status, 403);
  const future = signToken({ stream: 'tv', secret: 'node-secret-123', start: now + 3600, end: now + 7200 });
  assert.equal((await get(`${base}/tv/index.m3u8?token=${future}`)).status, 403);
  // within the clock skew: accepted
  const skewed = signToken({ stream: 'tv', secret: 'node-secret-123', start: now + 10, end: now + 3600 });
  assert.equal((await get(`${base}/tv/index.m3u8?token=${skewed}`)).status, 200);

  // bound to an address: plays from there only
  const bound = await node.cli(['auth', 'sign', 'tv', '--ttl', '10m', '--ip', '127.0.0.2', '--json']);
  assert.equal(bound.code, 0, bound.stderr);
  assert.equal((await get(bound.json.url)).status, 403, 'from another address');
  assert.equal((await get(bound.json.url, '127.0.0.2')).status, 200);

  // a token for another stream, or signed with another secret
  assert.equal((await get(`${base}/own/index.m3u8?token=${encodeURIComponent(link.token)}`)).status, 403);
  const own = await node.cli(['auth', 'sign', 'own', '--json']);
  assert.equal((await get(own.json.url)).status, 404, 'the stream\'s own securetoken signs its links');

  // command errors
  assert.equal((await node.cli(['auth', 'sign', 'free'])).code, 1, 'no secret for this stream');
  assert.equal((await node.cli(['auth', 'sign', 'nope'])).code, 1);
  assert.equal((await node.cli(['auth', 'sign', 'tv', '--ttl', 'soon'])).code, 2);
  assert.equal((await node.cli(['auth', 'sign', 'tv', '--ip', 'nowhere'])).code, 2);
});
