import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdir, readdir, rm, stat, unlink, access } from 'node:fs/promises';
import path from 'node:path';
import { DvrRecorder, type StatFsLike } from '../../../src/dvr/recorder.js';
import { indexFilePath, readHourIndex, segmentPath, RECORD_SIZE, renditionDir } from '../../../src/dvr/index-file.js';
import { HOUR_MS, hourOf, segmentRelPath } from '../../../src/protocol/layout.js';
import { Archive } from '../../../src/dvr/archive.js';
import { T0, run, tempRoot, writeSegments, type FakeSeg } from './helpers.js';

const exists = (p: string) => access(p).then(() => true, () => false);

/** Write a segment like the HLS writer does, then tell the recorder. */
async function land(rec: DvrRecorder, root: string, rendition: string, s: FakeSeg, seq: number, discontinuity = false): Promise<void> {
  await writeSegments(root, rendition, [s]);
  await rec.onSegment({
    rendition,
    startMs: s.startMs,
    durationMs: s.durationMs,
    bytes: s.bytes,
    uri: segmentRelPath(s.startMs, s.durationMs),
    path: segmentPath(root, rendition, s.startMs, s.durationMs),
    mediaSequence: seq,
    discontinuity,
    keyframe: true,
  });
}

async function indexStarts(root: string, rendition: string, hour: number): Promise<number[]> {
  const r = await readHourIndex(indexFilePath(root, rendition, hour));
  assert.equal(r.damaged, false);
  return [...r.table.start.subarray(0, r.table.length)];
}

test('onSegment appends one record per segment, per hour file; duplicates are ignored', async (t) => {
  const root = await tempRoot(t);
  const rec = await DvrRecorder.open({ root, renditions: ['v1a1'] });
  t.after(() => rec.close());
  const start = T0 + HOUR_MS - 4000; // two segments before the hour boundary, two after
  const segs = run(start, 4);
  for (const [i, s] of segs.entries()) await land(rec, root, 'v1a1', s, i);
  await land(rec, root, 'v1a1', segs[3]!, 3); // the writer retried: no second record
  assert.deepEqual(await indexStarts(root, 'v1a1', hourOf(start)), [start, start + 2000]);
  assert.deepEqual(await indexStarts(root, 'v1a1', hourOf(start) + 1), [start + 4000, start + 6000]);
  const st = rec.status;
  assert.equal(st.recording, true);
  assert.equal(st.paused, false);
  assert.equal(st.segments, 4);
  assert.equal(st.bytes, 400);
  assert.equal(st.oldest, start);
  assert.equal(st.newest, start + 8000);
  const r = await readHourIndex(indexFilePath(root, 'v1a1', hourOf(start) + 1));
  assert.equal(r.table.seq[1], 3);
  await rec.close();
  assert.equal(rec.status.recording, false);
});

test('open rebuilds missing, damaged and disagreeing hours from the file names, and leaves good ones alone', async (t) => {
  const root = await tempRoot(t);
  const h0 = run(T0, 10);
  const h1 = run(T0 + HOUR_MS, 10);
  const h2 = run(T0 + 2 * HOUR_MS, 10);
  const h3 = run(T0 + 3 * HOUR_MS, 10);
  {
    const rec = await DvrRecorder.open({ root, renditions: ['v1a1'] });
    for (const [i, s] of [...h0, ...h1, ...h2, ...h3].entries()) await land(rec, root, 'v1a1', s, i);
    await rec.close();
  }
  const good = await stat(indexFilePath(root, 'v1a1', hourOf(T0)));
  await rm(indexFilePath(root, 'v1a1', hourOf(T0) + 1)); // missing
  await appendFile(indexFilePath(root, 'v1a1', hourOf(T0) + 2), Buffer.from([1, 2, 3, 4, 5])); // torn tail
  for (const s of h3.slice(3, 6)) await unlink(segmentPath(root, 'v1a1', s.startMs, s.durationMs)); // a crash/gap
  const extra = { startMs: T0 + 3 * HOUR_MS + 20_000, durationMs: 2000, bytes: 100 };
  await writeSegments(root, 'v1a1', [extra]); // a segment landed, its record did not (kill -9)

  const rec = await DvrRecorder.open({ root, renditions: ['v1a1'] });
  t.after(() => rec.close());
  assert.equal(rec.status.rebuiltHours, 3);
  assert.equal(rec.status.segments, 38);
  const after = await stat(indexFilePath(root, 'v1a1', hourOf(T0)));
  assert.equal(after.ino, good.ino, 'a consistent hour is not rewritten');
  assert.equal((await indexStarts(root, 'v1a1', hourOf(T0) + 1)).length, 10);
  assert.equal((await stat(indexFilePath(root, 'v1a1', hourOf(T0) + 2))).size, 10 * RECORD_SIZE);
  const h3idx = await indexStarts(root, 'v1a1', hourOf(T0) + 3);
  assert.deepEqual(h3idx, [...h3.slice(0, 3), ...h3.slice(6), extra].map((s) => s.startMs));
  // the next segment continues the chain; the gap shows in the archive
  await land(rec, root, 'v1a1', { startMs: extra.startMs + 2000, durationMs: 2000, bytes: 100 }, 100);
  const sum = await new Archive(root).summary('v1a1');
  assert.equal(sum.segments, 39);
  // three between the hours, one where the files were deleted
  assert.equal(sum.gaps.filter((g) => g.reason === 'missing').length, 4);
});

