/**
 * LL-HLS serving rules (src/daemons/node/ll-hls.ts) on playlists rendered by the writer's renderer:
 * blocking-request readiness and the 400 window, query validation, delta updates, rendition reports,
 * and the bound on held requests.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderMediaPlaylist, type PlaylistPart } from '../../../../../src/media/hls/playlist.js';
import { deltaPlaylist, lastPartOf, llPlaylistState, nextMsn, parseBlockingQuery, readiness, WaitGroups, withRenditionReports } from '../../../../../src/daemons/node/ll-hls.js';

const parts = (seg: number, n: number): PlaylistPart[] => Array.from({ length: n }, (_, k) => ({ uri: `${seg}-p${k}.m4s`, durationMs: 500, independent: k === 0 }));

function playlist(segments: number, trailing: number, first = 100): string {
  return renderMediaPlaylist({
    targetDuration: 1,
    mediaSequence: first,
    segments: Array.from({ length: segments }, (_, i) => ({ uri: `${i}.m4s`, durationMs: 1000, programDateTime: 1_700_000_000_000 + i * 1000, map: 'init-0123456789ab.mp4', parts: i >= segments - 3 ? parts(i, 2) : undefined })),
    lowLatency: { partTargetMs: 500, trailingParts: parts(segments, trailing), trailingMap: 'init-0123456789ab.mp4', preloadHint: `${segments}-p${trailing}.m4s` },
  });
}

test('the rendered LL playlist: server control, part target, parts, preload hint', () => {
  const text = playlist(4, 1);
  assert.match(text, /^#EXT-X-VERSION:9$/m);
  assert.match(text, /^#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1\.500,CAN-SKIP-UNTIL=6\.000$/m);
  assert.match(text, /^#EXT-X-PART-INF:PART-TARGET=0\.500$/m);
  assert.match(text, /^#EXT-X-PART:DURATION=0\.500,URI="4-p0\.m4s",INDEPENDENT=YES$/m);
  assert.match(text, /^#EXT-X-PART:DURATION=0\.500,URI="3-p1\.m4s"$/m);
  assert.match(text.trimEnd(), /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="4-p1\.m4s"$/);
  // parts of a complete segment come before its EXTINF
  assert.ok(text.indexOf('URI="3-p1.m4s"') < text.indexOf('\n3.m4s'));
});

test('llPlaylistState and readiness: msn/part ready, wait, 400 beyond two segments ahead', () => {
  const st = llPlaylistState(playlist(4, 1));
  assert.equal(st.mediaSequence, 100);
  assert.equal(st.segments, 4);
  assert.equal(st.trailingParts, 1);
  assert.equal(st.lastSegmentParts, 2);
  assert.equal(st.lowLatency, true);
  assert.equal(st.partTargetS, 0.5);
  assert.equal(nextMsn(st), 104);
  assert.deepEqual(lastPartOf(st), { msn: 104, part: 0 });
  assert.deepEqual(lastPartOf(llPlaylistState(playlist(4, 0))), { msn: 103, part: 1 });
  assert.equal(readiness(st, 103, undefined), 'ready');
  assert.equal(readiness(st, 100, 5), 'ready');
  assert.equal(readiness(st, 104, 0), 'ready');
  assert.equal(readiness(st, 104, 1), 'wait');
  assert.equal(readiness(st, 104, undefined), 'wait', 'a whole segment is asked for: it is not complete yet');
  assert.equal(readiness(st, 105, 0), 'wait');
  assert.equal(readiness(st, 106, undefined), 'out-of-window');
  assert.equal(readiness(st, 1_000_000, undefined), 'out-of-window');
});

test('parseBlockingQuery: negative, non-numeric, _HLS_part without _HLS_msn, bad _HLS_skip', () => {
  const q = (s: string) => parseBlockingQuery(new URLSearchParams(s));
  assert.deepEqual(q(''), { ok: true, skip: false });
  assert.deepEqual(q('_HLS_msn=5&_HLS_part=2'), { ok: true, msn: 5, part: 2, skip: false });
  assert.deepEqual(q('_HLS_msn=5&_HLS_skip=YES'), { ok: true, msn: 5, skip: true });
  assert.equal(q('_HLS_msn=-1').ok, false);
  assert.equal(q('_HLS_msn=1e3').ok, false);
  assert.equal(q('_HLS_msn=9999999999999999999').ok, false);
  assert.equal(q('_HLS_part=1').ok, false);
  assert.match((q('_HLS_part=1') as { reason: string }).reason, /_HLS_part without _HLS_msn/);
  assert.equal(q('_HLS_msn=3&_HLS_part=x').ok, false);
  assert.equal(q('_HLS_skip=NO').ok, false);
});

test('deltaPlaylist: segments older than CAN-SKIP-UNTIL become one EXT-X-SKIP; the rest is kept', () => {
  const full = playlist(10, 1);
  const delta = deltaPlaylist(full);
  assert.match(delta, /^#EXT-X-SKIP:SKIPPED-SEGMENTS=4$/m);
  assert.match(delta, /^#EXT-X-VERSION:9$/m);
  assert.doesNotMatch(delta, /^[0-3]\.m4s$/m);
  for (let i = 4; i < 10; i++) assert.match(delta, new RegExp(`^${i}\\.m4s$`, 'm'));
  assert.match(delta, /#EXT-X-MAP:URI="init-0123456789ab\.mp4"/, 'the init segment is still named');
  assert.ok(delta.indexOf('#EXT-X-SKIP') < delta.indexOf('#EXT-X-MAP'));
  // the kept part still blocks/serves like the full one
  const a = llPlaylistState(full);
  const b = llPlaylistState(delta);
  assert.equal(nextMsn(a), nextMsn(b));
  assert.equal(a.trailingParts, b.trailingParts);
  // a playlist shorter than CAN-SKIP-UNTIL skips nothing
  assert.doesNotMatch(deltaPlaylist(playlist(5, 1)), /EXT-X-SKIP/);
});

test('withRenditionReports appends one report per other rendition', () => {
  const text = withRenditionReports(playlist(3, 1), [{ uri: '../tracks-v2a1/index.m3u8', msn: 7, part: 1 }]);
  assert.match(text.trimEnd(), /#EXT-X-RENDITION-REPORT:URI="\.\.\/tracks-v2a1\/index\.m3u8",LAST-MSN=7,LAST-PART=1$/);
});

test('WaitGroups: bounded, released on check, timeout and when the stream goes away', async () => {
  const g = new WaitGroups(3);
  let ready = false;
  let alive = true;
  let polls = 0;
  const poll = async () => {
    polls++;
  };
  const a = g.wait('k', poll, () => ready, () => alive, 10_000);
  const b = g.wait('k', poll, () => ready, () => alive, 10_000);
  const c = g.wait('k', poll, () => false, () => alive, 150);
  assert.equal(g.heldCount, 3);
  assert.equal(await g.wait('k', poll, () => true, () => true, 1000), null, 'beyond the bound: refused at once');
  assert.equal(await c, false, 'timed out');
  ready = true;
  assert.equal(await a, true);
  assert.equal(await b, true);
  assert.equal(g.heldCount, 0);
  assert.ok(polls >= 1);
  ready = false;
  const d = g.wait('k2', poll, () => ready, () => alive, 10_000);
  alive = false;
  const t0 = Date.now();
  assert.equal(await d, false);
  assert.ok(Date.now() - t0 < 1000);
  // a client that goes away releases its slot
  let close: () => void = () => undefined;
  const e = g.wait('k3', poll, () => false, () => true, 10_000, (cb) => (close = cb));
  close();
  assert.equal(await e, false);
  assert.equal(g.heldCount, 0);
});
