import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, rm, unlink, utimes } from 'node:fs/promises';
import { Archive } from '../../../src/dvr/archive.js';
import { computeGaps, computeRanges, isBreak } from '../../../src/dvr/gaps.js';
import { indexFilePath, writeHourIndex } from '../../../src/dvr/index-file.js';
import { HOUR_MS, hourOf } from '../../../src/protocol/layout.js';
import { FLAG_DISCONTINUITY } from '../../../src/dvr/table.js';
import { T0, run, tableOf, tempRoot, writeSegments, type FakeSeg } from './helpers.js';

/** Write segments and their hourly index files. */
async function archiveOf(root: string, rendition: string, segs: FakeSeg[], opts: { index?: boolean } = {}): Promise<void> {
  await writeSegments(root, rendition, segs);
  if (opts.index === false) return;
  const byHour = new Map<number, FakeSeg[]>();
  for (const s of segs) byHour.set(hourOf(s.startMs), [...(byHour.get(hourOf(s.startMs)) ?? []), s]);
  for (const [h, list] of byHour) await writeHourIndex(indexFilePath(root, rendition, h), tableOf(list));
}

test('gap rule: a break when the next segment starts > 1.5× the previous duration later, or goes back, or is flagged', () => {
  assert.equal(isBreak(0, 2000, 2000, 0), false);
  assert.equal(isBreak(0, 2000, 2900, 0), false, '0.9 s late is jitter, not a gap');
  assert.equal(isBreak(0, 2000, 3100, 0), true, 'more than half a segment missing');
  assert.equal(isBreak(0, 2000, 900, 0), true, 'the clock went back');
  assert.equal(isBreak(0, 2000, 2000, FLAG_DISCONTINUITY), true);
});

test('ranges and gaps of a segment list', () => {
  const segs = [...run(T0, 5), ...run(T0 + 20_000, 3), ...run(T0 + 26_000, 2)];
  const t = tableOf(segs, { discontinuityAt: [8] });
  const ranges = computeRanges(t);
  assert.deepEqual(
    ranges.map((r) => [r.fromMs - T0, r.toMs - T0, r.segments, r.bytes]),
    [
      [0, 10_000, 5, 500],
      [20_000, 26_000, 3, 300],
      [26_000, 30_000, 2, 200],
    ],
  );
  const gaps = computeGaps(t);
  assert.deepEqual(
    gaps.map((g) => [g.fromMs - T0, g.toMs - T0, g.durationMs, g.reason]),
    [
      [10_000, 20_000, 10_000, 'missing'],
      [26_000, 26_000, 0, 'discontinuity'],
    ],
  );
  assert.deepEqual(computeRanges(tableOf([])), []);
});

test('segments in [from, to) across hours and days come from the index with binary search', async (t) => {
  const root = await tempRoot(t);
  // 23:58 → 00:02 next day, crossing an hour and a day boundary
  const start = Date.UTC(2026, 10, 24, 23, 58);
  await archiveOf(root, 'v1a1', run(start, 120));
  const a = new Archive(root);
  const s = await a.segments('v1a1', start + 60_000, start + 180_000);
  assert.equal(s.length, 60);
  assert.equal(s.start[0], start + 60_000);
  assert.equal(s.start[59], start + 178_000);
  // a from inside a segment includes that segment; one from the previous hour reaching into the range too
  const s2 = await a.segments('v1a1', Date.UTC(2026, 10, 25, 0, 0, 1), Date.UTC(2026, 10, 25, 0, 0, 3));
  assert.deepEqual([...s2.start.subarray(0, s2.length)], [Date.UTC(2026, 10, 25, 0, 0, 0), Date.UTC(2026, 10, 25, 0, 0, 2)]);
  const s3 = await a.segments('v1a1', start - 10 * HOUR_MS, start - 5 * HOUR_MS);
  assert.equal(s3.length, 0);
  assert.equal((await a.newest('v1a1'))!.startMs, start + 119 * 2000);
  assert.equal((await a.oldest('v1a1'))!.startMs, start);
});