test('retention by time removes the oldest whole segments, their index records and empty hour/day dirs', async (t) => {
  const root = await tempRoot(t);
  const day1 = run(Date.UTC(2026, 10, 23, 23, 59, 50), 5); // crosses into the 24th
  const later = run(T0, 10);
  await writeSegments(root, 'v1a1', [...day1, ...later]);
  const now = T0 + 20_000;
  const rec = await DvrRecorder.open({ root, renditions: ['v1a1'], retentionMs: now - T0 + 1000 - 0, now: () => now, window: 2 });
  t.after(() => rec.close());
  assert.equal(rec.status.segments, 15);
  // cutoff = T0 - 1000: everything of day1 ends before it, `later` stays
  const res = await rec.runRetention();
  assert.equal(res.removedSegments, 5);
  assert.equal(res.byTime, 5);
  assert.equal(await exists(path.join(renditionDir(root, 'v1a1'), '2026', '11', '23')), false, 'empty day dir removed');
  assert.equal(await exists(indexFilePath(root, 'v1a1', hourOf(day1[0]!.startMs))), false, 'index file of the emptied hour removed');
  assert.deepEqual(await indexStarts(root, 'v1a1', hourOf(day1[4]!.startMs)), [], 'records of the removed segments are gone');
  assert.equal(rec.status.segments, 10);
  assert.equal(rec.status.oldest, T0);
  assert.equal(rec.status.retention.removedSegments, 5);
});

test('retention by size removes the oldest segments of all renditions together until under max_size', async (t) => {
  const root = await tempRoot(t);
  await writeSegments(root, 'v1a1', run(T0, 20, 2000, 1000));
  await writeSegments(root, 'v2a1', run(T0, 20, 2000, 500));
  const rec = await DvrRecorder.open({ root, renditions: ['v1a1', 'v2a1'], maxSizeBytes: 24_000, window: 3 });
  t.after(() => rec.close());
  assert.equal(rec.status.bytes, 30_000);
  const res = await rec.runRetention();
  assert.ok(rec.status.bytes <= 24_000, `bytes ${rec.status.bytes}`);
  assert.ok(rec.status.bytes > 24_000 - 1500, 'no more than needed');
  assert.equal(res.bySize, res.removedSegments);
  const a = rec.status.renditions['v1a1']!;
  const b = rec.status.renditions['v2a1']!;
  assert.ok(Math.abs(a.oldest! - b.oldest!) <= 2000, 'renditions stay aligned');
  const files = await readdir(path.join(renditionDir(root, 'v1a1'), ...segmentRelPath(T0, 2000).split('/').slice(0, 4)));
  assert.equal(files.length, a.segments);
});

test('retention by disk usage (statfs) frees what is over the limit', async (t) => {
  const root = await tempRoot(t);
  await writeSegments(root, 'v1a1', run(T0, 50, 2000, 4096));
  let freed = 0;
  // a 1 MiB filesystem, 95% used; every removed segment frees its 4 KiB
  const statfs = async (): Promise<StatFsLike> => {
    const used = 0.95 * 256 - freed / 4096;
    return { bsize: 4096, blocks: 256, bfree: 256 - used, bavail: 256 - used };
  };
  const rec = await DvrRecorder.open({ root, renditions: ['v1a1'], diskUsageLimitPercent: 90, statfs, window: 6 });
  t.after(() => rec.close());
  const res = await rec.runRetention();
  freed = res.removedBytes;
  // 5% of 256 blocks = 12.8 blocks → 13 segments
  assert.equal(res.removedSegments, 13);
  assert.ok((await statfs()).bavail / 256 >= 0.1 - 1e-9);
  assert.ok(rec.status.disk!.usedPercent > 90, 'status shows the usage measured before the pass');
  const res2 = await rec.runRetention();
  assert.equal(res2.removedSegments, 0, 'nothing more once under the limit');
});

