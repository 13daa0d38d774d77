import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MosaicTiles, playlistFacts } from '../../../../src/daemons/stream/mosaic-tiles.js';
import type { ResolvedMosaic } from '../../../../src/config/model.js';
import { tempDir } from '../../../helpers/index.js';

const PLAYLIST = (seq: number, discSeq: number, segs: string[]) =>
  ['#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-TARGETDURATION:1', `#EXT-X-MEDIA-SEQUENCE:${seq}`, `#EXT-X-DISCONTINUITY-SEQUENCE:${discSeq}`, ...segs, ''].join('\n');

test('playlist facts: segment count and the newest segment\'s discontinuity sequence', () => {
  assert.deepEqual(playlistFacts(PLAYLIST(7, 2, ['#EXTINF:1.000,', 'a.ts', '#EXT-X-DISCONTINUITY', '#EXTINF:1.000,', 'b.ts'])), { segments: 2, discontinuity: 3 });
  assert.deepEqual(playlistFacts(PLAYLIST(0, 0, [])), { segments: 0, discontinuity: 0 });
});

test('tiles: live while the playlist is fresh and names segments; stale after 3 segment durations; a restart of a tile changes the plan', async (t) => {
  const dir = await tempDir(t);
  const pl = (n: string) => path.join(dir, n, 'v1a1', 'index.m3u8');
  const m: ResolvedMosaic = {
    tiles: [
      { name: 'a', playlist: pl('a'), segmentDurationMs: 1000 },
      { name: 'b', playlist: path.join(dir, 'dvr', 'b', 'v1a1', 'index.m3u8'), fallbackPlaylist: pl('b'), segmentDurationMs: 2000 },
      { name: 'c', playlist: pl('c'), segmentDurationMs: 1000 },
    ],
    cols: 2,
    rows: 2,
    width: 320,
    height: 240,
    fps: '10',
    fpsValue: 10,
    labels: false,
  };
  let now = Date.now();
  const write = async (file: string, text: string, mtime: number) => {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, text);
    await utimes(file, mtime / 1000, mtime / 1000);
  };
  const tiles = new MosaicTiles(m, { now: () => now });
  const live = () => [...tiles.live].sort().join(',');

  // nothing written yet: every tile a slate (the first check is always a change)
  assert.equal(await tiles.check(), true);
  assert.equal(live(), '');
  assert.equal(await tiles.check(), false);

  // a: fresh with a segment; b: only in its data-dir fallback (its root unwritable); c: an empty playlist
  await write(pl('a'), PLAYLIST(0, 0, ['#EXTINF:1.000,', 's0.ts']), now - 500);
  await write(pl('b'), PLAYLIST(0, 0, ['#EXTINF:2.000,', 's0.ts']), now - 4000);
  await write(pl('c'), PLAYLIST(0, 0, []), now);
  assert.equal(await tiles.check(), true);
  assert.equal(live(), 'a,b', 'b is within 3 x 2 s');
  assert.deepEqual(tiles.status(), [
    { name: 'a', live: true },
    { name: 'b', live: true },
    { name: 'c', live: false },
  ]);

  // a keeps writing segments: no change of plan
  now += 1000;
  await write(pl('a'), PLAYLIST(0, 0, ['#EXTINF:1.000,', 's0.ts', '#EXTINF:1.000,', 's1.ts']), now);
  assert.equal(await tiles.check(), false);

  // b's root takes writes again and is newer than the fallback: the tile moves there (a new plan)
  await write(m.tiles[1]!.playlist, PLAYLIST(5, 1, ['#EXTINF:2.000,', 's5.ts']), now);
  assert.equal(await tiles.check(), true);
  assert.equal(live(), 'a,b');

  // a restarts: a discontinuity in its playlist is a new plan (its timestamps started over)
  now += 1000;
  await write(pl('a'), PLAYLIST(0, 0, ['#EXTINF:1.000,', 's1.ts', '#EXT-X-DISCONTINUITY', '#EXTINF:1.000,', 's2.ts']), now);
  assert.equal(await tiles.check(), true);
  // …and the discontinuity leaving the window is not
  now += 1000;
  await write(pl('a'), PLAYLIST(2, 1, ['#EXTINF:1.000,', 's2.ts', '#EXTINF:1.000,', 's3.ts']), now);
  assert.equal(await tiles.check(), false);

  // a stops writing: stale after 3 s, a slate
  now += 3001;
  assert.equal(await tiles.check(), true);
  assert.equal(live(), 'b');
});