test('an hour without an index is read from its file names; a damaged index falls back to names too', async (t) => {
  const root = await tempRoot(t);
  await archiveOf(root, 'v1a1', run(T0, 30), { index: false });
  const a = new Archive(root);
  const s = await a.segments('v1a1', T0, T0 + HOUR_MS);
  assert.equal(s.length, 30);
  assert.equal(s.bytes[0], 100);
  assert.equal((await a.hour('v1a1', hourOf(T0))).source, 'names');

  const root2 = await tempRoot(t);
  await archiveOf(root2, 'v1a1', run(T0, 30));
  await appendFile(indexFilePath(root2, 'v1a1', hourOf(T0)), Buffer.from('garbage'));
  const b = new Archive(root2);
  const h = await b.hour('v1a1', hourOf(T0));
  assert.equal(h.source, 'names');
  assert.equal(h.damaged, true);
  assert.equal(h.table.length, 30);
});

test('the cache sees appends and deletions (revalidated by stat)', async (t) => {
  const root = await tempRoot(t);
  await archiveOf(root, 'v1a1', run(T0, 10));
  const a = new Archive(root);
  assert.equal((await a.segments('v1a1', T0, T0 + HOUR_MS)).length, 10);
  await archiveOf(root, 'v1a1', run(T0, 12));
  assert.equal((await a.segments('v1a1', T0, T0 + HOUR_MS)).length, 12);
  await rm(indexFilePath(root, 'v1a1', hourOf(T0)));
  await unlink(a.segmentPath('v1a1', T0, 2000));
  assert.equal((await a.segments('v1a1', T0, T0 + HOUR_MS)).length, 11);
});

test('summary: bytes, ranges, gaps and oldest/newest of the whole archive or a window', async (t) => {
  const root = await tempRoot(t);
  await archiveOf(root, 'v1a1', [...run(T0, 10), ...run(T0 + 2 * HOUR_MS, 5)]);
  const a = new Archive(root);
  const all = await a.summary('v1a1');
  assert.equal(all.segments, 15);
  assert.equal(all.bytes, 1500);
  assert.equal(all.ranges.length, 2);
  assert.equal(all.gaps.length, 1);
  assert.equal(all.oldestMs, T0);
  assert.equal(all.newestMs, T0 + 2 * HOUR_MS + 10_000);
  assert.equal(all.unindexedHours, 0);
  const w = await a.summary('v1a1', T0 + 2 * HOUR_MS, T0 + 3 * HOUR_MS);
  assert.equal(w.segments, 5);
  assert.equal(w.gaps.length, 0);
});

test('segments that landed long after the last index write are seen (the index is stale, names are the truth)', async (t) => {
  const root = await tempRoot(t);
  await archiveOf(root, 'v1a1', run(T0, 10));
  await writeSegments(root, 'v1a1', run(T0 + 20_000, 2)); // no recorder indexed these
  const idx = indexFilePath(root, 'v1a1', hourOf(T0));
  const old = new Date(Date.now() - 60_000);
  await utimes(idx, old, old);
  const a = new Archive(root);
  const h = await a.hour('v1a1', hourOf(T0));
  assert.equal(h.source, 'names');
  assert.equal(h.damaged, false);
  assert.equal(h.table.length, 12);
  // a fresh index is trusted
  await utimes(idx, new Date(), new Date(Date.now() + 60_000));
  assert.equal((await a.hour('v1a1', hourOf(T0))).source, 'index');
});

test('a shared reader (revalidateMs) trusts its cache for that long, then sees changes', async (t) => {
  const root = await tempRoot(t);
  await archiveOf(root, 'v1a1', run(T0, 10));
  let clock = 0;
  const a = new Archive(root, { revalidateMs: 1000, clock: () => clock });
  assert.equal((await a.segments('v1a1', T0, T0 + HOUR_MS)).length, 10);
  assert.equal((await a.newest('v1a1'))!.startMs, T0 + 18_000);
  await archiveOf(root, 'v1a1', run(T0, 12));
  await archiveOf(root, 'v1a1', run(T0 + HOUR_MS, 1));
  assert.equal((await a.segments('v1a1', T0, T0 + 2 * HOUR_MS)).length, 10, 'cached');
  clock += 999;
  assert.equal((await a.segments('v1a1', T0, T0 + 2 * HOUR_MS)).length, 10, 'still cached');
  clock += 1;
  assert.equal((await a.segments('v1a1', T0, T0 + 2 * HOUR_MS)).length, 13);
  assert.equal((await a.newest('v1a1'))!.startMs, T0 + HOUR_MS);
});