test('retention never removes the live window (the newest `window` segments)', async (t) => {
  const root = await tempRoot(t);
  await writeSegments(root, 'v1a1', run(T0, 12));
  const rec = await DvrRecorder.open({ root, renditions: ['v1a1'], retentionMs: 1, maxSizeBytes: 1, window: 4, now: () => T0 + HOUR_MS });
  t.after(() => rec.close());
  await rec.runRetention();
  assert.equal(rec.status.segments, 4);
  assert.deepEqual(await indexStarts(root, 'v1a1', hourOf(T0)), run(T0 + 16_000, 4).map((s) => s.startMs));
  for (const s of run(T0 + 16_000, 4)) assert.ok(await exists(segmentPath(root, 'v1a1', s.startMs, s.durationMs)));
});

test('a full disk pauses recording with the error, prunes aggressively, and the next segment resumes it', async (t) => {
  const root = await tempRoot(t);
  await writeSegments(root, 'v1a1', run(T0, 30, 2000, 4096));
  let avail = 0;
  const statfs = async (): Promise<StatFsLike> => ({ bsize: 4096, blocks: 1000, bfree: avail, bavail: avail });
  const rec = await DvrRecorder.open({ root, renditions: ['v1a1'], statfs, emergencyReserveBytes: 10 * 4096, window: 6 });
  t.after(() => rec.close());
  const enospc = Object.assign(new Error('no space left on device, write'), { code: 'ENOSPC' });
  rec.onWriteError(enospc);
  assert.equal(rec.status.paused, true);
  assert.match(rec.status.lastError!, /ENOSPC/);
  // the emergency pass runs in the background
  for (let i = 0; i < 1000 && rec.status.retention.runs === 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(rec.status.retention.removedSegments, 10, 'freed the reserve');
  assert.equal(rec.status.paused, true, 'still paused until a segment lands');
  avail = 10;
  await land(rec, root, 'v1a1', { startMs: T0 + 60_000, durationMs: 2000, bytes: 4096 }, 30);
  assert.equal(rec.status.paused, false);
  assert.equal(rec.status.lastError, undefined);
  assert.equal(rec.status.segments, 21);
});

test('records that could not be appended are recovered from the names once writing works again', async (t) => {
  const root = await tempRoot(t);
  const rec = await DvrRecorder.open({ root, renditions: ['v1a1'] });
  t.after(() => rec.close());
  const segs = run(T0, 4);
  await land(rec, root, 'v1a1', segs[0]!, 0);
  // make the index file unwritable: a directory in its place
  const file = indexFilePath(root, 'v1a1', hourOf(T0));
  await rm(file);
  await mkdir(file);
  await land(rec, root, 'v1a1', segs[1]!, 1);
  assert.match(rec.status.lastError ?? '', /index append failed/);
  await rm(file, { recursive: true });
  await land(rec, root, 'v1a1', segs[2]!, 2);
  await land(rec, root, 'v1a1', segs[3]!, 3);
  assert.deepEqual(await indexStarts(root, 'v1a1', hourOf(T0)), segs.map((s) => s.startMs));
  assert.equal(rec.status.segments, 4);
  assert.equal(rec.status.lastError, undefined);
});

test('a restart after kill -9 (torn record, unindexed segment) leaves only a gap and a consistent index', async (t) => {
  const root = await tempRoot(t);
  const rec1 = await DvrRecorder.open({ root, renditions: ['v1a1'] });
  const first = run(T0, 5);
  for (const [i, s] of first.entries()) await land(rec1, root, 'v1a1', s, i);
  // crash: the next segment is renamed into place but its record is torn
  const orphan = { startMs: T0 + 10_000, durationMs: 2000, bytes: 100 };
  await writeSegments(root, 'v1a1', [orphan]);
  await appendFile(indexFilePath(root, 'v1a1', hourOf(T0)), Buffer.alloc(17, 0xee));
  // (rec1 is never closed: the process died)
  const rec2 = await DvrRecorder.open({ root, renditions: ['v1a1'] });
  t.after(() => rec2.close());
  const resumed = run(T0 + 20_000, 3); // the writer restarts a few seconds later, with a discontinuity
  for (const [i, s] of resumed.entries()) await land(rec2, root, 'v1a1', s, 6 + i, i === 0);
  const r = await readHourIndex(indexFilePath(root, 'v1a1', hourOf(T0)));
  assert.equal(r.damaged, false);
  assert.deepEqual([...r.table.start.subarray(0, r.table.length)], [...first, orphan, ...resumed].map((s) => s.startMs));
  const sum = await new Archive(root).summary('v1a1');
  assert.equal(sum.ranges.length, 2);
  assert.deepEqual(sum.gaps.map((g) => [g.fromMs - T0, g.toMs - T0]), [[12_000, 20_000]]);
  // the discontinuity sequence counts the break
  assert.equal(r.table.dseq[r.table.length - 1], r.table.dseq[0]! + 1);
});

test("the writer's lastError text (ENOSPC) pauses recording and triggers the emergency prune too", async (t) => {
  const root = await tempRoot(t);
  await writeSegments(root, 'v1a1', run(T0, 20, 2000, 4096));
  const statfs = async (): Promise<StatFsLike> => ({ bsize: 4096, blocks: 1000, bfree: 0, bavail: 0 });
  const rec = await DvrRecorder.open({ root, renditions: ['v1a1'], statfs, emergencyReserveBytes: 3 * 4096, window: 6 });
  t.after(() => rec.close());
  rec.onWriteError('ENOSPC: no space left on device, write');
  assert.equal(rec.status.paused, true);
  assert.match(rec.status.lastError!, /^segment write failed: ENOSPC/);
  for (let i = 0; i < 1000 && rec.status.retention.runs === 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(rec.status.retention.removedSegments, 3);
  assert.equal(rec.status.disk?.availableBytes, 0);
  // a permission problem pauses without deleting anything
  rec.onWriteError(Object.assign(new Error('permission denied'), { code: 'EACCES' }));
  assert.equal(rec.status.paused, true);
  await rec.runRetention();
  assert.equal(rec.status.retention.removedSegments, 3);
});

test('max_size is enforced on every segment indexed: the archive never exceeds it by more than one segment', async (t) => {
  const root = await tempRoot(t);
  const rec = await DvrRecorder.open({ root, renditions: ['v1a1'], maxSizeBytes: 1000, window: 2 });
  t.after(() => rec.close());
  // no retention job: the per-segment check alone keeps the cap
  let peak = 0;
  for (const [i, s] of run(T0, 40).entries()) {
    await land(rec, root, 'v1a1', s, i);
    peak = Math.max(peak, rec.status.bytes);
    await rec.settled();
    assert.ok(rec.status.bytes <= 1000, `after segment ${i}: ${rec.status.bytes} bytes`);
  }
  assert.ok(peak <= 1000 + 100, `peak ${peak}`);
  const files = await readdir(path.join(renditionDir(root, 'v1a1'), ...segmentRelPath(T0, 2000).split('/').slice(0, 4)));
  assert.equal(files.length, rec.status.segments);
});

test('disk_headroom: free space for a few segments + the margin is kept, evicting the oldest before the next writes', async (t) => {
  const root = await tempRoot(t);
  // a 4 KiB filesystem that holds exactly what the archive holds (bsize 1: byte counts)
  const capacity = 4096;
  const statfs = async (): Promise<StatFsLike> => {
    const free = capacity - rec.status.bytes;
    return { bsize: 1, blocks: capacity, bfree: free, bavail: free };
  };
  const rec: DvrRecorder = await DvrRecorder.open({ root, renditions: ['v1a1', 'v2a1'], statfs, window: 2, diskHeadroomBytes: 1000 });
  t.after(() => rec.close());
  const segs = run(T0, 40);
  for (const [i, s] of segs.entries()) {
    for (const r of ['v1a1', 'v2a1']) await land(rec, root, r, s, i);
    await rec.settled();
    // headroom = 3 rounds × (100 + 100) + 1000
    assert.equal(rec.status.headroomBytes, 3 * 200 + 1000);
    const free = capacity - rec.status.bytes;
    assert.ok(free >= 1600, `after segment ${i}: ${free} bytes free`);
  }
  assert.ok(rec.status.retention.removedSegments > 0);
  assert.equal(rec.status.paused, false);
  assert.ok(Math.abs(rec.status.renditions['v1a1']!.oldest! - rec.status.renditions['v2a1']!.oldest!) <= 2000, 'renditions stay aligned');
});
