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

test('segment names carry the exact start of any size (digits written straight into the buffer)', () => {
  const starts = [0, 7, 10, 99_999_999, 100_000_000, 100_000_001, 1_234_567_890_123, 2 ** 48 - 1];
  for (let i = 0; i < 200; i++) starts.push(Math.floor(Math.random() * 2 ** 48));
  const t = new SegTable();
  for (const s of [...new Set(starts)].sort((x, y) => x - y)) t.push({ startMs: s, durationMs: 1, bytes: 1 });
  const uris = renderArchivePlaylist(t, { kind: 'vod' })
    .split('\n')
    .filter((l) => l.endsWith('.ts'));
  assert.equal(uris.length, t.length);
  uris.forEach((u, i) => assert.ok(u.endsWith(`/${t.start[i]}-1.ts`), `${u} vs ${t.start[i]}`));
});

test('the buffer renderer matches a plain string rendering (mixed durations, breaks, hour and digit boundaries)', () => {
  const t = new SegTable();
  // starts 3 s before a 1e7 ms digit boundary; 8,000 s cross hours too
  let s = Math.ceil(Date.UTC(2026, 10, 24, 21, 59, 0) / 1e7) * 1e7 - 3001;
  for (let i = 0; i < 4000; i++) {
    const dur = i % 97 === 0 ? 2400 : i % 13 === 0 ? 1960 : 2000;
    t.push({ startMs: s, durationMs: dur, bytes: 1, discontinuity: i % 500 === 499 });
    s += dur + (i % 777 === 776 ? 30_000 : 0);
  }
  const expected: string[] = [];
  for (let i = 0; i < t.length; i++) {
    const st = t.start[i]!;
    const brk = i > 0 && (t.flags[i]! & 1 || st - t.start[i - 1]! > 1.5 * t.dur[i - 1]! || st - t.start[i - 1]! < 0.5 * t.dur[i - 1]!);
    if (brk) expected.push('#EXT-X-DISCONTINUITY');
    if (i === 0 || brk) expected.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(st).toISOString()}`);
    const d = new Date(st);
    const p2 = (n: number) => String(n).padStart(2, '0');
    expected.push(`#EXTINF:${(t.dur[i]! / 1000).toFixed(3)},`);
    expected.push(`p/${d.getUTCFullYear()}/${p2(d.getUTCMonth() + 1)}/${p2(d.getUTCDate())}/${p2(d.getUTCHours())}/${st}-${t.dur[i]}.ts?k=v`);
  }
  const text = renderArchivePlaylist(t, { kind: 'vod', uriPrefix: 'p/', query: '?k=v' });
  const body = text.split('\n').filter((l) => !/^#EXT(M3U|-X-(VERSION|TARGETDURATION|MEDIA-SEQUENCE|PLAYLIST-TYPE|INDEPENDENT-SEGMENTS|ENDLIST))/.test(l) && l);
  assert.deepEqual(body, expected);
});

test('rendering from spans of several tables equals rendering the concatenated table (breaks across spans too)', () => {
  const all = tableOf([...run(T0, 10), ...run(T0 + 40_000, 10)], { discontinuityAt: [15] });
  const spans = [
    { t: all.slice(0, 7), a: 2, b: 7 },
    { t: all.slice(7, 20), a: 0, b: 13 },
  ];
  const joined = all.slice(2, 20);
  for (const kind of ['vod', 'event', 'live'] as const) {
    assert.equal(renderArchivePlaylist(spans, { kind, uriPrefix: 'x/' }), renderArchivePlaylist(joined, { kind, uriPrefix: 'x/' }));
  }
  assert.equal((renderArchivePlaylist(spans, { kind: 'vod' }).match(/DISCONTINUITY\n/g) ?? []).length, 2);
});
