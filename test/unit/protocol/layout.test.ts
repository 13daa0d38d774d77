import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  hourDirRel,
  hourOf,
  isSegmentPathParts,
  isSegmentRelPath,
  parseSegmentName,
  parseSegmentRelPath,
  segmentRelPath,
} from '../../../src/protocol/layout.js';
import { newestSegments, pruneEmptyHourDirs, segmentsInHour, walkHourDirs } from '../../../src/protocol/walk.js';
import { tempDir } from '../../helpers/index.js';

const T0 = Date.UTC(2026, 10, 24, 23, 59, 58); // 2026-11-24T23:59:58Z: the next segment is in another day

test('segment names: one pattern for writer, DVR and playback', () => {
  assert.deepEqual(parseSegmentName('1764028800000-2000.ts'), { startMs: 1764028800000, durationMs: 2000 });
  for (const bad of ['.abc.tmp', 'index.m3u8', '1764028800000-0.ts', '-2000.ts', '1-2.ts.tmp', '99999999999999999-1.ts']) {
    assert.equal(parseSegmentName(bad), undefined, bad);
  }
  const rel = segmentRelPath(T0, 2000);
  assert.equal(rel, `2026/11/24/23/${T0}-2000.ts`);
  assert.ok(isSegmentRelPath(rel));
  assert.deepEqual(parseSegmentRelPath(rel), { startMs: T0, durationMs: 2000 });
  // the right shape in the wrong hour: a shape check passes, the strict parse does not
  assert.ok(isSegmentRelPath(`2026/11/24/22/${T0}-2000.ts`));
  assert.equal(parseSegmentRelPath(`2026/11/24/22/${T0}-2000.ts`), undefined);
  assert.ok(isSegmentPathParts(rel.split('/')));
  assert.ok(!isSegmentPathParts(['2026', '11', '24', '23']));
  assert.ok(!isSegmentPathParts(['2026', '11', '24', '2x', `${T0}-2000.ts`]));
  assert.ok(!isSegmentRelPath(`../11/24/23/${T0}-2000.ts`));
});

test('walker: hour dirs in range and order, segments of an hour, newest segments across days', async (t) => {
  const dir = await tempDir(t);
  const starts = [T0 - 3_600_000, T0 - 2000, T0, T0 + 2000, T0 + 4000];
  for (const s of starts) {
    const rel = segmentRelPath(s, 2000);
    await mkdir(path.join(dir, path.dirname(rel)), { recursive: true });
    await writeFile(path.join(dir, rel), 'x');
  }
  // litter the walker must pass over
  await writeFile(path.join(dir, hourDirRel(hourOf(T0)), '.abc.tmp'), '');
  await writeFile(path.join(dir, hourDirRel(hourOf(T0)), `${T0 + 3_600_000}-2000.ts`), ''); // named for another hour
  await mkdir(path.join(dir, 'index'), { recursive: true });
  await mkdir(path.join(dir, '2026', '13', '01', '00'), { recursive: true });

  const h = hourOf(T0);
  assert.deepEqual(await walkHourDirs(dir), [h - 1, h, h + 1]);
  assert.deepEqual(await walkHourDirs(dir, { descending: true, limit: 2 }), [h + 1, h]);
  assert.deepEqual(await walkHourDirs(dir, { fromHour: h, toHour: h }), [h]);
  assert.deepEqual(await walkHourDirs(path.join(dir, 'missing')), []);

  assert.deepEqual((await segmentsInHour(dir, h)).map((s) => s.startMs), [T0 - 2000, T0]);
  assert.deepEqual(await segmentsInHour(dir, h + 5), []);

  const newest = await newestSegments(dir, 3);
  assert.deepEqual(newest.map((s) => s.startMs), [T0, T0 + 2000, T0 + 4000]);
  assert.equal(newest[0]!.uri, segmentRelPath(T0, 2000));
  assert.equal((await newestSegments(dir, 100)).length, starts.length);
  assert.deepEqual(await newestSegments(dir, 0), []);
});

test('pruneEmptyHourDirs: empty hour, day, month, year dirs go; a busy or non-empty one stops it; never above the rendition dir', async (t) => {
  const dir = await tempDir(t);
  const a = path.join(dir, 'v1', '2026', '11', '24', '23');
  const b = path.join(dir, 'v1', '2026', '11', '25', '00');
  await mkdir(a, { recursive: true });
  await mkdir(b, { recursive: true });
  await pruneEmptyHourDirs(path.join(dir, 'v1'), a);
  assert.deepEqual(await readdir(path.join(dir, 'v1', '2026', '11')), ['25'], 'day 24 went, month 11 stays (day 25 in it)');
  await pruneEmptyHourDirs(path.join(dir, 'v1'), b, (d) => d === b);
  assert.ok(existsSync(b), 'busy');
  await pruneEmptyHourDirs(path.join(dir, 'v1'), b);
  assert.deepEqual(await readdir(path.join(dir, 'v1')), [], 'all the way up to, not including, the rendition dir');
  await writeFile(path.join(dir, 'v1', 'live.json'), '{}');
  await pruneEmptyHourDirs(path.join(dir, 'v1'), path.join(dir, 'v1', '2030', '01', '01', '00'));
  assert.ok(existsSync(path.join(dir, 'v1', 'live.json')));
});
