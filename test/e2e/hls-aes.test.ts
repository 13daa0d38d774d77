/**
 * HLS AES-128 (hls.encrypt) on a real node: media playlists name a key per segment (rotated every
 * key_rotation segments), segments are encrypted (decrypt with the served key and the IV from the
 * tag gives TS), ffprobe and Chromium (hls.js) play the stream, and the key URLs sit behind the
 * same authorization as the playlist.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createDecipheriv } from 'node:crypto';
import { promisify } from 'node:util';
import { launchChromium } from '../helpers/browser.js';
import { fakeStream, publishStream, runCli, startNode, tempDir, waitFor, writeConfig } from '../helpers/index.js';

const run = promisify(execFile);

async function bytes(url: string): Promise<{ status: number; body: Buffer }> {
  const r = await fetch(url);
  return { status: r.status, body: Buffer.from(await r.arrayBuffer()) };
}

test('hls.encrypt: keys rotated, segments decrypt to TS, ffprobe and Chromium play, keys behind authorization', { timeout: 180_000 }, async (t) => {
  const dir = await tempDir(t);
  const node = await startNode(t, {
    dir,
    streams: {
      secret: fakeStream({ hls: { segment_duration: '1s', window: 6, encrypt: true, key_rotation: 2 } }),
      locked: publishStream({ hls: { encrypt: true }, auth: { securetoken: 'locked-secret-1' } }),
    },
  });
  const base = `${node.baseUrl}/secret/tracks-v1a1`;
  // enough segments for two keys
  const playlist = await waitFor(async () => {
    const r = await fetch(`${base}/index.m3u8`);
    const text = r.status === 200 ? await r.text() : '';
    const keys = new Set([...text.matchAll(/URI="(key-\d+\.key)"/g)].map((m) => m[1]));
    return keys.size >= 2 ? text : undefined;
  }, { timeoutMs: 40_000, message: 'a playlist with two keys' });
  const lines = playlist.split('\n');
  const segIdx = lines.findIndex((l) => l && !l.startsWith('#'));
  const tag = lines[segIdx - 1]!;
  assert.match(tag, /^#EXT-X-KEY:METHOD=AES-128,URI="key-\d+\.key",IV=0x[0-9a-f]{32}$/);
  const segs = lines.filter((l) => l && !l.startsWith('#'));
  const tags = lines.filter((l) => l.startsWith('#EXT-X-KEY'));
  assert.equal(tags.length, segs.length, 'a key tag before every segment');

  // the segment on the wire is not TS; decrypted with the served key and the tag's IV it is
  const [, keyUri, ivHex] = /URI="([^"]+)",IV=0x([0-9a-f]+)/.exec(tag)!;
  const key = await bytes(`${base}/${keyUri}`);
  assert.equal(key.status, 200);
  assert.equal(key.body.length, 16);
  const seg = await bytes(`${base}/${lines[segIdx]}`);
  assert.equal(seg.status, 200);
  assert.equal(seg.body.length % 16, 0);
  assert.ok(!(seg.body[0] === 0x47 && seg.body[188] === 0x47), 'encrypted on the wire');
  const d = createDecipheriv('aes-128-cbc', key.body, Buffer.from(ivHex!, 'hex'));
  const plain = Buffer.concat([d.update(seg.body), d.final()]);
  assert.equal(plain.length % 188, 0);
  for (let i = 0; i < plain.length; i += 188) assert.equal(plain[i], 0x47, `sync byte at ${i}`);

  // ffprobe reads the encrypted stream
  const { stdout } = await run('ffprobe', ['-v', 'error', '-allowed_extensions', 'ALL', '-show_entries', 'stream=codec_name,width', '-of', 'json', `${base}/index.m3u8`], { timeout: 60_000 });
  const codecs = (JSON.parse(stdout) as { streams: { codec_name: string; width?: number }[] }).streams;
  assert.ok(codecs.some((s) => s.codec_name === 'h264' && s.width === 160), stdout);

  // Chromium plays it with hls.js
  const browser = await launchChromium(t);
  const page = await browser.newPage({ viewport: { width: 320, height: 240 } });
  await page.goto(`${node.baseUrl}/secret/embed.html`);
  const st = await waitFor(async () => {
    const s = (await page.evaluate(`(() => { const p = window.fluxPlayer; return { t: p.video.currentTime, fatal: p.fatal, errors: p.errors.slice() }; })()`)) as { t: number; fatal: string | null; errors: string[] };
    if (s.fatal) throw new Error(`player failed: ${s.fatal}`);
    return s.t > 3 ? s : undefined;
  }, { timeoutMs: 40_000, intervalMs: 250, message: 'Chromium playing the encrypted stream past 3 s' });
  assert.deepEqual(st.errors.filter((e) => /fragDecryptError|keyLoad/.test(e)), []);

  // keys are behind the stream's authorization (here a signed link)
  assert.equal((await bytes(`${node.baseUrl}/locked/tracks-v1a1/key-1.key`)).status, 403);
  const signed = await node.cli(['auth', 'sign', 'locked', '--json', '--ttl', '5m']);
  const token = encodeURIComponent(signed.json.token as string);
  const locked = await bytes(`${node.baseUrl}/locked/tracks-v1a1/key-1.key?token=${token}`);
  assert.equal(locked.status, 200);
  assert.notDeepEqual(locked.body, key.body, 'keys differ per stream');

  // encrypt with a DVR, key_rotation without encrypt: refused by validate
  const bad = await tempDir(t);
  const { configFile } = await writeConfig({
    dir: bad,
    streams: { a: fakeStream({ hls: { encrypt: true }, dvr: { path: './dvr' } }), b: fakeStream({ hls: { key_rotation: 3 } }), 'rec/c': fakeStream({ hls: { encrypt: true } }) },
    extra: { templates: { rec: { prefix: 'rec/', dvr: { path: './dvr' } } } },
  });
  const v = await runCli(['validate', configFile]);
  assert.equal(v.code, 1);
  assert.equal(v.stderr.match(/hls\.encrypt with dvr is not supported yet/g)?.length, 2, 'the stream\'s own dvr and a template\'s: ' + v.stderr);
  assert.match(v.stderr, /key_rotation applies only with hls\.encrypt: true/);
});
