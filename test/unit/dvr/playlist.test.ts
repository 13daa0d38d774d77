import { test } from 'node:test';
import assert from 'node:assert/strict';
import HLS from 'hls-parser';
import { renderArchiveMaster, renderArchivePlaylist, bandwidthOf } from '../../../src/dvr/playlist.js';
import { SegTable } from '../../../src/dvr/table.js';
import { T0, run, tableOf } from './helpers.js';

test('VOD archive playlist: type, endlist, PDT, target duration, URIs in the layout', () => {
  const t = tableOf([...run(T0, 3, 2000), { startMs: T0 + 6000, durationMs: 2400, bytes: 100 }]);
  const text = renderArchivePlaylist(t, { kind: 'vod', uriPrefix: 'tracks-v1a1/' });
  assert.match(text, /^#EXTM3U\n/);
  assert.match(text, /#EXT-X-PLAYLIST-TYPE:VOD\n/);
  assert.match(text, /#EXT-X-ENDLIST\n$/);
  assert.match(text, /#EXT-X-TARGETDURATION:3\n/);
  assert.match(text, new RegExp(`#EXT-X-PROGRAM-DATE-TIME:${new Date(T0).toISOString()}\n`));
  assert.match(text, new RegExp(`#EXTINF:2\\.400,\ntracks-v1a1/2026/11/24/22/${T0 + 6000}-2400\\.ts\n`));
  const pl = HLS.parse(text) as HLS.types.MediaPlaylist;
  assert.equal(pl.isMasterPlaylist, false);
  assert.equal(pl.playlistType, 'VOD');
  assert.equal(pl.endlist, true);
  assert.equal(pl.segments.length, 4);
  assert.equal(pl.segments[0]!.programDateTime!.getTime(), T0);
  assert.equal(pl.segments[3]!.uri, `tracks-v1a1/2026/11/24/22/${T0 + 6000}-2400.ts`);
  assert.equal(pl.segments.filter((s) => s.discontinuity).length, 0);
});

test('a gap or a flagged discontinuity gets EXT-X-DISCONTINUITY and a new PDT', () => {
  const segs = [...run(T0, 3), ...run(T0 + 60_000, 3), ...run(T0 + 66_000, 2)];
  const t = tableOf(segs, { discontinuityAt: [6] });
  const text = renderArchivePlaylist(t, { kind: 'vod', uriPrefix: '' });
  const pl = HLS.parse(text) as HLS.types.MediaPlaylist;
  assert.deepEqual(
    pl.segments.map((s) => !!s.discontinuity),
    [false, false, false, true, false, false, true, false],
  );
  assert.equal(pl.segments[3]!.programDateTime!.getTime(), T0 + 60_000);
  assert.equal(pl.segments[6]!.programDateTime!.getTime(), T0 + 66_000);
  assert.equal((text.match(/#EXT-X-PROGRAM-DATE-TIME/g) ?? []).length, 3);
});

test('EVENT playlist has no ENDLIST; live (rewind) carries the recorded media and discontinuity sequences', () => {
  const t = new SegTable();
  for (const [i, s] of run(T0, 4).entries()) t.push({ ...s, mediaSequence: 500 + i, discontinuitySequence: 7 });
  const ev = renderArchivePlaylist(t, { kind: 'event' });
  assert.match(ev, /#EXT-X-PLAYLIST-TYPE:EVENT/);
  assert.doesNotMatch(ev, /ENDLIST/);
  const live = renderArchivePlaylist(t, { kind: 'live', from: 1 });
  assert.doesNotMatch(live, /PLAYLIST-TYPE|ENDLIST/);
  const pl = HLS.parse(live) as HLS.types.MediaPlaylist;
  assert.equal(pl.mediaSequenceBase, 501);
  assert.equal(pl.discontinuitySequenceBase, 7);
  assert.equal(pl.segments.length, 3);
});

test('query strings (tokens) are carried into segment URIs', () => {
  const text = renderArchivePlaylist(tableOf(run(T0, 1)), { kind: 'vod', query: '?token=abc' });
  assert.match(text, /\.ts\?token=abc\n/);
});

test('master playlist and bandwidth', () => {
  const t = tableOf([{ startMs: T0, durationMs: 2000, bytes: 500_000 }, { startMs: T0 + 2000, durationMs: 2000, bytes: 250_000 }]);
  const bw = bandwidthOf(t);
  assert.equal(bw.peak, 2_000_000);
  assert.equal(bw.average, 1_500_000);
  const text = renderArchiveMaster([
    { uri: 'tracks-v1a1/archive-1-2.m3u8', bandwidth: bw.peak, averageBandwidth: bw.average },
    { uri: 'tracks-v2a1/archive-1-2.m3u8', bandwidth: 800_000 },
  ]);
  const pl = HLS.parse(text) as HLS.types.MasterPlaylist;
  assert.equal(pl.isMasterPlaylist, true);
  assert.deepEqual(pl.variants.map((v) => [v.uri, v.bandwidth]), [
    ['tracks-v1a1/archive-1-2.m3u8', 2_000_000],
    ['tracks-v2a1/archive-1-2.m3u8', 800_000],
  ]);
});

test('a 7-day playlist (302,400 segments) renders every segment once', () => {
  const n = 302_400;
  const t = new SegTable(n);
  for (let i = 0; i < n; i++) t.push({ startMs: T0 + i * 2000, durationMs: 2000, bytes: 1 });
  const text = renderArchivePlaylist(t, { kind: 'vod', uriPrefix: 'tracks-v1a1/' });
  assert.equal((text.match(/#EXTINF:/g) ?? []).length, n);
  assert.ok(text.includes(`${T0 + (n - 1) * 2000}-2000.ts\n#EXT-X-ENDLIST`));
});
