/**
 * /<stream>/mpegts is playback like the HLS URLs: the `protocols` allow list and play authorization
 * (here a signed link) apply to it, on a single node (no cluster).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fakeStream, startNode, tempDir, waitFor } from '../helpers/index.js';

/** Status, content type and the first bytes of a continuous response (aborted after `ms`). */
async function peek(url: string, ms = 3000): Promise<{ status: number; bytes: Buffer }> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), ms);
  try {
    const res = await fetch(url, { signal: ac.signal });
    const chunks: Buffer[] = [];
    try {
      for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) {
        chunks.push(Buffer.from(c));
        if (Buffer.concat(chunks).length >= 188 * 10) break;
      }
    } catch {
      /* aborted */
    }
    return { status: res.status, bytes: Buffer.concat(chunks) };
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
}

test('mpegts output: protocols allow list and signed links apply to /<stream>/mpegts', { timeout: 120_000 }, async (t) => {
  const dir = await tempDir(t);
  const hls = { segment_duration: '1s', window: 4 };
  const node = await startNode(t, {
    dir,
    streams: {
      open: fakeStream({ hls }),
      hlsonly: fakeStream({ hls, protocols: ['hls'] }),
      signed: fakeStream({ hls, auth: { secure_link: true } }),
    },
    extra: { auth: { securetoken: 'node-secret-123' } },
  });
  const base = node.baseUrl;
  const open = await waitFor(async () => {
    const r = await peek(`${base}/open/mpegts`);
    return r.status === 200 && r.bytes.length >= 188 ? r : undefined;
  }, { timeoutMs: 40_000, message: 'open stream over mpegts' });
  assert.equal(open.bytes[0], 0x47, 'TS sync byte');

  assert.equal((await peek(`${base}/hlsonly/mpegts`)).status, 404, 'protocols without mpegts');
  assert.equal((await peek(`${base}/signed/mpegts`)).status, 403, 'no token');
  const signed = await node.cli(['auth', 'sign', 'signed', '--ttl', '1h', '--json']);
  assert.equal(signed.code, 0, signed.stderr);
  const token = (signed.json as { token: string }).token;
  const ok = await waitFor(async () => {
    const r = await peek(`${base}/signed/mpegts?token=${encodeURIComponent(token)}`);
    return r.status === 200 && r.bytes.length >= 188 ? r : undefined;
  }, { timeoutMs: 40_000, message: 'signed stream over mpegts with its token' });
  assert.equal(ok.bytes[0], 0x47);
});
