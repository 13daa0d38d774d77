import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, readFile, stat, truncate, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import {
  RECORD_SIZE,
  appendRecord,
  decodeIndex,
  encodeRecord,
  encodeTable,
  indexFilePath,
  readHourIndex,
  writeHourIndex,
  buildHourFromNames,
  scanHourNames,
} from '../../../src/dvr/index-file.js';
import { SegTable, type SegmentRecord } from '../../../src/dvr/table.js';
import { hourOf, indexFileName, parseIndexFileName, parseSegmentRelPath, segmentRelPath } from '../../../src/protocol/layout.js';
import { T0, run, tableOf, tempRoot, writeSegments } from './helpers.js';

const rec = (startMs: number, extra: Partial<SegmentRecord> = {}): SegmentRecord => ({
  startMs,
  durationMs: 2000,
  bytes: 123_456_789_012,
  mediaSequence: 7,
  discontinuitySequence: 2,
  discontinuity: false,
  keyframe: true,
  rebuilt: false,
  ...extra,
});

test('layout: segment and index names follow the UTC hour of the start', () => {
  const ms = Date.UTC(2026, 10, 24, 23, 59, 59, 500);
  assert.equal(segmentRelPath(ms, 2000), `2026/11/24/23/${ms}-2000.ts`);
  assert.equal(indexFileName(hourOf(ms)), '2026-11-24T23.idx');
  assert.equal(parseIndexFileName('2026-11-24T23.idx'), hourOf(ms));
  assert.equal(parseIndexFileName('.2026-11-24T23.idx.ab.tmp'), undefined);
  assert.deepEqual(parseSegmentRelPath(`2026/11/24/23/${ms}-2000.ts`), { startMs: ms, durationMs: 2000 });
  // a name in the wrong hour directory is not a segment of the layout
  assert.equal(parseSegmentRelPath(`2026/11/24/22/${ms}-2000.ts`), undefined);
});

test('a record round-trips through its 32 bytes (uint48 start and size, flags, sequences)', () => {
  const r = rec(T0 + 1234, { discontinuity: true, mediaSequence: 0xfffffffe, discontinuitySequence: 99 });
  const buf = encodeRecord(r);
  assert.equal(buf.length, RECORD_SIZE);
  const d = decodeIndex(buf);
  assert.equal(d.damaged, false);
  assert.deepEqual(d.table.get(0), r);
});

test('a torn tail (partial last record) is detected and dropped; the valid records survive', () => {
  const t = tableOf(run(T0, 5));
  const buf = encodeTable(t);
  const torn = buf.subarray(0, buf.length - 11);
  const d = decodeIndex(torn);
  assert.equal(d.damaged, true);
  assert.equal(d.table.length, 4);
  assert.match(d.reason!, /torn tail/);
  assert.deepEqual([...d.table.start.subarray(0, 4)], [...t.start.subarray(0, 4)]);
});

test('a garbage tail and a corrupt record fail their CRC and are dropped', () => {
  const t = tableOf(run(T0, 4));
  const buf = Buffer.concat([encodeTable(t), Buffer.alloc(RECORD_SIZE, 0x5a)]);
  let d = decodeIndex(buf);
  assert.equal(d.damaged, true);
  assert.equal(d.table.length, 4);
  assert.equal(d.validPrefixBytes, 4 * RECORD_SIZE);
  const flipped = encodeTable(t);
  flipped[RECORD_SIZE + 5] ^= 0xff; // record 1's start
  d = decodeIndex(flipped);
  assert.equal(d.damaged, true);
  assert.deepEqual([...d.table.start.subarray(0, d.table.length)], [t.start[0], t.start[2], t.start[3]]);
});

test('records out of order make the file damaged', () => {
  const t = tableOf([...run(T0 + 10_000, 1), ...run(T0, 1)]);
  const d = decodeIndex(encodeTable(t));
  assert.equal(d.damaged, true);
  assert.equal(d.table.length, 1);
});

