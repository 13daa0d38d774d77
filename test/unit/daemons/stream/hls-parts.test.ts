/** LL-HLS part bookkeeping (daemons/stream/hls-parts.ts): listed parts, file deletion after the grace, preload hint. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { tempDir } from '../../../helpers/index.js';
import { LL_PART_GRACE, LL_SEGMENTS_WITH_PARTS, PartList, partName, partUri, type PartSegment } from '../../../../src/daemons/stream/hls-parts.js';

const T0 = Date.UTC(2026, 11, 6, 5, 0, 0);
const seg = (startMs: number): PartSegment => ({ startMs, failed: null, discontinuity: false });

test('names: <ms>-p<N>.m4s in the hour dir', () => {
  assert.equal(partName(T0, 3), `${T0}-p3.m4s`);
  assert.equal(partUri(T0, 0), `2026/12/06/05/${T0}-p0.m4s`);
});

test('parts of closed segments stay listed for the last segments only; their files go after the grace', async (t) => {
  const dir = await tempDir(t, 'flux-parts-');
  const list = new PartList<PartSegment>();
  const segs: PartSegment[] = [];
  const files: string[] = [];
  const total = LL_SEGMENTS_WITH_PARTS + LL_PART_GRACE + 2;
  for (let i = 0; i < total; i++) {
    const s = seg(T0 + i * 2000);
    segs.push(s);
    const f = path.join(dir, partName(s.startMs, 0));
    await fsp.writeFile(f, 'x');
    files.push(f);
    list.added(s, { uri: partUri(s.startMs, 0), durationMs: 500, independent: true }, f);
    assert.equal(list.trailing.length, 1);
    await list.segmentClosed(s, `seg${i}`);
    assert.deepEqual(list.trailing, []);
  }
  const listed = segs.map((_, i) => list.partsOf(`seg${i}`) !== undefined);
  assert.deepEqual(listed, segs.map((_, i) => i >= total - LL_SEGMENTS_WITH_PARTS));
  const present = await Promise.all(files.map((f) => fsp.access(f).then(() => true, () => false)));
  assert.deepEqual(present, files.map((_, i) => i >= total - LL_SEGMENTS_WITH_PARTS - LL_PART_GRACE));
});

test('a dropped segment lists no parts; closing another segment than the open one changes nothing', async () => {
  const list = new PartList<PartSegment>();
  const a = seg(T0);
  list.added(a, { uri: 'p0', durationMs: 500, independent: true }, '/nonexistent/p0');
  await list.segmentClosed(seg(T0 + 1), 'other');
  assert.equal(list.trailing.length, 1);
  await list.segmentClosed(a, null);
  assert.equal(list.partsOf('p0'), undefined);
  assert.equal(list.open, null);
});

test('preload hint: the open segment next part, else the next segment opening, else the producer current; none for a failed one', () => {
  const list = new PartList<PartSegment>();
  const a = seg(T0);
  const b = seg(T0 + 2000);
  a.partsQueued = 2;
  list.added(a, { uri: 'a0', durationMs: 500, independent: true }, 'f');
  assert.equal(list.preloadHint(a, []), partUri(T0, 1), 'open segment still being produced');
  assert.equal(list.preloadHint(null, [b]), partUri(T0, 1), 'producer closed it but a part is still queued');
  list.added(a, { uri: 'a1', durationMs: 500, independent: false }, 'f');
  assert.equal(list.preloadHint(null, [a, b]), partUri(b.startMs, 0), 'all parts written: the next segment opening');
  assert.equal(list.preloadHint(b, []), partUri(b.startMs, 0), 'nothing queued: the producer current segment');
  b.failed = new Error('x');
  assert.equal(list.preloadHint(b, []), undefined);
  assert.equal(new PartList<PartSegment>().preloadHint(null, []), undefined);
});
