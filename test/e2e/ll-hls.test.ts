/**
 * LL-HLS with the built binary: a node runs a fake:// stream with `hls.low_latency: true` (1 s
 * segments and GOP, 0.5 s parts). A spec checklist on the live playlist (hls-parser strict, version,
 * server control and hold-back rules, part durations ≤ part target, INDEPENDENT on keyframes only,
 * preload hint), blocking reload timing, the preload-hinted part held until it exists, bad requests
 * (400), delta updates; then hls.js in low-latency mode in headless Chromium, whose latency measured
 * from EXT-X-PROGRAM-DATE-TIME must stay within 2 s. Build first: `npm run build`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse, setOptions, types } from 'hls-parser';
import { launchChromium } from '../helpers/browser.js';
import { fakeStream, http, startNode, tempDir, waitFor } from '../helpers/index.js';

setOptions({ strictMode: true, silent: true });


test('LL-HLS: playlist checklist, blocking reload, preload hint, bad requests, hls.js latency ≤ 2 s', { timeout: 240_000 }, async (t) => {
  const dir = await tempDir(t);
  const node = await startNode(t, {
    dir,
    streams: { 'll/cam': fakeStream({ hls: { segment_duration: '1s', window: 10, low_latency: true, part_duration: '0.5s' } }, { size: '320x180', fps: 25 }) },
    waitAlive: true,
  });
  const url = `${node.baseUrl}/ll/cam/tracks-v1a1/index.m3u8`;
  const text = await waitFor(async () => {
    const r = await http(url);
    return r.status === 200 && (r.text.match(/^#EXTINF/gm) ?? []).length >= 8 ? r.text : undefined;
  }, { timeoutMs: 60_000, message: 'eight segments' });

  // --- checklist (RFC 8216bis) ---
  const pl = parse(text) as InstanceType<typeof types.MediaPlaylist>;
  assert.ok(pl.version! >= 9, 'version 9 (delta updates use EXT-X-SKIP)');
  const sc = /^#EXT-X-SERVER-CONTROL:(.*)$/m.exec(text)![1]!;
  assert.match(sc, /CAN-BLOCK-RELOAD=YES/);
  const partTarget = Number(/^#EXT-X-PART-INF:PART-TARGET=([\d.]+)$/m.exec(text)![1]);
  assert.equal(partTarget, 0.5);
  const holdBack = Number(/PART-HOLD-BACK=([\d.]+)/.exec(sc)![1]);
  assert.ok(holdBack >= 3 * partTarget, `PART-HOLD-BACK ${holdBack} ≥ 3 × part target`);
  const target = Number(/^#EXT-X-TARGETDURATION:(\d+)$/m.exec(text)![1]);
  assert.ok(Number(/CAN-SKIP-UNTIL=([\d.]+)/.exec(sc)![1]) >= 6 * target, 'CAN-SKIP-UNTIL ≥ 6 × target duration');
  const partLines = text.split('\n').filter((l) => l.startsWith('#EXT-X-PART:'));
  assert.ok(partLines.length >= 6, 'parts are listed for the last segments');
  for (const l of partLines) assert.ok(Number(/DURATION=([\d.]+)/.exec(l)![1]) <= partTarget, l);
  // the first part of every segment starts with the keyframe (1 s GOP = 1 s segments); no other is INDEPENDENT
  const lines = text.split('\n');
  let first = true;
  for (const l of lines) {
    if (l.startsWith('#EXT-X-PART:')) {
      assert.equal(l.includes('INDEPENDENT=YES'), first, l);
      first = false;
    } else if (l !== '' && !l.startsWith('#')) first = true;
  }
  const hint = /^#EXT-X-PRELOAD-HINT:TYPE=PART,URI="([^"]+)"$/m.exec(text);
  assert.ok(hint, 'EXT-X-PRELOAD-HINT');
  assert.ok(pl.segments.filter((s) => s.uri).every((s) => s.uri.endsWith('.m4s')));

  // --- blocking reload ---
  const state = (s: string) => {
    const msn = Number(/^#EXT-X-MEDIA-SEQUENCE:(\d+)$/m.exec(s)![1]) + (s.match(/^#EXTINF/gm) ?? []).length;
    const after = s.slice(s.lastIndexOf('.m4s\n'));
    return { msn, parts: (after.match(/^#EXT-X-PART:/gm) ?? []).length };
  };
  const now = state((await http(url)).text);
  const t0 = Date.now();
  const blocked = await http(`${url}?_HLS_msn=${now.msn}&_HLS_part=${now.parts + 1}`);
  const waited = Date.now() - t0;
  assert.equal(blocked.status, 200);
  const got = state(blocked.text);
  assert.ok(got.msn > now.msn || got.parts >= now.parts + 2, `the answer holds the part asked for: ${JSON.stringify({ now, got })}`);
  assert.ok(waited < 2500, `two parts away, answered in ${waited} ms`);
  // a whole next segment
  const t1 = Date.now();
  const seg = await http(`${url}?_HLS_msn=${got.msn + 1}`);
  assert.equal(seg.status, 200);
  assert.ok(state(seg.text).msn >= got.msn + 2);
  assert.ok(Date.now() - t1 < 3500, `next segment in ${Date.now() - t1} ms`);

  // --- the preload-hinted part is held until it exists ---
  const hinted = /^#EXT-X-PRELOAD-HINT:TYPE=PART,URI="([^"]+)"$/m.exec(seg.text)![1]!;
  const part = await fetch(`${node.baseUrl}/ll/cam/tracks-v1a1/${hinted}`);
  assert.equal(part.status, 200);
  assert.equal(Buffer.from(await part.arrayBuffer()).toString('latin1', 4, 8), 'moof');
  // a part that will never come: 404 after the wait, never a hang
  assert.equal((await http(`${node.baseUrl}/ll/cam/tracks-v1a1/2001/01/01/00/978307200000-p0.m4s`)).status, 404);

  // --- bad requests ---
  const cur = state((await http(url)).text);
  for (const q of [`_HLS_msn=${cur.msn + 50}`, '_HLS_msn=-1', '_HLS_part=1', '_HLS_msn=abc', '_HLS_msn=1&_HLS_part=-2', '_HLS_skip=maybe']) {
    const r = await http(`${url}?${q}`);
    assert.equal(r.status, 400, q);
  }

  // --- delta update ---
  const delta = await http(`${url}?_HLS_skip=YES`);
  assert.equal(delta.status, 200);
  assert.match(delta.text, /^#EXT-X-SKIP:SKIPPED-SEGMENTS=\d+$/m);
  assert.ok(delta.text.length < (await http(url)).text.length);

  // --- hls.js in low-latency mode ---
  const browser = await launchChromium(t);
  const page = await browser.newPage({ viewport: { width: 640, height: 360 } });
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  await page.goto(`${node.baseUrl}/ll/cam/embed.html`);
  type PlayerState = { t: number; fatal: string | null; latency: number | null; lowLatency: boolean };
  const read = (): Promise<PlayerState> =>
    page.evaluate(`(() => { const p = window.fluxPlayer; return { t: p.video.currentTime, fatal: p.fatal, latency: p.latency, lowLatency: p.lowLatency }; })()`) as Promise<PlayerState>;
  await waitFor(async () => {
    const s = await read();
    if (s.fatal) throw new Error(`player failed: ${s.fatal}`);
    return s.latency !== null && s.t > 6; // hls.js catches up to PART-HOLD-BACK after its start
  }, { timeoutMs: 60_000, intervalMs: 250, message: 'playback with a latency reading' });
  const samples: number[] = [];
  for (let i = 0; i < 16; i++) {
    await new Promise((r) => setTimeout(r, 500));
    const s = await read();
    assert.equal(s.fatal, null);
    if (s.latency !== null) samples.push(s.latency);
  }
  const st = await read();
  assert.equal(st.lowLatency, true, 'hls.js saw parts');
  samples.sort((a, b) => a - b);
  const median = samples[Math.floor(samples.length / 2)]!;
  t.diagnostic(`hls.js LL latency median ${median.toFixed(2)} s (min ${samples[0]!.toFixed(2)}, max ${samples.at(-1)!.toFixed(2)})`);
  assert.ok(median <= 2, `median latency ${median.toFixed(2)} s`);
  assert.deepEqual(pageErrors, []);
});