test('appendRecord cuts a torn tail before appending, so later records stay aligned', async (t) => {
  const root = await tempRoot(t);
  const file = indexFilePath(root, 'v1a1', hourOf(T0));
  await mkdir(path.dirname(file), { recursive: true });
  await appendRecord(file, rec(T0));
  await appendFile(file, Buffer.from('torn-write')); // crash in the middle of a record
  await appendRecord(file, rec(T0 + 2000));
  assert.equal((await stat(file)).size, 2 * RECORD_SIZE);
  const r = await readHourIndex(file);
  assert.equal(r.damaged, false);
  assert.deepEqual([...r.table.start.subarray(0, 2)], [T0, T0 + 2000]);
});

test('writeHourIndex replaces atomically and removes the file when empty', async (t) => {
  const root = await tempRoot(t);
  const file = indexFilePath(root, 'v1a1', hourOf(T0));
  await writeHourIndex(file, tableOf(run(T0, 3)));
  assert.equal((await readHourIndex(file)).table.length, 3);
  await writeHourIndex(file, new SegTable());
  assert.equal((await readHourIndex(file)).exists, false);
});

test('an hour is rebuilt from the segment file names (sizes from stat or the damaged index, sequences chained)', async (t) => {
  const root = await tempRoot(t);
  const segs = run(T0, 6, 2000, 300);
  await writeSegments(root, 'v1a1', segs);
  // leftovers that are not segments are ignored
  const dir = path.dirname(path.join(root, 'v1a1', segmentRelPath(T0, 2000)));
  await writeFile(path.join(dir, '.abc123.tmp'), 'partial');
  await writeFile(path.join(dir, 'notes.txt'), 'x');
  const names = await scanHourNames(root, 'v1a1', hourOf(T0));
  assert.equal(names.length, 6);
  const known = tableOf(segs.slice(0, 2).map((s) => ({ ...s, bytes: 999 })));
  const prev: SegmentRecord = { ...rec(T0 - 2000), mediaSequence: 41, discontinuitySequence: 3 };
  const table = await buildHourFromNames(root, 'v1a1', hourOf(T0), names, known, prev);
  assert.equal(table.length, 6);
  assert.equal(table.bytes[0], 999, 'size taken from the known record');
  assert.equal(table.bytes[5], 300, 'size from stat');
  assert.equal(table.get(5).rebuilt, true);
  assert.deepEqual([...table.seq.subarray(2, 6)], [2, 3, 4, 5].map((i) => known.seq[1]! + i - 1));
  assert.equal(table.dseq[2], known.dseq[1]);
});

test('SegTable binary search: lowerBound and overlapRange', () => {
  const t = tableOf([...run(T0, 10), ...run(T0 + 60_000, 10)]);
  assert.equal(t.lowerBound(T0 - 1), 0);
  assert.equal(t.lowerBound(T0 + 2000), 1);
  assert.equal(t.lowerBound(T0 + 2001), 2);
  assert.equal(t.lowerBound(T0 + 1e9), 20);
  // [T0+3000, T0+7000) overlaps segments starting at 2000, 4000, 6000
  assert.deepEqual(t.overlapRange(T0 + 3000, T0 + 7000), [1, 4]);
  // a range inside the hole holds nothing
  const [a, b] = t.overlapRange(T0 + 30_000, T0 + 50_000);
  assert.equal(b - a, 0);
  assert.deepEqual(t.overlapRange(T0 + 19_000, T0 + 61_000), [9, 11]);
});

test('an index of 302,400 records (7 days of 2 s) decodes and searches correctly', () => {
  const n = 302_400;
  const t = new SegTable(n);
  for (let i = 0; i < n; i++) t.push({ startMs: T0 + i * 2000, durationMs: 2000, bytes: 1000, mediaSequence: i });
  const buf = encodeTable(t);
  const d = decodeIndex(buf);
  assert.equal(d.table.length, n);
  for (const k of [0, 1, 12345, n - 1]) assert.equal(d.table.lowerBound(T0 + k * 2000), k);
  assert.equal(d.table.seq[n - 1], n - 1);
});

test('readHourIndex of a truncated file reports damage', async (t) => {
  const root = await tempRoot(t);
  const file = indexFilePath(root, 'v1a1', hourOf(T0));
  await writeHourIndex(file, tableOf(run(T0, 3)));
  await truncate(file, 3 * RECORD_SIZE - 1);
  const r = await readHourIndex(file);
  assert.equal(r.damaged, true);
  assert.equal(r.table.length, 2);
  assert.equal((await readFile(file)).length, 3 * RECORD_SIZE - 1, 'reading never modifies the file');
});
